"""Moderator pages for people (bans, handles), threads and sites.

Two blueprints under /mod: `people` (bans and handle standing) and `manage`
(threads and site settings). Moderators act on the sites they work; only admins
edit a site's settings or ban on every site.
"""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

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
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from ..confirm import confirmation, confirmed
from ..errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from ..extensions import db
from ..forms import ReasonForm
from ..models import BanKind, Comment, Moderator, Site, Trust
from ..services import bans as ban_service
from ..services import sites
from ..services.access import admin_required, require_site
from ..services.comments import get_site
from .forms import BanForm, HandleForm, NewSiteForm
from .snippets import embed_snippets

EVERY_SITE = "all"

bp = Blueprint("people", __name__, url_prefix="/mod/people")
manage = Blueprint("manage", __name__, url_prefix="/mod/manage")


def _surging() -> list[object]:
    """Surging threads for the banner (queried only when a page shows it)."""
    if not current_user.is_authenticated:
        return []
    return list(sites.surging_threads(current_user))


@manage.app_context_processor
def surge_banner() -> dict[str, object]:
    return {"surging_threads": _surging, "surge_form": ReasonForm}


def _sites_of(moderator: Moderator) -> list[Site]:
    """The sites a moderator works (all of them for an admin), by name."""
    statement = sa.select(Site).order_by(Site.name, Site.id)
    if not moderator.is_admin:
        statement = statement.where(
            Site.id.in_({site.id for site in moderator.sites} or {-1})
        )
    return list(db.session.scalars(statement))


def _back(default: str) -> str:
    """A redirect target on this site only (no open redirect)."""
    target = request.form.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else default


# Bans ------------------------------------------------------------------------


@bp.get("/bans")
@login_required
def bans() -> str:
    """Active bans on the moderator's sites (all, with ?all=1), with lift buttons."""
    show_all = request.args.get("all") == "1"
    found = ban_service.list_bans(current_user, active_only=not show_all)
    return render_template(
        "manage/bans.html",
        bans=found,
        show_all=show_all,
        is_active=ban_service.is_active,
        may_lift=lambda ban: ban_service.may_lift(current_user, ban),
        form=ReasonForm(),
        durations=ban_service.DURATION_LABELS,
    )


def _ban_comment(raw: str | None) -> Comment | None:
    """The comment a ban is made from, if any, which the moderator must work."""
    if not raw:
        return None
    try:
        comment = db.session.get(Comment, int(raw))
    except ValueError as error:
        raise InvalidInput("comment_id must be a number.") from error
    if comment is None:
        raise NotFound(f"No comment {raw}.")
    require_site(current_user, comment.thread.site_id)
    return comment


def _ban_choices(form: BanForm, comment: Comment | None) -> None:
    sites_choices = [
        SelectChoice(str(site.id), site.name) for site in _sites_of(current_user)
    ]
    if current_user.is_admin:
        sites_choices.append(SelectChoice(EVERY_SITE, "Every site"))
    form.site.choices = sites_choices
    if comment is not None:
        kinds = [SelectChoice(BanKind.HANDLE.value, f"Handle: {comment.handle}")]
        if comment.email:
            kinds.append(SelectChoice(BanKind.EMAIL.value, f"Email: {comment.email}"))
        if comment.network_key:
            kinds.append(SelectChoice(BanKind.NETWORK.value, "This comment's network"))
        form.kind.choices = kinds
    else:
        form.kind.choices = [
            SelectChoice(BanKind.HANDLE.value, "Handle"),
            SelectChoice(BanKind.EMAIL.value, "Email"),
        ]


def _render_ban_form(
    form: BanForm, comment: Comment | None, status: int = HTTPStatus.OK
):
    return render_template("manage/ban_form.html", form=form, comment=comment), status


