"""Posting rate limits: per client network, per handle and per thread.

The counters live where RATELIMIT_STORAGE_URI points: memory:// in the embedded
default (one process), Redis when MODERATION_REDIS_URL is set, so that every web
process counts against the same totals. No key holds a raw IP address or handle:
both pass through `clients.keyed_digest`, an HMAC keyed with SECRET_KEY.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Response, current_app, request

from ..bodies import BadJSON, request_json
from ..clients import keyed_digest, network_key, normal_handle
from ..extensions import limiter

View = TypeVar("View", bound=Callable[..., object])

# What a reader is told on a 429; the error handler adds "try again in N seconds".
TOO_FAST = "You are posting too fast"
THREAD_BUSY = "This discussion is receiving too many comments right now"


def submitted_handle() -> str:
    """The handle this request posts, from JSON or the form; '' when there is none."""
    handle: object = None
    if request.is_json:
        try:
            payload = request_json()
        except BadJSON:
            payload = None  # the view refuses it, after these limits counted it
        if isinstance(payload, dict):
            handle = payload.get("handle")
    else:
        handle = request.form.get("handle")
    return normal_handle(handle) if isinstance(handle, str) else ""


def _view_arg(name: str) -> str:
    return str((request.view_args or {}).get(name, ""))


def handle_limit_key() -> str:
    """Rate-limit key of the posted handle on this site, hashed."""
    return keyed_digest("handle", f"{_view_arg('site')}\0{submitted_handle()}")


def thread_key() -> str:
    """Rate-limit key of the thread posted to: all its readers share it."""
    return f"thread:{_view_arg('site')}/{_view_arg('key')}"


def _stored(response: Response) -> bool:
    """Count only comments that were stored (published, held or rejected).

    Every attempt counts against the network; a reader whose form bounced (an
    expired token, a body too long) and who sends it again is not charged twice
    on the handle or the thread.
    """
    return response.status_code < 300


_POST_LIMITS = (
    # Shared limits: the embed form and the JSON API count against the same totals.
    limiter.shared_limit(
        lambda: current_app.config["RATELIMIT_POST"],
        scope="post:network",
        key_func=network_key,
        error_message=TOO_FAST,
    ),
    limiter.shared_limit(
        lambda: current_app.config["RATELIMIT_POST_HANDLE"],
        scope="post:handle",
        key_func=handle_limit_key,
        exempt_when=lambda: not submitted_handle(),  # the form check refuses it
        deduct_when=_stored,
        error_message=TOO_FAST,
    ),
    limiter.shared_limit(
        lambda: current_app.config["RATELIMIT_POST_THREAD"],
        scope="post:thread",
        key_func=thread_key,
        deduct_when=_stored,
        error_message=THREAD_BUSY,
    ),
)


def post_limits(view: View) -> View:
    """Apply the per-network, per-handle and per-thread posting limits to a view."""
    limited: Callable[..., Any] = view
    for limit in reversed(_POST_LIMITS):
        limited = limit(limited)
    return cast(View, limited)
