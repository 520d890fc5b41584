"""Posting rate limits: per client network, per handle and per thread.

The counters live where RATELIMIT_STORAGE_URI points: memory:// in the embedded
default (one process), Redis when MODERATION_REDIS_URL is set, so that every web
process counts against the same totals. No key holds a raw IP address or handle:
both pass through `clients.keyed_digest`, an HMAC keyed with SECRET_KEY.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Response, current_app, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter import RequestLimit

from ..bodies import BadJSON, request_json
from ..clients import keyed_digest, network_key, normal_handle
from ..extensions import limiter

View = TypeVar("View", bound=Callable[..., object])


# What a reader is told on a 429, in their language; the error handler adds
# "try again in N seconds".
def too_fast() -> str:
    return _("You are posting too fast")


def thread_busy() -> str:
    return _("This discussion is receiving too many comments right now")


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


def _post_limits(
    on_breach: Callable[[RequestLimit], Response | None] | None,
) -> tuple[Any, ...]:
    """The three posting limits. They are shared: the embed form and the JSON API
    count against the same totals; only the answer to a breach may differ."""
    return (
        limiter.shared_limit(
            lambda: current_app.config["RATELIMIT_POST"],
            scope="post:network",
            key_func=network_key,
            error_message=too_fast,
            on_breach=on_breach,
        ),
        limiter.shared_limit(
            lambda: current_app.config["RATELIMIT_POST_HANDLE"],
            scope="post:handle",
            key_func=handle_limit_key,
            exempt_when=lambda: not submitted_handle(),  # the form check refuses it
            deduct_when=_stored,
            error_message=too_fast,
            on_breach=on_breach,
        ),
        limiter.shared_limit(
            lambda: current_app.config["RATELIMIT_POST_THREAD"],
            scope="post:thread",
            key_func=thread_key,
            deduct_when=_stored,
            error_message=thread_busy,
            on_breach=on_breach,
        ),
    )


def _apply(limits: tuple[Any, ...], view: View) -> View:
    limited: Callable[..., Any] = view
    for limit in reversed(limits):
        limited = limit(limited)
    return cast(View, limited)


_POST_LIMITS = _post_limits(None)


def post_limits(view: View) -> View:
    """Apply the per-network, per-handle and per-thread posting limits to a view."""
    return _apply(_POST_LIMITS, view)


def post_limits_answering(
    on_breach: Callable[[RequestLimit], Response | None],
) -> Callable[[View], View]:
    """The posting limits, with a breach answered by `on_breach` (the embed form
    answers with the form itself, the reader's text kept)."""
    limits = _post_limits(on_breach)
    return lambda view: _apply(limits, view)


def retry_message(reason: str, seconds: int) -> str:
    """ "<reason>; try again in N seconds.", in the reader's language."""
    return ngettext(
        "%(reason)s; try again in %(num)d second.",
        "%(reason)s; try again in %(num)d seconds.",
        seconds,
        reason=reason,
    )


def seconds_until(reset_at: float | None) -> int:
    """Whole seconds until a limit's window resets (at least 1; 60 unknown)."""
    if reset_at is None:
        return 60  # unknown: a minute is the shortest window we configure
    return max(1, math.ceil(reset_at - time.time()))
