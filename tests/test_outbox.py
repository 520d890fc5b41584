"""The outbox against a real SMTP server: sent once, retried when the server
fails for now, given up when it refuses for good, never lost to a crash."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from mail_server import smtp_server

from moderation.extensions import db
from moderation.models import (
    AddressState,
    MailAddress,
    OutboxMessage,
    OutboxStatus,
    utcnow,
)
from moderation.notify import outbox
from moderation.notify.transport import BadMailUrl, SmtpTransport, transport_for

TOPIC = "test-note"


@outbox.composer(TOPIC)
def _note(rows):
    message = EmailMessage()
    message["Subject"] = f"{len(rows)} note(s)"
    message.set_content("\n".join(str(row.payload["text"]) for row in rows))
    return message


@outbox.composer("test-gone")
def _gone(rows):
    raise outbox.Dropped("the thing it was about is gone")


def _enqueue(app, count=1, recipient="reader@example.org", **kwargs):
    with app.app_context():
        ids = []
        for n in range(count):
            row = outbox.enqueue_mail(
                topic=kwargs.pop("topic", TOPIC) if n == 0 else TOPIC,
                recipient=recipient,
                payload={"text": f"note {n}"},
                **kwargs,
            )
            db.session.flush()
            ids.append(row.id)
        db.session.commit()
        return ids


def _rows(app):
    with app.app_context():
        return list(
            db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))
        )


def test_a_mail_reaches_the_server_once_with_its_message_id(make_app):
    with smtp_server() as (url, handler):
        app = make_app(MAIL_URL=url)
        _enqueue(app)
        done = outbox.drain(app)
        assert (done.sent, done.retried, done.failed) == (1, 0, 0)
        [mail] = handler.wait_for(1)
        assert mail["To"] == "reader@example.org"
        assert mail["Subject"] == "1 note(s)"
        [row] = _rows(app)
        assert row.status is OutboxStatus.SENT and row.sent_at is not None
        assert mail["Message-ID"] == row.message_id
        assert outbox.drain(app).handled == 0  # nothing sent twice
        time.sleep(0.2)
        assert len(handler.received) == 1


def test_rows_of_one_batch_go_out_as_one_mail(make_app):
    with smtp_server() as (url, handler):
        app = make_app(MAIL_URL=url)
        _enqueue(app, 3, batch_key="reply:1", delay=0)
        assert outbox.drain(app).sent == 3
        [mail] = handler.wait_for(1)
        assert mail["Subject"] == "3 note(s)"
        assert mail.get_content().split() == ["note", "0", "note", "1", "note", "2"]


def test_a_later_row_joins_the_pending_batch_and_its_due_time(app):
    with app.app_context():
        first = outbox.enqueue_mail(
            topic=TOPIC,
            recipient="a@example.org",
            payload={"text": "1"},
            batch_key="reply:7",
            delay=300,
        )
        db.session.commit()
        second = outbox.enqueue_mail(
            topic=TOPIC,
            recipient="a@example.org",
            payload={"text": "2"},
            batch_key="reply:7",
            delay=300,
        )
        db.session.commit()
        assert second.due_at == first.due_at
        # Not due yet: nothing is claimed.
        assert outbox.deliver_due().handled == 0


def test_a_refusal_for_good_fails_the_mail_and_bounces_the_address(make_app):
    with smtp_server("refuse") as (url, _):
        app = make_app(MAIL_URL=url)
        with app.app_context():
            db.session.add(
                MailAddress(email="reader@example.org", state=AddressState.CONFIRMED)
            )
            db.session.commit()
        _enqueue(app)
        done = outbox.drain(app)
        assert (done.sent, done.failed) == (0, 1)
        [row] = _rows(app)
        assert row.status is OutboxStatus.FAILED and row.response_status == 550
        with app.app_context():
            state = db.session.scalar(sa.select(MailAddress.state))
        assert state is AddressState.BOUNCED
        # Never mailed again: a new mail to it is dropped, not sent.
        _enqueue(app)
        assert outbox.drain(app).dropped == 1


@pytest.mark.parametrize("mode", ["tempfail", "drop", "hang"])
def test_a_server_that_fails_for_now_is_tried_again_later(make_app, mode):
    with smtp_server(mode) as (url, handler):
        app = make_app(MAIL_URL=url, MAIL_TIMEOUT=1.0, OUTBOX_RETRY_SECONDS=60)
        _enqueue(app)
        started = time.monotonic()
        done = outbox.drain(app)
        took = time.monotonic() - started
        assert (done.sent, done.retried, done.failed) == (0, 1, 0)
        [row] = _rows(app)
        assert row.status is OutboxStatus.PENDING and row.attempts == 1
        assert row.claim_token is None and row.last_error
        assert row.due_at > utcnow() + timedelta(seconds=50)
        # A hung server costs MAIL_TIMEOUT, never the worker.
        assert took < 5
        handler.mode = "accept"
    # Once the server works again (and the retry is due), the same mail goes.
    with smtp_server() as (url, handler):
        app2 = make_app(MAIL_URL=url)
        with app2.app_context():
            db.session.execute(sa.update(OutboxMessage).values(due_at=utcnow()))
            db.session.commit()
        assert outbox.drain(app2).sent == 1
        [mail] = handler.wait_for(1)
        assert mail["Message-ID"] == row.message_id


def test_out_of_attempts_the_mail_is_failed(make_app):
    with smtp_server("tempfail") as (url, _):
        app = make_app(MAIL_URL=url, OUTBOX_MAX_ATTEMPTS=2, OUTBOX_RETRY_SECONDS=0)
        _enqueue(app)
        assert outbox.drain(app).retried == 1  # a pass never retries what it retried
        assert outbox.drain(app).failed == 1
        [row] = _rows(app)
        assert row.status is OutboxStatus.FAILED and row.attempts == 2


def test_a_crash_mid_send_sends_again_with_the_same_message_id(make_app):
    """A worker that claimed the row and died: its lease ends, the row returns."""
    with smtp_server() as (url, handler):
        app = make_app(MAIL_URL=url)
        [ident] = _enqueue(app)
        with app.app_context():
            _, ids = outbox.claim(10, lease=0.2)  # ... and the worker dies
            assert ids == [ident]
            assert outbox.deliver_due().handled == 0  # held by the lease
        time.sleep(0.3)
        assert outbox.drain(app).sent == 1
        [mail] = handler.wait_for(1)
        assert mail["Message-ID"] == _rows(app)[0].message_id


def test_two_workers_at_once_send_each_mail_once(make_app):
    with smtp_server() as (url, handler):
        app = make_app(MAIL_URL=url, OUTBOX_BATCH=3)
        _enqueue(app, 12, recipient="many@example.org", batch_key=None)
        app.config["MAIL_PER_ADDRESS_HOUR"] = 100
        results = []

        def work():
            results.append(outbox.drain(app).sent)

        workers = [threading.Thread(target=work) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
        assert sum(results) == 12
        mails = handler.wait_for(12)
        time.sleep(0.3)
        assert len(handler.received) == 12
        assert len({mail["Message-ID"] for mail in mails}) == 12


def test_an_address_gets_at_most_its_hourly_mails(make_app):
    with smtp_server() as (url, handler):
        app = make_app(MAIL_URL=url, MAIL_PER_ADDRESS_HOUR=2)
        _enqueue(app, 5)
        done = outbox.drain(app)
        assert done.sent == 2
        handler.wait_for(2)
        waiting = [row for row in _rows(app) if row.status is OutboxStatus.PENDING]
        assert len(waiting) == 3
        assert all(row.due_at > utcnow() + timedelta(minutes=59) for row in waiting)
        assert all(row.attempts == 0 for row in waiting)  # waiting is not failing


def test_a_composer_that_drops_marks_the_rows_dropped(make_app):
    with smtp_server() as (url, handler):
        app = make_app(MAIL_URL=url)
        _enqueue(app, topic="test-gone")
        assert outbox.drain(app).dropped == 1
        [row] = _rows(app)
        assert row.status is OutboxStatus.DROPPED and "gone" in row.last_error
        assert handler.received == []


def test_without_a_mail_url_each_mail_is_an_eml_file(make_app, tmp_path):
    app = make_app(MAIL_URL=None, MAIL_DIR=str(tmp_path / "mail"))
    _enqueue(app)
    assert outbox.drain(app).sent == 1
    [path] = (tmp_path / "mail").glob("*.eml")
    text = path.read_text()
    assert "To: reader@example.org" in text and "note 0" in text


def test_mail_urls():
    smtp = transport_for(
        "smtp://user:p%40ss@mail.example.org:587?tls=required", None, 5
    )
    assert isinstance(smtp, SmtpTransport)
    assert (smtp.host, smtp.port, smtp.starttls, smtp.password) == (
        "mail.example.org",
        587,
        "required",
        "p@ss",
    )
    implicit = transport_for("smtps://mail.example.org", None, 5)
    assert isinstance(implicit, SmtpTransport)
    assert implicit.implicit_tls and implicit.port == 465
    for bad in ("http://mail.example.org", "smtp://", "smtp://h?tls=maybe"):
        with pytest.raises(BadMailUrl):
            transport_for(bad, None, 5)


def test_the_embedded_default_sends_from_its_own_thread(make_app):
    """No worker process, no drain: a commit that adds a mail wakes the web
    process's sender, which sends it."""
    with smtp_server() as (url, handler):
        app = make_app(MAIL_URL=url, IN_PROCESS_SENDER=True)
        with app.test_request_context():
            outbox.enqueue_mail(
                topic=TOPIC, recipient="reader@example.org", payload={"text": "hi"}
            )
            db.session.commit()
        [mail] = handler.wait_for(1)
        assert mail.get_content().strip() == "hi"


def test_moderators_alerts_are_not_held_back_by_the_address_limit(make_app):
    from moderation.notify import alerts  # noqa: F401  (registers its topics)

    assert "held" in outbox.STAFF_TOPICS and "reply" not in outbox.STAFF_TOPICS
    with smtp_server() as (url, _):
        app = make_app(MAIL_URL=url, MAIL_PER_ADDRESS_HOUR=1)
        _enqueue(app, 2, recipient="shift@example.com")  # a reader-like topic
        assert outbox.drain(app).sent == 1
        with app.app_context():
            assert (
                outbox._over_limit(
                    [OutboxMessage(topic="held", recipient="shift@example.com")]
                )
                is None
            )
            assert (
                outbox._over_limit(
                    [OutboxMessage(topic=TOPIC, recipient="shift@example.com")]
                )
                is not None
            )
