"""The outbox: every mail and webhook call is a row before it is anything else.

A change that causes a message (a reply published, a comment held, an address
that asks for replies) adds the row in its own transaction, so the message exists
exactly when the change does. The workers then send it:

- `claim` takes due rows under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL,
  `BEGIN IMMEDIATE` on SQLite), like comment screening: two workers never hold
  one row, and a worker that dies mid-send leaves rows that return when the
  lease ends.
- Rows with one `batch_key` that are due together become one message (several
  replies within REPLY_BATCH_SECONDS, one mail).
- A message is built when it is sent, from the rows' payloads and the database
  as it is then (a reply removed since is not mailed); a composer may decide it
  must not go (an address that unsubscribed): the rows are marked dropped.
- The outcome is stored only by an UPDATE that still finds the rows under the
  claim's token. Sent: `sent`. Refused for good (a 5xx, a 4xx from a webhook's
  receiver is retried): `failed`. Anything else (a timeout, a dropped connection,
  a 4xx): tried again after OUTBOX_RETRY_SECONDS, doubling each time, until
  OUTBOX_MAX_ATTEMPTS.

A crash between the server's "250 OK" and the UPDATE sends the message again
when the lease ends: delivery is at least once, and the retry carries the same
Message-ID (mail) or X-Moderation-Delivery id (webhook), so receivers can drop
the copy. No message is ever lost.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import sqlalchemy as sa
from flask import Flask, current_app

from ..extensions import db
from ..models import (
    AddressState,
    MailAddress,
    OutboxMessage,
    OutboxStatus,
    Webhook,
    utcnow,
)
from . import subscriptions
from .transport import SendError, Transport

logger = logging.getLogger(__name__)

MAIL = "mail"
WEBHOOK = "webhook"

# How long any retry waits at most.
MAX_RETRY = timedelta(hours=6)


class Dropped(Exception):
    """A message that must not go out; the reason is kept on its rows."""


# topic -> builds the mail from the rows of one batch (oldest first), or raises
# Dropped. Registered by the modules that enqueue each topic.
Composer = Callable[[Sequence[OutboxMessage]], EmailMessage]
COMPOSERS: dict[str, Composer] = {}


# kind -> sends one claimed row of that kind (other than mail) and stores the
# outcome; False when the receiver did not answer. webhooks.py registers its own.
KindSender = Callable[[str, OutboxMessage, "Delivered"], bool]
KIND_SENDERS: dict[str, KindSender] = {}


# Topics mailed to the service's own staff (moderators' alerts): their addresses
# were given by an admin, not typed into a form, so the per-address limit, which
# keeps the service from mailing strangers, does not delay them; their own
# batching bounds them.
STAFF_TOPICS: set[str] = set()


def composer(topic: str, *, staff: bool = False) -> Callable[[Composer], Composer]:
    """Register the function that builds the mails of `topic`."""

    def register(function: Composer) -> Composer:
        COMPOSERS[topic] = function
        if staff:
            STAFF_TOPICS.add(topic)
        return function

    return register


def _message_id() -> str:
    domain = (
        current_app.config["MAIL_FROM"].rpartition("@")[2].strip("> ") or "localhost"
    )
    return make_msgid(idstring=secrets.token_hex(4), domain=domain)


def enqueue_mail(
    *,
    topic: str,
    recipient: str,
    payload: dict[str, object],
    site_id: int | None = None,
    batch_key: str | None = None,
    delay: float = 0.0,
) -> OutboxMessage:
    """Add a mail to the session's transaction. With a batch_key, a mail that
    joins a batch still pending is due when that batch is."""
    due = utcnow() + timedelta(seconds=delay)
    if batch_key is not None:
        pending = db.session.scalar(
            sa.select(sa.func.min(OutboxMessage.due_at)).where(
                OutboxMessage.batch_key == batch_key,
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.attempts == 0,
            )
        )
        if pending is not None:
            due = pending
    row = OutboxMessage(
        kind=MAIL,
        topic=topic,
        recipient=recipient.strip().lower(),
        payload=payload,
        site_id=site_id,
        batch_key=batch_key,
        due_at=due,
        message_id=_message_id(),
    )
    db.session.add(row)
    return row


def enqueue_webhook(
    webhook: Webhook, topic: str, payload: dict[str, object]
) -> OutboxMessage:
    """Add a webhook call to the session's transaction."""
    row = OutboxMessage(
        kind=WEBHOOK,
        topic=topic,
        site_id=webhook.site_id,
        webhook_id=webhook.id,
        payload=payload,
        message_id=secrets.token_hex(16),
    )
    db.session.add(row)
    return row


def wake_worker() -> None:
    """After a commit that added rows: let this process's worker send them now."""
    worker = current_app.extensions.get("worker")
    if worker is not None:
        worker.wake()


