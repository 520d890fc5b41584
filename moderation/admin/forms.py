"""Admin and account forms: Flask-WTF, CSRF-protected through the session."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ..models import Role
from .staff import MIN_PASSWORD_LENGTH

ROLES = [
    SelectChoice(Role.MODERATOR.value, "Moderator"),
    SelectChoice(Role.ADMIN.value, "Admin"),
]


class NewModeratorForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[Optional(), Length(max=100)])
    role = SelectField("Role", choices=ROLES, default=Role.MODERATOR.value)
    sites = SelectMultipleField("Sites", choices=[], validate_choice=True)
    password = PasswordField(
        "Initial password (blank: generate one)",
        validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
    )


class ModeratorForm(FlaskForm):
    role = SelectField("Role", choices=ROLES)
    sites = SelectMultipleField("Sites", choices=[], validate_choice=True)


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[DataRequired()])


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[Optional(), Length(max=100)])


class EmptyForm(FlaskForm):
    """A button that posts: CSRF only."""


class PasswordForm(FlaskForm):
    current = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=200)]
    )
    new = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new", message="The two do not match.")],
    )


class ReaderForm(FlaskForm):
    """Who a reader is, for an access or erasure request (one field is enough)."""

    email = StringField("Email they gave", validators=[Optional(), Length(max=254)])
    handle = StringField("Handle", validators=[Optional(), Length(max=40)])
    receipt = StringField(
        "A comment's receipt", validators=[Optional(), Length(max=500)]
    )
    site = SelectField("Site", choices=[], validate_choice=True)
    remove_handle = BooleanField("Also replace their handle with [removed]")
    reason = StringField(
        "Why (for the audit log)", validators=[Optional(), Length(max=1000)]
    )
    confirm = HiddenField()
