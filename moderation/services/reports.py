"""Reader reports: one per reader and comment; enough of them send it back to review.

A reader is counted by the HMAC of their network (clients.network_key), never
an address: readers behind one carrier NAT count once, which errs on the side of
the comment. When a published comment's reports reach the site's
report_threshold it is held for a moderator, as a moderator's own decision would
hold it: a guarded UPDATE, a Decision row, an audit entry, the thread bumped.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from .. import signals
from ..clients import network_key
from ..errors import InvalidInput, ModerationError, NotFound
from ..extensions import changed_one, db, limiter
from ..models import Comment, CommentStatus, Report, ReportReason, utcnow
from .comments import announce, log_move
from .shapes import clean_text

logger = logging.getLogger(__name__)

TEXT_MAX = 500
READERS = "readers"  # the actor of a hold that reports caused
# Reports per reader network, shared by the iframe's form and the JSON API: enough
# for a reader flagging a few comments, too few to push a thread off by hand.
REPORT_LIMIT = "5 per minute;30 per day"


def report_limit() -> str:
    """The configured limit (RATELIMIT_REPORT), else REPORT_LIMIT."""
    return str(current_app.config.get("RATELIMIT_REPORT") or REPORT_LIMIT)


# Reports per reader network, shared by every way of reporting (the API here,
# the iframe's form in embed/reports.py).
REPORT_SCOPE = "report:network"
report_limits = limiter.shared_limit(
    report_limit, scope=REPORT_SCOPE, key_func=network_key
)


class AlreadyReported(ModerationError):
    """This reader has reported this comment before; once is enough."""

    status = HTTPStatus.CONFLICT
    code = "already_reported"


@dataclass(frozen=True)
class ReportOutcome:
    report: Report
    held: bool  # this report moved the comment to the queue


def check_report(data: Mapping[str, object]) -> tuple[ReportReason, str]:
    """The reason and text of a report form or JSON body, or InvalidInput."""
    errors: dict[str, list[str]] = {}
    raw_reason = data.get("reason")
    reason = None
    if isinstance(raw_reason, str):
        with contextlib.suppress(ValueError):
            reason = ReportReason(raw_reason)
    if reason is None:
        choices = ", ".join(r.value for r in ReportReason)
        errors["reason"] = [_("Choose a reason: %(choices)s.", choices=choices)]
    raw_text = data.get("text") or ""
    text = ""
    if not isinstance(raw_text, str):
        errors["text"] = [_("Must be text.")]
    else:
        text = clean_text(raw_text).strip()
        if len(text) > TEXT_MAX:
            errors["text"] = [
                _(
                    "At most %(most)d characters (%(count)d given).",
                    most=TEXT_MAX,
                    count=len(text),
                )
            ]
    if errors or reason is None:
        raise InvalidInput(_("The report could not be sent; see below."), errors)
    return reason, text


def reportable(comment_id: int, thread_id: int) -> Comment:
    """A published comment of this thread, or NotFound: readers see no other."""
    comment = db.session.get(Comment, comment_id)
    if (
        comment is None
        or comment.thread_id != thread_id
        or comment.status is not CommentStatus.PUBLISHED
    ):
        raise NotFound(_("No such published comment in this thread."))
    return comment


def report_comment(
    comment: Comment, reason: ReportReason, text: str, reporter_key: str
) -> ReportOutcome:
    """Store a reader's report; hold the comment when its reports reach the site's
    threshold. AlreadyReported when this reader reported it before."""
    if comment.status is not CommentStatus.PUBLISHED:
        raise NotFound(_("No such published comment in this thread."))
    duplicate = db.session.scalar(
        sa.select(Report.id).filter_by(comment_id=comment.id, reporter_key=reporter_key)
    )
    if duplicate is not None:
        raise AlreadyReported(_("You have already reported this comment. Thank you."))
    now = utcnow()
    report = Report(
        comment_id=comment.id,
        reason=reason,
        text=text,
        reporter_key=reporter_key,
        created_at=now,
    )
    db.session.add(report)
    try:
        db.session.flush()
    except IntegrityError as error:
        # The same reader's second report, sent at the same moment as the first.
        db.session.rollback()
        raise AlreadyReported(
            _("You have already reported this comment. Thank you.")
        ) from error
    # The UPDATE locks the comment's row until commit, so two readers reporting at
    # once are counted one after the other, and the second sees the first's report.
    count = db.session.execute(
        sa.update(Comment)
        .where(Comment.id == comment.id)
        .values(report_count=Comment.report_count + 1)
        .returning(Comment.report_count)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    # Only reports no moderator has looked at count toward the threshold: a
    # comment a moderator put back stays up until as many new reports arrive.
    open_reports = (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Report)
            .where(Report.comment_id == comment.id, Report.resolved_at.is_(None))
        )
        or 0
    )
    if open_reports == 1:
        # The first report no moderator has looked at: the comment enters the
        # Reported queue now, and waits there from now (not from when posted).
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id == comment.id)
            .values(queued_at=now)
            .execution_options(synchronize_session=False)
        )
    threshold = comment.thread.site.report_threshold
    held = (
        threshold > 0
        and open_reports >= threshold
        and _hold(comment, open_reports, now)
    )
    set_committed_value(comment, "report_count", count)
    signals.comment_reported.send(comment, crossed=held)
    if held:
        announce(comment, CommentStatus.HELD, by=None, was=CommentStatus.PUBLISHED)
    db.session.commit()
    db.session.refresh(comment)
    logger.info(
        "comment %s reported (%s, %d reports)%s",
        comment.id,
        reason.value,
        count,
        ", held for review" if held else "",
    )
    return ReportOutcome(report, held)


def _hold(comment: Comment, count: int, now: datetime) -> bool:
    """Move a published comment to held, unless a moderator moved it first; it
    waits in the held queue from `now`, the report that crossed the threshold."""
    if not changed_one(
        sa.update(Comment)
        .where(Comment.id == comment.id, Comment.status == CommentStatus.PUBLISHED)
        .values(status=CommentStatus.HELD, updated_at=now, queued_at=now)
    ):
        return False
    reasons = Counter(
        db.session.scalars(
            sa.select(Report.reason).where(
                Report.comment_id == comment.id, Report.resolved_at.is_(None)
            )
        )
    )
    listed = ", ".join(
        f"{reason.value} ×{n}" if n > 1 else reason.value
        for reason, n in reasons.most_common()
    )
    log_move(
        comment,
        CommentStatus.PUBLISHED,
        CommentStatus.HELD,
        "comment.reported_to_held",
        f"{count} reader reports: {listed}",
        actor=READERS,
        after={"reports": count},
        at=now,
    )
    return True
