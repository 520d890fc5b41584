"""What happens to comments, told to whoever asked: the receivers of the
services' signals (moderation/signals.py).

The services send them inside the transaction of the change (before its commit),
so every message they cause is written with it or not at all. Each receiver only
adds outbox rows; nothing here sends, waits or raises for a receiver.

- comment_posted: a reader stored a comment; one that asked for replies gets
  its address confirmed first (double opt-in, replies.py).
- comment_published / comment_held / comment_rejected: a verdict, by the
  screen (`by` None) or a moderator. Webhooks; a published reply mails the
  parent's subscribed author; a moderator's verdict on a held comment may tell
  its author (site setting); a hold alerts the site's moderators (alerts.py).
- comment_reported: a reader's report; `crossed` when it took the comment past
  the site's threshold (moderators' alert).
- thread_created, thread_surged: a new thread; a thread the surge guard switched.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from .. import signals
from ..extensions import db
from ..models import Comment, CommentStatus, Moderator, Thread
from . import alerts, replies, webhooks

logger = logging.getLogger(__name__)


def comment_data(comment: Comment) -> dict[str, Any]:
    """What a webhook says about a comment: public fields only (no email, no
    network key), and where it is."""
    thread = comment.thread
    return {
        "id": comment.id,
        "thread": {"key": thread.key, "url": thread.url, "title": thread.title},
        "parent_id": comment.parent_id,
        "handle": comment.handle,
        "body": comment.body,
        "status": comment.status.value,
        "created_at": comment.created_at.isoformat() if comment.created_at else None,
    }


def _posted(comment: Comment) -> None:
    replies.on_posted(comment)


def _published(
    comment: Comment,
    *,
    by: Moderator | None = None,
    was: CommentStatus | None = None,
    undo: bool = False,
) -> None:
    webhooks.emit(comment.thread.site, "comment.published", comment_data(comment))
    replies.on_published(comment)
    if by is not None and was is CommentStatus.HELD and not undo:
        replies.on_outcome(comment, approved=True)


def _held(
    comment: Comment,
    *,
    by: Moderator | None = None,
    was: CommentStatus | None = None,
    undo: bool = False,
) -> None:
    webhooks.emit(comment.thread.site, "comment.held", comment_data(comment))
    if by is None:  # held by the screen or by readers' reports, not by a moderator
        alerts.on_held(comment)


def _rejected(
    comment: Comment,
    *,
    by: Moderator | None = None,
    was: CommentStatus | None = None,
    undo: bool = False,
) -> None:
    webhooks.emit(comment.thread.site, "comment.rejected", comment_data(comment))
    if by is not None and was is CommentStatus.HELD and not undo:
        replies.on_outcome(comment, approved=False)


def _reported(comment: Comment, *, crossed: bool = False) -> None:
    data = {**comment_data(comment), "reports": comment.report_count}
    webhooks.emit(comment.thread.site, "comment.reported", data)
    if crossed:
        alerts.on_reports(comment)


def _thread_created(thread: Thread) -> None:
    webhooks.emit(
        thread.site,
        "thread.created",
        {"key": thread.key, "url": thread.url, "title": thread.title},
    )


def _surged(thread: Thread, *, why: str = "") -> None:
    alerts.on_surge(thread)


def _guarded(receiver: Callable[..., None]) -> Callable[..., None]:
    """Run a receiver in a savepoint: if it fails, what it added is undone and
    logged, and the change that sent the signal (a verdict, a decision, a post)
    still commits. A notification is never worth a comment's screening."""

    @functools.wraps(receiver)
    def guarded(sender: object, **kwargs: Any) -> None:
        try:
            with db.session.begin_nested():
                receiver(sender, **kwargs)
        except Exception:
            logger.exception("notification for %r failed; the change stands", sender)

    return guarded


def connect() -> None:
    """Listen to the services' signals (idempotent: blinker keeps one of each)."""
    if getattr(connect, "done", False):
        return
    connect.done = True  # type: ignore[attr-defined]
    for signal, receiver in (
        (signals.comment_posted, _posted),
        (signals.comment_published, _published),
        (signals.comment_held, _held),
        (signals.comment_rejected, _rejected),
        (signals.comment_reported, _reported),
        (signals.thread_created, _thread_created),
        (signals.thread_surged, _surged),
    ):
        signal.connect(_guarded(receiver), weak=False)
