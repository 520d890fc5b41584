"""After a decision the next item opens (item page) or is pointed at (list), in
the same queue, tab and filters; bulk decisions are undone in one go."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import (
    AuditEntry,
    Comment,
    CommentStatus,
    Decision,
    Moderator,
    ReportReason,
    utcnow,
)
from moderation.services.comments import decide
from moderation.services.reports import report_comment

from staff_helpers import add_comment, add_moderator, add_site, login

HELD, PUBLISHED, REJECTED = (
    CommentStatus.HELD,
    CommentStatus.PUBLISHED,
    CommentStatus.REJECTED,
)


@pytest.fixture
def mod(app):
    add_site(app, "news")
    add_moderator(app, "mod@example.com", sites=["news"])
    return login(app, "mod@example.com")


def _comments(app, bodies, status=HELD, reported=False) -> list[int]:
    """Comments oldest first, a minute apart; reported ones by one reader each."""
    start = utcnow() - timedelta(hours=1)
    ids = []
    for number, body in enumerate(bodies):
        comment_id = add_comment(
            app, "news", body, status, created_at=start + timedelta(minutes=number)
        )
        if reported:
            with app.app_context():
                report_comment(
                    db.session.get(Comment, comment_id),
                    ReportReason.SPAM,
                    "",
                    "net:reader",
                )
        ids.append(comment_id)
    return ids


def _reject(client, comment_id, page: str):
    """Reject through the item page's own form, as a browser without script."""
    form = page[page.index('class="reject-form"') :]
    after = re.search(r'name="next" value="([^"]+)"', form).group(1)
    return client.post(
        f"/mod/comments/{comment_id}/decision",
        data={
            "action": "reject",
            "expected": "published",
            "reason_code": "spam",
            "next": after.replace("&amp;", "&"),
        },
    )


def test_a_decision_on_the_item_page_opens_the_next_item_of_the_same_tab(app, mod):
    first, second, third = _comments(
        app, ["First.", "Second.", "Third."], PUBLISHED, reported=True
    )
    page = mod.get(f"/mod/comments/{second}?queue=reported").text
    assert f'href="/mod/comments/{third}?queue=reported" rel="next"' in page
    assert f"Next: #{third}" in page

    response = _reject(mod, second, page)
    assert response.status_code == 303
    opened = mod.get(response.location)
    assert opened.status_code == 302
    assert opened.location == f"/mod/comments/{third}?queue=reported"

    # At the end of the tab: the first item left (the one skipped before).
    page = mod.get(opened.location).text
    opened = mod.get(_reject(mod, third, page).location)
    assert opened.location == f"/mod/comments/{first}?queue=reported"
    # Nothing left: back to the tab itself.
    page = mod.get(opened.location).text
    opened = mod.get(_reject(mod, first, page).location)
    assert opened.location == "/mod/?queue=reported"


def test_the_next_link_and_key_follow_the_filters_the_item_was_opened_with(app, mod):
    ann, bob, ann_again = _comments(app, ["Ann one.", "Bob one.", "Ann two."])
    with app.app_context():
        for comment_id, handle in ((ann, "Ann"), (bob, "Bob"), (ann_again, "Ann")):
            db.session.get(Comment, comment_id).handle = handle
        db.session.commit()
    listed = mod.get("/mod/?handle=Ann").text
    assert f'href="/mod/comments/{ann}?queue=held&amp;handle=Ann"' in listed
    page = mod.get(f"/mod/comments/{ann}?queue=held&handle=Ann").text
    # Bob's comment is next in the held queue, but not under this filter.
    assert f'data-next="/mod/comments/{ann_again}?queue=held&amp;handle=Ann"' in page
    assert f"Next: #{ann_again}" in page
    assert 'data-queue="/mod/?queue=held&amp;handle=Ann"' in page
    assert "<kbd>n</kbd>" in page and "next / previous comment in this queue" in page
    assert mod.get(f"/mod/comments/{ann}?queue=nope").status_code == 400


