"""Moderators' alerts against a real SMTP server: held comments batched or in a
digest, reports past the threshold, surges, a daily summary once a day, and the
settings page that chooses them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from mail_server import smtp_server

from moderation.extensions import db
from moderation.models import (
    AuditEntry,
    Comment,
    CommentStatus,
    Decision,
    Moderator,
    OutboxMessage,
    OutboxStatus,
    Role,
    Site,
    Thread,
    utcnow,
)
from moderation.notify import alerts, outbox

from staff_helpers import add_comment, add_moderator, add_site, login


@pytest.fixture
def mail():
    """(the MAIL_URL of a real SMTP server, its handler)."""
    with smtp_server() as (url, handler):
        yield url, handler


@pytest.fixture
def handler(mail):
    return mail[1]


@pytest.fixture
def alert_app(make_app, mail):
    """An app mailing that server; mail goes out only when a test drains the
    outbox (no in-process sender racing it)."""
    return make_app(MAIL_URL=mail[0], IN_PROCESS_WORKER=False)


def _set(app, moderator_id: int, **fields: object) -> None:
    with app.app_context():
        moderator = db.session.get(Moderator, moderator_id)
        for name, value in fields.items():
            setattr(moderator, name, value)
        db.session.commit()


def _moderator(app, moderator_id: int) -> Moderator:
    with app.app_context():
        moderator = db.session.get(Moderator, moderator_id)
        db.session.expunge(moderator)
        return moderator


def _rows(app, topic: str | None = None) -> list[OutboxMessage]:
    with app.app_context():
        statement = sa.select(OutboxMessage).order_by(OutboxMessage.id)
        if topic:
            statement = statement.where(OutboxMessage.topic == topic)
        return list(db.session.scalars(statement))


def _make_due(app) -> None:
    """As if the batch's minute had passed."""
    with app.app_context():
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
            .values(due_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return part.get_content()


def _html(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return part.get_content()


def _by_recipient(messages: list[EmailMessage]) -> dict[str, EmailMessage]:
    return {str(message["To"]): message for message in messages}


def _held(app, comment_ids: list[int]) -> None:
    with app.app_context():
        for comment_id in comment_ids:
            alerts.on_held(db.session.get(Comment, comment_id))
        db.session.commit()


def test_a_burst_of_holds_is_one_mail_per_moderator_after_a_minute(alert_app, handler):
    app = alert_app
    add_site(app, "a")
    add_site(app, "b")
    immediate = add_moderator(app, "now@example.com", sites=["a"])
    other_site = add_moderator(app, "other@example.com", sites=["b"])
    admin = add_moderator(app, "admin@example.com", Role.ADMIN)
    off = add_moderator(app, "off@example.com", sites=["a"])
    digest = add_moderator(app, "digest@example.com", sites=["a"])
    for moderator_id in (immediate, other_site, admin):
        _set(app, moderator_id, alert_held="immediate")
    _set(app, digest, alert_held="digest")
    assert _moderator(app, off).alert_held == "off"
    ids = [
        add_comment(app, "a", "First <script>alert(1)</script> comment"),
        add_comment(app, "a", "Second comment", handle="Bob"),
        add_comment(app, "a", "Third, decided before the mail goes"),
    ]
    _held(app, ids)

    rows = _rows(app, "held")
    assert (
        sorted(row.recipient for row in rows)
        == ["admin@example.com"] * 3 + ["now@example.com"] * 3
    )
    assert len({row.due_at for row in rows if row.recipient == "now@example.com"}) == 1
    assert outbox.drain(app).handled == 0  # the batch waits its minute

    with app.app_context():
        db.session.get(Comment, ids[2]).status = CommentStatus.PUBLISHED
        db.session.commit()
    _make_due(app)
    done = outbox.drain(app)
    assert done.sent == 6  # rows: 3 for each of two moderators
    mails = _by_recipient(handler.wait_for(2))
    assert set(mails) == {"now@example.com", "admin@example.com"}
    mail = mails["now@example.com"]
    assert mail["Subject"] == "[a] 2 comments held"
    assert mail["Auto-Submitted"] == "auto-generated"
    text, html = _text(mail), _html(mail)
    for comment_id in ids[:2]:
        assert f"http://localhost/mod/comments/{comment_id}" in text
        assert f'href="http://localhost/mod/comments/{comment_id}"' in html
    assert f"/mod/comments/{ids[2]}" not in text  # decided: left out
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" in text  # plain text is not HTML
    assert "http://localhost/mod/account/alerts" in text
    assert outbox.drain(app).handled == 0


def test_a_held_alert_whose_comments_were_all_decided_is_dropped(alert_app, handler):
    app = alert_app
    add_site(app, "a")
    moderator = add_moderator(app, "now@example.com", sites=["a"])
    _set(app, moderator, alert_held="immediate")
    comment_id = add_comment(app, "a")
    _held(app, [comment_id])
    with app.app_context():
        db.session.get(Comment, comment_id).status = CommentStatus.REJECTED
        db.session.commit()
    _make_due(app)
    assert outbox.drain(app).dropped == 1
    [row] = _rows(app, "held")
    assert row.status is OutboxStatus.DROPPED
    assert "decided" in row.last_error
    assert handler.received == []


def _hold_at(app, comment_id: int, when: datetime, moderator_id=None) -> None:
    with app.app_context():
        db.session.add(
            Decision(
                comment_id=comment_id,
                moderator_id=moderator_id,
                actor="system",
                from_status=CommentStatus.RECEIVED,
                to_status=CommentStatus.HELD,
                created_at=when,
            )
        )
        db.session.commit()


def test_a_digest_goes_once_per_period_with_what_is_still_held(alert_app, handler):
    app = alert_app
    add_site(app, "a")
    add_site(app, "b")
    moderator = add_moderator(app, "digest@example.com", sites=["a"])
    now = utcnow().replace(microsecond=0)
    _set(
        app,
        moderator,
        alert_held="digest",
        alert_digest_minutes=30,
        digest_sent_until=now - timedelta(minutes=31),
    )
    waiting = add_comment(app, "a", "Still <b>waiting</b>")
    decided = add_comment(app, "a", "Decided since", status=CommentStatus.PUBLISHED)
    before = add_comment(app, "a", "Held before the last digest")
    elsewhere = add_comment(app, "b", "Held on another site")
    _hold_at(app, waiting, now - timedelta(minutes=10))
    _hold_at(app, decided, now - timedelta(minutes=5))
    _hold_at(app, before, now - timedelta(minutes=40))
    _hold_at(app, elsewhere, now - timedelta(minutes=3))

    with app.app_context():
        assert alerts.tick(now) == 1
        assert alerts.tick(now) == 0  # a second worker, or a second pass: nothing
        assert db.session.get(Moderator, moderator).digest_sent_until == now
    outbox.drain(app)
    [mail] = handler.wait_for(1)
    assert mail["To"] == "digest@example.com"
    assert mail["Subject"] == "[a] Digest: 1 comments waiting"
    text = _text(mail)
    assert f"http://localhost/mod/comments/{waiting}" in text
    for other in (decided, before, elsewhere):
        assert f"/mod/comments/{other}\n" not in text
    assert "Still &lt;b&gt;waiting&lt;/b&gt;" in _html(mail)

    # Not yet due again; then due, with nothing held since: no mail, but the
    # period moves on.
    later = now + timedelta(minutes=29)
    with app.app_context():
        assert alerts.tick(later) == 0
        assert db.session.get(Moderator, moderator).digest_sent_until == now
        assert alerts.tick(now + timedelta(minutes=31)) == 0
        assert db.session.get(
            Moderator, moderator
        ).digest_sent_until == now + timedelta(minutes=31)
    assert len(_rows(app, "digest")) == 1


def test_two_workers_with_the_same_view_claim_a_digest_once(alert_app):
    app = alert_app
    add_site(app, "a")
    moderator = add_moderator(app, "digest@example.com", sites=["a"])
    now = utcnow().replace(microsecond=0)
    last = now - timedelta(hours=2)
    _set(app, moderator, alert_held="digest", digest_sent_until=last)
    comment_id = add_comment(app, "a")
    _hold_at(app, comment_id, now - timedelta(minutes=1))
    site_ids = [_site_id(app, "a")]
    with app.app_context():
        # Both read digest_sent_until == last before either wrote.
        first = alerts._digest(moderator, "digest@example.com", last, 60, site_ids, now)
        second = alerts._digest(
            moderator, "digest@example.com", last, 60, site_ids, now
        )
    assert (first, second) == (1, 0)
    assert len(_rows(app, "digest")) == 1


def _site_id(app, slug: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Site.id).where(Site.slug == slug))


def _decide(app, comment_id, to, when, moderator_id=None, queued_at=None, was=None):
    with app.app_context():
        db.session.add(
            Decision(
                comment_id=comment_id,
                moderator_id=moderator_id,
                actor="mod" if moderator_id else "system",
                from_status=was or CommentStatus.HELD,
                to_status=to,
                created_at=when,
                queued_at=queued_at,
            )
        )
        comment = db.session.get(Comment, comment_id)
        comment.status = to
        db.session.commit()


def test_the_daily_summary_goes_once_a_day_after_the_sites_midnight(alert_app, handler):
    app = alert_app
    add_site(app, "ny")
    add_site(app, "quiet")
    with app.app_context():
        db.session.get(Site, _site_id(app, "ny")).timezone = "America/New_York"
        db.session.commit()
    moderator = add_moderator(app, "daily@example.com", sites=["ny", "quiet"])
    _set(app, moderator, daily_summary=True, summary_sent_on="2024-03-05")
    # 2024-03-05 in New York: 05:00 UTC that day to 05:00 UTC the next.
    day = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)
    one = add_comment(app, "ny", "Held then published", status=CommentStatus.PUBLISHED)
    two = add_comment(app, "ny", "Held then rejected", status=CommentStatus.REJECTED)
    three = add_comment(app, "ny", "Published by the screen")
    late = add_comment(app, "ny", "Held after midnight in New York")
    still = add_comment(app, "ny", "Held and still waiting")
    _hold_at(app, one, day)
    _hold_at(app, two, day)
    _hold_at(app, still, day)
    _decide(
        app,
        one,
        CommentStatus.PUBLISHED,
        day + timedelta(minutes=30),
        moderator,
        queued_at=day,
    )
    _decide(
        app,
        two,
        CommentStatus.REJECTED,
        day + timedelta(minutes=60),
        moderator,
        queued_at=day,
    )
    _decide(
        app,
        three,
        CommentStatus.PUBLISHED,
        day + timedelta(hours=2),
        was=CommentStatus.RECEIVED,
    )
    _hold_at(app, late, datetime(2024, 3, 6, 5, 30, tzinfo=UTC))

    with app.app_context():
        # 23:00 in New York: the day is not over there.
        assert alerts.tick(datetime(2024, 3, 6, 4, 0, tzinfo=UTC)) == 0
        after_midnight = datetime(2024, 3, 6, 6, 0, tzinfo=UTC)
        assert alerts.tick(after_midnight) == 1
        assert alerts.tick(after_midnight + timedelta(hours=3)) == 0
        assert db.session.get(Moderator, moderator).summary_sent_on == "2024-03-06"
    outbox.drain(app)
    [mail] = handler.wait_for(1)
    assert mail["Subject"] == "Summary for 2024-03-05: 3 held, 2 published, 1 rejected"
    text = _text(mail)
    assert "Site ny (ny, America/New_York)" in text
    assert "Median time in queue: 45.0 min over 2 decisions" in text
    assert "Waiting now: 2" in text  # `still` and `late`
    assert "Nothing happened on: Site quiet." in text
    assert '<th scope="row"' in _html(mail)

    with app.app_context():  # the next day, once
        next_day = after_midnight + timedelta(days=1)
        assert alerts.tick(next_day) == 1
        assert alerts.tick(next_day) == 0
    assert len(_rows(app, "summary")) == 2


