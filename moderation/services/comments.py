"""Comment services: the code that commits. Views call these, nothing else writes."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from .. import signals
from ..clients import network_key
from ..errors import InvalidInput, InvalidTransition, NotFound, ThreadClosed
from ..extensions import changed_one, db
from ..models import (
    Comment,
    CommentStatus,
    Decision,
    Moderator,
    Report,
    Site,
    Thread,
    utcnow,
)
from ..rendering import render_body
from ..screening.rules import normalise_for_repeat
from ..signing import read_receipt
from .audit import record
from .bans import check_not_banned
from .revisions import bump_threads

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
    # After an authorship nudge (services/nudges.py): "edited" or "unchanged".
    nudge: str | None = None
    # "Email me replies" (notify/replies.py); only ever True with an email.
    notify_replies: bool = False


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


def fingerprint(body: str) -> str:
    """A stable hash of a body's normalised text, for the repeat rule."""
    return hashlib.sha256(normalise_for_repeat(body).encode()).hexdigest()


def submit_comment(thread: Thread, new: NewComment) -> Comment:
    """Store a reader's comment as received, commit it, then await its screening."""
    if not thread.is_open:
        raise ThreadClosed(_("This thread is closed to new comments."))
    # Hashed network of the poster (None outside a request: the CLI, tests).
    network = network_key() if has_request_context() else None
    # A banned poster is refused before anything is stored.
    check_not_banned(thread.site, new.handle, new.email, network)
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
                _("The comment you are replying to is not in this thread."),
                {"parent_id": [_("No such published comment in this thread.")]},
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
        network_key=network,
        nudge=new.nudge,
        notify_replies=new.notify_replies and bool(new.email),
    )
    db.session.add(comment)
    try:
        db.session.flush()
        signals.comment_posted.send(comment)  # e.g. an address to confirm
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


def log_move(
    comment: Comment,
    from_status: CommentStatus,
    to_status: CommentStatus,
    action: str,
    reason: str,
    moderator: Moderator | None = None,
    *,
    actor: str | None = None,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
    queued_at: datetime | None = None,
    at: datetime | None = None,
) -> Decision:
    """What every status change leaves, in the caller's transaction: a Decision
    row, an audit entry and, when readers see the change, a revision bump.
    `before` and `after` add to the audit entry's status fields; `queued_at` is
    when the comment entered the queue it was decided from, `at` the decision's
    time (the reports it resolved carry the same one, so an undo finds them)."""
    decision = Decision(
        comment_id=comment.id,
        moderator=moderator,
        actor=actor or (moderator.email if moderator is not None else "system"),
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        created_at=at or utcnow(),
        queued_at=queued_at,
    )
    db.session.add(decision)
    record(
        action,
        "comment",
        comment.id,
        moderator=moderator,
        actor=actor,
        site_id=comment.thread.site_id,
        before={"status": from_status.value, **(before or {})},
        after={"status": to_status.value, **(after or {})},
        reason=reason,
    )
    if CommentStatus.PUBLISHED in (from_status, to_status):
        bump_threads([comment.thread_id])
    return decision


# What a moderator may do to a comment in each status.
MODERATOR_MOVES = {
    CommentStatus.HELD: {CommentStatus.PUBLISHED, CommentStatus.REJECTED},
    CommentStatus.PUBLISHED: {CommentStatus.REJECTED, CommentStatus.HELD},
    CommentStatus.REJECTED: {CommentStatus.PUBLISHED, CommentStatus.HELD},
}
# The Decision's reason when a moderator dismisses reports and keeps a comment up.
KEPT_REASON = "kept after reports"


class StaleDecision(InvalidTransition):
    """Someone else decided the comment since the moderator saw it (409)."""


class ClaimedByOther(InvalidTransition):
    """Another moderator's live claim covers the comment (409)."""


class MoveNotAllowed(InvalidTransition):
    """The decision does not apply to a comment in its status: approving a
    published comment, keeping one with no open reports (409)."""

    def __init__(self, message: str, current: CommentStatus) -> None:
        super().__init__(message)
        self.current = current


