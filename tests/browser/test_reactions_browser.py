"""Respect in a real browser: pressed in place with script, by a plain form without."""

from __future__ import annotations

import re

import pytest
from chromium import FRAME, TIMEOUT_MS, axe

from live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _context(browser, **options):
    context = browser.new_context(viewport={"width": 1280, "height": 720}, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def test_pressing_respect_updates_the_count_in_place(browser, server: LiveServer):
    from playwright.sync_api import expect

    context = _context(browser)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/demo")
        page.locator(FRAME).scroll_into_view_if_needed()
        frame = page.frame_locator(FRAME)
        first = frame.get_by_role(
            "button", name="Respect the comment by Gary1990 (0)", exact=True
        )
        expect(first).to_have_attribute("aria-pressed", "false")
        inner = page.locator(FRAME).element_handle().content_frame()
        inner.evaluate("window.__sameDocument = true")

        first.click()
        pressed = frame.get_by_role(
            "button", name="Respect the comment by Gary1990 (1)", exact=True
        )
        expect(pressed).to_have_attribute("aria-pressed", "true")
        # Updated in place: the frame's document was not reloaded.
        assert inner.evaluate("window.__sameDocument === true")
        violations = axe(inner)
        assert not violations, violations

        # Remembered for this reader (localStorage); the count is the server's.
        page.reload()
        page.locator(FRAME).scroll_into_view_if_needed()
        frame = page.frame_locator(FRAME)
        again = frame.get_by_role(
            "button", name="Respect the comment by Gary1990 (1)", exact=True
        )
        expect(again).to_have_attribute("aria-pressed", "true")
        again.click()
        withdrawn = frame.get_by_role(
            "button", name="Respect the comment by Gary1990 (0)", exact=True
        )
        expect(withdrawn).to_have_attribute("aria-pressed", "false")
    finally:
        context.close()


def test_respect_works_without_script(browser, server: LiveServer):
    from playwright.sync_api import expect

    context = _context(browser, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/embed/demo/seed-article?sort=liked")
        button = page.get_by_role(
            "button", name=re.compile(r"^Respect the comment by Mike Randal \(\d+\)$")
        )
        before = int(button.locator(".respect-count[aria-hidden]").inner_text())
        button.click()
        page.wait_for_url(re.compile(r"comment=\d+.*#comment-\d+$"))
        assert "sort=liked" in page.url
        after = page.get_by_role(
            "button", name=f"Respect the comment by Mike Randal ({before + 1})"
        )
        expect(after).to_be_visible()
        assert after.get_attribute("aria-pressed") is None  # nothing to remember
    finally:
        context.close()
