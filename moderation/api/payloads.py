"""Reading JSON request bodies, the same way on every API route."""

from __future__ import annotations

from typing import Any

from flask import request

from ..bodies import BadJSON, request_json
from ..errors import ModerationError


def json_object(error: type[ModerationError], shape: str = "") -> dict[str, Any]:
    """The request's JSON body, which must be an object; `error` otherwise.

    `shape` shows the expected object in the message, e.g. '{"handle": ...}'.
    """
    if not request.is_json:
        raise error("Send JSON (Content-Type: application/json).")
    try:
        payload = request_json()
    except BadJSON as problem:
        raise error(f"The body is not valid JSON: {problem}.") from problem
    if not isinstance(payload, dict):
        raise error(f"The body must be a JSON object{': ' + shape if shape else ''}.")
    return payload
