"""Sites' webhooks against a real HTTP receiver: signed, retried with back-off,
switched off after repeated failures, a hung receiver and a redirect counted as
failures; and the admins' pages that manage them."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import (
    AuditEntry,
    OutboxMessage,
    OutboxStatus,
    Role,
    Site,
    Webhook,
    utcnow,
)
from moderation.notify import outbox, webhooks

from staff_helpers import add_moderator, add_site, login

RETRY = 30.0


@dataclass
class Receiver:
    """What the test's HTTP server answers, and what it was sent."""

    mode: str = "ok"  # ok, fail (500), hang, redirect
    hang_seconds: float = 3.0
    secret: str = ""
    requests: list[dict[str, object]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1 that checks each call's signature."""
    state = Receiver()

    class Handle(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet in the test output
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            record = {
                "path": self.path,
                "body": body,
                "event": self.headers.get("X-Moderation-Event"),
                "delivery": self.headers.get("X-Moderation-Delivery"),
                "valid": bool(state.secret)
                and webhooks.verify(
                    state.secret,
                    self.headers.get(webhooks.SIGNATURE_HEADER, ""),
                    self.headers.get(webhooks.TIMESTAMP_HEADER, ""),
                    body,
                ),
            }
            with state.lock:
                state.requests.append(record)
            if state.mode == "hang":
                time.sleep(state.hang_seconds)
            if state.mode == "redirect" and self.path != "/elsewhere":
                self.send_response(302)
                self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 500 if state.mode == "fail" else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def hook_app(make_app):
    """An app whose outbox goes only when a test drains it; a short webhook
    timeout, and a hook switched off after three failures."""
    return make_app(
        IN_PROCESS_WORKER=False,
        WEBHOOK_TIMEOUT=0.5,
        WEBHOOK_DISABLE_AFTER=3,
        OUTBOX_RETRY_SECONDS=RETRY,
    )


def _admin(app):
    add_moderator(app, "admin@example.com", Role.ADMIN)
    return login(app, "admin@example.com")


SECRET = re.compile(r'<code class="secret">([0-9a-f]{64})</code>')


def _create(client, url, events=("comment.published",), site="a"):
    return client.post(
        f"/mod/manage/sites/{site}/webhooks", data={"url": url, "events": list(events)}
    )


def _hook_for(app, receiver: Receiver, events=("comment.published",)) -> int:
    """A hook on site `a` made through the admin page; the receiver learns its
    secret from the page that shows it once."""
    client = _admin(app)
    response = _create(client, receiver.url, events)
    assert response.status_code == 201, response.text
    receiver.secret = SECRET.search(response.text).group(1)
    with app.app_context():
        return db.session.scalar(sa.select(Webhook.id))


def _emit(app, event="comment.published", data=None) -> None:
    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.slug == "a"))
        webhooks.emit(site, event, data or {"id": 1, "body": "Hello"})
        db.session.commit()


def _rows(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(
            db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))
        )


def _hook(app, hook_id: int) -> Webhook:
    with app.app_context():
        hook = db.session.get(Webhook, hook_id)
        db.session.expunge(hook)
        return hook


