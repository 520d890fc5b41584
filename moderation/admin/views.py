"""Admin pages (moderators, roles, sites, API tokens), the audit log, passwords."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from ..confirm import confirmation, confirmed
from ..errors import InvalidInput, InvalidTransition, ModerationError
from ..extensions import db
from ..models import Moderator, Role, Site, utcnow
from ..services.access import admin_required
from ..services.api_tokens import create_token, get_token, revoke_token, tokens_of
from ..services.comments import get_site
from ..services.erasure import Reader, erase_reader, export_reader, find_comments
from . import auditlog, staff
from .forms import (
    ActiveForm,
    EmptyForm,
    ModeratorForm,
    NewModeratorForm,
    PasswordForm,
    ReaderForm,
    TokenForm,
)

logger = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/mod/admin")


def _site_choices() -> list[SelectChoice]:
    sites = db.session.scalars(sa.select(Site).order_by(Site.slug))
    return [SelectChoice(site.slug, f"{site.slug}: {site.name}") for site in sites]


def _form_errors(form: FlaskForm) -> InvalidInput:
    errors = {name: list(messages) for name, messages in form.errors.items()}
    if "csrf_token" in errors:
        return InvalidInput("The form expired; reload the page and try again.", errors)
    first = next(iter(errors.values()), ["Check the form."])
    return InvalidInput(" ".join(first), errors)


def _moderators_page(
    form: NewModeratorForm | None = None, shown_once: dict[str, str] | None = None
) -> str:
    if form is None:
        form = NewModeratorForm(formdata=None)  # empty, even after a POST
        form.sites.choices = _site_choices()
    return render_template(
        "admin/index.html",
        moderators=staff.all_moderators(),
        form=form,
        shown_once=shown_once,
        tokens=tokens_of(),
        revoke_form=EmptyForm(),
    )


@bp.get("/")
@admin_required
def index() -> str:
    """Moderators, their roles and sites, a form to add one, every API token."""
    return _moderators_page()


@bp.post("/moderators")
@admin_required
def create() -> ResponseReturnValue:
    """Create a moderator; a generated password is shown once, on this page."""
    form = NewModeratorForm()
    form.sites.choices = _site_choices()
    if not form.validate_on_submit():
        flash(str(_form_errors(form).message), "error")
        return _moderators_page(form), HTTPStatus.UNPROCESSABLE_ENTITY
    password = form.password.data or staff.generate_password()
    try:
        moderator = staff.create_moderator(
            form.email.data,
            name=form.name.data or "",
            role=Role(form.role.data),
            sites=staff.sites_by_slug(form.sites.data or []),
            password=password,
            by=current_user,
        )
    except (InvalidInput, InvalidTransition) as error:
        db.session.rollback()
        flash(error.message, "error")
        return _moderators_page(form), int(error.status)
    flash(f"Created {moderator.email}.", "ok")
    shown = None
    if not form.password.data:
        # Rendered, not flashed: the session cookie is signed, not encrypted.
        shown = {"label": f"Password for {moderator.email}", "secret": password}
    return _moderators_page(shown_once=shown), HTTPStatus.CREATED


def _edit_page(moderator: Moderator, shown_once: dict[str, str] | None = None) -> str:
    form = ModeratorForm(
        formdata=None,
        role=moderator.role.value,
        sites=[site.slug for site in moderator.sites],
    )
    form.sites.choices = _site_choices()
    return render_template(
        "admin/moderator.html",
        moderator=moderator,
        form=form,
        active_form=ActiveForm(formdata=None, active="0" if moderator.active else "1"),
        token_form=TokenForm(formdata=None),
        revoke_form=EmptyForm(),
        tokens=tokens_of(moderator.id),
        shown_once=shown_once,
    )


@bp.get("/moderators/<int:moderator_id>")
@admin_required
def moderator(moderator_id: int) -> str:
    """One moderator: role, sites, active, API tokens."""
    return _edit_page(staff.get_moderator(moderator_id))


@bp.post("/moderators/<int:moderator_id>")
@admin_required
def update(moderator_id: int) -> ResponseReturnValue:
    """Change a moderator's role and sites (each change audited)."""
    moderator = staff.get_moderator(moderator_id)
    form = ModeratorForm()
    form.sites.choices = _site_choices()
    if not form.validate_on_submit():
        raise _form_errors(form)
    sites = staff.sites_by_slug(form.sites.data or [])
    try:
        role_changed = staff.set_role(moderator, Role(form.role.data), by=current_user)
    except InvalidTransition as error:
        db.session.rollback()
        flash(error.message, "error")
        return _edit_page(moderator), HTTPStatus.CONFLICT
    sites_changed = staff.set_sites(moderator, sites, by=current_user)
    changed = [
        what for what, did in (("role", role_changed), ("sites", sites_changed)) if did
    ]
    flash(
        f"Changed {' and '.join(changed)} of {moderator.email}."
        if changed
        else "Nothing changed.",
        "ok",
    )
    return redirect(
        url_for("admin.moderator", moderator_id=moderator.id), HTTPStatus.SEE_OTHER
    )


