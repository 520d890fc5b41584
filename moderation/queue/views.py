"""Moderators: log in, work the queues, claim, decide, undo, see every decision."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.routing import BuildError

from ..errorhandlers import too_many_requests
from ..errors import InvalidInput, InvalidTransition, NotFound
from ..extensions import db, limiter, login_manager
from ..models import Comment, CommentStatus, Decision, Moderator, Site, utcnow
from ..screening.base import DEFAULT_THRESHOLDS
from ..services.access import can_moderate, require_site, site_ids
from ..services.comments import (
    ClaimedByOther,
    MoveNotAllowed,
    StaleDecision,
    claim,
    decide,
    keep,
    release,
    undo,
    undo_many,
)
from ..services.editorial import feature, staff_reply, unfeature
from ..services.review_queues import (
    QUEUES,
    Filters,
    author_history,
    counts,
    neighbour,
    next_in_queue,
    open_report_ids,
    queue_page,
)
from . import logins
from .forms import (
    REJECT_REASONS,
    BulkForm,
    ClaimForm,
    DecisionForm,
    FeatureForm,
    LoginForm,
    StaffReplyForm,
    UndoForm,
)
from .highlight import highlight
from .logins import login_email

bp = Blueprint("queue", __name__, url_prefix="/mod")

login_manager.login_view = "queue.login"
login_manager.login_message = "Please log in to see the queue."

_ACTIONS = {"approve": CommentStatus.PUBLISHED, "reject": CommentStatus.REJECTED}
_VERBS = {"approve": "Approved", "reject": "Rejected", "keep": "Kept"}
BULK_MAX = 200  # one page is 25: enough for a selection across a few pages


@login_manager.user_loader
def load_moderator(moderator_id: str) -> Moderator | None:
    """Flask-Login: the moderator behind a session, while its token is current."""
    number, _, token = moderator_id.partition(":")
    try:
        moderator = db.session.get(Moderator, int(number))
    except ValueError:
        return None
    if moderator is None or not token or token != moderator.session_token:
        return None  # logged out elsewhere, or the password changed
    if not logins.session_is_open(moderator):
        return None  # this session was logged out (a copy of its cookie)
    return moderator


def waited(since: datetime) -> str:
    """How long a comment has waited, the way a moderator says it."""
    minutes = int((utcnow() - since).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} days"


def in_queue_since(comment: Comment) -> datetime | None:
    """When a listed comment entered the queue it is in; None when it is in none.

    queued_at is kept while a comment is held or reported; a held comment from
    before it was kept (an import) falls back to its screening, one still being
    checked waits from when it was posted."""
    status = comment.status
    if status is CommentStatus.RECEIVED:
        return comment.created_at
    if status is CommentStatus.HELD:
        return comment.queued_at or comment.screened_at or comment.created_at
    if status is CommentStatus.PUBLISHED:
        return comment.queued_at  # set while it has open reports
    return None


@bp.app_context_processor
def helpers() -> dict[str, object]:
    return {
        "highlight": highlight,
        "waited": waited,
        "in_queue_since": in_queue_since,
        "reject_reasons": REJECT_REASONS,
    }


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login() -> ResponseReturnValue:
    """Log a moderator in; failures per account are braked (queue/logins.py)."""
    if request.method == "POST" and (wait := logins.seconds_blocked(login_email())):
        return too_many_requests(logins.TOO_MANY_FAILURES, wait)
    form = LoginForm()
    if form.validate_on_submit():
        moderator = db.session.scalar(
            sa.select(Moderator).filter_by(email=form.email.data.strip().lower())
        )
        if (
            moderator
            and moderator.active
            and moderator.check_password(form.password.data)
        ):
            login_user(moderator)
            logins.open_session(moderator)
            return redirect(url_for("queue.index"))
        logins.record_failure(login_email())
        flash("That email and password do not match an active moderator.", "error")
        return render_template("queue/login.html", form=form), HTTPStatus.UNAUTHORIZED
    status = HTTPStatus.BAD_REQUEST if request.method == "POST" else HTTPStatus.OK
    return render_template("queue/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    """End this session; with `everywhere`, every session of this moderator."""
    everywhere = bool(request.form.get("everywhere"))
    if everywhere:
        # A new session token: every cookie signed with the old one stops working.
        current_user.end_sessions()
        db.session.commit()
        flash("You are logged out everywhere.", "ok")
    # The session's row goes too: a copy of this cookie opens nothing now.
    logins.close_session(everywhere, current_user._get_current_object())
    logout_user()
    return redirect(url_for("queue.login"))


@bp.get("/")
@login_required
def index() -> str:
    """A queue (held by default), filtered, oldest first, a keyset page at a time."""
    filters = Filters.parse(request.args)
    page = queue_page(filters, current_user)
    return render_template(
        "queue/index.html",
        page=page,
        reported=open_report_ids([comment.id for comment in page.comments]),
        filters=filters,
        counts=counts(filters, current_user, _count_cap()),
        queues=QUEUES,
        sites=_visible_sites(),
        labels=list(DEFAULT_THRESHOLDS),
        screener=current_app.extensions["screener"],
        form=DecisionForm(formdata=None),
        bulk=BulkForm(formdata=None),
    )


@bp.get("/counts")
@login_required
def queue_counts() -> ResponseReturnValue:
    """Each queue's count under the given filters, for the tabs' live refresh."""
    filters = Filters.parse(request.args)
    found = counts(filters, current_user, _count_cap())
    return jsonify(queues={name: count.as_json() for name, count in found.items()})


def _count_cap() -> int:
    """Tabs count exactly up to this, then say "N+" (QUEUE_COUNT_CAP)."""
    return int(current_app.config["QUEUE_COUNT_CAP"])


def _visible_sites() -> list[Site]:
    allowed = site_ids(current_user)
    statement = sa.select(Site).order_by(Site.name)
    if allowed is not None:
        statement = statement.where(Site.id.in_(allowed or {-1}))
    return list(db.session.scalars(statement))


def _comment_or_404(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(f"No comment {comment_id}.")
    require_site(current_user, comment.thread.site_id)
    return comment


def _reviewable(comment: Comment) -> bool:
    """Held or reported: what a moderator opens to decide, and so claims."""
    return comment.status is CommentStatus.HELD or (
        comment.status is CommentStatus.PUBLISHED
        and any(report.resolved_at is None for report in comment.reports)
    )


def _item_filters() -> Filters:
    """The queue, tab and filters an item page was opened from (held by
    default): its Next and Previous walk them, a decision opens the next."""
    filters = Filters.parse(request.args)
    return replace(filters, after=None, before=None)


def _render_comment(
    comment: Comment,
    status: int = HTTPStatus.OK,
    reply_form: StaffReplyForm | None = None,
) -> ResponseReturnValue:
    filters = _item_filters()
    return render_template(
        "queue/comment.html",
        comment=comment,
        filters=filters,
        open_reports=[r for r in comment.reports if r.resolved_at is None],
        form=DecisionForm(formdata=None),
        reply_form=reply_form or StaffReplyForm(formdata=None),
        screener=current_app.extensions["screener"],
        histories=author_history(comment, current_user),
        claim_holder=_claim_holder(comment),
        next_item=next_in_queue(comment, current_user, filters),
        previous_item=neighbour(comment, current_user, filters, forward=False),
    ), status


def _claim_holder(comment: Comment) -> Moderator | None:
    """The other moderator whose live claim this comment is under, if any."""
    holder, until = comment.review_moderator, comment.review_until
    if holder is None or holder.id == current_user.id or until is None:
        return None
    return holder if until > utcnow() else None


@bp.get("/comments/<int:comment_id>")
@login_required
def comment(comment_id: int) -> ResponseReturnValue:
    """One comment with everything needed to decide it; opening it claims it."""
    comment = _comment_or_404(comment_id)
    if _reviewable(comment):
        claim(comment, current_user, current_app.config["CLAIM_MINUTES"])
    return _render_comment(comment)


@bp.get("/comments/<int:comment_id>/next")
@login_required
def next_item(comment_id: int) -> ResponseReturnValue:
    """Open the item after this one in the same queue and filters, as it stands
    now (after a decision on this one); the queue itself when none is left."""
    comment = _comment_or_404(comment_id)
    filters = _item_filters()
    found = next_in_queue(comment, current_user, filters)
    args: dict[str, Any] = filters.args()
    if found is None:
        return redirect(url_for("queue.index", **args))
    return redirect(url_for("queue.comment", comment_id=found.id, **args))


@bp.post("/comments/<int:comment_id>/claim")
@login_required
def claim_comment(comment_id: int) -> ResponseReturnValue:
    """Claim a comment focused in the list (JSON); optionally give back the last."""
    form = ClaimForm()
    if not form.validate_on_submit():
        raise InvalidInput("release must be a comment id.")
    comment = _comment_or_404(comment_id)
    if form.release.data and form.release.data != comment_id:
        previous = db.session.get(Comment, form.release.data)
        if previous is not None:
            release(previous, current_user)
    taken = claim(comment, current_user, current_app.config["CLAIM_MINUTES"])
    holder = comment.review_moderator
    return jsonify(
        claimed=taken,
        by=holder.name if holder is not None else None,
        until=comment.review_until.isoformat() if comment.review_until else None,
    ), (200 if taken else 409)


@bp.post("/comments/<int:comment_id>/decision")
@login_required
def decision(comment_id: int) -> ResponseReturnValue:
    """Approve, reject with a listed reason, or keep a reported comment (its
    reports dismissed); 409 if stale or claimed by another."""
    comment = _comment_or_404(comment_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        raise InvalidInput(_form_problem(form), form.errors)
    expected = _status(form.expected.data) if form.expected.data else None
    try:
        _apply(comment, form.action.data, form.full_reason(), expected)
    except InvalidTransition as error:
        # Someone decided or claimed it first, or the page was stale: show the
        # comment as it is now, with why.
        flash(error.message, "error")
        db.session.expire_all()
        return _render_comment(_comment_or_404(comment_id), HTTPStatus.CONFLICT)
    _offer_undo(comment)
    verb = _VERBS[form.action.data]
    done = f"{verb} comment {comment.id} by {comment.handle}"
    if form.action.data == "keep":
        done += ": its reports are dismissed and it stays published"
    flash(f"{done}.", "ok")
    return redirect(_safe_next() or url_for("queue.index")), HTTPStatus.SEE_OTHER


def _apply(
    comment: Comment, action: str, reason: str, expected: CommentStatus | None
) -> None:
    """One decision through its service: keep() for Keep, decide() otherwise."""
    if action == "keep":
        keep(comment, current_user, reason=reason, expected=expected)
    else:
        decide(comment, current_user, _ACTIONS[action], reason, expected)


@bp.post("/comments/<int:comment_id>/feature")
@login_required
def feature_comment(comment_id: int) -> ResponseReturnValue:
    """Feature a published comment in its thread, or unfeature it; 409 if not
    published."""
    comment = _comment_or_404(comment_id)
    form = FeatureForm()
    if not form.validate_on_submit():
        raise InvalidInput("Choose feature or unfeature.", form.errors)
    if form.action.data == "feature":
        feature(comment, current_user)
        flash(f"Featured comment {comment.id} by {comment.handle}.", "ok")
    else:
        unfeature(comment, current_user)
        flash(f"Comment {comment.id} is no longer featured.", "ok")
    target = _safe_next() or url_for("queue.comment", comment_id=comment.id)
    return redirect(target), HTTPStatus.SEE_OTHER


@bp.post("/comments/<int:comment_id>/reply")
@login_required
def reply_as_staff(comment_id: int) -> ResponseReturnValue:
    """Publish a reply to a published comment as staff, under the moderator's name."""
    comment = _comment_or_404(comment_id)
    form = StaffReplyForm()  # the body's checks are the service's, as for readers
    try:
        reply = staff_reply(
            comment,
            current_user,
            form.body.data or "",
            current_app.config["BODY_MAX_LENGTH"],
        )
    except InvalidInput as error:
        # Keep what was written, with why it was refused.
        flash(error.message, "error")
        return _render_comment(comment, HTTPStatus.UNPROCESSABLE_ENTITY, form)
    flash(f"Your staff reply #{reply.id} is published.", "ok")
    return redirect(url_for("queue.comment", comment_id=comment.id)), (
        HTTPStatus.SEE_OTHER
    )


