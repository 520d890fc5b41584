"""A moderator's own alerts by mail: which ones, and how often (alerts.py)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

from ..extensions import db
from ..models import Moderator, Site, utcnow
from ..services import audit
from .alerts import HELD_CHOICES

bp = Blueprint("alerts", __name__, url_prefix="/mod/account")

DIGEST_MINUTES = (5, 24 * 60)


class AlertsForm(FlaskForm):
    """The alerts a moderator asks for (CSRF-protected)."""

    alert_held = RadioField(
        "When a comment is held on my sites",
        choices=[
            SelectChoice("off", "No mail"),
            SelectChoice(
                "immediate", "A mail at once (a burst within a minute is one mail)"
            ),
            SelectChoice(
                "digest", "A digest of what was held, at most every N minutes"
            ),
        ],
        validators=[InputRequired("Choose how to hear about held comments.")],
    )
    alert_digest_minutes = IntegerField(
        "Digest every (minutes)",
        validators=[
            InputRequired("Say how many minutes between digests."),
            NumberRange(
                *DIGEST_MINUTES,
                message="A digest comes every 5 to 1,440 minutes (a day).",
            ),
        ],
    )
    alert_reports = BooleanField(
        "When readers' reports take a comment past the threshold"
    )
    alert_surge = BooleanField(
        "When the surge guard switches a thread to pre-moderation"
    )
    daily_summary = BooleanField(
        "A summary of each day: held, published, rejected, time in queue"
    )


FIELDS = (
    "alert_held",
    "alert_digest_minutes",
    "alert_reports",
    "alert_surge",
    "daily_summary",
)


def _values(moderator: Moderator) -> dict[str, Any]:
    return {name: getattr(moderator, name) for name in FIELDS}


def _sites(moderator: Moderator) -> list[Site] | None:
    if moderator.is_admin:
        return None
    return sorted(moderator.sites, key=lambda site: site.name)


def _page(form: AlertsForm, moderator: Moderator) -> str:
    return render_template(
        "notify/alerts.html", form=form, moderator=moderator, sites=_sites(moderator)
    )


@bp.route("/alerts", methods=["GET", "POST"])
@login_required
def settings() -> ResponseReturnValue:
    """Choose one's alerts by mail; each change is in the audit log."""
    moderator: Moderator = current_user._get_current_object()
    form = AlertsForm(data=_values(moderator))
    if not form.is_submitted():
        return _page(form, moderator)
    if not form.validate() or form.alert_held.data not in HELD_CHOICES:
        return _page(form, moderator), HTTPStatus.BAD_REQUEST
    before = _values(moderator)
    after = {name: getattr(form, name).data for name in FIELDS}
    if after != before:
        if after["alert_held"] == "digest" and before["alert_held"] != "digest":
            # The first digest covers what is held from now on, not the past.
            moderator.digest_sent_until = utcnow()
        for name, value in after.items():
            setattr(moderator, name, value)
        changed = {k: v for k, v in after.items() if before[k] != v}
        audit.record(
            "moderator.alerts",
            "moderator",
            moderator.id,
            moderator=moderator,
            before={k: before[k] for k in changed},
            after=changed,
        )
        db.session.commit()
        flash("Alert settings saved.", "ok")
    else:
        flash("Nothing changed.", "ok")
    return redirect(url_for("alerts.settings"), HTTPStatus.SEE_OTHER)