def _open_reports(comment_id: int) -> sa.Select[Any]:
    return sa.select(Report.id).where(
        Report.comment_id == comment_id, Report.resolved_at.is_(None)
    )


def queued_since(comment: Comment, current: CommentStatus) -> datetime | None:
    """When the comment entered the review queue it is in (as `current`), or None
    when it is in none: held, or published with reports no moderator looked at."""
    if current is CommentStatus.HELD:
        return comment.queued_at or comment.screened_at or comment.created_at
    if current is not CommentStatus.PUBLISHED:
        return None
    first_open = db.session.scalar(
        sa.select(sa.func.min(Report.created_at)).where(
            Report.comment_id == comment.id, Report.resolved_at.is_(None)
        )
    )
    if first_open is None:
        return None
    return comment.queued_at or first_open


def _compare_and_set(
    comment: Comment,
    current: CommentStatus,
    moderator: Moderator,
    now: datetime,
    **values: object,
) -> bool:
    """Write `values` only if the comment is still `current` and under no one
    else's live claim; a move also ends the claim. False: someone was first."""
    return changed_one(
        sa.update(Comment)
        .where(
            Comment.id == comment.id,
            Comment.status == current,
            _claim_allows(moderator, now),
        )
        .values(updated_at=now, review_moderator_id=None, review_until=None, **values)
    )


def _refuse_if_stale(comment: Comment, expected: CommentStatus | None) -> None:
    """The moderator's page showed another status: they must see it as it is."""
    current = comment.status
    if expected is not None and current is not expected:
        raise StaleDecision(
            f"Comment {comment.id} is already {current.value}; reload to see why."
        )


def decide(
    comment: Comment,
    moderator: Moderator,
    to_status: CommentStatus,
    reason: str = "",
    expected: CommentStatus | None = None,
) -> Comment:
    """A moderator moves a comment; refused when someone else moved it first."""
    current = comment.status
    _refuse_if_stale(comment, expected)
    if to_status not in MODERATOR_MOVES.get(current, set()):
        raise MoveNotAllowed(
            f"A {current.value} comment cannot be moved to {to_status.value}.",
            current,
        )
    now = utcnow()
    _refuse_if_claimed(comment, moderator, now)
    queued_at = queued_since(comment, current)
    # Compare-and-set: of two moderators deciding at once, one wins, one is told.
    # A decision also ends the claim on the comment (anyone's, once expired).
    moved = _compare_and_set(
        comment,
        current,
        moderator,
        now,
        status=to_status,
        # Held again (a re-hold or a reopen): it waits from now. Any other
        # move takes it out of every queue (its reports are resolved below).
        queued_at=now if to_status is CommentStatus.HELD else None,
    )
    if not moved:
        db.session.rollback()
        raise StaleDecision(
            f"Comment {comment.id} was decided or claimed by someone else a moment "
            "ago; reload to see it as it is now."
        )
    log_move(
        comment,
        current,
        to_status,
        f"comment.{to_status.value}",
        reason,
        moderator,
        queued_at=queued_at,
        at=now,
    )
    _resolve_reports(comment.id, now)
    announce(comment, to_status, by=moderator, was=current)
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


VERDICT_SIGNALS = {
    CommentStatus.PUBLISHED: signals.comment_published,
    CommentStatus.HELD: signals.comment_held,
    CommentStatus.REJECTED: signals.comment_rejected,
}


def announce(
    comment: Comment,
    status: CommentStatus,
    *,
    by: Moderator | None,
    was: CommentStatus,
    undo: bool = False,
) -> None:
    """Send the signal of a verdict, inside its transaction (moderation/signals.py).

    The caller moved the row with an UPDATE; the object is told its new status
    without being marked changed, so receivers see the comment as it now is.
    """
    signal = VERDICT_SIGNALS.get(status)
    if signal is None or status is was:
        return
    set_committed_value(comment, "status", status)
    signal.send(comment, by=by, was=was, undo=undo)


