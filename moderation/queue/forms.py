"""Moderator forms: Flask-WTF, CSRF-protected through the first-party session."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

# Why a comment was rejected: the list moderators pick from (and report on).
REJECT_REASONS = {
    "abuse": "Abuse",
    "spam": "Spam",
    "off-topic": "Off-topic",
    "personal-attack": "Personal attack",
    "other": "Other",
}


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class _Reasoned(FlaskForm):
    """An approve, reject or keep (a reported comment stays up, its reports
    dismissed), with a listed reason (required to reject) and notes."""

    action = SelectField(
        "Decision", choices=["approve", "reject", "keep"], validators=[DataRequired()]
    )
    reason_code = SelectField(
        "Reason",
        # Labels: the templates show REJECT_REASONS. No Optional(): it would stop
        # validate_reason_code from running on an empty choice.
        choices=["", *REJECT_REASONS],
        default="",
    )
    reason = TextAreaField("Notes", validators=[Length(max=1000)])

    def validate_reason_code(self, field: Any) -> None:
        if self.action.data == "reject" and not field.data:
            raise ValidationError("Choose why the comment is rejected.")

    def full_reason(self) -> str:
        """The listed reason and the notes, as stored on the Decision."""
        notes = (self.reason.data or "").strip()
        code = self.reason_code.data or ""
        return f"{code}: {notes}" if code and notes else code or notes


class DecisionForm(_Reasoned):
    # The status the moderator saw: a decision on a stale page is refused.
    expected = HiddenField()


class BulkForm(_Reasoned):
    """Several comments at once; the checked `ids` ("ID:STATUS-SEEN") ride along."""


class ClaimForm(FlaskForm):
    """Claim a comment while reviewing it; optionally give back the last one."""

    release = IntegerField(validators=[Optional()])


class UndoForm(FlaskForm):
    """Only the CSRF token: the decision to undo is in the URL (a bulk undo's
    `decision` ids ride along, checked by the view)."""


class FeatureForm(FlaskForm):
    """Feature a published comment in its thread, or take it out again."""

    action = SelectField(choices=["feature", "unfeature"], validators=[DataRequired()])


class StaffReplyForm(FlaskForm):
    """A moderator's reply, published at once with a Staff badge."""

    # Its length is the service's check (BODY_MAX_LENGTH), as for readers.
    body = TextAreaField("Reply")
