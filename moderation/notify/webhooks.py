"""Outgoing webhooks: a site's endpoints told of its comments' events.

Events: comment.published, comment.held, comment.rejected, comment.reported,
thread.created. Each call is an outbox row (outbox.py), written with the change;
the workers POST it, so a slow or dead receiver never slows a reader's post.

The request:

    POST <url>
    Content-Type: application/json
    X-Moderation-Event: comment.published
    X-Moderation-Delivery: <32 hex digits, the same on every retry>
    X-Moderation-Timestamp: <unix seconds of this attempt>
    X-Moderation-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>

    {"event": "comment.published", "delivery": "...", "created_at": "...",
     "site": "demo", "data": {...}}

A 2xx answer is a delivery. Anything else (another status, a timeout, a refused
connection) is retried with exponential back-off (OUTBOX_RETRY_SECONDS doubling,
OUTBOX_MAX_ATTEMPTS); after WEBHOOK_DISABLE_AFTER failures in a row the webhook
is switched off and says why. Redirects are not followed. docs/webhooks.md shows
how a receiver checks the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import OutboxMessage, OutboxStatus, Site, Webhook, utcnow
from .outbox import (
    KIND_SENDERS,
    WEBHOOK,
    Delivered,
    enqueue_webhook,
    finish,
    record_failure,
)
from .transport import SendError

logger = logging.getLogger(__name__)

EVENTS = (
    "comment.published",
    "comment.held",
    "comment.rejected",
    "comment.reported",
    "thread.created",
)
SIGNATURE_HEADER = "X-Moderation-Signature"
TIMESTAMP_HEADER = "X-Moderation-Timestamp"


def new_secret() -> str:
    return secrets.token_hex(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Moderation-Signature value for a body sent at `timestamp`."""
    signed = str(timestamp).encode() + b"." + body
    return "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    secret: str, header: str, timestamp: str, body: bytes, *, tolerance: int = 300
) -> bool:
    """What a receiver does: a valid signature of a recent timestamp (docs)."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - sent) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, sent, body), header)


def emit(site: Site, event: str, data: dict[str, Any]) -> int:
    """Add a call for each of the site's active webhooks that wants `event`, in
    the session's transaction; how many."""
    hooks = db.session.scalars(
        sa.select(Webhook).where(Webhook.site_id == site.id, Webhook.active.is_(True))
    )
    count = 0
    for hook in hooks:
        if event not in (hook.events or ()):
            continue
        enqueue_webhook(
            hook,
            event,
            {
                "event": event,
                "site": site.slug,
                "created_at": utcnow().isoformat(),
                "data": data,
            },
        )
        count += 1
    return count


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is an answer, not a place to send the body to


_opener = urllib.request.build_opener(_NoRedirect)


def post(hook: Webhook, row: OutboxMessage) -> int:
    """POST the row's payload, signed; the HTTP status, or SendError."""
    body = json.dumps(
        {**row.payload, "delivery": row.message_id}, sort_keys=True
    ).encode()
    timestamp = int(time.time())
    request = urllib.request.Request(
        hook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "moderation-webhooks/1",
            "X-Moderation-Event": row.topic,
            "X-Moderation-Delivery": row.message_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(hook.secret, timestamp, body),
        },
    )
    try:
        with _opener.open(
            request, timeout=float(current_app.config["WEBHOOK_TIMEOUT"])
        ) as answer:
            answer.read(65536)
            return int(answer.status)
    except urllib.error.HTTPError as error:
        raise SendError(
            f"HTTP {error.code}", permanent=False, code=error.code
        ) from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise SendError(f"{type(error).__name__}: {reason}", permanent=False) from error


def send_webhook(token: str, row: OutboxMessage, done: Delivered) -> bool:
    """Deliver one claimed webhook row and keep the hook's failure count;
    False when the receiver did not answer (timeout, refused connection)."""
    hook = db.session.get(Webhook, row.webhook_id) if row.webhook_id else None
    if hook is None or not hook.active:
        done.dropped += finish(
            token,
            [row],
            OutboxStatus.DROPPED,
            error="webhook removed" if hook is None else "webhook disabled",
        )
        db.session.commit()
        return True
    db.session.commit()  # no transaction stays open while the receiver thinks
    try:
        status = post(hook, row)
        if not 200 <= status < 300:
            raise SendError(f"HTTP {status}", permanent=False, code=status)
    except SendError as error:
        record_failure(token, [row], error, done)
        _count_failure(hook.id, str(error))
        return error.code is not None
    done.sent += finish(token, [row], OutboxStatus.SENT, code=status)
    db.session.execute(
        sa.update(Webhook).where(Webhook.id == hook.id).values(failures=0)
    )
    db.session.commit()
    return True


def _count_failure(hook_id: int, error: str) -> None:
    limit = int(current_app.config["WEBHOOK_DISABLE_AFTER"])
    db.session.execute(
        sa.update(Webhook)
        .where(Webhook.id == hook_id)
        .values(failures=Webhook.failures + 1)
    )
    hook = db.session.get(Webhook, hook_id)
    if hook is not None and hook.active and hook.failures >= limit:
        hook.active = False
        hook.disabled_at = utcnow()
        hook.disabled_reason = (
            f"{hook.failures} failed deliveries in a row; last: {error}"[:2000]
        )
        # Its calls still waiting would only fail too.
        db.session.execute(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.webhook_id == hook_id,
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.claim_token.is_(None),
            )
            .values(status=OutboxStatus.DROPPED, last_error="webhook disabled")
        )
        logger.warning("webhook %s disabled: %s", hook_id, hook.disabled_reason)
    db.session.commit()


KIND_SENDERS[WEBHOOK] = send_webhook
