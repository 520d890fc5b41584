"""Readers' "respect" on a published comment, inside the publisher's iframe.

Each comment carries a small form (templates/embed/_respect.html) that works
without script: it posts here and is sent back to the comment on the thread
(303, so reloading does not press again). reactions.js sends the same form with
fetch and asks for JSON instead, then updates the count in place. The page is
shared by every reader and cached, so it never says whether this reader pressed;
the answer to each press does.
"""

from __future__ import annotations

from http import HTTPStatus

from flask import (
    Response,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter import RequestLimit

from ..clients import network_key
from ..errors import FormExpired, ModerationError
from ..extensions import limiter
from ..models import Thread
from ..origins import check_origin, framed_by_site, parent_origin
from ..services.comments import get_thread
from ..services.reactions import (
    RESPECT_SCOPE,
    respect_limit,
    respectable,
    toggle_respect,
)
from ..services.threads import DEFAULT_SORT, SORTS
from ..signing import issue_token, read_token
from .blueprint import bp
from .reports import reader_args


def _wants_json() -> bool:
    """reactions.js asks for JSON; a plain form post gets pages."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@bp.app_template_global()
def respect_token(thread: Thread) -> str:
    """The thread's signed form token, made once per rendering for all its forms."""
    tokens: dict[int, str] = g.setdefault("respect_tokens", {})
    if thread.id not in tokens:
        tokens[thread.id] = issue_token(thread)
    return tokens[thread.id]


@bp.app_template_global()
def respect_sort() -> str | None:
    """The page's order, to come back to after a press (None: the default).

    Only a known sort: a cached page is keyed by the sort it was read with, and
    must not echo whatever else the URL said.
    """
    sort = request.args.get("sort", "")
    return sort if sort in SORTS and sort != DEFAULT_SORT else None


def _back_url(thread: Thread, comment_id: int) -> str:
    """The thread, opened at the comment (a permalink), as the reader had it."""
    origin = parent_origin(thread.site.allowed_origins or ())
    url = url_for(
        "embed.thread_page",
        site=thread.site.slug,
        key=thread.key,
        sort=respect_sort(),
        comment=comment_id,
        origin=origin or None,
        **reader_args(),
    )
    return f"{url}#comment-{comment_id}"


def _refused(
    thread: Thread, comment_id: int, status: int, code: str, message: str
) -> Response:
    """A refusal: JSON for the script, else a page with a way back to the thread
    that the site may frame."""
    if _wants_json():
        response = make_response(jsonify(error=code, message=message), status)
    else:
        html = render_template(
            "errors/error.html",
            status=status,
            message=message,
            back=_back_url(thread, comment_id),
        )
        response = make_response(html, status)
    return framed_by_site(response, thread.site)


def _too_fast(limit: RequestLimit) -> Response:
    """The limit's breach, answered like every refusal here (errorhandlers'
    rate_limited adds Retry-After)."""
    args = request.view_args or {}
    thread = get_thread(str(args.get("site")), str(args.get("key")))
    message = _("You are pressing Respect too fast; try again later.")
    return _refused(
        thread,
        int(args.get("comment_id") or 0),
        HTTPStatus.TOO_MANY_REQUESTS,
        "too_many_requests",
        message,
    )


respect_limits = limiter.shared_limit(
    respect_limit, scope=RESPECT_SCOPE, key_func=network_key, on_breach=_too_fast
)


@bp.post("/<site>/<key>/comments/<int:comment_id>/respect")
@respect_limits
def respect(site: str, key: str, comment_id: int) -> ResponseReturnValue:
    """Add this reader network's respect to a comment, or withdraw it."""
    thread = get_thread(site, key)
    try:
        check_origin(request, thread.site)
        comment = respectable(comment_id, thread)
        read_token(request.form.get("token"), thread)
    except FormExpired as error:
        message = _("This page has expired; reload it and press Respect again.")
        return _refused(thread, comment_id, error.status, error.code, message)
    except ModerationError as error:  # another page's form, held comment, closed
        return _refused(thread, comment_id, error.status, error.code, error.message)
    outcome = toggle_respect(comment, network_key())
    if _wants_json():
        return jsonify(
            id=outcome.comment_id, count=outcome.count, pressed=outcome.pressed
        )
    return redirect(_back_url(thread, comment_id), HTTPStatus.SEE_OTHER)