def _status(raw: str) -> CommentStatus:
    try:
        return CommentStatus(raw)
    except ValueError as error:
        raise InvalidInput(f"Unknown comment status {raw[:20]!r}.") from error


def _form_problem(form: DecisionForm | BulkForm) -> str:
    if "reason_code" in form.errors:
        return "Choose why the comment is rejected."
    return "Choose approve, reject or keep; notes have at most 1,000 characters."


@bp.post("/bulk")
@login_required
def bulk() -> ResponseReturnValue:
    """Approve, reject or keep the checked comments, each through its service;
    say exactly why any were left as they are. One undo reverts them all."""
    form = BulkForm()
    if not form.validate_on_submit():
        raise InvalidInput(_form_problem(form), form.errors)
    picked = request.form.getlist("ids")
    if not picked:
        raise InvalidInput("Select at least one comment.")
    if len(picked) > BULK_MAX:
        raise InvalidInput(f"Select at most {BULK_MAX} comments at once.")
    seen: list[tuple[int, CommentStatus]] = []
    for item in picked:
        number, _, status = item.partition(":")
        if not number.isdigit():
            raise InvalidInput(f"Bad selection {item[:40]!r}.")
        seen.append((int(number), _status(status)))
    action = form.action.data
    decided: list[int] = []
    skipped: Counter[str] = Counter()
    for comment_id, expected in seen:
        comment = db.session.get(Comment, comment_id)
        if comment is None or not can_moderate(current_user, comment.thread.site_id):
            skipped["missing"] += 1
            continue
        try:
            _apply(comment, action, form.full_reason(), expected)
            decided.append(comment_id)
        except ClaimedByOther:
            skipped["claimed"] += 1
        except MoveNotAllowed as error:
            skipped[f"not:{error.current.value}"] += 1
        except StaleDecision:
            skipped["stale"] += 1
    verb = _VERBS[action]
    message = f"{verb} {len(decided)} of {len(seen)} comments."
    message += "".join(f" {_skipped(why, n, action)}" for why, n in skipped.items())
    flash(message, "ok" if len(decided) == len(seen) else "error")
    _offer_bulk_undo(decided)
    return redirect(_safe_next() or url_for("queue.index")), HTTPStatus.SEE_OTHER


