"""JSON API under /api/v1, described by openapi.json beside this module."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from ..comments import (
    RESPONSE_STATUS,
    get_thread,
    published_comments,
    receipt_comment,
    submit_comment,
)
from ..errors import InvalidInput
from ..models import Comment, CommentStatus
from ..ratelimits import post_limits
from ..readers import (
    check_origin,
    is_browser,
    issue_receipt,
    issue_token,
    read_token,
)
from ..shapes import check_comment
from ..threads import comment_json

bp = Blueprint("api", __name__, url_prefix="/api/v1")

OPENAPI_PATH = Path(__file__).with_name("openapi.json")

_MESSAGES = {
    CommentStatus.PUBLISHED: "Published.",
    CommentStatus.HELD: "Awaiting moderation.",
    CommentStatus.RECEIVED: "Received; being checked. Poll status_url for the outcome.",
    CommentStatus.REJECTED: "This comment will not be published.",
}


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API."""
    return current_app.response_class(
        OPENAPI_PATH.read_bytes(), mimetype="application/json"
    )


@bp.get("/sites/<site>/threads/<key>")
def thread(site: str, key: str) -> ResponseReturnValue:
    """Describe a thread: title, URL, whether it is open, where its iframe lives."""
    found = get_thread(site, key)
    return jsonify(
        site=found.site.slug,
        key=found.key,
        title=found.title,
        url=found.url,
        open=found.is_open,
        embed_url=url_for(
            "embed.thread_page", site=found.site.slug, key=found.key, _external=True
        ),
        comments_url=url_for("api.comments", site=site, key=key, _external=True),
        # For browser clients posting from the site's own pages.
        form_token=issue_token(found),
    )


@bp.get("/sites/<site>/threads/<key>/comments")
def comments(site: str, key: str) -> ResponseReturnValue:
    """The thread's published comments, oldest first."""
    found = get_thread(site, key)
    timezone = found.site.timezone
    return jsonify(
        comments=[comment_json(c, timezone) for c in published_comments(found)]
    )


@bp.post("/sites/<site>/threads/<key>/comments")
@post_limits
def post_comment(site: str, key: str) -> ResponseReturnValue:
    """Post a comment: 201 published, 202 held or being checked, 200 rejected."""
    found = get_thread(site, key)
    check_origin(request, found.site)
    payload = _json_object()
    idempotency_key = request.headers.get("Idempotency-Key") or None
    if is_browser(request):
        # Browsers are held to a form token; non-browser clients need none.
        token = read_token(
            payload.get("token") or request.headers.get("X-Form-Token"), found
        )
        idempotency_key = token.idempotency_key
    if idempotency_key is not None and len(idempotency_key) > 64:
        raise InvalidInput("Idempotency-Key has at most 64 characters.")
    new = check_comment(
        payload,
        body_max=current_app.config["BODY_MAX_LENGTH"],
        handle_max=current_app.config["HANDLE_MAX_LENGTH"],
        idempotency_key=idempotency_key,
    )
    comment = submit_comment(found, new)
    body = _result(comment)
    # Follow a comment that is still being checked (or held) with its receipt.
    receipt = issue_receipt(comment)
    body["receipt"] = receipt
    body["status_url"] = url_for("api.receipt", receipt=receipt, _external=True)
    return jsonify(body), RESPONSE_STATUS[comment.status]


@bp.get("/receipts/<receipt>")
def receipt(receipt: str) -> ResponseReturnValue:
    """Where a posted comment stands, for whoever holds its receipt."""
    comment = receipt_comment(receipt)
    return jsonify(_result(comment))


def _result(comment: Comment) -> dict[str, object]:
    body: dict[str, object] = {
        "id": comment.id,
        "status": comment.status.value,
        "message": _MESSAGES[comment.status],
    }
    if comment.published:
        body["comment"] = comment_json(comment, comment.thread.site.timezone)
    return body


def _json_object() -> dict[str, object]:
    """The request's JSON body, which must be an object."""
    if not request.is_json:
        raise InvalidInput("Send the comment as JSON (Content-Type: application/json).")
    try:
        payload = json.loads(request.get_data(as_text=True) or "null")
    except ValueError as error:
        raise InvalidInput(f"The body is not valid JSON: {error}.") from error
    if not isinstance(payload, dict):
        raise InvalidInput(
            'The body must be a JSON object: {"handle": ..., "body": ...}.'
        )
    return payload