def claim(limit: int, lease: float) -> tuple[str, list[int]]:
    """Claim up to `limit` due rows nobody holds; (token, ids)."""
    token = secrets.token_hex(16)
    now = utcnow()
    due = (
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.due_at <= now,
        sa.or_(
            OutboxMessage.claimed_until.is_(None),
            OutboxMessage.claimed_until < now,
        ),
    )
    claimable = (
        sa.select(OutboxMessage.id)
        .where(*due)
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with db.engine.connect() as connection:
        # Most passes find nothing: say so without a lock (SQLite's is global).
        if (
            connection.execute(sa.select(OutboxMessage.id).where(*due).limit(1)).first()
            is None
        ):
            connection.rollback()
            return token, []
        connection.rollback()
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        ids = list(connection.execute(claimable).scalars())
        if ids:
            connection.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(claim_token=token, claimed_until=now + timedelta(seconds=lease))
            )
        connection.commit()
    return token, ids


@dataclass
class Delivered:
    """What one pass of the outbox did, by row."""

    sent: int = 0
    retried: int = 0
    deferred: int = 0  # given back unsent: the server was down, or time ran out
    failed: int = 0
    dropped: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def progress(self) -> int:
        """Messages that reached an end (sent, failed or dropped)."""
        return self.sent + self.failed + self.dropped

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.dropped + self.deferred


def transport() -> Transport:
    """This app's mail transport, built and checked once by notify.init_app."""
    found: Transport = current_app.extensions["mail_transport"]
    return found


def finish(
    token: str,
    rows: Sequence[OutboxMessage],
    status: OutboxStatus,
    *,
    error: str = "",
    code: int | None = None,
    due: datetime | None = None,
) -> int:
    """Store the outcome of rows still under `token`; how many it found."""
    now = utcnow()
    values: dict[str, object] = {
        "status": status,
        "attempts": OutboxMessage.attempts + 1,
        "claim_token": None,
        "claimed_until": None,
        "last_error": error[:2000],
        "response_status": code,
    }
    if status is OutboxStatus.SENT:
        values["sent_at"] = now
    if due is not None:
        values["due_at"] = due
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id.in_([row.id for row in rows]),
            OutboxMessage.claim_token == token,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def retry_at(attempts: int) -> datetime:
    """When a message that failed `attempts` times is tried again."""
    first = float(current_app.config["OUTBOX_RETRY_SECONDS"])
    wait = timedelta(seconds=first * 2 ** max(0, attempts - 1))
    return utcnow() + min(wait, MAX_RETRY)


def _over_limit(rows: Sequence[OutboxMessage]) -> datetime | None:
    """When the batch may go, if an address or site limit stops it now."""
    config = current_app.config
    hour_ago = utcnow() - timedelta(hours=1)
    first = rows[0]
    checks = []
    if first.recipient and first.topic not in STAFF_TOPICS:
        checks.append(
            (
                OutboxMessage.recipient == first.recipient,
                int(config["MAIL_PER_ADDRESS_HOUR"]),
            )
        )
    if first.site_id is not None:
        checks.append(
            (OutboxMessage.site_id == first.site_id, int(config["MAIL_PER_SITE_HOUR"]))
        )
    for condition, limit in checks:
        sent = db.session.execute(
            sa.select(sa.func.count(), sa.func.min(OutboxMessage.sent_at)).where(
                condition,
                OutboxMessage.kind == MAIL,
                OutboxMessage.status == OutboxStatus.SENT,
                OutboxMessage.sent_at > hour_ago,
            )
        ).one()
        # Rows of one batch are one mail: count distinct messages, not rows, for
        # the address; the site check counts rows, which only errs on the safe side.
        if sent[0] >= limit:
            return (sent[1] or utcnow()) + timedelta(hours=1, seconds=1)
    return None


def _address_refuses(recipient: str) -> str | None:
    """Why an address must get nothing (it left, or bounced), else None."""
    state = db.session.scalar(
        sa.select(MailAddress.state).where(MailAddress.email == recipient)
    )
    if state in (AddressState.UNSUBSCRIBED, AddressState.STOPPED, AddressState.BOUNCED):
        return f"address {state.value}"
    return None


