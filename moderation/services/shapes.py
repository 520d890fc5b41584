"""Shape checks for a new comment, shared by the embedded form and the JSON API.

Shape is kept apart from content: these checks say whether a request is well
formed (lengths, handle characters, an email that parses) and store nothing.
Whether the words are acceptable is the screen's job.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from ..errors import InvalidInput
from .comments import NewComment

# Letters and digits of any script, with the punctuation real names use.
_HANDLE = re.compile(r"^[\w][\w .'’\-]*$")
# C0/C1 control characters other than tab and newline: they break storage
# (PostgreSQL refuses NUL) and display, and no reader types them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(value: str) -> str:
    """NFC-normalise, drop control characters, unify line endings."""
    value = unicodedata.normalize(
        "NFC", value.replace("\r\n", "\n").replace("\r", "\n")
    )
    return _CONTROL.sub("", value)


# Ids are INTEGER columns (32 bits on PostgreSQL): anything outside is no row's id.
ROW_ID_MAX = 2**31 - 1


def row_id(value: object) -> int | None:
    """A row id from JSON (a whole number, not a bool or a float such as 608.9) or
    from a form (digits); None when it is neither or out of range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and 0 < value <= ROW_ID_MAX:
        return value
    return None


def body_problem(body: str, body_max: int) -> str:
    """What is wrong with a comment's cleaned text, or '' when nothing is."""
    if not body:
        return _("Please write a comment.")
    if len(body) > body_max:
        return _(
            "Comments can be at most %(most)s characters; this one has %(count)s.",
            most=f"{body_max:,}",
            count=f"{len(body):,}",
        )
    return ""


def check_body(raw: object, body_max: int) -> str:
    """An edited comment's text, cleaned, or InvalidInput with the reason."""
    body = clean_text(raw).strip() if isinstance(raw, str) else ""
    if problem := body_problem(body, body_max):
        raise InvalidInput(problem, {"body": [problem]})
    return body


def check_comment(
    data: Mapping[str, Any],
    *,
    body_max: int,
    handle_max: int,
    idempotency_key: str | None = None,
) -> NewComment:
    """A NewComment from submitted fields, or InvalidInput naming every bad field."""
    errors: dict[str, list[str]] = {}

    def text(name: str) -> str:
        value = data.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            errors.setdefault(name, []).append(_("Must be text."))
            return ""
        return clean_text(value)

    handle = " ".join(text("handle").split())
    if not handle:
        errors.setdefault("handle", []).append(_("Please give a name to show."))
    elif len(handle) > handle_max:
        errors.setdefault("handle", []).append(
            _("Names can be at most %(n)d characters.", n=handle_max)
        )
    elif not _HANDLE.match(handle):
        errors.setdefault("handle", []).append(
            _("Names may use letters, digits, spaces and . _ - ' only.")
        )

    body = text("body").strip()
    if problem := body_problem(body, body_max):
        errors.setdefault("body", []).append(problem)

    email: str | None = text("email").strip() or None
    if email is not None:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            errors.setdefault("email", []).append(
                _("That does not look like an email address (it is optional).")
            )
            email = None

    raw_parent = data.get("parent_id")
    parent_id = None if raw_parent in (None, "") else row_id(raw_parent)
    if raw_parent not in (None, "") and parent_id is None:
        errors.setdefault("parent_id", []).append(_("Must be a comment id."))

    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidInput(first, errors)
    return NewComment(
        handle=handle,
        body=body,
        email=email,
        parent_id=parent_id,
        idempotency_key=idempotency_key,
    )
