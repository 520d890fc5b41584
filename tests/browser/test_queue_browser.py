"""The review queue in a real browser: a moderator working by keyboard alone.

A live gunicorn service (live_server.py) with two moderators of the demo site
made through `flask moderation create-moderator`, three held comments stored beside
them, and the system Chromium driven by Playwright. Skipped, saying why, without them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chromium import axe
from moderators import PASSWORD, logged_in, press_and_wait, run

from live_server import LiveServer, live_server, service_environment

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HELD = ("First held remark.", "Second held remark.", "Third held remark.")

# Run inside the service's own environment: the moderators moderate the demo
# site, and three comments wait in its queue, oldest first.
SEED = """
import sys
from datetime import timedelta
from moderation import create_app
from moderation.services.comments import fingerprint
from moderation.extensions import db
from moderation.models import Comment, CommentStatus, Moderator, Site, Thread, utcnow
import sqlalchemy as sa

app = create_app({"IN_PROCESS_WORKER": False, "CLASSIFIER_PRELOAD": False})
with app.app_context():
    site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
    thread = db.session.scalar(sa.select(Thread).filter_by(site=site))
    for email in sys.argv[1:3]:
        db.session.scalar(sa.select(Moderator).filter_by(email=email)).sites = [site]
    start = utcnow() - timedelta(minutes=30)
    for number, body in enumerate(sys.argv[3:]):
        db.session.add(Comment(
            thread=thread, handle=f"Reader{number}", body=body, html=body,
            status=CommentStatus.HELD, fingerprint=fingerprint(body),
            created_at=start + timedelta(minutes=number),
        ))
    db.session.commit()
"""


@pytest.fixture(scope="module")
def server(
    chromium_path: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("live-queue")
    with live_server(directory) as running:
        env = service_environment(directory, running.url)
        for email, name in (("alice@example.com", "Alice"), ("bob@example.com", "Bob")):
            run(
                env,
                "-m",
                "flask",
                "--app",
                "moderation",
                "moderation",
                "create-moderator",
                email,
                "--name",
                name,
                "--password-stdin",
                stdin=PASSWORD + "\n",
            )
        run(env, "-c", SEED, "alice@example.com", "bob@example.com", *HELD)
        yield running


def test_a_moderator_clears_the_queue_by_keyboard_while_another_sees_the_claim(
    browser, server: LiveServer
):
    problems: list[str] = []
    alice_context, alice = logged_in(browser, server, "alice@example.com", problems)
    bob_context, bob = logged_in(browser, server, "bob@example.com", problems)
    try:
        assert alice.locator("h1 [data-count]").inner_text() == "3"

        # ? opens the help, Escape closes it.
        alice.keyboard.press("?")
        assert alice.locator("#keys-help").is_visible()
        assert "approve" in alice.locator("#keys-help").inner_text()
        alice.keyboard.press("Escape")
        assert not alice.locator("#keys-help").is_visible()

        # j then Enter opens the oldest comment, which claims it.
        alice.keyboard.press("j")
        press_and_wait(alice, "Enter")
        assert HELD[0] in alice.locator("blockquote.raw-body").inner_text()
        assert "You are reviewing this" in alice.content()

        # Bob's queue skips it; with "show claimed" he sees who has it.
        bob.reload()
        assert HELD[0] not in bob.content()
        bob.goto(f"{server.url}/mod/?claimed=1")
        claimed = bob.locator("li.item", has_text=HELD[0])
        assert "Being reviewed by Alice" in claimed.inner_text()

        # a approves it and moves on to the next held comment.
        press_and_wait(alice, "a")
        assert HELD[1] in alice.locator("blockquote.raw-body").inner_text()
        # Back to the queue with q: one approval behind, undo offered.
        press_and_wait(alice, "q")
        assert alice.locator("form.undo").is_visible()
        assert alice.locator("h1 [data-count]").inner_text() == "2"

        # In the list: j a approves the first, then j r s Enter rejects as spam.
        alice.keyboard.press("j")
        press_and_wait(alice, "a")
        alice.keyboard.press("j")
        alice.keyboard.press("r")
        assert alice.evaluate("document.activeElement.name") == "reason_code"
        alice.keyboard.press("s")
        press_and_wait(alice, "Enter")
        assert "Nothing is waiting" in alice.content()

        approved = alice.goto(f"{server.url}/mod/?queue=approved").text()
        assert HELD[0] in approved and HELD[1] in approved
        rejected = alice.goto(f"{server.url}/mod/?queue=rejected").text()
        assert HELD[2] in rejected
        item = alice.locator("li.item", has_text=HELD[2]).locator("a.open")
        item.click()
        assert "spam" in alice.locator("table.decisions").inner_text()
    finally:
        alice_context.close()
        bob_context.close()
    assert not problems, problems


def test_live_counts_come_from_the_json_endpoint(browser, server: LiveServer):
    problems: list[str] = []
    context, page = logged_in(browser, server, "bob@example.com", problems)
    try:
        counts = page.evaluate(
            "fetch(document.getElementById('queue').dataset.countsUrl,"
            " {headers: {Accept: 'application/json'}}).then(r => r.json())"
        )
        assert set(counts["queues"]) == {
            "held",
            "reported",
            "approved",
            "rejected",
            "checking",
            "all",
        }
        shown = page.locator('[data-count="approved"]').first.inner_text()
        assert shown == counts["queues"]["approved"]["label"]
    finally:
        context.close()
    assert not problems, problems


def test_queue_pages_pass_axe(browser, server: LiveServer):
    problems: list[str] = []
    context, page = logged_in(browser, server, "bob@example.com", problems)
    try:
        page.goto(f"{server.url}/mod/?queue=all")
        assert page.locator("li.item").count() > 0
        assert axe(page) == []
        page.locator("li.item a.open").first.click()
        page.wait_for_load_state()
        assert axe(page) == []
        page.keyboard.press("?")
        assert axe(page) == []
    finally:
        context.close()
    assert not problems, problems


def test_f_features_a_published_comment_that_readers_then_see_first(
    browser, server: LiveServer
):
    problems: list[str] = []
    context, page = logged_in(browser, server, "bob@example.com", problems)
    try:
        page.goto(f"{server.url}/mod/?queue=approved")
        first = page.locator("li.item").first
        comment_id = first.get_attribute("data-id")
        handle = first.locator(".where strong").inner_text()
        # j focuses the first approved comment, f features it.
        page.keyboard.press("j")
        press_and_wait(page, "f")
        assert f"Featured comment {comment_id}" in page.content()
        item = page.locator(f"#item-{comment_id}")
        assert item.locator(".badge-featured").is_visible()
        assert item.locator("button.unfeature").is_visible()

        # Readers see it in the featured block above the thread, badge and link.
        page.goto(f"{server.url}/embed/demo/seed-article")
        block = page.locator("section.featured")
        assert handle in block.inner_text()
        assert block.locator(f'a[href*="comment={comment_id}"]').count() == 1
        assert page.locator(f"#comment-{comment_id} .badge-featured").is_visible()
        assert axe(page) == []

        # On the comment's own page, f takes it out again.
        page.goto(f"{server.url}/mod/comments/{comment_id}")
        press_and_wait(page, "f")
        assert f"Comment {comment_id} is no longer featured" in page.content()
        page.goto(f"{server.url}/embed/demo/seed-article")
        assert page.locator("section.featured").count() == 0
    finally:
        context.close()
    assert not problems, problems
