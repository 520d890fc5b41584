"""Reported comments: Keep dismisses the reports and leaves the comment up, in the
queue (single, bulk), by keyboard and through the API; the Reported count drops;
bulk actions say exactly why an item was left as it was."""

from __future__ import annotations

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
    Report,
    ReportReason,
    Site,
    utcnow,
)
from moderation.services.api_tokens import create_token
from moderation.services.comments import KEPT_REASON, claim
from moderation.services.reports import report_comment

from staff_helpers import add_comment, add_moderator, add_site, login

PUBLISHED, HELD, REJECTED = (
    CommentStatus.PUBLISHED,
    CommentStatus.HELD,
    CommentStatus.REJECTED,
)


@pytest.fixture
def site(app) -> str:
    add_site(app, "news")
    with app.app_context():
        db.session.execute(
            sa.update(Site).where(Site.slug == "news").values(report_threshold=3)
        )
        db.session.commit()
    return "news"


@pytest.fixture
def mod(app, site):
    add_moderator(app, "mod@example.com", sites=[site])
    return login(app, "mod@example.com")


def _reported(app, site: str, readers: int, body: str = "Reported remark.") -> int:
    """A published comment reported by `readers` readers, through reports.py."""
    comment_id = add_comment(app, site, body, PUBLISHED)
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        for number in range(readers):
            report_comment(comment, ReportReason.ABUSE, "", f"net:reader{number}")
    return comment_id


def _open_reports(app, comment_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Report)
            .where(Report.comment_id == comment_id, Report.resolved_at.is_(None))
        )


def _reported_count(client) -> int:
    found = client.get("/mod/counts?queue=reported").get_json()
    return found["queues"]["reported"]["count"]


def _decide(client, comment_id, action, expected, **extra):
    data = {"action": action, "expected": expected, **extra}
    return client.post(f"/mod/comments/{comment_id}/decision", data=data)


def test_a_reported_published_comment_can_be_kept_and_leaves_the_reported_tab(
    app, site, mod
):
    comment_id = _reported(app, site, 2)  # under the threshold: still published
    page = mod.get(f"/mod/comments/{comment_id}?queue=reported").text
    assert 'class="keep-form"' in page and "Keep</button>" in page
    listed = mod.get("/mod/?queue=reported").text
    assert 'class="keep-form"' in listed
    assert _reported_count(mod) == 1

    response = _decide(mod, comment_id, "keep", "published", reason="fair point")
    assert response.status_code == 303
    assert _open_reports(app, comment_id) == 0
    assert _reported_count(mod) == 0
    assert f"#{comment_id}<" not in mod.get("/mod/?queue=reported").text
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.status is PUBLISHED
        last = comment.decisions[-1]
        assert (last.from_status, last.to_status) == (PUBLISHED, PUBLISHED)
        assert last.reason == f"{KEPT_REASON}: fair point"
        assert last.moderator.email == "mod@example.com"
        audit = db.session.scalar(
            sa.select(AuditEntry).where(
                AuditEntry.action == "comment.kept",
                AuditEntry.target_id == str(comment_id),
            )
        )
        assert audit is not None and audit.after["reports_resolved"] == 2
    # New reports count toward the threshold afresh.
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        report_comment(comment, ReportReason.SPAM, "", "net:later")
    assert _reported_count(mod) == 1


def test_keep_publishes_again_a_comment_its_reports_held(app, site, mod):
    comment_id = _reported(app, site, 3)
    with app.app_context():
        assert db.session.get(Comment, comment_id).status is HELD
    assert 'class="keep-form"' in mod.get(f"/mod/comments/{comment_id}").text
    assert _decide(mod, comment_id, "keep", "held").status_code == 303
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.status is PUBLISHED
        assert comment.decisions[-1].reason == KEPT_REASON
    assert _open_reports(app, comment_id) == 0
    assert _reported_count(mod) == 0


def test_keep_is_refused_for_a_comment_with_no_open_reports(app, site, mod):
    comment_id = add_comment(app, site, "Nobody reported me.", PUBLISHED)
    assert 'class="keep-form"' not in mod.get(f"/mod/comments/{comment_id}").text
    response = _decide(mod, comment_id, "keep", "published")
    assert response.status_code == 409
    assert "no open reports to dismiss" in response.text


def test_reject_from_the_reported_tab_lowers_its_count(app, site, mod):
    first, second = _reported(app, site, 1, "One."), _reported(app, site, 1, "Two.")
    assert _reported_count(mod) == 2
    response = _decide(mod, first, "reject", "published", reason_code="abuse")
    assert response.status_code == 303
    assert _reported_count(mod) == 1
    assert _decide(mod, second, "keep", "published").status_code == 303
    assert _reported_count(mod) == 0
    page = mod.get("/mod/?queue=reported").text
    assert 'data-count="reported">0<' in page