def _make_due(app) -> None:
    """As if the back-off had passed."""
    with app.app_context():
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
            .values(due_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()


def test_an_event_is_posted_signed_to_the_hooks_that_want_it(hook_app, receiver):
    app = hook_app
    add_site(app, "a")
    hook_id = _hook_for(app, receiver)
    _emit(app, "comment.published", {"id": 7, "body": "<b>hi</b>"})
    _emit(app, "thread.created", {"key": "k"})  # not chosen: no call
    assert outbox.drain(app).sent == 1
    [call] = receiver.requests
    assert call["valid"] is True
    assert call["path"] == "/hooks"
    assert call["event"] == "comment.published"
    body = json.loads(call["body"])
    assert body["event"] == "comment.published" and body["site"] == "a"
    assert body["data"] == {"id": 7, "body": "<b>hi</b>"}
    assert body["delivery"] == call["delivery"]
    [row] = _rows(app)
    assert (row.status, row.response_status, row.attempts) == (
        OutboxStatus.SENT,
        200,
        1,
    )
    # A body changed in transit, or another secret, does not verify.
    assert not webhooks.verify(
        receiver.secret, "v1=" + "0" * 64, str(int(time.time())), call["body"]
    )
    stale = int(time.time()) - 600
    header = webhooks.signature(receiver.secret, stale, call["body"])
    assert not webhooks.verify(receiver.secret, header, str(stale), call["body"])

    page = login(app, "admin@example.com").get(f"/mod/manage/webhooks/{hook_id}")
    assert page.status_code == 200
    assert "comment.published" in page.text and "sent" in page.text
    assert receiver.secret not in page.text


def test_a_failing_receiver_is_retried_with_back_off_then_switched_off(
    hook_app, receiver
):
    app = hook_app
    add_site(app, "a")
    hook_id = _hook_for(app, receiver)
    receiver.mode = "fail"
    _emit(app)

    start = utcnow()
    assert outbox.drain(app).retried == 1
    [row] = _rows(app)
    assert (row.status, row.attempts, row.response_status) == (
        OutboxStatus.PENDING,
        1,
        500,
    )
    assert "HTTP 500" in row.last_error
    first_wait = (row.due_at - start).total_seconds()
    assert RETRY - 1 <= first_wait <= RETRY + 5
    assert _hook(app, hook_id).failures == 1

    _make_due(app)
    start = utcnow()
    outbox.drain(app)
    [row] = _rows(app)
    assert row.attempts == 2
    second_wait = (row.due_at - start).total_seconds()
    assert 2 * RETRY - 1 <= second_wait <= 2 * RETRY + 5  # doubled
    assert _hook(app, hook_id).failures == 2

    # Two more events wait behind it; the third failure switches the hook off
    # and they are dropped, not sent.
    _emit(app)
    _emit(app)
    with app.app_context():
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.attempts == 0)
            .values(due_at=utcnow() + timedelta(hours=1))
        )
        db.session.commit()
    with app.app_context():
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.attempts == 2)
            .values(due_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    outbox.drain(app)
    hook = _hook(app, hook_id)
    assert not hook.active and hook.failures == 3
    assert "3 failed deliveries in a row" in hook.disabled_reason
    statuses = [row.status for row in _rows(app)]
    assert statuses[1:] == [OutboxStatus.DROPPED, OutboxStatus.DROPPED]
    assert len(receiver.requests) == 3
    _emit(app)  # a disabled hook gets no new calls
    assert len(_rows(app)) == 3

    page = login(app, "admin@example.com").get(f"/mod/manage/webhooks/{hook_id}")
    assert "3 failed deliveries in a row" in page.text
    assert "webhook disabled" in page.text


def test_a_receiver_slower_than_the_timeout_counts_as_a_failure(hook_app, receiver):
    app = hook_app
    add_site(app, "a")
    hook_id = _hook_for(app, receiver)
    receiver.mode = "hang"
    _emit(app)
    done = outbox.drain(app)
    assert done.retried == 1 and done.sent == 0
    [row] = _rows(app)
    assert row.status is OutboxStatus.PENDING and row.attempts == 1
    assert "timed out" in row.last_error.lower()
    assert _hook(app, hook_id).failures == 1


def test_a_redirect_is_not_followed(hook_app, receiver):
    app = hook_app
    add_site(app, "a")
    _hook_for(app, receiver)
    receiver.mode = "redirect"
    _emit(app)
    assert outbox.drain(app).retried == 1
    assert [call["path"] for call in receiver.requests] == ["/hooks"]
    [row] = _rows(app)
    assert row.response_status == 302 and row.status is OutboxStatus.PENDING


def test_the_secret_is_shown_once_and_the_actions_are_audited(hook_app, receiver):
    app = hook_app
    add_site(app, "a")
    hook_id = _hook_for(app, receiver, ("comment.held", "thread.created"))
    client = login(app, "admin@example.com")
    listing = client.get("/mod/manage/sites/a/webhooks")
    assert listing.status_code == 200
    assert receiver.url in listing.text
    assert receiver.secret not in listing.text
    assert "comment.held, thread.created" in listing.text
    settings = client.get("/mod/manage/sites/a/settings")
    assert 'href="/mod/manage/sites/a/webhooks"' in settings.text

    # A test event goes whatever events the hook chose, signed.
    response = client.post(f"/mod/manage/webhooks/{hook_id}/test")
    assert response.status_code == 303
    outbox.drain(app)
    [call] = receiver.requests
    assert call["event"] == "test" and call["valid"] is True

    off = client.post(f"/mod/manage/webhooks/{hook_id}/active", data={"active": "0"})
    assert off.status_code == 303
    assert not _hook(app, hook_id).active
    refused = client.post(f"/mod/manage/webhooks/{hook_id}/test")
    assert refused.status_code == 409
    on = client.post(f"/mod/manage/webhooks/{hook_id}/active", data={"active": "1"})
    assert on.status_code == 303
    assert _hook(app, hook_id).active

    asked = client.post(f"/mod/manage/webhooks/{hook_id}/delete")
    assert asked.status_code == 200
    assert "Delete webhook" in asked.text and 'name="confirm" value="yes"' in asked.text
    assert _hook(app, hook_id) is not None  # nothing happened yet
    gone = client.post(
        f"/mod/manage/webhooks/{hook_id}/delete", data={"confirm": "yes"}
    )
    assert gone.status_code == 303
    with app.app_context():
        assert db.session.get(Webhook, hook_id) is None
        [row] = db.session.scalars(sa.select(OutboxMessage))
        assert row.webhook_id is None and row.status is OutboxStatus.SENT
        actions = list(
            db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id))
        )
        entries = list(db.session.scalars(sa.select(AuditEntry)))
    assert actions == [
        "webhook.created",
        "webhook.tested",
        "webhook.disabled",
        "webhook.enabled",
        "webhook.deleted",
    ]
    for entry in entries:
        assert receiver.secret not in json.dumps([entry.before, entry.after])
        assert entry.actor == "admin@example.com" and entry.target_id == str(hook_id)