@bp.route("/bans/new", methods=["GET", "POST"])
@login_required
def new_ban() -> ResponseReturnValue:
    """Ban a handle, an email or a comment's network (prefilled from ?comment_id=)."""
    comment = _ban_comment(request.values.get("comment_id"))
    form = BanForm()
    _ban_choices(form, comment)
    if request.method == "GET":
        if comment is not None:
            form.comment_id.data = str(comment.id)
            form.site.data = str(comment.thread.site_id)
        return _render_ban_form(form, comment)
    if not form.validate_on_submit():
        return _render_ban_form(form, comment, HTTPStatus.BAD_REQUEST)
    kind = BanKind(form.kind.data)
    if comment is not None:
        # The value is the comment's: a network key is never typed or shown.
        value = {
            BanKind.HANDLE: comment.handle,
            BanKind.EMAIL: comment.email or "",
            BanKind.NETWORK: comment.network_key or "",
        }[kind]
    else:
        value = form.value.data or ""
    # The choices were the moderator's sites: validation kept the rest out.
    site = (
        None
        if form.site.data == EVERY_SITE
        else db.session.get(Site, int(form.site.data))
    )
    duration: timedelta | None = ban_service.DURATIONS[form.duration.data]
    try:
        if not confirmed():
            ban_service.check_ban(
                site, kind, value, moderator=current_user, duration=duration
            )
            return _confirm_ban(form, comment, kind, value, site)
        made = ban_service.ban(
            site,
            kind,
            value,
            moderator=current_user,
            reason=form.reason.data or "",
            duration=duration,
        )
    except InvalidInput as error:
        form.value.errors = error.fields.get("value", [error.message])
        return _render_ban_form(form, comment, HTTPStatus.BAD_REQUEST)
    how_long = ban_service.DURATION_LABELS[form.duration.data].lower()
    flash(f"Ban {made.id} made: {kind.value}, {how_long}.", "ok")
    return redirect(url_for("people.bans")), HTTPStatus.SEE_OTHER


def _ban_target(kind: BanKind, value: str, comment: Comment | None) -> str:
    """Who a ban covers, in words (a network key is never shown)."""
    if kind is BanKind.NETWORK:
        return f"the network comment {comment.id if comment else ''} came from"
    return f"the {kind.value} {value.strip()!r}"


def _confirm_ban(
    form: BanForm,
    comment: Comment | None,
    kind: BanKind,
    value: str,
    site: Site | None,
) -> ResponseReturnValue:
    """The step before a ban: exactly who, where, for how long."""
    where = site.name if site is not None else "every site"
    how_long = ban_service.DURATION_LABELS[form.duration.data].lower()
    effects = [
        f"New comments from {_ban_target(kind, value, comment)} are refused on "
        f"{where}, {how_long if how_long == 'permanently' else 'for ' + how_long}.",
        "The reader is told they can't comment; published comments stay as they are.",
        "The ban is recorded in the audit log, with the reason: "
        f"{(form.reason.data or '').strip()!r}.",
    ]
    fields = {
        "kind": kind.value,
        "site": form.site.data or "",
        "duration": form.duration.data or "",
        "reason": form.reason.data or "",
    }
    if comment is not None:
        fields["comment_id"] = str(comment.id)
    else:
        fields["value"] = value
    return confirmation(
        title=f"Ban {_ban_target(kind, value, comment)} on {where}",
        effects=effects,
        action=url_for("people.new_ban"),
        button="Ban",
        cancel=url_for(
            "people.new_ban", comment_id=comment.id if comment is not None else None
        ),
        fields=fields,
    )