def test_bulk_on_the_reported_tab_offers_keep_not_approve(app, site, mod):
    published = _reported(app, site, 1, "Published one.")
    held = _reported(app, site, 3, "Held by its reports.")
    page = mod.get("/mod/?queue=reported").text
    assert 'value="keep"' in page and "Keep selected" in page
    assert "Approve selected" not in page
    response = mod.post(
        "/mod/bulk",
        data={
            "action": "keep",
            "ids": [f"{published}:published", f"{held}:held"],
            "next": "/mod/?queue=reported",
        },
        follow_redirects=True,
    )
    assert "Kept 2 of 2 comments." in response.text
    assert "someone else" not in response.text
    with app.app_context():
        assert db.session.get(Comment, held).status is PUBLISHED
        assert db.session.get(Comment, published).status is PUBLISHED
    assert _reported_count(mod) == 0


def test_bulk_approve_of_a_published_comment_says_why_it_was_skipped(app, site, mod):
    # What the Reported tab used to offer: approving a published comment.
    published = _reported(app, site, 1)
    response = mod.post(
        "/mod/bulk",
        data={"action": "approve", "ids": [f"{published}:published"]},
        follow_redirects=True,
    )
    text = response.text
    assert "Approved 0 of 1 comments." in text
    assert "already published, so there was nothing to approve" in text
    assert "decided or claimed by someone else" not in text
    assert _open_reports(app, published) == 1  # left exactly as it was


def test_bulk_names_each_reason_for_a_skip(app, site, mod):
    add_moderator(app, "other@example.com", sites=[site])
    stale = add_comment(app, site, "Decided elsewhere.", REJECTED)
    claimed = _reported(app, site, 1, "Claimed by another.")
    unreported = add_comment(app, site, "Never reported.", PUBLISHED)
    fine = _reported(app, site, 1, "Fine to keep.")
    with app.app_context():
        other = db.session.scalar(
            sa.select(Moderator).filter_by(email="other@example.com")
        )
        claim(db.session.get(Comment, claimed), other, 5)
    response = mod.post(
        "/mod/bulk",
        data={
            "action": "keep",
            "ids": [
                f"{stale}:held",  # the moderator saw it held; it is rejected now
                f"{claimed}:published",
                f"{unreported}:published",
                f"{fine}:published",
                "999999:held",
            ],
        },
        follow_redirects=True,
    )
    text = response.text
    assert "Kept 1 of 5 comments." in text
    assert "1 had been decided by someone else since this page was loaded" in text
    assert "1 was being reviewed by another moderator and left to them." in text
    assert "1 had no open reports left to dismiss." in text
    assert "1 could not be found." in text


def test_keep_through_the_moderation_api(app, site):
    add_moderator(app, "bot@example.com", sites=[site])
    with app.app_context():
        bot = db.session.scalar(sa.select(Moderator).filter_by(email="bot@example.com"))
        token = create_token(bot, "triage")[1]
    comment_id = _reported(app, site, 2)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/moderation/comments/{comment_id}/decision"
    response = client.post(
        path, json={"action": "keep", "reason": "satire"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.get_json()["status"] == "published"
    assert response.get_json()["queued_at"] is None
    assert _open_reports(app, comment_id) == 0
    with app.app_context():
        last = db.session.scalar(
            sa.select(Decision)
            .where(Decision.comment_id == comment_id)
            .order_by(Decision.id.desc())
        )
        assert last.reason == f"{KEPT_REASON}: satire"
        assert last.actor == "bot@example.com"
    again = client.post(path, json={"action": "keep"}, headers=headers)
    assert again.status_code == 409
    assert again.get_json()["error"] == "invalid_transition"
    listed = client.get(
        "/api/v1/moderation/queue?status=reported", headers=headers
    ).get_json()
    assert listed["comments"] == []
    bad = client.post(path, json={"action": "dismiss"}, headers=headers)
    assert bad.status_code == 422 and "keep" in bad.get_json()["message"]


def test_the_keyboard_help_names_the_keep_key(app, site, mod):
    comment_id = _reported(app, site, 1)
    page = mod.get(f"/mod/comments/{comment_id}").text
    assert "<kbd>p</kbd></dt><dd>keep a reported comment" in page
    assert 'title="Keep: dismiss the reports, leave it published (p)"' in page
    assert "<kbd>p</kbd></dt><dd>keep" in mod.get("/mod/?queue=reported").text


def test_undo_of_keep_reopens_the_reports(app, site, mod):
    comment_id = _reported(app, site, 2)
    assert _decide(mod, comment_id, "keep", "published").status_code == 303
    page = mod.get("/mod/?queue=reported").text
    assert "kept.</span>" in page  # the undo toast
    with app.app_context():
        kept = db.session.scalar(
            sa.select(sa.func.max(Decision.id)).where(Decision.comment_id == comment_id)
        )
    response = mod.post(f"/mod/decisions/{kept}/undo")
    assert response.status_code == 303
    assert _open_reports(app, comment_id) == 2
    assert _reported_count(mod) == 1
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        first_report = min(r.created_at for r in comment.reports)
        assert comment.queued_at == first_report
        assert utcnow() - comment.queued_at < timedelta(minutes=1)
