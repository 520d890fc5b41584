"""Readers reporting comments: one report per reader, enough of them hold it."""

from __future__ import annotations

import re

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
    Report,
    Site,
    Thread,
)
from moderation.services.comments import decide

_TOKEN = re.compile(r'name="token" value="([^"]+)"')


def _first_comment(app) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(Comment.id)
            .where(Comment.status == CommentStatus.PUBLISHED)
            .order_by(Comment.id)
        )


def _form_path(demo, comment_id: int) -> str:
    return f"{demo.embed}/comments/{comment_id}/report"


def _report(client, demo, comment_id, address="192.0.2.1", **fields):
    """Open the report form and send it, as a reader in the iframe does."""
    client.environ_base["REMOTE_ADDR"] = address
    path = _form_path(demo, comment_id)
    form = client.get(path)
    assert form.status_code == 200, form.text
    token = _TOKEN.search(form.text).group(1)
    data = {"reason": "abuse", "text": "", "token": token, **fields}
    return client.post(path, data=data, headers=BROWSER_POST)


def _set_threshold(app, threshold: int) -> None:
    with app.app_context():
        db.session.execute(sa.update(Site).values(report_threshold=threshold))
        db.session.commit()


def test_each_published_comment_has_a_report_link(client, demo, app):
    page = client.get(demo.embed)
    first = _first_comment(app)
    assert f'href="/embed/demo/seed-article/comments/{first}/report' in page.text
    assert page.text.count('class="report"') == 5


def test_report_form_is_framed_by_the_site_only_and_sets_no_cookie(client, demo, app):
    form = client.get(_form_path(demo, _first_comment(app)))
    assert form.status_code == 200
    assert "frame-ancestors http://localhost" in form.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in form.headers
    for reason in ("abuse", "spam", "off-topic", "other"):
        assert f'value="{reason}"' in form.text


def test_report_is_stored_with_a_hashed_network_and_confirmed(client, demo, app):
    comment_id = _first_comment(app)
    response = _report(
        client, demo, comment_id, reason="spam", text="Selling watches again."
    )
    assert response.status_code == 201
    assert 'aria-live="polite"' in response.text
    assert "your report was sent to the moderators" in response.text
    assert "Set-Cookie" not in response.headers
    with app.app_context():
        report = db.session.scalar(sa.select(Report))
        assert report.comment_id == comment_id
        assert report.reason.value == "spam"
        assert report.text == "Selling watches again."
        assert report.reporter_key.startswith("net:")
        assert "192.0.2" not in report.reporter_key
        comment = db.session.get(Comment, comment_id)
        assert comment.report_count == 1
        assert comment.status is CommentStatus.PUBLISHED


def test_second_report_from_the_same_reader_counts_once(client, demo, app):
    comment_id = _first_comment(app)
    assert _report(client, demo, comment_id).status_code == 201
    again = _report(client, demo, comment_id, reason="spam")
    assert again.status_code == 200
    assert "already reported this comment" in again.text
    with app.app_context():
        assert db.session.get(Comment, comment_id).report_count == 1
        assert db.session.scalar(sa.select(sa.func.count(Report.id))) == 1


def test_reports_reaching_the_threshold_hold_the_comment(client, demo, app):
    _set_threshold(app, 3)
    comment_id = _first_comment(app)
    with app.app_context():
        revision = db.session.get(Thread, demo.id).revision
    for n, reason in enumerate(("abuse", "spam", "abuse")):
        response = _report(client, demo, comment_id, f"198.51.100.{n}", reason=reason)
        assert response.status_code == 201
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.status is CommentStatus.HELD
        assert comment.report_count == 3
        decision = db.session.scalar(
            sa.select(Decision).filter_by(comment_id=comment_id, actor="readers")
        )
        assert decision.from_status is CommentStatus.PUBLISHED
        assert decision.to_status is CommentStatus.HELD
        assert decision.reason == "3 reader reports: abuse ×2, spam"
        audit = db.session.scalar(
            sa.select(AuditEntry).filter_by(action="comment.reported_to_held")
        )
        assert audit.actor == "readers"
        assert audit.target_id == str(comment_id)
        assert db.session.get(Thread, demo.id).revision > revision
    page = client.get(demo.embed)
    assert f'id="comment-{comment_id}"' not in page.text


def test_a_moderators_decision_resolves_the_reports(client, demo, app, moderator):
    """Put back by a moderator, a comment leaves the Reported queue and is held
    again only when as many new reports arrive."""
    _set_threshold(app, 2)
    comment_id = _first_comment(app)
    for n in range(2):
        assert _report(client, demo, comment_id, f"198.51.100.{n}").status_code == 201
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.status is CommentStatus.HELD
        decide(comment, db.session.get(Moderator, moderator), CommentStatus.PUBLISHED)
        open_reports = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Report)
            .where(Report.comment_id == comment_id, Report.resolved_at.is_(None))
        )
        assert open_reports == 0
    # One new report stays under the threshold of open reports: still published.
    assert _report(client, demo, comment_id, "198.51.100.7").status_code == 201
    with app.app_context():
        assert db.session.get(Comment, comment_id).status is CommentStatus.PUBLISHED
    # A second new one reaches it again.
    assert _report(client, demo, comment_id, "198.51.100.8").status_code == 201
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.status is CommentStatus.HELD
        assert comment.report_count == 4