def _resolve_reports(comment_id: int, now: datetime) -> int:
    """A moderator has now looked at it: its reports leave the Reported queue, and
    only new ones count toward the site's threshold again. They carry the
    decision's time, which is how an undo finds them."""
    result = db.session.execute(
        sa.update(Report)
        .where(Report.comment_id == comment_id, Report.resolved_at.is_(None))
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def keep(
    comment: Comment,
    moderator: Moderator,
    reason: str = "",
    expected: CommentStatus | None = None,
) -> Comment:
    """Dismiss a reported comment's open reports and keep it published (a comment
    the reports held is published again); refused without open reports."""
    current = comment.status
    _refuse_if_stale(comment, expected)
    why = f"{KEPT_REASON}: {reason}" if reason else KEPT_REASON
    has_reports = db.session.scalar(_open_reports(comment.id).limit(1)) is not None
    if current in (CommentStatus.PUBLISHED, CommentStatus.HELD) and not has_reports:
        raise MoveNotAllowed(
            f"Comment {comment.id} has no open reports to dismiss.", current
        )
    if current is CommentStatus.HELD:
        return decide(comment, moderator, CommentStatus.PUBLISHED, why, expected)
    if current is not CommentStatus.PUBLISHED:
        raise MoveNotAllowed(
            f"A {current.value} comment cannot be kept: only a reported comment can.",
            current,
        )
    now = utcnow()
    _refuse_if_claimed(comment, moderator, now)
    queued_at = queued_since(comment, current)
    # The same compare-and-set as decide(): the comment must still be published
    # and not under another's live claim; the status stays, the claim ends.
    moved = _compare_and_set(comment, current, moderator, now, queued_at=None)
    resolved = _resolve_reports(comment.id, now) if moved else 0
    if not resolved:
        # Decided, claimed, or its reports dismissed by someone else meanwhile.
        db.session.rollback()
        raise StaleDecision(
            f"Comment {comment.id} was decided or claimed by someone else a moment "
            "ago; reload to see it as it is now."
        )
    log_move(
        comment,
        current,
        current,
        "comment.kept",
        why,
        moderator,
        after={"reports_resolved": resolved},
        queued_at=queued_at,
        at=now,
    )
    db.session.commit()
    db.session.refresh(comment)
    logger.info(
        "comment %s kept (%d reports dismissed) by moderator %s",
        comment.id,
        resolved,
        moderator.id,
    )
    return comment


def _claim_allows(moderator: Moderator, now: datetime) -> sa.ColumnElement[bool]:
    """Unclaimed, claimed by this moderator, or the claim has run out."""
    return sa.or_(
        Comment.review_moderator_id.is_(None),
        Comment.review_moderator_id == moderator.id,
        Comment.review_until.is_(None),
        Comment.review_until <= now,
    )


def _refuse_if_claimed(comment: Comment, moderator: Moderator, now: datetime) -> None:
    """InvalidTransition (409) naming the moderator whose live claim this is."""
    holder = comment.review_moderator
    until = comment.review_until
    if holder is not None and holder.id != moderator.id and until and until > now:
        raise ClaimedByOther(
            f"Comment {comment.id} is being reviewed by {holder.name} until "
            f"{until:%H:%M} UTC; leave it to them or wait for the claim to end."
        )


def claim(comment: Comment, moderator: Moderator, minutes: float) -> bool:
    """Hold a comment for review for a few minutes; False if someone else holds it."""
    now = utcnow()
    # Guarded: two moderators opening one comment at once, one gets it.
    taken = changed_one(
        sa.update(Comment)
        .where(Comment.id == comment.id, _claim_allows(moderator, now))
        .values(
            review_moderator_id=moderator.id,
            review_until=now + timedelta(minutes=minutes),
        )
    )
    db.session.commit()
    db.session.refresh(comment)
    return taken


def release(comment: Comment, moderator: Moderator) -> None:
    """Give back this moderator's claim on a comment, if it is theirs."""
    db.session.execute(
        sa.update(Comment)
        .where(Comment.id == comment.id, Comment.review_moderator_id == moderator.id)
        .values(review_moderator_id=None, review_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def undo(decision: Decision, moderator: Moderator, window: float) -> Comment:
    """Revert a moderator's own decision made within `window` seconds; 409 after.

    The comment goes back to where it was: its status, the queue it waited in
    (and since when), and the reports the decision had resolved are open again.
    """
    comment = decision.comment
    if decision.moderator_id != moderator.id:
        raise InvalidTransition("Only the moderator who decided can undo it.")
    if (utcnow() - decision.created_at).total_seconds() > window:
        raise InvalidTransition(
            f"Too late to undo: decisions can be undone for {window:g} seconds."
        )
    latest = db.session.scalar(
        sa.select(sa.func.max(Decision.id)).where(Decision.comment_id == comment.id)
    )
    if latest != decision.id or comment.status is not decision.to_status:
        raise StaleDecision(
            f"Comment {comment.id} has moved since; it is {comment.status.value} now."
        )
    back, undone = decision.from_status, decision.to_status
    # The same compare-and-set as decide(): a decision made in between wins.
    moved = changed_one(
        sa.update(Comment)
        .where(Comment.id == comment.id, Comment.status == undone)
        .values(status=back, updated_at=utcnow(), queued_at=decision.queued_at)
    )
    if not moved:
        db.session.rollback()
        raise StaleDecision(f"Comment {comment.id} has moved since.")
    reopened = db.session.execute(
        sa.update(Report)
        .where(
            Report.comment_id == comment.id,
            Report.resolved_at == decision.created_at,
        )
        .values(resolved_at=None)
        .execution_options(synchronize_session=False)
    )
    log_move(
        comment,
        undone,
        back,
        "comment.undo",
        f"undo of decision {decision.id}",
        moderator,
        after={"reports_reopened": int(getattr(reopened, "rowcount", 0) or 0)},
    )
    announce(comment, back, by=moderator, was=undone, undo=True)
    db.session.commit()
    db.session.refresh(comment)
    logger.info(
        "comment %s %s -> %s: undone by moderator %s",
        comment.id,
        undone.value,
        back.value,
        moderator.id,
    )
    return comment


@dataclass
class BulkUndo:
    """What undoing a bulk decision did: the comments restored, and why the
    others were left as they are (one line each)."""

    undone: list[Comment]
    refused: list[str]


def undo_many(
    decisions: list[Decision], moderator: Moderator, window: float
) -> BulkUndo:
    """Undo every decision of one bulk action, each as undo() does; a comment
    changed since by someone else is left as it is, and said so."""
    undone: list[Comment] = []
    refused: list[str] = []
    for decision in decisions:
        try:
            undone.append(undo(decision, moderator, window))
        except InvalidTransition as error:
            db.session.rollback()
            refused.append(_changed_by(decision, error))
    if undone:
        record(
            "comments.bulk_undo",
            "decision",
            ",".join(str(d.id) for d in decisions),
            moderator=moderator,
            after={
                "undone": [c.id for c in undone],
                "refused": len(refused),
            },
            reason=f"undo of a bulk decision on {len(decisions)} comments",
        )
        db.session.commit()
    return BulkUndo(undone, refused)


def _changed_by(decision: Decision, error: InvalidTransition) -> str:
    """Why one comment of a bulk undo was refused, naming who moved it since."""
    later = db.session.scalar(
        sa.select(Decision)
        .where(Decision.comment_id == decision.comment_id, Decision.id > decision.id)
        .order_by(Decision.id.desc())
        .limit(1)
    )
    if later is None:
        return error.message
    who = later.moderator.name if later.moderator is not None else later.actor
    return (
        f"Comment {decision.comment_id} was changed since by {who} "
        f"(now {later.to_status.value}) and was left as it is."
    )
