"""Comment services: the code that commits. Views call these, nothing else writes."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from .errors import InvalidInput, InvalidTransition, NotFound, ThreadClosed
from .extensions import db
from .models import (
    Comment,
    CommentStatus,
    Decision,
    Moderator,
    RuleHit,
    Score,
    Site,
    Thread,
    utcnow,
)
from .rendering import render_body
from .screening.base import Action, Draft
from .screening.pipeline import Screener, ScreeningFailed, Verdict
from .screening.rules import normalise_for_repeat

logger = logging.getLogger(__name__)

SCREEN_ACTOR = "screen"

_STATUS_FOR_ACTION = {
    Action.PUBLISH: CommentStatus.PUBLISHED,
    Action.HOLD: CommentStatus.HELD,
    Action.REJECT: CommentStatus.REJECTED,
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
    """Store a reader's comment as received, commit it, then screen it."""
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
    screen_comment(comment)
    return comment


def _by_idempotency_key(thread: Thread, key: str) -> Comment | None:
    return db.session.scalar(
        sa.select(Comment).filter_by(thread_id=thread.id, idempotency_key=key)
    )


def _is_repeat(comment: Comment) -> bool:
    earlier = sa.select(Comment.id).where(
        Comment.thread_id == comment.thread_id,
        Comment.fingerprint == comment.fingerprint,
        Comment.id < comment.id,
    )
    return db.session.scalar(sa.select(earlier.exists())) or False


def screen_comment(comment: Comment, screener: Screener | None = None) -> Comment:
    """Screen a received comment and store the verdict; any failure holds it."""
    screener = screener or current_app.extensions["screener"]
    policy = comment.thread.site.policy()
    draft = Draft(
        body=comment.body, handle=comment.handle, is_repeat=_is_repeat(comment)
    )
    try:
        verdict = screener.screen(
            [draft], policy, timeout=current_app.config["SCREEN_TIMEOUT"]
        )[0]
    except ScreeningFailed as error:
        logger.exception("comment %s held: screening failed", comment.id)
        db.session.rollback()
        comment.rule_hits.append(
            RuleHit(rule="screening", action=Action.HOLD.value, reason=str(error))
        )
        _change_status(comment, CommentStatus.HELD, SCREEN_ACTOR, "screening failed")
        db.session.commit()
        return comment
    _store_verdict(comment, verdict)
    db.session.commit()
    logger.info("comment %s screened: %s", comment.id, comment.status.value)
    return comment


def _store_verdict(comment: Comment, verdict: Verdict) -> None:
    comment.classifier = verdict.classifier
    comment.screened_at = utcnow()
    for label, value in verdict.scores.items():
        comment.scores.append(
            Score(
                classifier=verdict.classifier,
                version=verdict.classifier_version,
                label=label,
                value=value,
            )
        )
    for hit in verdict.hits:
        comment.rule_hits.append(
            RuleHit(
                rule=hit.rule,
                action=hit.action.value,
                reason=hit.reason,
                spans=[[span.start, span.end, span.text] for span in hit.spans],
            )
        )
    reason = "; ".join(verdict.reasons) or "passed the rules and the classifier"
    _change_status(comment, _STATUS_FOR_ACTION[verdict.action], SCREEN_ACTOR, reason)


def _change_status(
    comment: Comment,
    to_status: CommentStatus,
    actor: str,
    reason: str,
    moderator: Moderator | None = None,
) -> None:
    comment.decisions.append(
        Decision(
            moderator=moderator,
            actor=actor,
            from_status=comment.status,
            to_status=to_status,
            reason=reason,
        )
    )
    comment.status = to_status


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
