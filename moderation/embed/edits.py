"""Readers editing or deleting their own comment inside the iframe, by receipt."""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus
from typing import Any

from flask import (
    Response,
    current_app,
    has_request_context,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from ..errors import InvalidInput, ModerationError
from ..models import Comment, Thread
from ..origins import check_origin, framed_by_site, parent_origin
from ..reader.limits import post_limits
from ..rendering import display_time
from ..services.comments import get_thread
from ..services.reader_edits import (
    authored_comment,
    can_still_edit,
    delete_comment,
    edit_comment,
    edit_deadline,
)
from ..services.shapes import check_body
from .blueprint import bp

_COMMENT = "/<site>/<key>/comments/<int:comment_id>"


def _page(
    thread: Thread,
    mode: str,
    status: int = HTTPStatus.OK,
    *,
    comment: Comment | None = None,
    message: str = "",
    errors: dict[str, list[str]] | None = None,
    body: str | None = None,
) -> Response:
    """edit.html in one of its modes: edit, confirm, done, error."""
    html = render_template(
        "embed/edit.html",
        mode=mode,
        thread=thread,
        comment=comment,
        receipt=request.values.get("receipt", ""),
        parent_origin=parent_origin(thread.site.allowed_origins or ()),
        message=message,
        errors=errors or {},
        body=body if body is not None else (comment.body if comment else ""),
        deadline=(
            reader_time(edit_deadline(comment), thread.site.timezone)
            if comment is not None
            else ""
        ),
        body_max=current_app.config["BODY_MAX_LENGTH"],
    )
    response = framed_by_site(make_response(html, status), thread.site)
    # The receipt rides in this page's URL: send it nowhere else.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _refused(thread: Thread, error: ModerationError) -> Response:
    return _page(thread, "error", error.status, message=error.message)


@bp.get(_COMMENT + "/edit")
def edit_page(site: str, key: str, comment_id: int) -> Response:
    """The author's form to edit or delete their comment."""
    thread = get_thread(site, key)
    try:
        comment = authored_comment(thread, comment_id, request.args.get("receipt"))
    except ModerationError as error:
        return _refused(thread, error)
    return _page(thread, "edit", comment=comment)


@bp.post(_COMMENT + "/edit")
@post_limits
def save_edit(site: str, key: str, comment_id: int) -> Response:
    """Store the author's new text and tell them how its screening ended."""
    thread = get_thread(site, key)
    check_origin(request, thread.site)
    try:
        comment = authored_comment(thread, comment_id, request.form.get("receipt"))
    except ModerationError as error:
        return _refused(thread, error)
    try:
        body = check_body(
            request.form.get("body"), current_app.config["BODY_MAX_LENGTH"]
        )
    except InvalidInput as error:
        return _page(
            thread,
            "edit",
            error.status,
            comment=comment,
            message=error.message,
            errors=error.fields,
            body=request.form.get("body", ""),
        )
    if body == comment.body:
        return _page(thread, "edit", comment=comment, message=_("Nothing changed."))
    try:
        comment = edit_comment(comment, body)
    except ModerationError as error:
        return _page(
            thread,
            "edit",
            error.status,
            comment=comment,
            message=error.message,
            body=body,
        )
    return _page(thread, "done", comment=comment)


@bp.post(_COMMENT + "/delete")
def delete(site: str, key: str, comment_id: int) -> Response:
    """Delete the author's comment, after a confirmation step."""
    thread = get_thread(site, key)
    check_origin(request, thread.site)
    try:
        comment = authored_comment(thread, comment_id, request.form.get("receipt"))
        if request.form.get("confirm") != "yes":
            return _page(thread, "confirm", comment=comment)
        comment = delete_comment(comment)
    except ModerationError as error:
        return _refused(thread, error)
    return _page(thread, "done", comment=comment)


bp.add_app_template_global(can_still_edit)
bp.add_app_template_global(edit_deadline)


def reader_time(moment: datetime, timezone: str) -> str:
    """A time as the reader's page writes it: the site's zone, the page's language."""
    locale = get_locale() if has_request_context() else None
    return display_time(moment, timezone, str(locale or "en"))


bp.add_app_template_global(reader_time, "site_time")


@bp.app_template_global()
def edit_url(thread: Thread, comment: Comment, receipt: str, **args: Any) -> str:
    """Where the author edits or deletes `comment` (carries the receipt)."""
    return url_for(
        "embed.edit_page",
        site=thread.site.slug,
        key=thread.key,
        comment_id=comment.id,
        receipt=receipt,
        **args,
    )
