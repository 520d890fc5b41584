"""Readers editing and deleting their own comments, proven by the post's receipt."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from support import BROWSER_POST

from moderation.extensions import db
from moderation.models import (
    AuditEntry,
    Comment,
    CommentStatus,
    Decision,
    Moderator,
    Score,
    Site,
    Thread,
)

from helpers import post_from_iframe

TOXIC = {"toxicity": 0.95, "insult": 0.9, "threat": 0.01}


def _posted(client, path: str, body: str = "A first thought.") -> tuple[int, str]:
    """Post from the iframe; (comment id, receipt) from the result."""
    response = post_from_iframe(client, path, handle="Ada", body=body)
    assert response.status_code == 201, response.text
    receipt = re.search(r'data-receipt="([^"]+)"', response.text)
    comment_id = re.search(r'data-comment-id="(\d+)"', response.text)
    assert receipt and comment_id, "the result carries no receipt"
    assert "Edit or delete" in response.text  # the link that works without JS
    return int(comment_id.group(1)), html.unescape(receipt.group(1))


def _comment(app, comment_id: int) -> dict[str, object]:
    with app.app_context():
        c = db.session.get(Comment, comment_id)
        return {
            "status": c.status,
            "body": c.body,
            "edited_at": c.edited_at,
            "revision": c.thread.revision,
            "decisions": [(d.actor, d.to_status.value) for d in c.decisions],
            "scores": len(c.scores),
        }


def _edit(client, demo, comment_id, receipt, body, headers=BROWSER_POST):
    return client.post(
        f"{demo.embed}/comments/{comment_id}/edit",
        data={"receipt": receipt, "body": body},
        headers=headers,
    )


def _delete(client, demo, comment_id, receipt, confirm="yes"):
    return client.post(
        f"{demo.embed}/comments/{comment_id}/delete",
        data={"receipt": receipt, "confirm": confirm},
        headers=BROWSER_POST,
    )


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEntry).filter_by(action=action)))


def test_edit_page_shows_the_comment_to_its_author(client, demo):
    comment_id, receipt = _posted(client, demo.embed)
    page = client.get(
        f"{demo.embed}/comments/{comment_id}/edit", query_string={"receipt": receipt}
    )
    assert page.status_code == 200
    assert "A first thought.</textarea>" in page.text
    assert "Delete this comment" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors http://localhost" in page.headers["Content-Security-Policy"]


def test_toxic_edit_is_screened_again_and_held(client, demo, app, classifier):
    comment_id, receipt = _posted(client, demo.embed)
    before = _comment(app, comment_id)
    assert before["status"] is CommentStatus.PUBLISHED and before["scores"] == 3
    classifier.by_text["Now you are all idiots."] = TOXIC

    response = _edit(client, demo, comment_id, receipt, "Now you are all idiots.")

    assert response.status_code == 200
    assert "awaiting moderation" in response.text
    after = _comment(app, comment_id)
    assert after["status"] is CommentStatus.HELD
    assert after["body"] == "Now you are all idiots."
    assert after["edited_at"] is not None
    assert after["revision"] > before["revision"]
    assert after["scores"] == 3  # the new text's, the old ones dropped
    assert after["decisions"][-2:] == [("author", "received"), ("screen", "held")]
    with app.app_context():
        scores = db.session.scalars(
            sa.select(Score.value).where(Score.comment_id == comment_id)
        )
        assert max(scores) == pytest.approx(0.95)
    (audit,) = _audit(app, "comment.edited")
    assert audit.actor == "author"
    assert audit.before == {"status": "published", "body": "A first thought."}
    assert "Now you are all idiots" not in client.get(demo.embed).text
    assert "A first thought" not in client.get(demo.embed).text


def test_clean_edit_is_published_and_marked_edited(client, demo, app):
    comment_id, receipt = _posted(client, demo.embed)
    response = _edit(client, demo, comment_id, receipt, "A *second* thought.")
    assert response.status_code == 200
    assert "Your edit is published" in response.text
    page = client.get(demo.embed).text
    assert "<em>second</em>" in page
    assert "(edited " in page
    assert _comment(app, comment_id)["status"] is CommentStatus.PUBLISHED


def test_edited_held_comment_can_be_published_by_the_screen(
    client, demo, app, classifier
):
    classifier.by_text["You fools."] = TOXIC
    response = post_from_iframe(client, demo.embed, handle="Ada", body="You fools.")
    assert response.status_code == 202
    comment_id = int(re.search(r'data-comment-id="(\d+)"', response.text).group(1))
    receipt = html.unescape(re.search(r'data-receipt="([^"]+)"', response.text)[1])
    assert _edit(client, demo, comment_id, receipt, "Fair point.").status_code == 200
    assert _comment(app, comment_id)["status"] is CommentStatus.PUBLISHED


def test_comment_a_moderator_reviewed_cannot_be_edited_but_can_be_deleted(
    client, demo, app
):
    comment_id, receipt = _posted(client, demo.embed)
    with app.app_context():
        moderator = Moderator(email="m@example.com", name="M", password_hash="x")
        db.session.add(moderator)
        db.session.flush()
        db.session.add(
            Decision(
                comment_id=comment_id,
                moderator_id=moderator.id,
                actor="m@example.com",
                from_status=CommentStatus.HELD,
                to_status=CommentStatus.PUBLISHED,
            )
        )
        db.session.commit()
    response = _edit(client, demo, comment_id, receipt, "Sneaky change.")
    assert response.status_code == 409
    assert "moderator" in response.text
    assert _comment(app, comment_id)["body"] == "A first thought."
    assert _delete(client, demo, comment_id, receipt).status_code == 200


def test_delete_asks_first_then_hides_the_comment(client, demo, app):
    comment_id, receipt = _posted(client, demo.embed, body="Regrettable words.")
    revision = _comment(app, comment_id)["revision"]

    asked = _delete(client, demo, comment_id, receipt, confirm="")
    assert asked.status_code == 200
    assert "Yes, delete it" in asked.text
    assert _comment(app, comment_id)["status"] is CommentStatus.PUBLISHED

    done = _delete(client, demo, comment_id, receipt)
    assert done.status_code == 200
    assert "has been deleted" in done.text
    after = _comment(app, comment_id)
    assert after["status"] is CommentStatus.DELETED
    assert after["revision"] > revision
    assert after["decisions"][-1] == ("author", "deleted")
    assert _audit(app, "comment.deleted")[0].reason == "deleted by its author"
    assert "Regrettable words" not in client.get(demo.embed).text
    api = client.get(f"{demo.api}").get_json()
    assert comment_id not in [c["id"] for c in api["comments"]]
    # Once deleted, the receipt changes nothing more.
    assert _delete(client, demo, comment_id, receipt).status_code == 409
    assert _edit(client, demo, comment_id, receipt, "Back again").status_code == 409


def test_receipt_api_reports_a_deleted_comment(client, demo):
    comment_id, receipt = _posted(client, demo.embed)
    _delete(client, demo, comment_id, receipt)
    answer = client.get(f"/api/v1/receipts/{receipt}")
    assert answer.status_code == 200
    assert answer.get_json()["status"] == "deleted"


@pytest.mark.parametrize("how", ["window-zero", "posted-long-ago"])
def test_edit_after_the_window_is_refused(client, demo, app, how):
    comment_id, receipt = _posted(client, demo.embed)
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        if how == "window-zero":
            comment.thread.site.edit_window_minutes = 0
        else:
            comment.created_at -= timedelta(minutes=16)
        db.session.commit()
    response = _edit(client, demo, comment_id, receipt, "Too late.")
    assert response.status_code == 409
    assert "Edit or delete" not in response.text
    assert _delete(client, demo, comment_id, receipt).status_code == 409
    page = client.get(
        f"{demo.embed}/comments/{comment_id}/edit", query_string={"receipt": receipt}
    )
    assert page.status_code == 409
    after = _comment(app, comment_id)
    assert after["status"] is CommentStatus.PUBLISHED
    assert after["body"] == "A first thought."


def test_forged_receipt_is_refused(client, demo, app):
    comment_id, receipt = _posted(client, demo.embed)
    forged = receipt[:-4] + ("AAAA" if not receipt.endswith("AAAA") else "BBBB")
    for raw in (forged, "", "not-a-receipt"):
        assert _edit(client, demo, comment_id, raw, "Forged.").status_code == 403
        assert _delete(client, demo, comment_id, raw).status_code == 403
    assert _comment(app, comment_id)["body"] == "A first thought."


def test_receipt_of_another_comment_or_thread_is_refused(client, demo, app):
    mine, my_receipt = _posted(client, demo.embed)
    theirs, _ = _posted(client, demo.embed, body="Someone else's view.")
    assert _edit(client, demo, theirs, my_receipt, "Hijacked.").status_code == 403
    assert _delete(client, demo, theirs, my_receipt).status_code == 403

    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
        db.session.add(Thread(site=site, key="other", url="http://localhost/other"))
        db.session.commit()
    other_id, other_receipt = _posted(client, "/embed/demo/other")
    # A receipt from the other thread, sent to this thread's comment...
    assert _edit(client, demo, mine, other_receipt, "Crossed.").status_code == 403
    # ...or to the other comment through this thread's address.
    assert _edit(client, demo, other_id, other_receipt, "Crossed.").status_code == 403
    assert _comment(app, theirs)["body"] == "Someone else's view."
    assert _comment(app, mine)["body"] == "A first thought."
    assert _comment(app, other_id)["status"] is CommentStatus.PUBLISHED


def test_edit_from_another_site_is_refused(client, demo, app):
    comment_id, receipt = _posted(client, demo.embed)
    evil = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    response = _edit(client, demo, comment_id, receipt, "Changed.", headers=evil)
    assert response.status_code == 403
    assert _comment(app, comment_id)["body"] == "A first thought."


def test_unchanged_edit_changes_nothing(client, demo, app):
    comment_id, receipt = _posted(client, demo.embed)
    before = _comment(app, comment_id)
    response = _edit(client, demo, comment_id, receipt, "A first thought.")
    assert response.status_code == 200
    assert "Nothing changed." in response.text
    assert _comment(app, comment_id) == before


def test_empty_edit_keeps_the_text_and_says_why(client, demo, app):
    comment_id, receipt = _posted(client, demo.embed)
    response = _edit(client, demo, comment_id, receipt, "   ")
    assert response.status_code == 422
    assert "Please write a comment" in response.text
    assert _comment(app, comment_id)["edited_at"] is None


def test_edit_on_a_closed_thread_is_refused(client, demo, app):
    comment_id, receipt = _posted(client, demo.embed)
    with app.app_context():
        db.session.get(Thread, demo.id).is_open = False
        db.session.commit()
    assert _edit(client, demo, comment_id, receipt, "Late.").status_code == 409
    assert _comment(app, comment_id)["body"] == "A first thought."