def test_a_decision_in_the_list_points_at_the_item_that_followed(app, mod):
    first, second, third = _comments(app, ["One.", "Two.", "Three."])
    page = mod.get("/mod/").text
    form = page[page.index(f'id="item-{first}"') : page.index(f'id="item-{second}"')]
    assert f'name="next" value="/mod/#item-{second}"' in form
    last = page[page.index(f'id="item-{third}"') :]
    # The last item points back at the one before it.
    assert f'name="next" value="/mod/#item-{second}"' in last
    response = mod.post(
        f"/mod/comments/{first}/decision",
        data={"action": "approve", "expected": "held", "next": f"/mod/#item-{second}"},
    )
    assert response.status_code == 303
    assert response.location == f"/mod/#item-{second}"


def _bulk_reject(client, ids, status="held"):
    return client.post(
        "/mod/bulk",
        data={
            "action": "reject",
            "reason_code": "spam",
            "ids": [f"{i}:{status}" for i in ids],
            "next": "/mod/",
        },
    )


def _toast_decisions(page: str) -> list[str]:
    toast = page[page.index('class="undo undo-bulk"') :]
    toast = toast[: toast.index("</form>")]
    return re.findall(r'name="decision" value="(\d+)"', toast)


def test_one_undo_restores_every_comment_of_a_bulk_decision(app, mod):
    ids = _comments(app, ["A.", "B.", "C."])
    assert _bulk_reject(mod, ids).status_code == 303
    page = mod.get("/mod/?queue=rejected").text
    assert "3 comments rejected." in page
    decisions = _toast_decisions(page)
    assert len(decisions) == 3
    response = mod.post(
        "/mod/decisions/undo", data={"decision": decisions, "next": "/mod/"}
    )
    assert response.status_code == 303
    page = mod.get("/mod/").text
    assert "Undone: 3 of 3 comments are back as they were." in page
    with app.app_context():
        statuses = db.session.scalars(
            sa.select(Comment.status).where(Comment.id.in_(ids))
        ).all()
        assert set(statuses) == {HELD}
        assert all(db.session.get(Comment, i).queued_at is not None for i in ids)
        audit = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "comments.bulk_undo")
        )
        assert sorted(audit.after["undone"]) == sorted(ids)
        undos = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "comment.undo")
        )
        assert undos == 3
    # Once is enough: the same undo again is refused, each comment has moved.
    again = mod.post(
        "/mod/decisions/undo", data={"decision": decisions}, follow_redirects=True
    )
    assert "Undone: 0 of 3" in again.text


def test_a_bulk_undo_leaves_what_someone_else_changed_since_and_says_so(app, mod):
    add_moderator(app, "other@example.com", sites=["news"])
    ids = _comments(app, ["A.", "B."])
    _bulk_reject(mod, ids)
    decisions = _toast_decisions(mod.get("/mod/?queue=rejected").text)
    with app.app_context():
        other = db.session.scalar(
            sa.select(Moderator).filter_by(email="other@example.com")
        )
        decide(db.session.get(Comment, ids[1]), other, PUBLISHED, "fine after all")
    response = mod.post(
        "/mod/decisions/undo", data={"decision": decisions}, follow_redirects=True
    )
    assert "Undone: 1 of 2 comments are back as they were." in response.text
    assert (
        f"Comment {ids[1]} was changed since by other (now published) and was left"
        " as it is." in response.text
    )
    with app.app_context():
        assert db.session.get(Comment, ids[0]).status is HELD
        assert db.session.get(Comment, ids[1]).status is PUBLISHED


def test_a_bulk_undo_is_only_for_its_own_moderator_and_window(app, mod):
    add_moderator(app, "other@example.com", sites=["news"])
    ids = _comments(app, ["A."])
    _bulk_reject(mod, ids)
    decisions = _toast_decisions(mod.get("/mod/?queue=rejected").text)
    other = login(app, "other@example.com")
    refused = other.post("/mod/decisions/undo", data={"decision": decisions})
    assert refused.status_code == 409
    assert mod.post("/mod/decisions/undo", data={"decision": ["x"]}).status_code == 422
    assert mod.post("/mod/decisions/undo", data={}).status_code == 422
    missing = mod.post("/mod/decisions/undo", data={"decision": ["999999"]})
    assert missing.status_code == 404
    with app.app_context():
        db.session.execute(
            sa.update(Decision).values(created_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
    late = mod.post("/mod/decisions/undo", data={"decision": decisions})
    assert late.status_code == 409 and "Too late to undo" in late.text
