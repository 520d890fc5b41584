"""Moderator forms: Flask-WTF, CSRF-protected through the first-party session."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class DecisionForm(FlaskForm):
    action = SelectField(
        "Decision",
        choices=["approve", "reject"],
        validators=[DataRequired()],
    )
    reason = TextAreaField("Reason", validators=[Length(max=1000)])
    # The status the moderator saw: a decision on a stale page is refused.
    expected = HiddenField()
