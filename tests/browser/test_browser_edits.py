"""In a real browser: a reader edits and deletes their comment, permalinks, themes.

A stand-in publisher page (served by Playwright on the service's own origin, which
the demo site allows) frames the demo thread, so these tests depend on no loader
script. The service runs as in conftest.py (gunicorn, profanity-check).
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from chromium import TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PUBLISHER = "/__publisher"


def _publisher(page, server, **params: str) -> None:
    """Open a publisher page framing the demo thread with these parameters."""
    query = urlencode({"origin": server.url, **params})
    src = f"{server.url}/embed/demo/seed-article?{query}"
    html = (
        "<!doctype html><title>Publisher</title>"
        '<div style="height:1500px">Article</div>'
        f'<iframe id="comments" src="{src}" style="width:100%;height:2500px"></iframe>'
        "<script>window.__messages = [];"
        "addEventListener('message', e => window.__messages.push(e.data));</script>"
    )

    def fulfil(route) -> None:
        route.fulfill(body=html, content_type="text/html")

    page.route(f"{server.url}{PUBLISHER}", fulfil)
    page.goto(f"{server.url}{PUBLISHER}")


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    yield page
    context.close()
    assert not dialogs, "no dialog: dialogs are blocked in cross-site frames"


def test_reader_edits_then_deletes_their_comment(page, server):
    from playwright.sync_api import expect

    _publisher(page, server)
    frame = page.frame_locator("#comments")
    frame.get_by_label("Name").fill("Editor")
    frame.get_by_label("Comment", exact=True).fill("Diplomacy takes time.")
    frame.get_by_role("button", name="Post Comment").click()
    # The first post may wait for the classifier to load: "being checked" first.
    expect(frame.locator("#result")).to_contain_text("published", timeout=60_000)
    expect(frame.locator("#result a.edit-own")).to_be_visible()

    # Reloaded, the iframe still knows the reader's own comment (localStorage).
    _publisher(page, server)
    frame = page.frame_locator("#comments")
    mine = frame.locator("li.comment", has_text="Diplomacy takes time.")
    others = frame.locator("li.comment", has_text="Gary1990")
    expect(mine.locator(".own-actions a.edit")).to_be_visible()
    expect(others.locator(".own-actions")).to_have_count(0)

    # Edit opens under the comment, without leaving the thread.
    mine.locator(".own-actions a.edit").click()
    panel = mine.locator(".inline-panel")
    expect(panel.locator(".panel-title")).to_have_text("Edit your comment")
    panel.get_by_label("Comment", exact=True).fill("Diplomacy takes *patience*.")
    panel.get_by_role("button", name="Save changes").click()
    expect(frame.locator("#result")).to_contain_text("Your edit is published")
    mine = frame.locator("li.comment", has_text="Diplomacy takes patience.")
    expect(mine.locator("em")).to_have_text("patience")
    expect(mine.locator(".edited")).to_be_visible()

    mine.locator(".own-actions button.delete").click()
    mine.get_by_role("button", name="Yes, delete it").click()
    expect(frame.locator("#result")).to_contain_text("has been deleted")
    expect(frame.locator("li.comment").first).to_be_visible()
    expect(frame.get_by_text("Diplomacy takes")).to_have_count(0)


def test_permalink_highlights_and_scrolls_the_parent_to_the_comment(
    page,
    server,
):
    from playwright.sync_api import expect

    _publisher(page, server)
    frame = page.frame_locator("#comments")
    last = frame.locator("li.comment").last
    comment_id = last.get_attribute("id").removeprefix("comment-")
    href = last.locator("a.permalink").get_attribute("href")
    assert href.endswith(f"/demo#comment-{comment_id}")
    assert last.locator("a.permalink").get_attribute("target") == "_top"

    _publisher(page, server, comment=comment_id)
    frame = page.frame_locator("#comments")
    expect(frame.locator(f"#comment-{comment_id}")).to_have_class("comment is-target")
    page.wait_for_function(
        "() => window.__messages.some(m => m && m.type === 'moderation:scroll')"
    )
    top = page.evaluate(
        "() => window.__messages.find(m => m.type === 'moderation:scroll').top"
    )
    inner = frame.locator(f"#comment-{comment_id}").evaluate(
        "el => el.getBoundingClientRect().top + window.scrollY"
    )
    assert top == pytest.approx(inner, abs=2) and top > 0


def test_dark_theme_and_site_overrides_apply(page, server):
    _publisher(page, server, theme="dark", accent="#ff8800", size="18")
    frame = page.frame_locator("#comments")
    body = frame.locator("body")
    styles = body.evaluate(
        "el => { const s = getComputedStyle(el);"
        " return [s.backgroundColor, s.fontSize,"
        " getComputedStyle(document.querySelector('a.reply')).color]; }"
    )
    assert styles == ["rgb(27, 28, 31)", "18px", "rgb(255, 136, 0)"]
