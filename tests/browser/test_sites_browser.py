"""A publisher's setup in a real browser: a new site, its embed snippet copied with
the Copy button; and a destructive action confirmed with script turned off."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from chromium import TIMEOUT_MS

from live_server import PROJECT_ROOT, LiveServer, live_server, service_environment

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL = "publisher-admin@example.com"
PASSWORD = "set up a site please"


@pytest.fixture(scope="module")
def server(
    chromium_path: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("live-sites")
    with live_server(directory) as running:
        result = subprocess.run(
            [
                sys.executable,
                *("-m", "flask", "--app", "moderation", "moderation"),
                *("create-moderator", EMAIL, "--role", "admin", "--password-stdin"),
            ],
            cwd=PROJECT_ROOT,
            env=service_environment(directory, running.url),
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        yield running


def _logged_in(browser, server: LiveServer, **options):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{server.url}/mod/login")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/mod/")
    return context, page


def test_an_admin_creates_a_site_and_copies_its_snippet(browser, server: LiveServer):
    context, page = _logged_in(browser, server)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        page.goto(f"{server.url}/mod/manage/sites")
        page.click("text=New site")
        page.fill("#slug", "daily-news")
        page.fill("#name", "Daily News")
        page.fill("#allowed_origins", "https://news.example")
        page.fill("#timezone", "Europe/Paris")
        page.select_option("#copy_from", "demo")
        page.click("button:has-text('Create site')")
        page.wait_for_url(f"{server.url}/mod/manage/sites/daily-news/embed")
        snippet = page.inner_text("#snippet-script")
        assert 'data-site="daily-news"' in snippet
        assert f'<script src="{server.url}/static/js/embed.js"' in snippet
        copy = page.locator("button[data-copy='snippet-script']")
        assert copy.is_visible()  # shown by copy.js
        copy.click()
        page.wait_for_function(
            "document.querySelector('.copy-status').textContent.length > 0"
        )
        assert page.inner_text(".copy-status") == "Copied."
        assert page.evaluate("navigator.clipboard.readText()") == snippet
        assert problems == []
    finally:
        context.close()


def test_without_script_the_snippet_is_text_and_switching_off_asks_first(
    browser, server: LiveServer
):
    context, page = _logged_in(browser, server, java_script_enabled=False)
    try:
        page.goto(f"{server.url}/mod/manage/sites/demo/embed")
        assert not page.locator("button[data-copy='snippet-script']").is_visible()
        assert 'data-site="demo"' in page.inner_text("#snippet-script")

        page.goto(f"{server.url}/mod/manage/sites/demo/threads")
        row = page.locator("table.threads tr", has_text="(seed-article)")
        row.locator("button:has-text('Pre-moderate')").click()
        row.locator("button:has-text('Stop pre-moderating')").click()
        # The confirmation step, not the change.
        assert page.locator("h1").inner_text().startswith("Stop pre-moderating")
        page.click("text=Cancel")
        assert "pre-moderated" in row.inner_text()
        row.locator("button:has-text('Stop pre-moderating')").click()
        page.click("button:has-text('Stop pre-moderating')")  # Confirm
        assert "no longer pre-moderated" in page.inner_text(".flashes")
        assert "pre-moderated" not in row.inner_text()
    finally:
        context.close()
