"""Readers' mail: confirming an address, replies to their comments, outcomes.

- `on_posted`: a comment that asked for replies (the form's "Email me replies",
  only with an email). The first time an address asks, it gets a confirmation
  mail (double opt-in) and nothing else until its link is followed. An address
  that left (unsubscribed, stopped, bounced) is left alone, and the form says
  nothing about it either way: no reader learns an address's state.
- `on_published`: a reply was published; the parent's author, if they asked
  and confirmed, gets a mail. Rows of one address share the batch key
  `reply:<address id>` and wait REPLY_BATCH_SECONDS, so several replies within
  a few minutes are one mail.
- `on_outcome`: a moderator approved or rejected a held comment; its author is
  told when the site's `notify_outcomes` is on (and they asked and confirmed).

Each mail is composed when it is sent (outbox.py), from the database as it is
then: replies no longer published are left out, and nothing goes to an address
that is no longer confirmed. Every mail carries List-Unsubscribe (a one-click
https link, RFC 8058) and links to unsubscribe and to stop all mail, signed
(tokens.py) and in the reader's language.
"""

from __future__ import annotations

import email.policy
import logging
from collections.abc import Sequence
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, render_template
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from ..extensions import db
from ..links import web_url
from ..models import (
    AddressState,
    Comment,
    CommentStatus,
    MailAddress,
    OutboxMessage,
    OutboxStatus,
    Thread,
    utcnow,
)
from ..services.erasure import REMOVED
from . import outbox, subscriptions, tokens

logger = logging.getLogger(__name__)

CONFIRM = "confirm"
REPLY = "reply"
OUTCOME = "outcome"
# A confirmation mail is sent again only when none is waiting or went out within
# this long: posting ten comments does not send ten confirmations.
CONFIRM_AGAIN_AFTER = timedelta(days=1)
_POLICY = email.policy.default.clone(max_line_length=998)
# How many of an address's latest reply rows are checked for a reply already
# mailed (a reply published, held on reports, then published again).
_RECENT_REPLY_ROWS = 200


def _current_language() -> str:
    """The language of the request being served (the reader's, when they post)."""
    default = str(current_app.config["LANGUAGES"][0])
    if not has_request_context():
        return default
    language = str(get_locale() or default)
    return language if language in current_app.config["LANGUAGES"] else default


def _address_language(address: MailAddress) -> str:
    """The language the address's owner wrote in when they asked for replies."""
    if address.language in current_app.config["LANGUAGES"]:
        return str(address.language)
    return str(current_app.config["LANGUAGES"][0])


def _confirmed(email: str | None) -> MailAddress | None:
    """The address row for `email` when it may get mail (confirmed), else None."""
    if not email:
        return None
    address = subscriptions.find(email)
    if address is None or address.state is not AddressState.CONFIRMED:
        return None
    return address


def on_posted(comment: Comment) -> None:
    """A stored comment that asked for replies: confirm its address first."""
    if not comment.notify_replies or not comment.email:
        return
    address = subscriptions.get_or_create(comment.email)
    address.language = _current_language()
    if address.state is not AddressState.PENDING:
        return  # confirmed already, or never again: nothing to send, nothing said
    day_ago = utcnow() - CONFIRM_AGAIN_AFTER
    recent = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.topic == CONFIRM,
            OutboxMessage.recipient == address.email,
            sa.or_(
                OutboxMessage.status == OutboxStatus.PENDING,
                sa.and_(
                    OutboxMessage.status == OutboxStatus.SENT,
                    OutboxMessage.sent_at > day_ago,
                ),
            ),
        )
    )
    if recent:
        return
    outbox.enqueue_mail(
        topic=CONFIRM,
        recipient=address.email,
        payload={
            "address": address.id,
            "comment": comment.id,
            "lang": _current_language(),
        },
        site_id=comment.thread.site_id,
    )
    logger.info("confirmation mail queued for address %s", address.id)


def _same_author(reply: Comment, parent: Comment) -> bool:
    if reply.handle_key and reply.handle_key == parent.handle_key:
        return True
    return bool(
        reply.email
        and parent.email
        and reply.email.strip().lower() == parent.email.strip().lower()
    )


