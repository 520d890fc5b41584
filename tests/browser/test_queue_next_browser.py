"""After a keyboard decision the next item has the focus (list) or is open (item
page); n opens the next item; p keeps a reported comment. A live service and
the system Chromium, as in test_queue_browser.py (skipped, saying why, without).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moderators import PASSWORD, logged_in, press_and_wait, run

from live_server import LiveServer, live_server, service_environment

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HELD = ("Held remark one.", "Held remark two.", "Held remark three.")
REPORTED = "A published remark a reader reported."

# The moderator works the demo site; three held comments, oldest first, and a
# published one with one open report (below the site's threshold).
SEED = """
import sys
from datetime import timedelta
from moderation import create_app
from moderation.services.comments import fingerprint
from moderation.extensions import db
from moderation.models import (
    Comment, CommentStatus, Moderator, Report, ReportReason, Site, Thread, utcnow,
)
import sqlalchemy as sa

app = create_app({"IN_PROCESS_WORKER": False, "CLASSIFIER_PRELOAD": False})
with app.app_context():
    site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
    thread = db.session.scalar(sa.select(Thread).filter_by(site=site))
    db.session.scalar(sa.select(Moderator).filter_by(email=sys.argv[1])).sites = [site]
    start = utcnow() - timedelta(minutes=30)
    for number, body in enumerate(sys.argv[2:]):
        reported = number == len(sys.argv[2:]) - 1
        comment = Comment(
            thread=thread, handle=f"Reader{number}", body=body, html=body,
            status=CommentStatus.PUBLISHED if reported else CommentStatus.HELD,
            fingerprint=fingerprint(body),
            created_at=start + timedelta(minutes=number),
            queued_at=utcnow() - timedelta(minutes=5),
        )
        if reported:
            comment.report_count = 1
            comment.reports.append(
                Report(reason=ReportReason.ABUSE, reporter_key="net:browser")
            )
        db.session.add(comment)
    db.session.commit()
"""


@pytest.fixture(scope="module")
def server(
    chromium_path: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("live-next")
    with live_server(directory) as running:
        env = service_environment(directory, running.url)
        run(
            env,
            "-m",
            "flask",
            "--app",
            "moderation",
            "moderation",
            "create-moderator",
            "alice@example.com",
            "--name",
            "Alice",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        run(env, "-c", SEED, "alice@example.com", *HELD, REPORTED)
        yield running


def _focused_body(page) -> str:
    return page.evaluate(
        "document.activeElement.closest('li.item')"
        " ? document.activeElement.querySelector('blockquote').textContent : ''"
    )


def test_the_next_item_has_the_focus_after_each_keyboard_decision(
    browser, server: LiveServer
):
    problems: list[str] = []
    context, page = logged_in(browser, server, "alice@example.com", problems)
    try:
        # In the list: j focuses the first, r s Enter rejects it as spam; the
        # page comes back with the second focused, and a approves that one.
        page.keyboard.press("j")
        assert HELD[0] in _focused_body(page)
        page.keyboard.press("r")
        page.keyboard.press("s")
        press_and_wait(page, "Enter")
        assert HELD[1] in _focused_body(page)
        assert page.evaluate("document.activeElement.classList.contains('focused')")
        press_and_wait(page, "a")
        assert HELD[2] in _focused_body(page)

        # The help lists n, and p for Keep.
        page.keyboard.press("?")
        help_text = page.locator("#keys-help").inner_text()
        assert "keep a reported comment" in help_text
        page.keyboard.press("Escape")

        # The Reported tab: p keeps the reported comment, its count drops to 0.
        page.goto(f"{server.url}/mod/?queue=reported")
        assert page.locator("h1 [data-count]").inner_text() == "1"
        # Waiting since it was reported (minutes), not since it was posted.
        assert page.locator("li.item .waiting").inner_text().endswith(" min")
        page.keyboard.press("j")
        press_and_wait(page, "p")
        assert "its reports are dismissed" in page.content()
        assert page.locator("h1 [data-count]").inner_text() == "0"
    finally:
        context.close()
    assert not problems, problems


def test_n_and_a_decision_on_the_item_page_open_the_next_item(
    browser, server: LiveServer
):
    problems: list[str] = []
    context, page = logged_in(browser, server, "alice@example.com", problems)
    try:
        page.goto(f"{server.url}/mod/?queue=all&order=newest")
        first = page.locator("li.item").first.get_attribute("data-id")
        second = page.locator("li.item").nth(1).get_attribute("data-id")
        page.keyboard.press("j")
        press_and_wait(page, "Enter")
        assert f"/mod/comments/{first}?queue=all&order=newest" in page.url
        # n opens the next item of the same tab and order.
        press_and_wait(page, "n")
        assert f"/mod/comments/{second}?queue=all&order=newest" in page.url
        assert page.locator("a.next-item").count() == 1
    finally:
        context.close()
    assert not problems, problems