def _live_tokens(moderator_id: int) -> int:
    return sum(1 for token in tokens_of(moderator_id) if token.revoked_at is None)


@bp.post("/moderators/<int:moderator_id>/active")
@admin_required
def set_active(moderator_id: int) -> ResponseReturnValue:
    """Deactivate (logging out everywhere) or reactivate a moderator."""
    moderator = staff.get_moderator(moderator_id)
    form = ActiveForm()
    if not form.validate_on_submit() or form.active.data not in {"0", "1"}:
        raise InvalidInput("Say whether the account should be active.")
    active = form.active.data == "1"
    page = url_for("admin.moderator", moderator_id=moderator.id)
    try:
        if not active and moderator.active and not confirmed():
            # Refused before asking: nobody confirms what cannot be done.
            staff.check_may_deactivate(moderator)
            return _confirm_deactivation(moderator, page)
        staff.set_active(moderator, active, by=current_user)
    except InvalidTransition as error:
        db.session.rollback()
        flash(error.message, "error")
        return _edit_page(moderator), HTTPStatus.CONFLICT
    flash(f"{moderator.email} is {'active' if active else 'deactivated'}.", "ok")
    return redirect(page, HTTPStatus.SEE_OTHER)


def _confirm_deactivation(moderator: Moderator, page: str) -> ResponseReturnValue:
    return confirmation(
        title=f"Deactivate {moderator.email}",
        effects=[
            f"{moderator.email} can no longer log in; every session of theirs "
            "ends now.",
            f"Their API tokens ({_live_tokens(moderator.id)} not revoked) stop "
            "working until the account is reactivated.",
            "The change is recorded in the audit log.",
        ],
        action=url_for("admin.set_active", moderator_id=moderator.id),
        button="Deactivate",
        cancel=page,
        fields={"active": "0"},
    )


@bp.post("/moderators/<int:moderator_id>/tokens")
@admin_required
def new_token(moderator_id: int) -> ResponseReturnValue:
    """Make an API token that acts as this moderator; shown once, on this page."""
    moderator = staff.get_moderator(moderator_id)
    form = TokenForm()
    if not form.validate_on_submit():
        raise _form_errors(form)
    if not moderator.active:
        raise InvalidTransition(f"{moderator.email} is deactivated.")
    row, token = create_token(moderator, form.name.data or "", by=current_user)
    flash(f"Made API token {row.prefix}… for {moderator.email}.", "ok")
    # The partial says once that it is shown once; the label only names it.
    shown = {"label": f"API token {row.prefix}… for {moderator.email}", "secret": token}
    return _edit_page(moderator, shown_once=shown), HTTPStatus.CREATED


@bp.post("/tokens/<int:token_id>/revoke")
@admin_required
def revoke(token_id: int) -> ResponseReturnValue:
    """Revoke an API token for good."""
    form = EmptyForm()
    if not form.validate_on_submit():
        raise _form_errors(form)
    row = get_token(token_id)
    if row.revoked_at is None and not confirmed():
        named = f" ({row.name})" if row.name else ""
        return confirmation(
            title=f"Revoke API token {row.prefix}…",
            effects=[
                f"Token {row.prefix}…{named}, which acts as {row.moderator.email}, "
                "stops working at once: requests with it get 401.",
                "This cannot be undone; make a new token if one is needed again.",
                "The revocation is recorded in the audit log.",
            ],
            action=url_for("admin.revoke", token_id=row.id),
            button="Revoke token",
            cancel=url_for("admin.moderator", moderator_id=row.moderator_id),
        )
    revoke_token(row, by=current_user)
    flash(f"Revoked API token {row.prefix}….", "ok")
    return redirect(
        url_for("admin.moderator", moderator_id=row.moderator_id), HTTPStatus.SEE_OTHER
    )


