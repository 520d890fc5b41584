"""End to end in a real browser: the demo article, its iframe, a reader posting.

The service runs as production runs it (gunicorn, migrated SQLite, the demo loaded
by the CLI, the profanity-check classifier); see live_server.py. Chromium is the
system one, driven by Playwright; without either the tests skip and say why.
"""

from __future__ import annotations

import pytest
from chromium import FRAME, TIMEOUT_MS, wait_for_frame_to_fit

from live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CSS_HEIGHT = 900  # site.css, before the frame reports its own height


@pytest.fixture
def page(browser, server: LiveServer):
    """A fresh page on the demo article; a dialog of any kind fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    dialogs: list[str] = []

    def refuse(dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", refuse)
    # Every message the publisher's page receives, from any frame.
    page.add_init_script(
        "if (window === window.top) { window.__messages = [];"
        " addEventListener('message', e => window.__messages.push(e.data)); }"
    )
    page.goto(f"{server.url}/demo")
    # The iframe loads lazily: bring it near the viewport, as a reader scrolls.
    page.locator(FRAME).scroll_into_view_if_needed()
    yield page
    context.close()
    assert not dialogs, f"a page opened a dialog: {dialogs}"


def _content_height(page) -> int:
    return page.locator(FRAME).evaluate(
        "frame => Math.ceil("
        "frame.contentDocument.documentElement.getBoundingClientRect().height)"
    )


def _post(frame, handle: str, body: str) -> None:
    frame.get_by_label("Name").fill(handle)
    frame.get_by_label("Comment", exact=True).fill(body)
    frame.get_by_role("button", name="Post Comment").click()


def test_reader_posts_inside_the_iframe_and_sees_it_published(page):
    from playwright.sync_api import expect

    frame = page.frame_locator(FRAME)
    first = frame.locator("li.comment").first
    expect(first.locator(".handle")).to_have_text("Gary1990")
    expect(first.get_by_text("November 6, 2023 - 12:41 am")).to_be_visible()
    expect(frame.get_by_text("Gary1990", exact=True)).to_be_visible()

    # The frame told its parent how tall it is (frame.js -> parent.js).
    height = wait_for_frame_to_fit(page)
    assert height != CSS_HEIGHT
    assert page.locator(FRAME).bounding_box()["height"] == pytest.approx(height, abs=1)

    body = "Shuttle diplomacy rarely ends a war, but it can pause one."
    _post(frame, "Nora", body)

    result = frame.locator("#result")
    # On a busy machine the first verdict (the classifier loads on first use) may
    # miss the POST's wait; the frame then follows its receipt until it lands.
    expect(result).to_contain_text("your comment is published", timeout=30_000)
    newest = frame.locator("li.comment").last
    expect(newest.locator(".handle")).to_have_text("Nora")
    expect(newest.locator(".body")).to_have_text(body)
    # The page after the post still knows its parent, and grew to fit the new comment.
    assert wait_for_frame_to_fit(page) > height


def test_script_in_a_comment_never_runs(page):
    from playwright.sync_api import expect

    body = (
        "<img src=x onerror=\"window.parent.postMessage('pwned','*');"
        "document.title='pwned'\"> <script>document.title='pwned'</script>"
    )
    frame = page.frame_locator(FRAME)
    _post(frame, "Mallory", body)
    expect(frame.locator("#result")).to_contain_text("your comment is published")

    comment = frame.locator("li.comment").last
    expect(comment.locator(".handle")).to_have_text("Mallory")
    # Shown as the text the reader typed, not as markup.
    expect(comment.locator(".body")).to_have_text(body)
    expect(comment.locator(".body img, .body script")).to_have_count(0)

    page.wait_for_load_state("load")
    inner = page.frame_locator(FRAME).locator("html")
    assert inner.evaluate("() => document.title") != "pwned"
    assert page.title() != "pwned"
    messages = page.evaluate("() => window.__messages")
    assert "pwned" not in messages
    assert any(
        isinstance(m, dict) and m.get("type") == "moderation:height" for m in messages
    )


def test_iframe_shrinks_when_its_content_gets_shorter(page):
    narrow = 360
    page.set_viewport_size({"width": narrow, "height": 720})
    tall = wait_for_frame_to_fit(page)
    page.set_viewport_size({"width": 1280, "height": 720})
    # Wider, the same comments take fewer lines: the frame follows them down.
    page.wait_for_function(
        f"() => parseInt(document.querySelector('{FRAME}').style.height) < {tall}",
        timeout=TIMEOUT_MS,
    )
    assert wait_for_frame_to_fit(page) == _content_height(page)
