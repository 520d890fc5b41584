"""The newsroom's own voice in a thread: featured comments and staff replies.

A featured comment ("editors' pick") is listed first on the reader's page. Only
published comments are shown featured: a featured comment that is rejected or
deleted later leaves the block by itself, and comes back if it is approved again.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from .. import signals
from ..errors import InvalidTransition, ThreadClosed
from ..extensions import changed_one, db
from ..models import HANDLE_MAX, Comment, CommentStatus, Moderator, Thread, utcnow
from ..rendering import render_body
from .audit import record
from .comments import fingerprint, log_move
from .revisions import bump_threads
from .shapes import check_body

logger = logging.getLogger(__name__)

# The reader's page lists at most this many featured comments, newest pick first.
FEATURED_MAX = 5
STAFF_REPLY_REASON = "staff reply"


def featured_comments(thread: Thread, limit: int = FEATURED_MAX) -> list[Comment]:
    """The thread's featured published comments, the latest featured first."""
    # By ix_comments_thread_featured: a handful of rows, however long the thread.
    return list(
        db.session.scalars(
            sa.select(Comment)
            .where(
                Comment.thread_id == thread.id,
                Comment.featured_at.is_not(None),
                Comment.status == CommentStatus.PUBLISHED,
            )
            .order_by(Comment.featured_at.desc(), Comment.id.desc())
            .limit(limit)
        )
    )


def feature(comment: Comment, moderator: Moderator) -> Comment:
    """Feature a published comment; 409 when it is not published (now)."""
    if comment.featured_at is not None and comment.published:
        return comment  # already featured: nothing changes, nothing to log
    now = utcnow()
    # Guarded: a comment rejected a moment ago is not featured.
    moved = changed_one(
        sa.update(Comment)
        .where(
            Comment.id == comment.id,
            Comment.status == CommentStatus.PUBLISHED,
            Comment.featured_at.is_(None),
        )
        .values(featured_at=now, featured_by_id=moderator.id)
    )
    if not moved:
        db.session.rollback()
        db.session.refresh(comment)
        if comment.featured_at is not None and comment.published:
            return comment  # featured by someone else meanwhile
        raise InvalidTransition(
            f"Only published comments can be featured; comment {comment.id} is "
            f"{comment.status.value}."
        )
    _log(comment, moderator, "comment.featured", featured=True)
    return comment


def unfeature(comment: Comment, moderator: Moderator) -> Comment:
    """Take a comment out of the featured block (whatever its status)."""
    moved = changed_one(
        sa.update(Comment)
        .where(Comment.id == comment.id, Comment.featured_at.is_not(None))
        .values(featured_at=None, featured_by_id=None)
    )
    if not moved:
        db.session.rollback()
        db.session.refresh(comment)
        return comment  # not featured: nothing changes, nothing to log
    _log(comment, moderator, "comment.unfeatured", featured=False)
    return comment


def _log(comment: Comment, moderator: Moderator, action: str, featured: bool) -> None:
    """The audit row and the revision bump of a (un)feature, then commit."""
    record(
        action,
        "comment",
        comment.id,
        moderator=moderator,
        site_id=comment.thread.site_id,
        before={"featured": not featured},
        after={"featured": featured},
    )
    bump_threads([comment.thread_id])  # readers' cached pages show the block
    db.session.commit()
    db.session.refresh(comment)
    logger.info("comment %s %s by moderator %s", comment.id, action, moderator.id)


def staff_reply(
    parent: Comment, moderator: Moderator, raw_body: str, body_max: int
) -> Comment:
    """Publish a moderator's reply to a published comment, marked as staff.

    Not screened: a moderator's words are the site's own. Its handle is the
    moderator's name; the badge comes from `staff_id`, which no reader can set.
    """
    body = check_body(raw_body, body_max)
    if not parent.published:
        raise InvalidTransition(
            f"Comment {parent.id} is {parent.status.value}: only published comments "
            "can be replied to."
        )
    thread = parent.thread
    if not thread.is_open:
        raise ThreadClosed("This thread is closed to new comments.")
    reply = Comment(
        thread=thread,
        parent_id=parent.id,
        handle=moderator.name[:HANDLE_MAX],
        body=body,
        html=render_body(body),
        status=CommentStatus.PUBLISHED,
        fingerprint=fingerprint(body),
        staff_id=moderator.id,
    )
    db.session.add(reply)
    db.session.flush()  # its id, for the Decision and the audit row
    log_move(
        reply,
        CommentStatus.RECEIVED,
        CommentStatus.PUBLISHED,
        "comment.staff_reply",
        STAFF_REPLY_REASON,
        moderator,
    )
    # Not `by` the moderator as a verdict: no outcome mail, a reply mail to
    # the parent's author and the webhooks as for any published reply.
    signals.comment_published.send(reply, by=None, was=CommentStatus.RECEIVED)
    db.session.commit()
    logger.info(
        "staff reply %s to comment %s by moderator %s",
        reply.id,
        parent.id,
        moderator.id,
    )
    return reply
