"""Request bodies read strictly: JSON that is finite, shallow enough and valid Unicode.

Python's json module accepts NaN and Infinity, recurses once per nesting level
(RecursionError on "[[[[..."), and decodes "\\ud800" to a lone surrogate that no
encoder can write back. Every JSON body goes through `parse_json` instead, so that
each of those is a clear refusal at the edge. Size is capped before this is reached
(MAX_CONTENT_LENGTH: Werkzeug answers 413 without reading the body).
"""

from __future__ import annotations

import json
from typing import Any

from flask import g, request

# Deeper than any request this service understands (its bodies are flat objects).
MAX_DEPTH = 32


class BadJSON(ValueError):
    """The body is not JSON this service reads; the message says why."""


def _refuse_constant(name: str) -> float:
    raise BadJSON(f"{name} is not a number JSON allows")


def request_json() -> Any:
    """This request's JSON body, parsed once however many readers ask (the
    posting limits read the handle, then the view the whole body); BadJSON again
    for each of them when it is not JSON this service reads."""
    if "json_body" not in g:
        try:
            g.json_body = (parse_json(request.get_data(as_text=True) or "null"), None)
        except BadJSON as refused:
            g.json_body = (None, refused)
    value, refusal = g.json_body
    if refusal is not None:
        raise refusal
    return value


def parse_json(text: str) -> Any:
    """The JSON value of `text`, or BadJSON with the reason."""
    # Only a body with that many brackets can nest that deep: count in C first.
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth(text) > MAX_DEPTH:
        raise BadJSON(f"it nests deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except BadJSON:
        raise
    except (ValueError, RecursionError) as error:
        raise BadJSON(str(error)) from error
    _check_finite_and_unicode(value)
    return value


def _depth(text: str) -> int:
    """The deepest bracket nesting in text, strings aside; cheap, no recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for character in text:
        if in_string:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif character in "]}":
            depth -= 1
    return deepest


def _check_finite_and_unicode(value: Any) -> None:
    """BadJSON for a number too large to be finite (1e400) or a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and item in (float("inf"), float("-inf")):
            raise BadJSON("a number is too large")
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as error:
                raise BadJSON(
                    "a string is not valid Unicode (a lone surrogate)"
                ) from error
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
