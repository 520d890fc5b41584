"""Forms of the people and site pages: Flask-WTF, CSRF-protected."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..models import BanKind, Trust
from ..services.bans import DURATION_LABELS


class BanForm(FlaskForm):
    # With a comment, the value comes from the comment (its network key is never
    # shown); without one, a moderator types a handle or an email.
    comment_id = HiddenField()
    kind = RadioField(
        "Ban",
        choices=[SelectChoice(kind.value, kind.value) for kind in BanKind],
        default=BanKind.HANDLE.value,
        validators=[DataRequired()],
    )
    value = StringField("Handle or email", validators=[Optional(), Length(max=254)])
    # A site id, or "all" (admins: every site).
    site = SelectField("Where", validators=[DataRequired()])
    duration = SelectField(
        "For how long",
        choices=[SelectChoice(key, label) for key, label in DURATION_LABELS.items()],
        default="7d",
        validators=[DataRequired()],
    )
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=1000)])


class HandleForm(FlaskForm):
    premoderate = BooleanField("Always pre-moderate this handle")
    trust = SelectField(
        "Trust",
        choices=[
            SelectChoice(
                Trust.AUTO.value, "Automatic (trusted after enough published comments)"
            ),
            SelectChoice(
                Trust.TRUSTED.value, "Trusted (clean comments skip pre-moderation)"
            ),
            SelectChoice(Trust.UNTRUSTED.value, "Never trusted by count"),
        ],
        validators=[DataRequired()],
    )
    reason = StringField("Reason", validators=[Optional(), Length(max=1000)])


class NewSiteForm(FlaskForm):
    """A new site; the service checks the slug, origins and time zone."""

    # Empty fields are the service's to name, with the others' errors at once.
    slug = StringField("Slug", validators=[Length(max=64)])
    name = StringField("Name", validators=[Length(max=300)])
    allowed_origins = TextAreaField("Allowed origins", validators=[Length(max=20_000)])
    timezone = StringField("Time zone", default="UTC", validators=[Length(max=64)])
    # A site's slug, or "" for the defaults.
    copy_from = SelectField("Other settings", choices=[], validate_choice=True)
    reason = StringField("Reason", validators=[Optional(), Length(max=1000)])
