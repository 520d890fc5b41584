"""Admins' pages for a site's webhooks: add, switch off and on, test, delete,
and each hook's delivery log (its outbox rows), newest first."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice

from ..confirm import confirmation, confirmed
from ..errors import InvalidInput, InvalidTransition, NotFound
from ..extensions import db
from ..links import web_url
from ..models import OutboxMessage, OutboxStatus, Site, Webhook, utcnow
from ..services import audit
from ..services.access import admin_required
from ..services.comments import get_site
from . import outbox, webhooks

logger = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/mod/manage")

LOG_PAGE = 50
URL_MAX = 2000


class WebhookForm(FlaskForm):
    """A new webhook: where, and which events."""

    url = StringField("Receiver URL")
    events = SelectMultipleField(
        "Events",
        choices=[SelectChoice(event, event) for event in webhooks.EVENTS],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
        validate_choice=False,  # checked by hand, with a message that says why
    )


class ButtonForm(FlaskForm):
    """A button's form: CSRF only."""


def _state(hook: Webhook) -> dict[str, Any]:
    """What the audit log keeps of a hook (never its secret)."""
    return {"url": hook.url, "events": list(hook.events or []), "active": hook.active}


def _hook(hook_id: int) -> Webhook:
    hook = db.session.get(Webhook, hook_id)
    if hook is None:
        raise NotFound(f"No webhook {hook_id}.")
    return hook


def _check_button() -> None:
    if not ButtonForm().validate_on_submit():
        raise InvalidInput("The form expired; reload the page and try again.")


def _list_page(
    site: Site,
    form: WebhookForm,
    *,
    error: str | None = None,
    secret: dict[str, str] | None = None,
) -> str:
    hooks = list(
        db.session.scalars(
            sa.select(Webhook).where(Webhook.site_id == site.id).order_by(Webhook.id)
        )
    )
    return render_template(
        "notify/admin_webhooks.html",
        site=site,
        hooks=hooks,
        form=form,
        button=ButtonForm(),
        error=error,
        shown_once=secret,
        events=webhooks.EVENTS,
    )


def parse_url(raw: str | None) -> str:
    """The receiver's URL: http or https with a host; InvalidInput otherwise."""
    value = (raw or "").strip()
    if not value:
        raise InvalidInput("Give the receiver's URL, like https://example.com/hooks.")
    if len(value) > URL_MAX:
        raise InvalidInput(f"The URL has at most {URL_MAX:,} characters.")
    url = web_url(value)
    if url is None or url != value:
        raise InvalidInput(
            "The URL must be http:// or https:// with a host, like "
            "https://example.com/hooks."
        )
    return url


def parse_events(chosen: list[str] | None) -> list[str]:
    """The events checked, in EVENTS order; InvalidInput when none or unknown."""
    chosen = list(chosen or [])
    unknown = [event for event in chosen if event not in webhooks.EVENTS]
    if unknown:
        raise InvalidInput(f"No event called {unknown[0][:40]!r}.")
    if not chosen:
        raise InvalidInput("Check at least one event.")
    return [event for event in webhooks.EVENTS if event in chosen]


@bp.get("/sites/<site>/webhooks")
@admin_required
def index(site: str) -> str:
    """A site's webhooks, and the form to add one."""
    found = get_site(site)
    return _list_page(found, WebhookForm(formdata=None, events=list(webhooks.EVENTS)))


@bp.post("/sites/<site>/webhooks")
@admin_required
def create(site: str) -> ResponseReturnValue:
    """Add a webhook; its secret is shown once, on the page this answers with."""
    found = get_site(site)
    form = WebhookForm()
    if not form.validate_on_submit():
        return _list_page(
            found, form, error="The form expired; reload the page and try again."
        ), HTTPStatus.BAD_REQUEST
    try:
        url = parse_url(form.url.data)
        events = parse_events(form.events.data)
    except InvalidInput as error:
        return _list_page(found, form, error=error.message), HTTPStatus.BAD_REQUEST
    hook = Webhook(
        site_id=found.id,
        url=url,
        secret=webhooks.new_secret(),
        events=events,
        created_by=current_user.email,
    )
    db.session.add(hook)
    db.session.flush()
    audit.record(
        "webhook.created",
        "webhook",
        hook.id,
        moderator=current_user,
        site_id=found.id,
        after=_state(hook),
    )
    db.session.commit()
    logger.info("webhook %s added to site %s", hook.id, found.slug)
    flash(f"Webhook {hook.id} added: it gets {', '.join(events)}.", "ok")
    shown = {"label": f"Signing secret of webhook {hook.id}", "secret": hook.secret}
    empty = WebhookForm(formdata=None, events=list(webhooks.EVENTS))
    return _list_page(found, empty, secret=shown), HTTPStatus.CREATED


