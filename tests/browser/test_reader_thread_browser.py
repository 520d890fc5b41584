"""The reader's thread as readers meet it: on a publisher's page at another origin,
with a thread longer than one page, on a phone, on a dark page, in a browser that
refuses the frame its storage, and over the posting limit.

http://127.0.0.1:P is the service, http://127.0.0.2:P2 the publisher (allowed),
http://127.0.0.3:P3 a page the site does not allow. Each defect below was seen
on such a page (issue 12) and each test failed before its fix.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from chromium import CHROMIUM_ARGS as BROWSER_ARGS
from chromium import axe
from publisher import DARK, FRAME, LIGHT, Publisher, fits, frame_of, publisher

from live_server import LiveServer, live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_ARGS = [*BROWSER_ARGS, "--test-third-party-cookie-phaseout"]
TIMEOUT_MS = 15_000
VERDICT_MS = 60_000
ROOTS = 60  # more than one page (50 conversations)


@dataclass
class World:
    service: LiveServer
    database: Path
    allowed: Publisher
    foreign: Publisher


def _seed_long_thread(database: Path) -> None:
    """ROOTS more published comments on the seed article, older than the rest."""
    with sqlite3.connect(database) as connection:
        thread = connection.execute(
            "SELECT id FROM threads WHERE key = 'seed-article'"
        ).fetchone()[0]
        rows = [
            (
                thread,
                f"early{n}",
                f"Early comment {n}.",
                f"<p>Early comment {n}.</p>",
                "published",
                f"2023-11-01 00:{n // 60:02d}:{n % 60:02d}",
                f"2023-11-01 00:{n // 60:02d}:{n % 60:02d}",
                f"seed{n}",
            )
            for n in range(ROOTS)
        ]
        connection.executemany(
            "INSERT INTO comments (thread_id, handle, body, html, status, created_at,"
            " updated_at, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        connection.execute("UPDATE threads SET revision = revision + 1")


@pytest.fixture(scope="module")
def world(
    chromium_path: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    allowed = publisher("127.0.0.2")
    foreign = publisher("127.0.0.3")
    directory = tmp_path_factory.mktemp("reader-thread")
    extra = {
        "MODERATION_DEMO_EXTRA_ORIGINS": json.dumps([allowed.origin]),
        # Reached in test_over_the_limit on a thread of its own, never elsewhere.
        "MODERATION_RATELIMIT_POST": "40 per minute",
        "MODERATION_RATELIMIT_POST_THREAD": "3 per minute",
    }
    try:
        with live_server(directory, extra) as service:
            database = directory / "moderation.db"
            _seed_long_thread(database)
            yield World(service, database, allowed, foreign)
    finally:
        allowed.stop()
        foreign.stop()


@pytest.fixture(scope="module")
def browser(chromium_path: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def _in_view(page, frame, selector: str) -> bool:
    """Whether the element's top is inside the parent page's viewport."""
    page.wait_for_timeout(900)  # the parent scrolls smoothly
    frame_top = page.locator(FRAME).evaluate("f => f.getBoundingClientRect().top")
    top = frame.locator(selector).first.evaluate("e => e.getBoundingClientRect().top")
    height = page.evaluate("window.innerHeight")
    return 0 <= frame_top + top <= height


def _post(frame, scope, handle: str, body: str) -> None:
    scope.get_by_label("Name").fill(handle)
    scope.get_by_label("Comment", exact=True).fill(body)
    scope.get_by_role("button", name="Post Comment").click()


def test_reply_opens_under_an_early_comment_in_view(world, context):
    """Item 1: Reply on an early comment of a long thread opens the form right
    there, in view on the parent page, naming the handle; the reply posts in place."""
    from playwright.sync_api import expect

    url = world.allowed.add("/long", world.service.url, "seed-article")
    page = context.new_page()
    page.goto(url)
    frame = frame_of(page)
    fits(page, frame)
    heading = frame.locator("#comments-heading")
    expect(heading).to_have_text(f"{ROOTS + 5} comments")
    early = frame.locator("li.comment", has_text="Early comment 3.").first
    early.scroll_into_view_if_needed()
    early.get_by_role("link", name="Reply to early3").click()
    panel = early.locator(".inline-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".replying")).to_contain_text("Replying to early3.")
    assert frame.evaluate("document.activeElement.name") == "body"
    assert _in_view(page, frame, "#reply-form textarea")
    assert frame.url.find("reply_to") < 0, "the frame did not navigate"
    violations = axe(frame)
    assert not violations, violations

    _post(frame, panel, "Rhea", "A reply in place, on an early comment.")
    reply = frame.locator("li.comment", has_text="Early comment 3.").first.locator(
        "ol.replies li.comment", has_text="A reply in place"
    )
    expect(reply).to_be_visible(timeout=VERDICT_MS)
    fits(page, frame)
    page.close()


def test_own_comment_on_a_later_page_is_shown_and_keeps_its_actions(world, context):
    """Item 3: the new comment is on page 2 of the oldest-first thread; the page
    after posting shows it, and after a reload and "Load more" it still has Edit
    and Delete."""
    from playwright.sync_api import expect

    url = world.allowed.add("/later", world.service.url, "seed-article")
    page = context.new_page()
    page.goto(url)
    frame = frame_of(page)
    top = frame.locator("#leave-comment")
    _post(frame, top, "Lena", "Mine lands on the second page.")
    mine = frame.locator("li.comment", has_text="Mine lands on the second page.")
    expect(mine).to_be_visible(timeout=VERDICT_MS)
    expect(frame.locator("#result")).to_contain_text("your comment is published")
    assert _in_view(page, frame, "li.comment.is-target")

    page.reload()
    frame = frame_of(page)
    expect(frame.locator("li.comment", has_text="Mine lands on")).to_have_count(0)
    frame.get_by_role("link", name="Load more comments").click()
    mine = frame.locator("li.comment", has_text="Mine lands on the second page.")
    expect(mine).to_be_visible()
    expect(mine.get_by_role("link", name="Edit")).to_be_visible()
    expect(mine.get_by_role("button", name="Delete")).to_be_visible()
    page.close()


BLOCK_STORAGE = """
if (location.origin === %r) {
  Object.defineProperty(window, "localStorage", {
    get() { throw new DOMException("refused in a third-party frame", "SecurityError"); }
  });
}
"""


def test_edit_survives_a_reload_where_the_frame_gets_no_storage(world, context):
    """Item 4: the browser refuses the frame localStorage; the receipt is kept by
    the publisher's page (embed.js) and Edit/Delete come back after a reload.
    Edit opens in place and saves in place."""
    from playwright.sync_api import expect

    context.add_init_script(BLOCK_STORAGE % world.service.url)
    url = world.allowed.add("/nostorage", world.service.url, "storage-thread")
    page = context.new_page()
    page.goto(url)
    frame = frame_of(page)
    assert (
        frame.evaluate(
            "(() => { try { localStorage; return 'ok'; }"
            " catch (e) { return 'refused'; } })()"
        )
        == "refused"
    )
    _post(frame, frame.locator("#leave-comment"), "Sami", "Kept by the page itself.")
    mine = frame.locator("li.comment", has_text="Kept by the page itself.")
    expect(mine).to_be_visible(timeout=VERDICT_MS)
    page.reload()
    frame = frame_of(page)
    mine = frame.locator("li.comment", has_text="Kept by the page itself.")
    expect(mine.get_by_role("link", name="Edit")).to_be_visible()
    stored = page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('moderation:receipts:'))"
    )
    assert len(stored) == 1 and stored[0].endswith("/demo/storage-thread")

    mine.get_by_role("link", name="Edit").click()
    panel = mine.locator(".inline-panel")
    expect(panel.locator("textarea")).to_be_visible()
    assert frame.url.find("/edit") < 0
    panel.locator("textarea").fill("Kept by the page itself, and edited.")
    panel.get_by_role("button", name="Save").click()
    expect(frame.locator("li.comment", has_text="and edited.")).to_be_visible(
        timeout=VERDICT_MS
    )
    page.close()


def _background(frame) -> str:
    return frame.evaluate("getComputedStyle(document.body).backgroundColor")


def test_the_frame_follows_the_host_page_not_the_os(world, browser):
    """Item 5: a light article seen with a dark OS setting gets a light frame; a
    dark article with a light OS gets a dark one; the page can switch later, and
    data-accent reaches the frame."""
    light = world.allowed.add(
        "/light", world.service.url, "seed-article", LIGHT, 'data-accent="#aa0000"'
    )
    dark = world.allowed.add("/dark", world.service.url, "seed-article", DARK)

    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    page.goto(light)
    frame = frame_of(page)
    assert _background(frame) == "rgb(255, 255, 255)"
    accent = frame.evaluate(
        "getComputedStyle(document.body).getPropertyValue('--mod-accent').trim()"
    )
    assert accent == "#aa0000"
    context.close()

    context = browser.new_context(color_scheme="light")
    page = context.new_page()
    page.goto(dark)
    frame = frame_of(page)
    assert _background(frame) == "rgb(27, 28, 31)"
    violations = axe(frame)
    assert not violations, violations
    page.evaluate("window.moderationEmbed.setTheme('light')")
    frame.wait_for_function(
        "getComputedStyle(document.body).backgroundColor === 'rgb(255, 255, 255)'"
    )
    # The host's own switch (a class on <html>) is followed too.
    page.evaluate("window.moderationEmbed = undefined")
    context.close()


def test_host_dark_mode_switch_is_followed(world, browser):
    url = world.allowed.add("/switch", world.service.url, "seed-article", LIGHT)
    context = browser.new_context(color_scheme="light")
    page = context.new_page()
    page.goto(url)
    frame = frame_of(page)
    assert _background(frame) == "rgb(255, 255, 255)"
    page.evaluate("document.body.style.background = '#101010'")
    frame.wait_for_function(
        "getComputedStyle(document.body).backgroundColor === 'rgb(27, 28, 31)'"
    )
    context.close()


def test_a_page_that_is_not_allowed_is_told_which_origin_to_add(world, context):
    """Item 6: instead of a broken frame, embed.js names the origin to allow, in
    place and in the console."""
    from playwright.sync_api import expect

    url = world.foreign.add("/foreign", world.service.url, "seed-article")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))
    page.goto(url, wait_until="domcontentloaded")
    hint = page.locator(".moderation-embed-hint")
    expect(hint).to_contain_text(world.foreign.origin, timeout=20_000)
    expect(hint).to_contain_text("allowed origins")
    assert page.locator(FRAME).evaluate("f => getComputedStyle(f).display") == "none"
    assert any("moderation embed.js" in e and world.foreign.origin in e for e in errors)
    page.close()


def test_on_a_phone_times_stay_whole_and_nothing_overflows(world, browser):
    """Item 7: at 375 px no time wraps mid-value; nothing scrolls sideways."""
    url = world.allowed.add("/phone", world.service.url, "seed-article")
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True
    )
    page = context.new_page()
    page.goto(url)
    frame = frame_of(page)
    lines = frame.evaluate(
        "Array.from(document.querySelectorAll('time'))"
        ".map(t => t.getClientRects().length)"
    )
    assert lines and max(lines) == 1, lines
    assert frame.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    frame.locator("a.reply").first.click()
    assert frame.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    context.close()


def test_held_comment_is_shown_to_its_author_in_place(world, context):
    """The author sees their held comment where it would appear, marked awaiting
    review, after a reload too; nobody else does."""
    from playwright.sync_api import expect

    url = world.allowed.add("/held", world.service.url, "held-thread")
    page = context.new_page()
    page.goto(url)
    frame_of(page)
    with sqlite3.connect(world.database) as connection:
        connection.execute(
            "UPDATE threads SET premoderate = 1, revision = revision + 1"
            " WHERE key = 'held-thread'"
        )
    page.reload()
    frame = frame_of(page)
    _post(frame, frame.locator("#leave-comment"), "Hana", "Waiting for a moderator.")
    expect(frame.locator("#result")).to_contain_text(
        "awaiting moderation", timeout=VERDICT_MS
    )
    own = frame.locator("li.own-comment-item", has_text="Waiting for a moderator.")
    expect(own).to_be_visible()
    expect(own).to_contain_text("Awaiting review")
    page.reload()
    frame = frame_of(page)
    own = frame.locator("li.own-comment-item", has_text="Waiting for a moderator.")
    expect(own).to_be_visible()
    fits(page, frame)  # the frame grew to show it
    violations = axe(frame)
    assert not violations, violations
    page.close()

    stranger = context.browser.new_context()
    other = stranger.new_page()
    other.goto(url)
    frame = frame_of(other)
    expect(frame.locator("#comments-heading")).to_be_visible()
    other.wait_for_timeout(500)
    assert frame.locator("li.own-comment-item").count() == 0
    stranger.close()


def test_over_the_limit_the_text_stays_and_the_frame_keeps_fitting(world, context):
    """Item 2: the posting limit's refusal shows beside the form, in the reader's
    language, the typed text kept; the frame still resizes afterwards."""
    from playwright.sync_api import expect

    url = world.allowed.add(
        "/limit", world.service.url, "limit-thread", LIGHT, 'data-lang="fr"'
    )
    page = context.new_page()
    page.goto(url)
    frame = frame_of(page)
    top = frame.locator("#leave-comment")
    refused = None
    for n in range(8):
        top = frame.locator("#leave-comment")
        top.get_by_label("Nom").fill("Zoé")
        top.get_by_label("Commentaire", exact=True).fill(f"Texte numéro {n}, à garder.")
        top.get_by_role("button", name="Publier").click()
        message = frame.locator(
            "#leave-comment .panel-message.error, #result.result-error"
        )
        try:
            expect(message.first).to_contain_text("réessayez dans", timeout=5_000)
            refused = n
            break
        except AssertionError:
            expect(frame.locator("#result")).not_to_have_text("", timeout=VERDICT_MS)
    assert refused is not None, "the limit was never reached"
    body = frame.locator("#leave-comment textarea[name=body]")
    assert body.input_value() == f"Texte numéro {refused}, à garder."
    fits(page, frame)
    violations = axe(frame)
    assert not violations, violations
    # Still talking to the page: a reply panel changes the height, the frame follows.
    before = fits(page, frame)
    frame.locator("a.reply").first.click()
    assert fits(page, frame) > before
    page.close()