def _already_queued(address: MailAddress, reply_id: int) -> bool:
    """Whether a mail for this reply was queued before (it was published twice)."""
    payloads = db.session.scalars(
        sa.select(OutboxMessage.payload)
        .where(OutboxMessage.topic == REPLY, OutboxMessage.recipient == address.email)
        .order_by(OutboxMessage.id.desc())
        .limit(_RECENT_REPLY_ROWS)
    )
    return any(
        isinstance(payload, dict) and payload.get("reply") == reply_id
        for payload in payloads
    )


def on_published(comment: Comment) -> None:
    """A published reply: mail the parent's author if they asked and confirmed."""
    if comment.parent_id is None or comment.status is not CommentStatus.PUBLISHED:
        return
    parent = db.session.get(Comment, comment.parent_id)
    if parent is None or not parent.notify_replies or not parent.published:
        return
    address = _confirmed(parent.email)
    if address is None or _same_author(comment, parent):
        return
    if _already_queued(address, comment.id):
        return
    outbox.enqueue_mail(
        topic=REPLY,
        recipient=address.email,
        payload={"address": address.id, "reply": comment.id, "parent": parent.id},
        site_id=comment.thread.site_id,
        batch_key=f"reply:{address.id}",
        delay=float(current_app.config["REPLY_BATCH_SECONDS"]),
    )
    logger.info("reply %s queued for address %s", comment.id, address.id)


def on_outcome(comment: Comment, approved: bool) -> None:
    """A moderator's verdict on a held comment, told to its author (site setting)."""
    if not comment.thread.site.notify_outcomes or not comment.notify_replies:
        return
    address = _confirmed(comment.email)
    if address is None:
        return
    outbox.enqueue_mail(
        topic=OUTCOME,
        recipient=address.email,
        payload={"address": address.id, "comment": comment.id, "approved": approved},
        site_id=comment.thread.site_id,
    )


# Composing, at send time -----------------------------------------------------


def permalink(comment: Comment) -> str:
    """Where a comment is seen: `#comment-N` on the publisher's page, or on this
    service's own thread page when the thread has no (safe) URL."""
    thread = comment.thread
    base = web_url(thread.url)
    if base:
        base = base.partition("#")[0]
    else:
        base = tokens.absolute_url(
            "embed.thread_page", site=thread.site.slug, key=thread.key
        )
    return f"{base}#comment-{comment.id}"


def _one_line(text: str, limit: int = 150) -> str:
    """A header-safe line: no line breaks (header injection), bounded."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _title(thread: Thread) -> str:
    return _one_line(thread.title or thread.key, 120)


def _address_for(rows: Sequence[OutboxMessage]) -> MailAddress:
    """The batch's address, still as its rows name it; Dropped when it is gone."""
    address = db.session.get(MailAddress, rows[0].payload.get("address"))
    if address is None or address.email != rows[0].recipient:
        raise outbox.Dropped("address gone")
    return address


def _links(address: MailAddress, lang: str) -> dict[str, str]:
    return {
        "unsubscribe_url": tokens.link(address.id, tokens.UNSUBSCRIBE, lang),
        "stop_url": tokens.link(address.id, tokens.STOP, lang),
    }


def _message(
    template: str,
    subject: str,
    links: dict[str, str],
    context: dict[str, Any],
) -> EmailMessage:
    """Plain text and HTML from templates/mail/<template>.txt and .html (which
    escapes everything a reader wrote), with RFC 8058 one-click unsubscribe."""
    values = {**links, **context}
    # Headers unfolded up to RFC 5322's 998: a long signed URL folded by the
    # default 78 would be sent as an encoded word, which no client reads as a URL.
    message = EmailMessage(policy=_POLICY)
    message["Subject"] = _one_line(subject, 200)
    message["List-Unsubscribe"] = f"<{links['unsubscribe_url']}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_template(f"mail/{template}.txt", **values))
    message.add_alternative(
        render_template(f"mail/{template}.html", **values), subtype="html"
    )
    return message


