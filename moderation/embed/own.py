"""A reader's own drafts and comments, inside the iframe: the preview of a draft,
and the comments only their receipts can see (awaiting review, not published)."""

from __future__ import annotations

import contextlib
from http import HTTPStatus

from flask import Response, current_app, make_response, render_template, request
from flask_babel import gettext as _

from ..clients import network_key
from ..errors import InvalidInput, ModerationError
from ..extensions import limiter
from ..models import Comment, CommentStatus
from ..rendering import render_body
from ..services.comments import get_thread, receipt_comment
from .blueprint import bp

# Receipts one request may ask about: a reader's comments on one thread.
MINE_MAX = 20

# What a reader may see of their own comment that the thread does not show.
_OWN_STATUSES = (CommentStatus.RECEIVED, CommentStatus.HELD, CommentStatus.REJECTED)


@bp.post("/<site>/<key>/preview")
@limiter.limit(lambda: current_app.config["RATELIMIT_PREVIEW"], key_func=network_key)
def preview(site: str, key: str) -> Response:
    """A draft's body as the thread would show it (sanitised the same way)."""
    get_thread(site, key)
    body = request.form.get("body", "")
    limit = int(current_app.config["BODY_MAX_LENGTH"])
    if len(body) > limit:
        raise InvalidInput(
            _("Comments have at most %(n)d characters.", n=limit),
            {"body": [_("At most %(n)d characters.", n=limit)]},
        )
    html = render_body(body) if body.strip() else ""
    response = make_response(html or "", HTTPStatus.OK)
    response.mimetype = "text/html"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<site>/<key>/mine")
@limiter.exempt  # a read, answered from the receipts the reader holds
def mine(site: str, key: str) -> Response:
    """The reader's comments on this thread that the thread does not show, from
    their receipts: awaiting review, or not published. Nobody else sees them."""
    thread = get_thread(site, key)
    receipts = request.args.getlist("receipt")[:MINE_MAX]
    comments: list[Comment] = []
    for receipt in receipts:
        with contextlib.suppress(ModerationError):
            comment = receipt_comment(receipt)
            if comment.thread_id == thread.id and comment.status in _OWN_STATUSES:
                comments.append(comment)
    html = render_template("embed/_mine.html", thread=thread, comments=comments)
    response = make_response(html)
    # One reader's own comments: never in a shared cache.
    response.headers["Cache-Control"] = "private, no-store"
    return response
