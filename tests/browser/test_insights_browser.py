"""The dashboard's charts in a real browser: drawn under the site's CSP, with and
without JavaScript, on a live service seeded with a month of decisions."""

from __future__ import annotations

import subprocess
import sys

import pytest
from chromium import CHROMIUM_ARGS, TIMEOUT_MS, axe

from live_server import PROJECT_ROOT, live_server, service_environment

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BROWSER_SEED = """
import sys
from datetime import timedelta
from moderation import create_app
from moderation.extensions import db
from moderation.models import (
    Comment, CommentStatus as S, Decision, Moderator, Role, Score, Site, Thread, utcnow
)
import sqlalchemy as sa

app = create_app({"IN_PROCESS_WORKER": False, "CLASSIFIER_PRELOAD": False})
with app.app_context():
    admin = Moderator(email=sys.argv[1], name="Admin", role=Role.ADMIN)
    admin.set_password(sys.argv[2])
    site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
    thread = db.session.scalar(sa.select(Thread).filter_by(site=site))
    db.session.add(admin)
    db.session.flush()
    now = utcnow()
    for number in range(30):
        at = now - timedelta(hours=number % 20, minutes=30)
        score = number / 30
        final = S.REJECTED if number % 3 else S.PUBLISHED
        comment = Comment(
            thread=thread, handle=f"Reader{number}", body="b", html="b",
            status=final, fingerprint=f"f{number}", created_at=at, screened_at=at,
        )
        db.session.add(comment)
        db.session.flush()
        db.session.add_all([
            Score(comment_id=comment.id, classifier="c", version="1",
                  label="toxicity", value=score),
            Decision(comment_id=comment.id, actor="screen", from_status=S.RECEIVED,
                     to_status=S.HELD, created_at=at),
            Decision(comment_id=comment.id, moderator_id=admin.id, actor=admin.email,
                     from_status=S.HELD, to_status=final,
                     created_at=at + timedelta(minutes=number)),
        ])
    db.session.commit()
"""
BROWSER_PASSWORD = "charts without scripts"


@pytest.fixture(scope="module")
def charts_server(chromium_path, tmp_path_factory):
    directory = tmp_path_factory.mktemp("live-insights")
    with live_server(directory) as running:
        result = subprocess.run(
            [sys.executable, "-c", BROWSER_SEED, "boss@example.com", BROWSER_PASSWORD],
            cwd=PROJECT_ROOT,
            env=service_environment(directory, running.url),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        yield running


def _browse(server, chromium_path: str, javascript: bool):
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=chromium_path, args=CHROMIUM_ARGS
    )
    context = browser.new_context(java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.goto(f"{server.url}/mod/login")
    page.fill("input[name=email]", "boss@example.com")
    page.fill("input[name=password]", BROWSER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/mod/")
    return playwright, browser, page, refused


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_charts_draw_under_csp_and_without_javascript(
    charts_server, chromium_path, javascript
):
    playwright, browser, page, refused = _browse(
        charts_server, chromium_path, javascript
    )
    try:
        page.goto(f"{charts_server.url}/mod/dashboard?site=demo")
        for chart in ("chart-volume", "chart-held-rate", "chart-waits", "chart-scores"):
            box = page.locator(f"svg#{chart}").bounding_box()
            assert box and box["width"] > 300 and box["height"] > 100, chart
        # The demo's five seed comments are from 2023, outside the window.
        assert page.locator("#fig-total").inner_text() == "30"
        # The data tables open without a script: <details> is the browser's own.
        table = page.locator("#chart-scores-heading ~ details table")
        assert not table.is_visible()
        page.locator("#chart-scores-heading ~ details summary").click()
        assert table.is_visible()
        page.goto(f"{charts_server.url}/mod/calibration?site=demo")
        assert page.locator("svg#chart-calibration").bounding_box()["height"] > 100
        assert page.locator("tr.current").count() == 1
        if javascript:
            assert axe(page) == []
    finally:
        browser.close()
        playwright.stop()
    assert refused == []