def _skipped(why: str, n: int, action: str) -> str:
    """One sentence on the comments of a bulk action left as they were, and why."""
    were = "was" if n == 1 else "were"
    if why == "claimed":
        return f"{n} {were} being reviewed by another moderator and left to them."
    if why == "stale":
        return (
            f"{n} had been decided by someone else since this page was loaded and"
            f" {were} left as {'it was' if n == 1 else 'they were'}."
        )
    if why == "missing":
        return f"{n} could not be found."
    status = why.partition(":")[2]
    if action == "keep":
        if status in ("held", "published"):
            return f"{n} had no open reports left to dismiss."
        return f"{n} {were} {status}: only a reported comment can be kept."
    if action == "approve" and status == "published":
        return (
            f"{n} {were} already published, so there was nothing to approve"
            " (Keep dismisses a published comment's reports)."
        )
    return f"{n} {were} already {status}, so there was nothing to {action}."


def _offer_undo(comment: Comment) -> None:
    """Remember this moderator's last decision so the next page offers its undo."""
    last = db.session.scalar(
        sa.select(sa.func.max(Decision.id)).where(
            Decision.comment_id == comment.id,
            Decision.moderator_id == current_user.id,
        )
    )
    session["undo"] = {"decision": last, "comment": comment.id}


def _offer_bulk_undo(comment_ids: list[int]) -> None:
    """Remember a bulk action's decisions: the next page offers one undo for all."""
    if not comment_ids:
        session.pop("undo", None)
        return
    last = sa.func.max(Decision.id)
    found = db.session.scalars(
        sa.select(last)
        .where(
            Decision.comment_id.in_(comment_ids),
            Decision.moderator_id == current_user.id,
        )
        .group_by(Decision.comment_id)
    )
    session["undo"] = {"decisions": sorted(found)}


