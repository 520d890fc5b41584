"""Confirmation before a destructive action, the same with or without script.

The first POST (without `confirm=yes`) changes nothing: it answers with a page that
says exactly what will happen, with Confirm (the same POST again, its fields kept,
plus `confirm=yes`) and Cancel (a link back). Only the confirmed POST acts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus

from flask import render_template, request
from flask.typing import ResponseReturnValue

# The field that makes a POST act; any other value shows the confirmation.
CONFIRM_FIELD = "confirm"
CONFIRM_VALUE = "yes"


def confirmed() -> bool:
    """True when this POST carries the confirmation."""
    return request.form.get(CONFIRM_FIELD) == CONFIRM_VALUE


def confirmation(
    *,
    title: str,
    effects: Sequence[str],
    action: str,
    button: str,
    cancel: str,
    fields: Mapping[str, str] | None = None,
) -> ResponseReturnValue:
    """The confirmation page: what will happen, Confirm (POST) and Cancel (link)."""
    kept = {
        name: value
        for name, value in (fields or {}).items()
        if name not in (CONFIRM_FIELD, "csrf_token")
    }
    return render_template(
        "manage/confirm.html",
        title=title,
        effects=effects,
        action=action,
        button=button,
        cancel=cancel,
        fields=kept,
        confirm_field=CONFIRM_FIELD,
        confirm_value=CONFIRM_VALUE,
    ), HTTPStatus.OK