@bp.get("/webhooks/<int:hook_id>")
@admin_required
def detail(hook_id: int) -> str:
    """A webhook and its delivery log, newest first, a page at a time."""
    hook = _hook(hook_id)
    raw = request.args.get("before", "").strip()
    before: int | None = None
    if raw:
        if not raw.isdigit() or len(raw) > 18:
            raise InvalidInput("`before` is a delivery number.")
        before = int(raw)
    statement = sa.select(OutboxMessage).where(OutboxMessage.webhook_id == hook.id)
    if before is not None:
        statement = statement.where(OutboxMessage.id < before)
    rows = list(
        db.session.scalars(
            statement.order_by(OutboxMessage.id.desc()).limit(LOG_PAGE + 1)
        )
    )
    more = len(rows) > LOG_PAGE
    rows = rows[:LOG_PAGE]
    return render_template(
        "notify/admin_webhook.html",
        hook=hook,
        site=hook.site,
        rows=rows,
        older=rows[-1].id if more and rows else None,
        first_page=before is None,
        button=ButtonForm(),
        pending=OutboxStatus.PENDING,
    )


@bp.post("/webhooks/<int:hook_id>/active")
@admin_required
def set_active(hook_id: int) -> ResponseReturnValue:
    """Switch a webhook off (its waiting calls are dropped) or back on."""
    _check_button()
    hook = _hook(hook_id)
    wanted = request.form.get("active") == "1"
    before = _state(hook)
    if wanted and not hook.active:
        hook.active = True
        hook.failures = 0
        hook.disabled_at = None
        hook.disabled_reason = ""
    elif not wanted and hook.active:
        hook.active = False
        hook.disabled_at = utcnow()
        hook.disabled_reason = f"switched off by {current_user.email}"
        _drop_pending(hook.id, "webhook disabled")
    else:
        flash(f"Webhook {hook.id} is {'on' if hook.active else 'off'} already.", "ok")
        return redirect(
            url_for("webhooks.detail", hook_id=hook.id), HTTPStatus.SEE_OTHER
        )
    audit.record(
        "webhook.enabled" if wanted else "webhook.disabled",
        "webhook",
        hook.id,
        moderator=current_user,
        site_id=hook.site_id,
        before=before,
        after=_state(hook),
    )
    db.session.commit()
    flash(f"Webhook {hook.id} switched {'on' if wanted else 'off'}.", "ok")
    return redirect(url_for("webhooks.detail", hook_id=hook.id), HTTPStatus.SEE_OTHER)


def _drop_pending(hook_id: int, why: str) -> None:
    """Calls still waiting for this hook will not go (one in flight finishes)."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.webhook_id == hook_id,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.claim_token.is_(None),
        )
        .values(status=OutboxStatus.DROPPED, last_error=why)
        .execution_options(synchronize_session=False)
    )


@bp.post("/webhooks/<int:hook_id>/test")
@admin_required
def send_test(hook_id: int) -> ResponseReturnValue:
    """Queue a signed "test" event to the webhook, whatever events it gets."""
    _check_button()
    hook = _hook(hook_id)
    if not hook.active:
        raise InvalidTransition(
            f"Webhook {hook.id} is switched off: switch it on to send a test event."
        )
    row = outbox.enqueue_webhook(
        hook,
        "test",
        {
            "event": "test",
            "site": hook.site.slug,
            "created_at": utcnow().isoformat(),
            "data": {
                "message": "A test event: your receiver is reached and can "
                "check the signature."
            },
        },
    )
    audit.record(
        "webhook.tested",
        "webhook",
        hook.id,
        moderator=current_user,
        site_id=hook.site_id,
    )
    db.session.commit()
    outbox.wake_worker()
    flash(f"Test event queued (delivery {row.message_id}); see the log below.", "ok")
    return redirect(url_for("webhooks.detail", hook_id=hook.id), HTTPStatus.SEE_OTHER)


@bp.post("/webhooks/<int:hook_id>/delete")
@admin_required
def delete(hook_id: int) -> ResponseReturnValue:
    """Delete a webhook, after a confirmation page (no script needed)."""
    _check_button()
    hook = _hook(hook_id)
    site = hook.site
    if not confirmed():
        return confirmation(
            title=f"Delete webhook {hook.id} of {site.name}",
            effects=[
                f"{hook.url} gets no more events from {site.name}; calls still "
                "waiting are dropped.",
                "Its secret is forgotten: a new webhook gets a new one.",
                "Its delivery log is kept in the outbox but no longer shown here.",
                "The deletion is recorded in the audit log.",
            ],
            action=url_for("webhooks.delete", hook_id=hook.id),
            button="Delete webhook",
            cancel=url_for("webhooks.detail", hook_id=hook.id),
        )
    before = _state(hook)
    _drop_pending(hook.id, "webhook deleted")
    # The outbox rows outlive the hook (foreign key), as history.
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.webhook_id == hook.id)
        .values(webhook_id=None)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        "webhook.deleted",
        "webhook",
        hook.id,
        moderator=current_user,
        site_id=site.id,
        before=before,
    )
    db.session.delete(hook)
    db.session.commit()
    flash(f"Webhook {hook_id} deleted.", "ok")
    return redirect(url_for("webhooks.index", site=site.slug), HTTPStatus.SEE_OTHER)