def test_the_delivery_log_is_paged_newest_first(hook_app, receiver):
    app = hook_app
    add_site(app, "a")
    hook_id = _hook_for(app, receiver)
    with app.app_context():
        hook = db.session.get(Webhook, hook_id)
        for number in range(55):
            outbox.enqueue_webhook(hook, f"event-{number:02d}", {"n": number})
        db.session.commit()
    client = login(app, "admin@example.com")
    first = client.get(f"/mod/manage/webhooks/{hook_id}")
    assert "event-54" in first.text and "event-05" in first.text
    assert "event-04" not in first.text
    older = re.search(r'href="([^"]+before=\d+)"', first.text).group(1)
    second = client.get(older.replace("&amp;", "&"))
    assert "event-04" in second.text and "event-00" in second.text
    assert "event-05" not in second.text
    assert client.get(f"/mod/manage/webhooks/{hook_id}?before=x").status_code == 422


def test_only_admins_manage_webhooks(hook_app, receiver):
    app = hook_app
    add_site(app, "a")
    hook_id = _hook_for(app, receiver)
    add_moderator(app, "mod@example.com", sites=["a"])
    client = login(app, "mod@example.com")
    assert client.get("/mod/manage/sites/a/webhooks").status_code == 403
    assert _create(client, receiver.url).status_code == 403
    assert client.get(f"/mod/manage/webhooks/{hook_id}").status_code == 403
    for action in ("active", "test", "delete"):
        response = client.post(f"/mod/manage/webhooks/{hook_id}/{action}")
        assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Webhook.id))) == 1


@pytest.mark.parametrize(
    ("url", "events", "message"),
    [
        ("", ("comment.held",), "Give the receiver&#39;s URL"),
        ("javascript:alert(1)", ("comment.held",), "must be http:// or https://"),
        ("ftp://example.com/x", ("comment.held",), "must be http:// or https://"),
        ("https://", ("comment.held",), "must be http:// or https://"),
        ("https://example.com/" + "x" * 2000, ("comment.held",), "at most 2,000"),
        ("https://example.com/hooks", (), "Check at least one event"),
        ("https://example.com/hooks", ("comment.eaten",), "No event called"),
    ],
)
def test_a_bad_webhook_is_refused_with_a_message(hook_app, url, events, message):
    app = hook_app
    add_site(app, "a")
    client = _admin(app)
    response = _create(client, url, events)
    assert response.status_code == 400
    assert message in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Webhook.id))) == 0


def test_an_unknown_site_or_hook_is_404(hook_app):
    app = hook_app
    client = _admin(app)
    assert client.get("/mod/manage/sites/nope/webhooks").status_code == 404
    assert client.get("/mod/manage/webhooks/99").status_code == 404