@outbox.composer(CONFIRM)
def compose_confirm(rows: Sequence[OutboxMessage]) -> EmailMessage:
    """'Confirm that you want replies': while the address is still pending."""
    address = _address_for(rows)
    if address.state is not AddressState.PENDING:
        raise outbox.Dropped(f"address {address.state.value}")
    lang = str(rows[-1].payload.get("lang") or current_app.config["LANGUAGES"][0])
    comment = db.session.get(Comment, rows[-1].payload.get("comment"))
    thread = comment.thread if comment is not None else None
    site_name = _one_line(thread.site.name, 80) if thread is not None else ""
    with force_locale(lang):
        links = _links(address, lang)
        return _message(
            "confirm",
            _("Confirm reply notifications from %(site)s", site=site_name)
            if site_name
            else _("Confirm reply notifications"),
            links,
            {
                "lang": lang,
                "confirm_url": tokens.link(address.id, tokens.CONFIRM, lang),
                "site_name": site_name,
                "title": _title(thread) if thread is not None else "",
                "days": tokens.CONFIRM_MAX_AGE // 86400,
            },
        )


def _still_shown(reply: Comment | None) -> bool:
    return (
        reply is not None
        and reply.status is CommentStatus.PUBLISHED
        and reply.body != REMOVED
    )


@outbox.composer(REPLY)
def compose_reply(rows: Sequence[OutboxMessage]) -> EmailMessage:
    """One mail for every reply of the batch that is still published."""
    address = _address_for(rows)
    if address.state is not AddressState.CONFIRMED:
        raise outbox.Dropped(f"address {address.state.value}")
    items = []
    seen: set[int] = set()
    for row in rows:
        reply_id = row.payload.get("reply")
        if not isinstance(reply_id, int) or reply_id in seen:
            continue
        seen.add(reply_id)
        reply = db.session.get(Comment, reply_id)
        if not _still_shown(reply):
            continue
        assert reply is not None  # for mypy: _still_shown checked it
        parent = db.session.get(Comment, reply.parent_id) if reply.parent_id else None
        if (
            parent is None
            or not parent.notify_replies
            or (parent.email or "").strip().lower() != address.email
        ):
            continue  # the author erased their comment, or it was not theirs
        items.append(
            {
                "handle": reply.handle,
                "body": reply.body,
                "title": _title(reply.thread),
                "permalink": permalink(reply),
                "parent_excerpt": _one_line(parent.body, 140),
            }
        )
    if not items:
        raise outbox.Dropped("no reply still published")
    lang = _address_language(address)
    with force_locale(lang):
        if len(items) == 1:
            subject = _(
                "%(handle)s replied to your comment on “%(title)s”",
                handle=_one_line(items[0]["handle"], 60),
                title=items[0]["title"],
            )
        else:
            subject = _("%(num)d new replies to your comments", num=len(items))
        return _message(
            "reply", subject, _links(address, lang), {"lang": lang, "replies": items}
        )


@outbox.composer(OUTCOME)
def compose_outcome(rows: Sequence[OutboxMessage]) -> EmailMessage:
    """'Your comment was published' / 'was not published', if that still holds."""
    address = _address_for(rows)
    if address.state is not AddressState.CONFIRMED:
        raise outbox.Dropped(f"address {address.state.value}")
    payload = rows[-1].payload
    comment = db.session.get(Comment, payload.get("comment"))
    approved = bool(payload.get("approved"))
    if comment is None or (comment.email or "").strip().lower() != address.email:
        raise outbox.Dropped("comment gone")
    if approved != (comment.status is CommentStatus.PUBLISHED):
        raise outbox.Dropped("the verdict changed since")
    lang = _address_language(address)
    title = _title(comment.thread)
    with force_locale(lang):
        subject = (
            _("Your comment on “%(title)s” is published", title=title)
            if approved
            else _("Your comment on “%(title)s” was not published", title=title)
        )
        return _message(
            "outcome",
            subject,
            _links(address, lang),
            {
                "lang": lang,
                "approved": approved,
                "title": title,
                "permalink": permalink(comment) if approved else "",
                "excerpt": _one_line(comment.body, 140),
            },
        )
