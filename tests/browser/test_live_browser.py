"""Live threads in a real browser: a comment published by someone else while the
page is open is announced in the cross-site iframe, and "show" shows it.

http://127.0.0.1:P is the service (live_server.py), http://127.0.0.2:P2 a
publisher's article with the one-line embed.js snippet, as on a newsroom's page.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from chromium import TIMEOUT_MS
from publisher import publisher

from live_server import LiveServer, live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FRAME = "iframe.moderation-thread"
# The first comment may wait for the classifier to load before it is published.
PUBLISHED_MS = 60_000

ARTICLE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Live article</title></head>
<body><main><h1>Live article</h1>
<script src="{service}/static/js/embed.js" data-site="demo"
  data-thread="seed-article" data-url="{origin}/article" data-theme="dark"
  async></script>
</main></body></html>
"""


@pytest.fixture(scope="module")
def live_site(
    chromium_path: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, str]]:
    """The service with short waits, and a publisher's article on another site."""
    article = publisher("127.0.0.2")
    origin = article.origin
    settings = {
        "MODERATION_DEMO_EXTRA_ORIGINS": json.dumps([origin]),
        "MODERATION_LIVE_WAIT_SECONDS": "5",
        "MODERATION_LIVE_CHECK_SECONDS": "0.2",
        "MODERATION_LIVE_MAX_WAITERS": "2",  # of the live server's 4 threads
    }
    try:
        with live_server(tmp_path_factory.mktemp("live"), settings) as service:
            article.html("/article", ARTICLE.format(service=service.url, origin=origin))
            yield service, origin
    finally:
        article.stop()


def _post_elsewhere(service: LiveServer, body: str) -> int:
    """Another reader's comment, through the JSON API."""
    request = urllib.request.Request(
        f"{service.url}/api/v1/sites/demo/threads/seed-article/comments",
        data=json.dumps({"handle": "Elsewhere", "body": body}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


def test_a_comment_published_while_the_page_is_open_is_announced_then_shown(
    live_site, browser
):
    from playwright.sync_api import expect

    service, origin = live_site
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/live?" in r.url else None)
    try:
        page.goto(f"{origin}/article")
        page.locator(FRAME).scroll_into_view_if_needed()
        frame = page.locator(FRAME).element_handle().content_frame()
        assert frame is not None
        frame.wait_for_load_state("load")
        assert frame.url.startswith(f"{service.url}/embed/demo/seed-article?")
        region = frame.locator("#live[aria-live='polite']")
        expect(region).to_be_empty()
        # The script waits on the thread's revision before anything changes.
        for _ in range(50):
            if asked:
                break
            page.wait_for_timeout(100)
        assert asked, "live.js asked nothing after the page loaded"

        body = "Published by another reader while the page was open."
        assert _post_elsewhere(service, body) in (201, 202)
        button = region.get_by_role("button", name="1 new comment — show")
        expect(button).to_be_visible(timeout=PUBLISHED_MS)
        assert frame.locator("li.comment", has_text=body).count() == 0

        button.click()
        expect(frame.locator("li.comment", has_text=body)).to_be_visible()
        query = parse_qs(urlsplit(frame.url).query)
        assert query["sort"] == ["newest"]
        assert query["origin"] == [origin]
        assert query["theme"] == ["dark"]
        newest = frame.locator("#comments > li.comment").first
        expect(newest.locator(".handle")).to_have_text("Elsewhere")
        # The reloaded page shows it: nothing is new any more.
        expect(region.locator("button")).to_have_count(0)
    finally:
        context.close()