@bp.app_context_processor
def undo_offer() -> dict[str, object]:
    """The undo toast's data while the window is open: decision id, seconds left."""

    def offer() -> dict[str, object] | None:
        if not current_user.is_authenticated or "undo" not in session:
            return None
        remembered = session["undo"]
        if remembered.get("decisions"):
            decisions = list(
                db.session.scalars(
                    sa.select(Decision)
                    .where(Decision.id.in_(remembered["decisions"]))
                    .order_by(Decision.id)
                )
            )
        else:
            single = db.session.get(Decision, remembered.get("decision") or 0)
            decisions = [single] if single is not None else []
        window = float(current_app.config["UNDO_SECONDS"])
        if not decisions:
            return None
        # A bulk action's window runs from its first decision.
        decision = decisions[0]
        left = window - (utcnow() - decision.created_at).total_seconds()
        if left <= 0:
            session.pop("undo", None)
            return None
        return {
            "decision": decision,
            "decisions": decisions if remembered.get("decisions") else None,
            "summary": _summary(decisions),
            "seconds": int(left),
            "until": (decision.created_at + timedelta(seconds=window)).isoformat(),
        }

    return {"undo_offer": offer}


def _summary(decisions: list[Decision]) -> str:
    """What a bulk action did, for its undo toast: "3 comments rejected"."""
    done = {
        "kept" if d.from_status is d.to_status else d.to_status.value for d in decisions
    }
    verb = done.pop() if len(done) == 1 else "decided"
    return f"{len(decisions)} comment{'s' if len(decisions) != 1 else ''} {verb}"