def _send_mail(token: str, rows: Sequence[OutboxMessage], done: Delivered) -> bool:
    """Send one mail of the batch; False when the server could not be reached
    or did not answer (the pass then leaves the rest of its mail for later)."""
    first = rows[0]
    recipient = first.recipient or ""
    try:
        refusal = _address_refuses(recipient)
        if refusal:
            raise Dropped(refusal)
        later = _over_limit(rows)
        if later is not None:
            # Not an attempt: back to pending, due when the hour allows.
            db.session.execute(
                sa.update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_([row.id for row in rows]),
                    OutboxMessage.claim_token == token,
                )
                .values(
                    claim_token=None,
                    claimed_until=None,
                    due_at=later,
                    last_error="rate limit: waiting",
                )
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            done.retried += len(rows)
            return True
        build = COMPOSERS.get(first.topic)
        if build is None:
            raise Dropped(f"no composer for topic {first.topic!r}")
        message = build(rows)
    except Dropped as reason:
        done.dropped += finish(token, rows, OutboxStatus.DROPPED, error=str(reason))
        db.session.commit()
        return True
    message["Message-ID"] = first.message_id
    if "From" not in message:
        message["From"] = current_app.config["MAIL_FROM"]
    if "To" not in message:
        message["To"] = recipient
    # Nothing may hold a connection or a row lock while the server thinks.
    db.session.commit()
    try:
        transport().send(message)
    except SendError as error:
        record_failure(token, rows, error, done)
        return error.permanent or error.code is not None
    done.sent += finish(token, rows, OutboxStatus.SENT, code=250)
    db.session.commit()
    return True


def record_failure(
    token: str, rows: Sequence[OutboxMessage], error: SendError, done: Delivered
) -> None:
    attempts = max(row.attempts for row in rows) + 1
    text = str(error)
    done.errors.append(text)
    if error.permanent or attempts >= int(current_app.config["OUTBOX_MAX_ATTEMPTS"]):
        done.failed += finish(
            token, rows, OutboxStatus.FAILED, error=text, code=error.code
        )
        if error.permanent and error.code in (550, 551, 553) and rows[0].kind == MAIL:
            # The recipient does not exist: never again (audited).
            subscriptions.bounced(rows[0].recipient or "")
    else:
        done.retried += finish(
            token,
            rows,
            OutboxStatus.PENDING,
            error=text,
            code=error.code,
            due=retry_at(attempts),
        )
    db.session.commit()
    logger.warning(
        "outbox: %s %s failed (%s): %s",
        rows[0].kind,
        rows[0].topic,
        "for good" if error.permanent else f"attempt {attempts}",
        text,
    )


def _groups(rows: Sequence[OutboxMessage]) -> list[list[OutboxMessage]]:
    """The claimed rows as messages: one per batch_key, one per row otherwise."""
    batches: dict[str, list[OutboxMessage]] = {}
    groups: list[list[OutboxMessage]] = []
    for row in rows:
        if row.batch_key is None or row.kind == WEBHOOK:
            groups.append([row])
        elif row.batch_key in batches:
            batches[row.batch_key].append(row)
        else:
            batches[row.batch_key] = [row]
            groups.append(batches[row.batch_key])
    return groups


def deliver_due(limit: int | None = None, lease: float | None = None) -> Delivered:
    """Claim what is due and send it; call in an app context (the workers)."""

    config = current_app.config
    limit = int(limit or config["OUTBOX_BATCH"])
    lease = float(lease or config["OUTBOX_LEASE"])
    done = Delivered()
    token, ids = claim(limit, lease)
    if not ids:
        return done
    rows = list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        )
    )
    # Each send may take up to its timeout; stop in time to store the outcome
    # while the claim still holds, so that no other worker sends the same rows.
    margin = 2 * float(config["MAIL_TIMEOUT"]) + float(config["WEBHOOK_TIMEOUT"])
    deadline = time.monotonic() + lease - margin
    mail_down = False
    hooks_down: set[int | None] = set()
    for group in _groups(rows):
        first = group[0]
        # A server that did not answer is not asked again in this pass: the
        # rest waits for the next one instead of costing a timeout each.
        if (
            time.monotonic() > deadline
            or (first.kind == MAIL and mail_down)
            or (first.kind == WEBHOOK and first.webhook_id in hooks_down)
        ):
            done.deferred += release(token, group)
            continue
        try:
            if first.kind != MAIL:
                if not KIND_SENDERS[first.kind](token, first, done):
                    hooks_down.add(first.webhook_id)
            elif not _send_mail(token, group, done):
                mail_down = True
        except Exception:  # one bad message must not stop the others
            db.session.rollback()
            logger.exception("outbox: message %s could not be handled", first.id)
    return done


def release(token: str, rows: Sequence[OutboxMessage]) -> int:
    """Give claimed rows back untouched (no attempt counted)."""
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id.in_([row.id for row in rows]),
            OutboxMessage.claim_token == token,
        )
        .values(claim_token=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def drain(app: Flask, rounds: int = 100) -> Delivered:
    """Send everything due now (the CLI and tests): pass after pass."""
    total = Delivered()
    with app.app_context():
        for _ in range(rounds):
            done = deliver_due()
            total.sent += done.sent
            total.retried += done.retried
            total.failed += done.failed
            total.dropped += done.dropped
            total.deferred += done.deferred
            total.errors += done.errors
            if not done.progress:
                break  # nothing due, or only what must wait
    return total
