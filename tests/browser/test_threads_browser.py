"""A long thread in a real browser: "Load more" appends in place and the frame grows."""

from __future__ import annotations

import pytest
from chromium import CHROMIUM_ARGS, FRAME, TIMEOUT_MS, wait_for_frame_to_fit

from live_server import live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def paged_browser(chromium_path, tmp_path_factory):
    """Chromium and the live service with pages of 2 top-level comments (the demo
    has 5)."""
    from playwright import sync_api

    settings = {"MODERATION_THREAD_PAGE_SIZE": "2"}
    with (
        live_server(tmp_path_factory.mktemp("paged"), settings) as server,
        sync_api.sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS
        )
        try:
            yield browser, server
        finally:
            browser.close()


def test_load_more_appends_in_place_and_the_frame_grows(paged_browser):
    from playwright.sync_api import expect

    browser, paged_server = paged_browser
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{paged_server.url}/demo")
        page.locator(FRAME).scroll_into_view_if_needed()
        frame = page.frame_locator(FRAME)
        top_level = frame.locator("#comments > li.comment")
        expect(top_level).to_have_count(2)
        before = wait_for_frame_to_fit(page)

        frame.get_by_role("link", name="Load more comments").click()
        expect(top_level).to_have_count(4)
        expect(frame.locator(".pager .hint")).to_contain_text("4 of 5")
        assert wait_for_frame_to_fit(page) > before
        # Appended by script: the frame did not navigate to the next page.
        url = page.locator(FRAME).evaluate("f => f.contentWindow.location.href")
        assert "after=" not in url

        frame.get_by_role("link", name="Load more comments").click()
        expect(top_level).to_have_count(5)
        expect(frame.locator(".pager")).to_have_count(0)
        handles = frame.locator("#comments > li.comment > article .handle")
        expect(handles.first).to_have_text("Gary1990")
        assert len(set(handles.all_text_contents())) == 5
    finally:
        context.close()