@bp.post("/decisions/<int:decision_id>/undo")
@login_required
def undo_decision(decision_id: int) -> ResponseReturnValue:
    """Revert the moderator's own last decision within UNDO_SECONDS; 409 after."""
    UndoForm()  # CSRF is checked for every POST; the form has nothing else
    decision = db.session.get(Decision, decision_id)
    if decision is None:
        raise NotFound(f"No decision {decision_id}.")
    require_site(current_user, decision.comment.thread.site_id)
    comment = undo(decision, current_user, float(current_app.config["UNDO_SECONDS"]))
    session.pop("undo", None)
    flash(f"Undone: comment {comment.id} is {comment.status.value} again.", "ok")
    return redirect(_safe_next() or url_for("queue.index")), HTTPStatus.SEE_OTHER


@bp.post("/decisions/undo")
@login_required
def undo_bulk() -> ResponseReturnValue:
    """Revert every decision of the moderator's last bulk action within
    UNDO_SECONDS; comments changed since by someone else are left, and named."""
    UndoForm()  # CSRF is checked for every POST
    raw = request.form.getlist("decision")
    if not raw or len(raw) > BULK_MAX or not all(r.isdigit() for r in raw):
        raise InvalidInput(f"Give the decisions to undo: 1 to {BULK_MAX} ids.")
    ids = sorted({int(r) for r in raw})
    decisions = list(
        db.session.scalars(
            sa.select(Decision).where(Decision.id.in_(ids)).order_by(Decision.id)
        )
    )
    if len(decisions) != len(ids):
        raise NotFound("Some of those decisions do not exist.")
    for decision in decisions:
        require_site(current_user, decision.comment.thread.site_id)
        if decision.moderator_id != current_user.id:
            raise InvalidTransition("Only the moderator who decided can undo it.")
    window = float(current_app.config["UNDO_SECONDS"])
    if (utcnow() - decisions[0].created_at).total_seconds() > window:
        raise InvalidTransition(
            f"Too late to undo: decisions can be undone for {window:g} seconds."
        )
    result = undo_many(decisions, current_user._get_current_object(), window)
    session.pop("undo", None)
    message = f"Undone: {len(result.undone)} of {len(decisions)} comments are back"
    message += " as they were."
    if result.refused:
        message += " " + " ".join(result.refused)
    flash(message, "error" if result.refused else "ok")
    return redirect(_safe_next() or url_for("queue.index")), HTTPStatus.SEE_OTHER


@bp.app_template_global()
def ban_url(comment_id: int) -> str | None:
    """The ban form for a comment's author, when the people pages are installed."""
    try:
        return url_for("people.new_ban", comment_id=comment_id)
    except BuildError:
        return None


def _safe_next() -> str | None:
    """A redirect target on this site only (no open redirect)."""
    target = request.form.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else None
