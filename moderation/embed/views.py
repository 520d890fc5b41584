"""Readers, inside the publisher's iframe: read a thread, post, reply."""

from __future__ import annotations

import contextlib
from http import HTTPStatus

from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    render_template,
    request,
)

from ..comments import (
    RESPONSE_STATUS,
    get_thread,
    receipt_comment,
    submit_comment,
)
from ..errors import FormExpired, InvalidInput, ModerationError
from ..models import Comment, Thread
from ..ratelimits import post_limits
from ..readers import (
    check_origin,
    frame_ancestors,
    issue_receipt,
    issue_token,
    origin_of,
    read_token,
)
from ..security import embed_csp
from ..shapes import check_comment
from ..threads import comment_tree

bp = Blueprint("embed", __name__, url_prefix="/embed")


_FIELDS = ("handle", "email", "body", "parent_id")


def _parent_origin(thread: Thread) -> str:
    """The embedding page's origin, when it is one the site allows; '' otherwise."""
    claimed = origin_of(request.values.get("origin", ""))
    allowed = {origin_of(o) for o in thread.site.allowed_origins or ()}
    return claimed if claimed in allowed else ""


def _page(
    thread: Thread,
    status: int = HTTPStatus.OK,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    message: str = "",
    receipt: Comment | None = None,
) -> Response:
    reply_to = request.values.get("parent_id") or request.args.get("reply_to") or ""
    html = render_template(
        "embed/thread.html",
        thread=thread,
        tree=comment_tree(thread),
        token=issue_token(thread),
        values=values or {"parent_id": reply_to},
        errors=errors or {},
        message=message,
        receipt=receipt,
        receipt_token=issue_receipt(receipt) if receipt is not None else "",
        parent_origin=_parent_origin(thread),
        limits={
            "body": current_app.config["BODY_MAX_LENGTH"],
            "handle": current_app.config["HANDLE_MAX_LENGTH"],
        },
    )
    response = make_response(html, status)
    response.headers["Content-Security-Policy"] = embed_csp(
        frame_ancestors(thread.site)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<site>/<key>")
def thread_page(site: str, key: str) -> Response:
    """The thread and its comment form, as the iframe shows them."""
    thread = get_thread(site, key)
    receipt = None
    if request.args.get("receipt"):
        # The poster's own view after "being checked": say how it ended.
        with contextlib.suppress(ModerationError):
            receipt = receipt_comment(request.args["receipt"])
        if receipt is not None and receipt.thread_id != thread.id:
            receipt = None
    return _page(thread, receipt=receipt)


@bp.post("/<site>/<key>")
@post_limits
def post_comment(site: str, key: str) -> Response:
    """Accept a reader's comment from the embedded form."""
    thread = get_thread(site, key)
    check_origin(request, thread.site)
    values = {name: request.form.get(name, "") for name in _FIELDS}
    try:
        token = read_token(request.form.get("token"), thread)
        new = check_comment(
            request.form,
            body_max=current_app.config["BODY_MAX_LENGTH"],
            handle_max=current_app.config["HANDLE_MAX_LENGTH"],
            idempotency_key=token.idempotency_key,
        )
    except FormExpired as error:
        # Keep what the reader wrote; the fresh token lets them post it at once.
        return _page(thread, error.status, values=values, message=error.message)
    except InvalidInput as error:
        return _page(
            thread,
            error.status,
            values=values,
            errors=error.fields,
            message=error.message,
        )
    try:
        comment = submit_comment(thread, new)
    except ModerationError as error:  # closed thread, reply to a vanished comment
        return _page(thread, error.status, values=values, message=error.message)
    return _page(thread, RESPONSE_STATUS[comment.status], receipt=comment)
