"""Forms more than one moderator blueprint shows: Flask-WTF, CSRF-protected."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional


class ReasonForm(FlaskForm):
    """A button's form: CSRF and an optional reason for the audit log."""

    reason = StringField("Reason", validators=[Optional(), Length(max=1000)])
