"""Readers' "respect": one per reader network and comment, pressed again to withdraw.

A reader has no account, so "one reader" is one network (clients.network_key, an
HMAC of the address): readers behind one carrier NAT share a single respect,
which errs on the side of modesty. The unique (comment_id, network_key) of
reactions decides every race; the comment's like_count moves by an atomic
`UPDATE ... SET like_count = like_count ± 1` in the same transaction, so the
count always equals its rows, on SQLite and PostgreSQL alike.

Each change bumps the thread's revision (revisions.py), so the cached page shows
the new count at once. A burst of presses does not re-render the page for each
one: a web process learns a thread's revision at most once per READ_LOOKUP_TTL
(1 s by default, reader/cache.py), and a CDN in front at most once per s-maxage,
so a hot thread is rendered at most about once a second per page variant and
process however fast its comments are respected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..errors import NotFound, ThreadClosed
from ..extensions import db
from ..models import Comment, CommentStatus, Reaction, Thread, utcnow
from .revisions import bump_threads

logger = logging.getLogger(__name__)

# Presses per reader network, every thread together: plenty for a reader going
# down a thread, too few to script a count up or to churn a page's revision.
RESPECT_LIMIT = "30 per minute;300 per hour"
RESPECT_SCOPE = "respect:network"


def respect_limit() -> str:
    """The configured limit (RATELIMIT_RESPECT), else RESPECT_LIMIT."""
    return str(current_app.config.get("RATELIMIT_RESPECT") or RESPECT_LIMIT)


@dataclass(frozen=True)
class Respect:
    """What a press did: the reader's respect now stands (pressed) or not."""

    comment_id: int
    pressed: bool
    count: int


def respectable(comment_id: int, thread: Thread) -> Comment:
    """A published comment of this thread, open to respect: else NotFound or
    ThreadClosed (a closed discussion's counts are final)."""
    comment = db.session.get(Comment, comment_id)
    if (
        comment is None
        or comment.thread_id != thread.id
        or comment.status is not CommentStatus.PUBLISHED
    ):
        raise NotFound(_("No such published comment in this thread."))
    if not thread.is_open:
        raise ThreadClosed(_("This discussion is closed."))
    return comment


def toggle_respect(comment: Comment, network: str) -> Respect:
    """Add this network's respect to the comment, or withdraw it if it stood."""
    comment_id, thread_id = comment.id, comment.thread_id
    # Withdraw first: only the one row this network holds, if any.
    deleted = db.session.execute(
        sa.delete(Reaction)
        .where(Reaction.comment_id == comment_id, Reaction.network_key == network)
        .execution_options(synchronize_session=False)
    )
    if cast(sa.CursorResult[Any], deleted).rowcount == 1:
        return _count(comment_id, thread_id, -1, pressed=False)
    try:
        db.session.execute(
            sa.insert(Reaction).values(
                comment_id=comment_id, network_key=network, created_at=utcnow()
            )
        )
    except IntegrityError:
        # The same network's other press got there first (a double click, two
        # tabs): it counted, this one changes nothing. Nothing else was written.
        db.session.rollback()
        count = db.session.scalar(
            sa.select(Comment.like_count).where(Comment.id == comment_id)
        )
        return Respect(comment_id, True, int(count or 0))
    return _count(comment_id, thread_id, +1, pressed=True)


def _count(comment_id: int, thread_id: int, delta: int, *, pressed: bool) -> Respect:
    """Move like_count by delta in the database itself, bump the thread, commit."""
    moved = (
        Comment.like_count + 1
        if delta > 0
        # Never below zero, whatever a hand-edited row says.
        else sa.case((Comment.like_count > 0, Comment.like_count - 1), else_=0)
    )
    count = db.session.execute(
        sa.update(Comment)
        .where(Comment.id == comment_id)
        .values(like_count=moved)
        .returning(Comment.like_count)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    bump_threads([thread_id])
    db.session.commit()
    logger.info(
        "respect %s on comment %d: %d", "added" if pressed else "withdrawn",
        comment_id, count,
    )
    return Respect(comment_id, pressed, int(count))
