"""Comment services: the code that commits. Views call these, nothing else writes."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from http import HTTPStatus

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from .audit import record
from .errors import InvalidInput, InvalidTransition, NotFound, ThreadClosed
from .extensions import db
from .models import Comment, CommentStatus, Decision, Moderator, Site, Thread, utcnow
from .readers import read_receipt
from .rendering import render_body
from .revisions import bump_threads
from .screening.rules import normalise_for_repeat

logger = logging.getLogger(__name__)


# What both reader paths (iframe and API) answer a post with: 201 published,
# 202 held or still being checked, 200 stored but rejected.
RESPONSE_STATUS = {
    CommentStatus.PUBLISHED: HTTPStatus.CREATED,
    CommentStatus.HELD: HTTPStatus.ACCEPTED,
    CommentStatus.RECEIVED: HTTPStatus.ACCEPTED,
    CommentStatus.REJECTED: HTTPStatus.OK,
}


@dataclass(frozen=True)
class NewComment:
    """A comment whose shape has been checked, ready to store."""

    handle: str
    body: str
    email: str | None = None
    parent_id: int | None = None
    idempotency_key: str | None = None


def get_site(slug: str) -> Site:
    """The site with this slug, or NotFound."""
    site = db.session.scalar(sa.select(Site).filter_by(slug=slug))
    if site is None:
        raise NotFound(f"No site called {slug!r}.")
    return site


def get_thread(site_slug: str, key: str) -> Thread:
    """The thread `key` of site `site_slug`, or NotFound."""
    thread = db.session.scalar(
        sa.select(Thread)
        .join(Thread.site)
        .where(Site.slug == site_slug, Thread.key == key)
    )
    if thread is None:
        raise NotFound(f"No thread {key!r} on site {site_slug!r}.")
    return thread


def published_comments(thread: Thread) -> list[Comment]:
    """A thread's published comments, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Comment)
            .where(
                Comment.thread_id == thread.id,
                Comment.status == CommentStatus.PUBLISHED,
            )
            .order_by(Comment.created_at, Comment.id)
        )
    )


def fingerprint(body: str) -> str:
    """A stable hash of a body's normalised text, for the repeat rule."""
    return hashlib.sha256(normalise_for_repeat(body).encode()).hexdigest()


def submit_comment(thread: Thread, new: NewComment) -> Comment:
    """Store a reader's comment as received, commit it, then await its screening."""
    if not thread.is_open:
        raise ThreadClosed("This thread is closed to new comments.")
    if new.idempotency_key:
        existing = _by_idempotency_key(thread, new.idempotency_key)
        if existing is not None:
            return existing
    if new.parent_id is not None:
        parent = db.session.get(Comment, new.parent_id)
        if (
            parent is None
            or parent.thread_id != thread.id
            or parent.status is not CommentStatus.PUBLISHED
        ):
            raise InvalidInput(
                "The comment you are replying to is not in this thread.",
                {"parent_id": ["No such published comment in this thread."]},
            )
    comment = Comment(
        thread=thread,
        parent_id=new.parent_id,
        handle=new.handle,
        email=new.email,
        body=new.body,
        html=render_body(new.body),
        status=CommentStatus.RECEIVED,
        idempotency_key=new.idempotency_key,
        fingerprint=fingerprint(new.body),
    )
    db.session.add(comment)
    try:
        db.session.commit()
    except IntegrityError:
        # The same form sent twice at once: the other request stored it.
        db.session.rollback()
        existing = _by_idempotency_key(thread, new.idempotency_key or "")
        if existing is None:
            raise
        return existing
    logger.info("comment %s received in thread %s", comment.id, thread.id)
    return wait_for_verdict(comment, current_app.config["VERDICT_WAIT"])


def _by_idempotency_key(thread: Thread, key: str) -> Comment | None:
    return db.session.scalar(
        sa.select(Comment).filter_by(thread_id=thread.id, idempotency_key=key)
    )


def receipt_comment(receipt: str) -> Comment:
    """The comment a signed receipt names, or NotFound / InvalidInput."""
    comment_id, thread_id = read_receipt(receipt)
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.thread_id != thread_id:
        raise NotFound("No such comment.")
    return comment


def wait_for_verdict(comment: Comment, timeout: float) -> Comment:
    """Give the workers up to `timeout` seconds to screen a new comment."""
    worker = current_app.extensions.get("worker")
    if worker is not None:
        worker.wake()
    deadline = time.monotonic() + timeout
    while True:
        status = db.session.scalar(
            sa.select(Comment.status).where(Comment.id == comment.id)
        )
        remaining = deadline - time.monotonic()
        if status is not CommentStatus.RECEIVED or remaining <= 0:
            break
        if worker is not None:
            worker.wait(min(remaining, 0.25))
        else:  # screened by workers elsewhere: look again shortly
            time.sleep(min(remaining, 0.05))
    db.session.expire(comment)
    return comment


# What a moderator may do to a comment in each status.
MODERATOR_MOVES = {
    CommentStatus.HELD: {CommentStatus.PUBLISHED, CommentStatus.REJECTED},
    CommentStatus.PUBLISHED: {CommentStatus.REJECTED, CommentStatus.HELD},
    CommentStatus.REJECTED: {CommentStatus.PUBLISHED, CommentStatus.HELD},
}


def decide(
    comment: Comment,
    moderator: Moderator,
    to_status: CommentStatus,
    reason: str = "",
    expected: CommentStatus | None = None,
) -> Comment:
    """A moderator moves a comment; refused when someone else moved it first."""
    current = comment.status
    if expected is not None and current is not expected:
        raise InvalidTransition(
            f"Comment {comment.id} is already {current.value}; reload to see why."
        )
    if to_status not in MODERATOR_MOVES.get(current, set()):
        raise InvalidTransition(
            f"A {current.value} comment cannot be moved to {to_status.value}."
        )
    # Compare-and-set: of two moderators deciding at once, one wins, one is told.
    moved = db.session.execute(
        sa.update(Comment)
        .where(Comment.id == comment.id, Comment.status == current)
        .values(status=to_status, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        db.session.rollback()
        raise InvalidTransition(
            f"Comment {comment.id} was decided by someone else a moment ago."
        )
    db.session.add(
        Decision(
            comment_id=comment.id,
            moderator=moderator,
            actor=moderator.email,
            from_status=current,
            to_status=to_status,
            reason=reason,
        )
    )
    record(
        f"comment.{to_status.value}",
        "comment",
        comment.id,
        moderator=moderator,
        site_id=comment.thread.site_id,
        before={"status": current.value},
        after={"status": to_status.value},
        reason=reason,
    )
    if CommentStatus.PUBLISHED in (current, to_status):
        bump_threads([comment.thread_id])
    db.session.commit()
    db.session.refresh(comment)
    logger.info(
        "comment %s %s -> %s by moderator %s",
        comment.id,
        current.value,
        to_status.value,
        moderator.id,
    )
    return comment
