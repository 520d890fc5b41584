"""Readers editing or deleting their own comments, proven by the post's receipt.

Readers have no account and no cookie: the signed receipt issued when they posted
(signing.issue_receipt) is the proof that they wrote the comment. It works for
site.edit_window_minutes after the comment was first posted; an edit does not
extend it. An edit is a new text, so it is screened again from scratch: the
comment goes back to `received` with its old scores and rule hits dropped, and
the reader waits for the verdict as after a post. A comment that a moderator or
readers' reports have dealt with can no longer be edited (that would let it
slip past them), only deleted. Deleted comments are kept, never shown.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from http import HTTPStatus

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ..errors import (
    Forbidden,
    InvalidInput,
    InvalidTransition,
    ModerationError,
    NotFound,
    ThreadClosed,
)
from ..extensions import changed_one, db
from ..models import Comment, CommentStatus, Decision, RuleHit, Score, Thread, utcnow
from ..rendering import render_body
from ..signing import read_receipt
from .comments import fingerprint, log_move, wait_for_verdict
from .erasure import forgotten, scrub_audit

logger = logging.getLogger(__name__)

AUTHOR = "author"  # the actor of decisions and audit rows readers cause
EDITED = "edited by its author"
DELETED = "deleted by its author"

# Decisions after which the author may still edit: the screen's and their own.
# Anything else (a moderator, readers' reports) has looked at this text.
_EDITABLE_AFTER = {"screen", AUTHOR}
# No worker's claim and no moderator's review claim: an author's change ends both.
UNCLAIMED: dict[str, None] = {
    "claim_token": None,
    "claimed_by": None,
    "claimed_until": None,
    "review_moderator_id": None,
    "review_until": None,
}


class EditWindowClosed(ModerationError):
    """The comment is older than the site's edit window."""

    status = HTTPStatus.CONFLICT
    code = "edit_window_closed"


def edit_deadline(comment: Comment) -> datetime:
    """Until when the comment's author may edit or delete it."""
    minutes = comment.thread.site.edit_window_minutes
    return comment.created_at + timedelta(minutes=max(0, minutes))


def can_still_edit(comment: Comment, now: datetime | None = None) -> bool:
    """True while the edit window of a comment that is not deleted lasts."""
    return comment.status is not CommentStatus.DELETED and (
        now or utcnow()
    ) < edit_deadline(comment)


def authored_comment(thread: Thread, comment_id: int, receipt: str | None) -> Comment:
    """The comment this receipt proves the reader wrote, while they may change it."""
    if not receipt:
        raise Forbidden(
            _(
                "Only the author can change a comment: this needs the receipt "
                "your browser kept when you posted it."
            )
        )
    try:
        receipt_comment, receipt_thread = read_receipt(receipt)
    except InvalidInput as error:
        raise Forbidden(
            _("This receipt is not valid or has expired; the comment stays as it is.")
        ) from error
    if receipt_comment != comment_id or receipt_thread != thread.id:
        raise Forbidden(_("This receipt is for another comment."))
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.thread_id != thread.id:
        raise NotFound(_("No such comment."))
    if comment.status is CommentStatus.DELETED:
        raise InvalidTransition(_("This comment has been deleted."))
    if not can_still_edit(comment):
        minutes = thread.site.edit_window_minutes
        raise EditWindowClosed(
            _(
                "Comments can be changed for %(minutes)d minutes after they are "
                "posted; that time has passed.",
                minutes=minutes,
            )
            if minutes > 0
            else _("This site does not let readers change their comments.")
        )
    return comment


def reviewed(comment: Comment) -> bool:
    """True when someone other than the screen and the author decided on it."""
    actors = db.session.scalars(
        sa.select(Decision.actor).where(Decision.comment_id == comment.id)
    )
    return any(actor not in _EDITABLE_AFTER for actor in actors)


def edit_comment(comment: Comment, body: str) -> Comment:
    """Replace the body, screen the comment again, and wait for its verdict."""
    thread = comment.thread
    if not thread.is_open:
        raise ThreadClosed(
            _("This thread is closed: comments can no longer be edited.")
        )
    if reviewed(comment):
        raise InvalidTransition(
            _(
                "A moderator has already looked at this comment, so it can no "
                "longer be edited. You can still delete it."
            )
        )
    if body == comment.body:
        return comment  # nothing changed: keep its verdict
    current, previous = comment.status, comment.body
    now = utcnow()
    # Compare-and-set on status and edited_at: of two edits (or an edit and a
    # verdict) racing, the loser is told and changes nothing.
    same_edit = (
        Comment.edited_at.is_(None)
        if comment.edited_at is None
        else Comment.edited_at == comment.edited_at
    )
    moved = changed_one(
        sa.update(Comment)
        .where(Comment.id == comment.id, Comment.status == current, same_edit)
        .values(
            body=body,
            html=render_body(body),
            fingerprint=fingerprint(body),
            edited_at=now,
            updated_at=now,
            status=CommentStatus.RECEIVED,
            screened_at=None,
            classifier=None,
            screen_attempts=0,
            # A worker still scoring the old text loses its claim: its verdict
            # is dropped, and the new text is claimed afresh.
            **UNCLAIMED,
        )
    )
    if not moved:
        db.session.rollback()
        raise InvalidTransition(
            _("This comment changed a moment ago; reload it and try again.")
        )
    # The old text's scores and rule hits no longer describe the comment.
    for model in (Score, RuleHit):
        db.session.execute(
            sa.delete(model)
            .where(model.comment_id == comment.id)
            .execution_options(synchronize_session=False)
        )
    log_move(
        comment,
        current,
        CommentStatus.RECEIVED,
        "comment.edited",
        EDITED,
        actor=AUTHOR,
        # Kept so that an edit cannot erase what readers were shown.
        before={"body": previous},
    )
    db.session.commit()
    db.session.expire(comment)
    logger.info("comment %s edited by its author (was %s)", comment.id, current.value)
    return wait_for_verdict(comment, current_app.config["VERDICT_WAIT"])


def delete_comment(comment: Comment) -> Comment:
    """Remove the comment from view for good; the row stays for the audit, but
    deleted means gone: its text and email leave it (services/erasure.py)."""
    current = comment.status
    moved = changed_one(
        sa.update(Comment)
        .where(Comment.id == comment.id, Comment.status == current)
        .values(
            **forgotten(),
            status=CommentStatus.DELETED,
            updated_at=utcnow(),
            **UNCLAIMED,
        )
    )
    if not moved:
        db.session.rollback()
        raise InvalidTransition(
            _("This comment changed a moment ago; reload it and try again.")
        )
    log_move(
        comment,
        current,
        CommentStatus.DELETED,
        "comment.deleted",
        DELETED,
        actor=AUTHOR,
    )
    # The old texts its edits left in the audit log go too.
    scrub_audit([comment.id])
    db.session.commit()
    db.session.refresh(comment)
    logger.info("comment %s deleted by its author (was %s)", comment.id, current.value)
    return comment