@bp.post("/bans/<int:ban_id>/lift")
@login_required
def lift(ban_id: int) -> ResponseReturnValue:
    """Lift a ban now, with an optional reason."""
    found = ban_service.get_ban(ban_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        raise InvalidInput("A reason has at most 1,000 characters.")
    if found.lifted_at is None and not confirmed():
        # Checked first: nobody confirms what they may not do.
        if not ban_service.may_lift(current_user, found):
            raise Forbidden(
                "Only admins may lift a ban on every site."
                if found.site_id is None
                else "You do not moderate this site."
            )
        where = found.site.name if found.site else "every site"
        who = (
            "The network this ban covers"
            if found.kind is BanKind.NETWORK
            else f"The {found.kind.value} {found.value!r}"
        )
        return confirmation(
            title=f"Lift ban {found.id}",
            effects=[
                f"{who} may comment on {where} again from now on.",
                "The ban is kept, marked lifted; the lifting is recorded in the "
                "audit log"
                + (
                    f", with the reason {form.reason.data!r}."
                    if form.reason.data
                    else "."
                ),
            ],
            action=url_for("people.lift", ban_id=found.id),
            button="Lift ban",
            cancel=_back(url_for("people.bans")),
            fields={
                "reason": form.reason.data or "",
                "next": request.form.get("next", ""),
            },
        )
    try:
        ban_service.lift_ban(
            found, moderator=current_user, reason=form.reason.data or ""
        )
    except InvalidTransition as error:
        flash(error.message, "error")
        return redirect(url_for("people.bans")), HTTPStatus.SEE_OTHER
    flash(f"Ban {found.id} lifted.", "ok")
    return redirect(_back(url_for("people.bans"))), HTTPStatus.SEE_OTHER


# Handles ---------------------------------------------------------------------


def _site_for(slug: str) -> Site:
    site = get_site(slug)
    require_site(current_user, site.id)
    return site


@bp.route("/handles/<site>/<handle>", methods=["GET", "POST"])
@login_required
def handle(site: str, handle: str) -> ResponseReturnValue:
    """A handle's standing on a site, its bans and recent comments; set its trust."""
    found = _site_for(site)
    row = ban_service.get_handle(found, handle)
    form = HandleForm(
        data=None
        if request.method == "POST"
        else {
            "premoderate": bool(row and row.premoderate),
            "trust": (row.trust if row else Trust.AUTO).value,
        }
    )
    status = HTTPStatus.OK
    if request.method == "POST":
        if form.validate_on_submit():
            ban_service.set_handle(
                found,
                handle,
                moderator=current_user,
                premoderate=bool(form.premoderate.data),
                trust=Trust(form.trust.data),
                reason=form.reason.data or "",
            )
            flash(f"Standing of {handle} on {found.name} saved.", "ok")
            return redirect(
                url_for("people.handle", site=site, handle=handle)
            ), HTTPStatus.SEE_OTHER
        status = HTTPStatus.BAD_REQUEST
    return render_template(
        "manage/handle.html",
        site=found,
        handle=handle,
        standing=ban_service.standing(found, handle),
        bans=ban_service.handle_bans(found, handle),
        comments=ban_service.recent_comments(found, handle),
        form=form,
    ), status


# Threads and sites -------------------------------------------------------------


@manage.get("/sites")
@login_required
def site_list() -> str:
    """The sites a moderator works, with links to their threads and settings."""
    return render_template("manage/sites.html", sites=_sites_of(current_user))


def _new_site_form() -> NewSiteForm:
    form = NewSiteForm()
    form.copy_from.choices = [SelectChoice("", "Defaults (no site to copy)")] + [
        SelectChoice(site.slug, f"{site.name} ({site.slug})")
        for site in sites.all_sites()
    ]
    return form


@manage.route("/sites/new", methods=["GET", "POST"])
@admin_required
def new_site() -> ResponseReturnValue:
    """Create a site (admins): slug, name, origins, time zone, settings from another."""
    form = _new_site_form()
    errors: dict[str, list[str]] = {}
    status = HTTPStatus.OK
    if request.method == "POST":
        if not form.validate_on_submit():
            errors = {name: list(found) for name, found in form.errors.items()}
            status = HTTPStatus.BAD_REQUEST
        else:
            source = (
                sites.find_site(form.copy_from.data) if form.copy_from.data else None
            )
            try:
                made = sites.create_site(
                    form.slug.data or "",
                    form.name.data or "",
                    form.allowed_origins.data or "",
                    form.timezone.data or "",
                    copy_from=source,
                    moderator=current_user,
                    reason=form.reason.data or "",
                )
            except InvalidInput as error:
                db.session.rollback()
                errors = error.fields
                status = HTTPStatus.UNPROCESSABLE_ENTITY
            else:
                flash(f"Site {made.name} ({made.slug}) created.", "ok")
                return redirect(
                    url_for("manage.embed", site=made.slug)
                ), HTTPStatus.SEE_OTHER
    return render_template("manage/new_site.html", form=form, errors=errors), status


@manage.get("/sites/<site>/embed")
@admin_required
def embed(site: str) -> str:
    """The site's embed snippets, filled with its values, ready to copy."""
    found = get_site(site)
    return render_template(
        "manage/embed.html",
        site=found,
        snippets=embed_snippets(found, current_app.config["PUBLIC_URL"]),
    )


@manage.get("/sites/<site>/threads")
@login_required
def threads(site: str) -> str:
    """A site's threads: open or closed, pre-moderated, surging; with buttons."""
    found = _site_for(site)
    return render_template(
        "manage/threads.html",
        site=found,
        threads=sites.site_threads(found),
        form=ReasonForm(),
    )


_THREAD_ACTIONS = {
    "close": lambda t, m, r: sites.close_thread(t, moderator=m, reason=r),
    "reopen": lambda t, m, r: sites.reopen_thread(t, moderator=m, reason=r),
    "premoderate": lambda t, m, r: sites.set_thread_premoderate(
        t, True, moderator=m, reason=r
    ),
    "postmoderate": lambda t, m, r: sites.set_thread_premoderate(
        t, False, moderator=m, reason=r
    ),
    "end-surge": lambda t, m, r: sites.end_surge(t, moderator=m, reason=r),
}
_DONE = {
    "close": "closed",
    "reopen": "reopened",
    "premoderate": "pre-moderated",
    "postmoderate": "no longer pre-moderated",
    "end-surge": "switched back from surge pre-moderation",
}


@manage.post("/threads/<int:thread_id>/<action>")
@login_required
def thread_action(thread_id: int, action: str) -> ResponseReturnValue:
    """Close, reopen, pre-moderate or switch back a thread of the moderator's site."""
    if action not in _THREAD_ACTIONS:
        raise NotFound(f"No thread action {action!r}.")
    thread = sites.get_thread_by_id(thread_id)
    require_site(current_user, thread.site_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        raise InvalidInput("A reason has at most 1,000 characters.")
    # Both switch the thread's pre-moderation off (end-surge: the surge guard's).
    if (
        action in ("postmoderate", "end-surge")
        and thread.premoderate
        and not confirmed()
    ):
        name = thread.title or thread.key
        return confirmation(
            title=f"Stop pre-moderating {name}",
            effects=[
                f"New comments on {name} that pass the screen are published at once, "
                "without waiting for a moderator.",
                *(
                    ["The surge guard may switch it again if the flood goes on."]
                    if action == "end-surge"
                    else []
                ),
                "Comments already waiting stay in the queue.",
                "The change is recorded in the audit log.",
            ],
            action=url_for("manage.thread_action", thread_id=thread.id, action=action),
            button="Stop pre-moderating",
            cancel=_back(url_for("manage.threads", site=thread.site.slug)),
            fields={
                "reason": form.reason.data or "",
                "next": request.form.get("next", ""),
            },
        )
    _THREAD_ACTIONS[action](thread, current_user, form.reason.data or "")
    flash(f"Thread {thread.title or thread.key} {_DONE[action]}.", "ok")
    return redirect(
        _back(url_for("manage.threads", site=thread.site.slug))
    ), HTTPStatus.SEE_OTHER


@manage.route("/sites/<site>/settings", methods=["GET", "POST"])
@admin_required
def settings(site: str) -> ResponseReturnValue:
    """Edit a site's settings (admins): origins, time zone, thresholds, words."""
    found = get_site(site)
    form = ReasonForm()
    values = sites.form_values(found)
    errors: dict[str, list[str]] = {}
    status = HTTPStatus.OK
    if request.method == "POST":
        if not form.validate_on_submit():
            raise InvalidInput("A reason has at most 1,000 characters.")
        values = {key: str(value) for key, value in request.form.items()}
        try:
            parsed = sites.parse_settings(found, request.form)
        except InvalidInput as error:
            errors = error.fields
            status = HTTPStatus.BAD_REQUEST
        else:
            sites.update_settings(
                found, parsed, moderator=current_user, reason=form.reason.data or ""
            )
            flash(f"Settings of {found.name} saved.", "ok")
            return redirect(url_for("manage.settings", site=site)), HTTPStatus.SEE_OTHER
    return render_template(
        "manage/settings.html",
        site=found,
        values=values,
        errors=errors,
        labels=sites.threshold_labels(found),
        erasure_modes=sites.ERASURE_MODES,
        form=form,
    ), status