def test_reports_below_the_threshold_leave_it_published(client, demo, app):
    comment_id = _first_comment(app)
    for n in range(2):
        assert _report(client, demo, comment_id, f"203.0.113.{n}").status_code == 201
    with app.app_context():
        assert db.session.get(Comment, comment_id).status is CommentStatus.PUBLISHED


def test_held_comments_cannot_be_reported(client, demo, app):
    comment_id = _first_comment(app)
    with app.app_context():
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id == comment_id)
            .values(status=CommentStatus.HELD)
        )
        db.session.commit()
    assert client.get(_form_path(demo, comment_id)).status_code == 404


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reason": "boring"}, "Choose a reason: abuse, spam, off-topic, other."),
        ({"reason": ""}, "Choose a reason"),
        ({"text": "x" * 501}, "At most 500 characters (501 given)."),
    ],
)
def test_bad_report_is_refused_with_a_clear_message(client, demo, app, fields, message):
    response = _report(client, demo, _first_comment(app), **fields)
    assert response.status_code == 422
    assert message in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Report.id))) == 0


def test_report_from_a_foreign_origin_is_refused(client, demo, app):
    path = _form_path(demo, _first_comment(app))
    token = _TOKEN.search(client.get(path).text).group(1)
    response = client.post(
        path,
        data={"reason": "abuse", "token": token},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Report.id))) == 0


def test_report_without_a_form_token_is_refused(client, demo, app):
    path = _form_path(demo, _first_comment(app))
    response = client.post(path, data={"reason": "abuse"}, headers=BROWSER_POST)
    assert response.status_code == 422


def test_api_report_then_already_reported(client, demo, app):
    comment_id = _first_comment(app)
    path = f"{demo.api}/{comment_id}/reports"
    created = client.post(path, json={"reason": "off-topic", "text": "Not about it."})
    assert created.status_code == 201
    assert created.json["status"] == "reported"
    again = client.post(path, json={"reason": "spam"})
    assert again.status_code == 409
    assert again.json["error"] == "already_reported"
    bad = client.post(path, json={"reason": "dull"})
    assert bad.status_code == 422
    assert "reason" in bad.json["fields"]
    missing = client.post(f"{demo.api}/999999/reports", json={"reason": "spam"})
    assert missing.status_code == 404


def test_reports_are_rate_limited_inside_the_iframe(make_app, demo):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_REPORT="2 per minute")
    client = app.test_client()
    with app.app_context():
        ids = list(
            db.session.scalars(
                sa.select(Comment.id)
                .order_by(Comment.id)
                .where(Comment.status == CommentStatus.PUBLISHED)
            )
        )
    for comment_id in ids[:2]:
        assert _report(client, demo, comment_id).status_code == 201
    refused = _report(client, demo, ids[2])
    assert refused.status_code == 429
    assert "too fast" in refused.text
    assert (
        "frame-ancestors http://localhost"
        in (refused.headers["Content-Security-Policy"])
    )


def test_api_report_from_a_browser_needs_the_form_token(client, demo, app):
    comment_id = _first_comment(app)
    path = f"{demo.api}/{comment_id}/reports"
    refused = client.post(path, json={"reason": "spam"}, headers=BROWSER_POST)
    assert refused.status_code == 422
    token = client.get("/api/v1/sites/demo/threads/seed-article").json["form_token"]
    created = client.post(
        path, json={"reason": "spam", "token": token}, headers=BROWSER_POST
    )
    assert created.status_code == 201
    foreign = client.post(
        path,
        json={"reason": "spam", "token": token},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert foreign.status_code == 403


def test_concurrent_reports_hold_the_comment_exactly_once(app, demo):
    from concurrent.futures import ThreadPoolExecutor

    _set_threshold(app, 3)
    comment_id = _first_comment(app)
    path = _form_path(demo, comment_id)
    token = _TOKEN.search(app.test_client().get(path).text).group(1)

    def send(n: int) -> int:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.18.0.{n}"
        data = {"reason": "abuse", "token": token}
        return client.post(path, data=data, headers=BROWSER_POST).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(send, range(6)))
    # Once held, the comment is no longer reportable: later readers get 404.
    assert statuses.count(201) >= 3
    assert set(statuses) <= {201, 404}
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.status is CommentStatus.HELD
        assert comment.report_count == statuses.count(201)
        holds = db.session.scalars(
            sa.select(Decision).filter_by(comment_id=comment_id, actor="readers")
        ).all()
        assert len(holds) == 1