@bp.get("/audit")
@login_required
def audit() -> str:
    """The audit log, newest first; moderators see their sites' entries."""
    wanted = auditlog.AuditFilter.from_args(request.args)
    found = auditlog.page(current_user, wanted, request.args.get("cursor") or None)
    return render_template(
        "admin/audit.html",
        page=found,
        wanted=wanted,
        sites=_viewer_sites(),
    )


def _viewer_sites() -> list[Site]:
    if current_user.is_admin:
        return list(db.session.scalars(sa.select(Site).order_by(Site.slug)))
    return sorted(current_user.sites, key=lambda site: site.slug)


@bp.get("/audit.csv")
@login_required
def audit_csv() -> Response:
    """The filtered audit entries as CSV, streamed."""
    wanted = auditlog.AuditFilter.from_args(request.args)
    viewer = current_user._get_current_object()
    lines = auditlog.csv_export(viewer, wanted)
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


account = Blueprint("account", __name__, url_prefix="/mod/account")


@account.route("/password", methods=["GET", "POST"])
@login_required
def password() -> ResponseReturnValue:
    """Change one's password; every other session ends, this one carries on."""
    form = PasswordForm()
    if form.validate_on_submit():
        moderator = current_user._get_current_object()
        try:
            staff.change_password(moderator, form.current.data, form.new.data)
        except InvalidInput as error:
            db.session.rollback()
            form.current.errors = [*form.current.errors, error.message]
            return render_template(
                "admin/password.html", form=form
            ), HTTPStatus.UNPROCESSABLE_ENTITY
        # The session token changed: sign this session with the new one.
        login_user(moderator)
        flash("Password changed; your other sessions have ended.", "ok")
        return redirect(url_for("queue.index"), HTTPStatus.SEE_OTHER)
    status = (
        HTTPStatus.UNPROCESSABLE_ENTITY if request.method == "POST" else HTTPStatus.OK
    )
    return render_template("admin/password.html", form=form), status


# A reader's data: access and erasure requests ----------------------------------


def _reader_form() -> ReaderForm:
    form = ReaderForm()
    form.site.choices = [SelectChoice("", "Every site"), *_site_choices()]
    return form


@bp.route("/readers", methods=["GET", "POST"])
@admin_required
def readers() -> ResponseReturnValue:
    """Export or erase one reader's data; erasing asks first, then is audited."""
    form = _reader_form()
    status = HTTPStatus.OK
    found: int | None = None
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_form_errors(form).message, "error")
            status = HTTPStatus.BAD_REQUEST
        else:
            reader = Reader(
                email=form.email.data or None,
                handle=form.handle.data or None,
                receipt=form.receipt.data or None,
            )
            site = get_site(form.site.data) if form.site.data else None
            try:
                if request.form.get("action") == "export":
                    data = export_reader(reader, site)
                    return Response(
                        json.dumps(data, indent=2, ensure_ascii=False),
                        mimetype="application/json",
                        headers={
                            "Content-Disposition": 'attachment; filename="reader.json"',
                            "Cache-Control": "no-store",
                        },
                    )
                if request.form.get("action") != "erase" or form.confirm.data != "yes":
                    found = len(find_comments(reader, site))  # asks first
                else:
                    counts = erase_reader(
                        reader,
                        moderator=current_user._get_current_object(),
                        site=site,
                        remove_handle=form.remove_handle.data,
                        reason=form.reason.data or "",
                    )
                    flash(
                        f"Erased: {counts['redacted']} comments redacted, "
                        f"{counts['deleted']} deleted, {counts['audit_rows']} audit "
                        "rows scrubbed.",
                        "ok",
                    )
                    return redirect(url_for("admin.readers")), HTTPStatus.SEE_OTHER
            except ModerationError as error:
                flash(error.message, "error")
                status = error.status
    return render_template("admin/readers.html", form=form, found=found), status