def test_reports_and_surges_alert_the_moderators_who_asked(alert_app, handler):
    app = alert_app
    add_site(app, "a")
    watcher = add_moderator(app, "watch@example.com", sites=["a"])
    add_moderator(app, "quiet@example.com", sites=["a"])
    _set(app, watcher, alert_reports=True, alert_surge=True)
    reported = add_comment(
        app,
        "a",
        "Reported <i>thrice</i>",
        status=CommentStatus.PUBLISHED,
        report_count=3,
    )
    with app.app_context():
        thread = db.session.scalar(sa.select(Thread).join(Site).where(Site.slug == "a"))
        thread.premoderate = True
        thread.surge_at = utcnow()
        alerts.on_surge(thread)
        alerts.on_reports(db.session.get(Comment, reported))
        db.session.commit()
    assert {row.recipient for row in _rows(app)} == {"watch@example.com"}
    outbox.drain(app)
    mails = {str(m["Subject"]): m for m in handler.wait_for(2)}
    surge = mails["[a] Surge: a article is pre-moderated"]
    assert "http://localhost/mod/manage/sites/a/threads" in _text(surge)
    report = mails["[a] Reported 3 times: Reader on a article"]
    assert f"http://localhost/mod/comments/{reported}" in _text(report)
    assert "3 reports" in _text(report)
    assert "Reported &lt;i&gt;thrice&lt;/i&gt;" in _html(report)


