"""Moderators: log in, work the held queue, decide, see every decision."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.orm import selectinload

from ..comments import decide
from ..errors import InvalidInput, InvalidTransition, NotFound
from ..extensions import db, limiter, login_manager
from ..models import Comment, CommentStatus, Moderator, Thread, utcnow
from .forms import DecisionForm, LoginForm
from .highlight import highlight

bp = Blueprint("queue", __name__, url_prefix="/mod")

login_manager.login_view = "queue.login"
login_manager.login_message = "Please log in to see the queue."

_ACTIONS = {"approve": CommentStatus.PUBLISHED, "reject": CommentStatus.REJECTED}


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


@bp.app_context_processor
def helpers() -> dict[str, object]:
    return {"highlight": highlight, "waited": waited}


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login() -> ResponseReturnValue:
    """Log a moderator in."""
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
            return redirect(url_for("queue.index"))
        flash("That email and password do not match an active moderator.", "error")
        return render_template("queue/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("queue/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    """End the moderator's session."""
    logout_user()
    return redirect(url_for("queue.login"))


@bp.get("/")
@login_required
def index() -> str:
    """Held comments, oldest first, with everything needed to decide."""
    held = db.session.scalars(
        sa.select(Comment)
        .where(Comment.status == CommentStatus.HELD)
        .order_by(Comment.created_at, Comment.id)
        .options(
            selectinload(Comment.scores),
            selectinload(Comment.rule_hits),
            selectinload(Comment.thread).selectinload(Thread.site),
        )
        .limit(100)
    ).all()
    total = db.session.scalar(
        sa.select(sa.func.count()).where(Comment.status == CommentStatus.HELD)
    )
    return render_template(
        "queue/index.html",
        comments=held,
        total=total,
        screener=current_app.extensions["screener"],
        form=DecisionForm(),
    )


def _comment_or_404(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(f"No comment {comment_id}.")
    return comment


@bp.get("/comments/<int:comment_id>")
@login_required
def comment(comment_id: int) -> str:
    """One comment: its text, thread, scores, rule hits and every decision."""
    return render_template(
        "queue/comment.html",
        comment=_comment_or_404(comment_id),
        form=DecisionForm(),
        screener=current_app.extensions["screener"],
    )


@bp.post("/comments/<int:comment_id>/decision")
@login_required
def decision(comment_id: int) -> ResponseReturnValue:
    """Approve or reject a comment, with a reason."""
    comment = _comment_or_404(comment_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        raise InvalidInput(
            "Choose approve or reject; a reason has at most 1,000 characters."
        )
    expected = None
    if form.expected.data:
        try:
            expected = CommentStatus(form.expected.data)
        except ValueError as error:
            raise InvalidInput("Unknown comment status.") from error
    try:
        decide(
            comment,
            current_user,
            _ACTIONS[form.action.data],
            reason=(form.reason.data or "").strip(),
            expected=expected,
        )
    except InvalidTransition as error:
        # Someone decided first, or the page was stale: show the comment as it is now.
        flash(error.message, "error")
        db.session.refresh(comment)
        return render_template(
            "queue/comment.html",
            comment=comment,
            form=DecisionForm(formdata=None),
            screener=current_app.extensions["screener"],
        ), 409
    verb = "Approved" if form.action.data == "approve" else "Rejected"
    flash(f"{verb} comment {comment.id} by {comment.handle}.", "ok")
    return redirect(_safe_next() or url_for("queue.index")), 303


def _safe_next() -> str | None:
    """A redirect target on this site only (no open redirect)."""
    target = request.form.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else None