def test_a_surge_over_before_the_mail_goes_is_not_mailed(alert_app, handler):
    app = alert_app
    add_site(app, "a")
    watcher = add_moderator(app, "watch@example.com", sites=["a"])
    _set(app, watcher, alert_surge=True)
    with app.app_context():
        thread = db.session.scalar(sa.select(Thread))
        thread.surge_at = utcnow()
        alerts.on_surge(thread)
        db.session.commit()
        thread.surge_at = None  # a moderator switched it back
        db.session.commit()
    assert outbox.drain(app).dropped == 1
    assert handler.received == []


def test_the_alerts_page_saves_the_settings_and_audits_them(app):
    add_site(app, "a")
    moderator = add_moderator(app, "mod@example.com", sites=["a"])
    client = login(app, "mod@example.com")
    page = client.get("/mod/account/alerts")
    assert page.status_code == 200
    assert "Alerts by mail" in page.text and "Site a" in page.text
    assert 'href="/mod/account/alerts"' in client.get("/mod/").text  # header link

    response = client.post(
        "/mod/account/alerts",
        data={
            "alert_held": "digest",
            "alert_digest_minutes": "15",
            "alert_surge": "y",
            "daily_summary": "y",
        },
    )
    assert response.status_code == 303
    saved = _moderator(app, moderator)
    assert (saved.alert_held, saved.alert_digest_minutes) == ("digest", 15)
    assert saved.alert_surge and saved.daily_summary and not saved.alert_reports
    assert saved.digest_sent_until is not None  # the first digest starts now
    with app.app_context():
        [entry] = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "moderator.alerts")
        )
        assert entry.actor == "mod@example.com"
        assert entry.target_id == str(moderator)
        assert entry.after == {
            "alert_held": "digest",
            "alert_digest_minutes": 15,
            "alert_surge": True,
            "daily_summary": True,
        }
        assert entry.before["alert_held"] == "off"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"alert_held": "digest", "alert_digest_minutes": "2"}, "5 to 1,440 minutes"),
        ({"alert_held": "digest", "alert_digest_minutes": "soon"}, "Digest every"),
        ({"alert_held": "hourly", "alert_digest_minutes": "60"}, "Not a valid choice"),
    ],
)
def test_bad_alert_settings_are_refused_with_a_message(app, data, message):
    add_site(app, "a")
    moderator = add_moderator(app, "mod@example.com", sites=["a"])
    client = login(app, "mod@example.com")
    response = client.post("/mod/account/alerts", data=data)
    assert response.status_code == 400
    assert message in response.text
    assert _moderator(app, moderator).alert_held == "off"


def test_the_alerts_form_needs_its_csrf_token(app):
    add_site(app, "a")
    add_moderator(app, "mod@example.com", sites=["a"])
    client = login(app, "mod@example.com")
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(
        "/mod/account/alerts",
        data={"alert_held": "immediate", "alert_digest_minutes": "60"},
    )
    assert response.status_code == 400
    assert "reload the page and try again" in response.text
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
        )


def test_a_hold_signalled_alerts_and_calls_the_webhook(alert_app, handler):
    from moderation import signals
    from moderation.models import Webhook

    app = alert_app
    add_site(app, "a")
    moderator = add_moderator(app, "now@example.com", sites=["a"])
    _set(app, moderator, alert_held="immediate")
    comment_id = add_comment(app, "a")
    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.slug == "a"))
        db.session.add(
            Webhook(
                site=site,
                url="http://127.0.0.1:9/none",
                secret="s" * 64,
                events=["comment.held"],
            )
        )
        db.session.commit()
        signals.comment_held.send(db.session.get(Comment, comment_id), by=None)
        db.session.commit()
    assert sorted((row.kind, row.topic) for row in _rows(app)) == [
        ("mail", "held"),
        ("webhook", "comment.held"),
    ]
