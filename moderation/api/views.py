"""JSON API under /api/v1, described by openapi.json beside this module."""

from __future__ import annotations

from dataclasses import replace
from http import HTTPStatus
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from ..clients import network_key
from ..errors import InvalidInput
from ..extensions import db
from ..links import web_url
from ..models import Comment, CommentStatus, Thread
from ..origins import check_origin, is_browser
from ..reader import cache as readcache
from ..reader.counts import allowed_cors_origin, published_counts, thread_keys
from ..reader.fastpath import mark_shared
from ..reader.limits import post_limits
from ..services.comments import (
    RESPONSE_STATUS,
    get_site,
    get_thread,
    receipt_comment,
    submit_comment,
)
from ..services.reports import check_report, report_comment, report_limits, reportable
from ..services.shapes import check_comment
from ..services.threads import BadReadParameter, comment_json, read_page, read_view
from ..signing import form_idempotency_key, issue_receipt, issue_token, read_token
from .payloads import json_object

bp = Blueprint("api", __name__, url_prefix="/api/v1")

OPENAPI_PATH = Path(__file__).with_name("openapi.json")

_MESSAGES = {
    CommentStatus.PUBLISHED: "Published.",
    CommentStatus.HELD: "Awaiting moderation.",
    CommentStatus.RECEIVED: "Received; being checked. Poll status_url for the outcome.",
    CommentStatus.REJECTED: "This comment will not be published.",
    CommentStatus.DELETED: "Deleted by its author.",
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
        url=web_url(found.url) or "",
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
    """A page of top-level comments in the asked order, each followed by its replies.

    ?sort=oldest|newest|replies|liked, ?limit=1..THREAD_PAGE_MAX top-level comments,
    ?after=<cursor> from the previous page's `next`; bad values are a 400.
    Served from the read cache, with an ETag (If-None-Match gets a 304).
    """
    config = current_app.config
    view = read_view(
        request.args,
        config["THREAD_PAGE_SIZE"],
        config["THREAD_PAGE_MAX"],
        strict=True,
    )
    lang = request.args.get("lang")
    if lang is not None and lang not in config["LANGUAGES"]:
        # The document's enum: an API client asking for another is told so.
        raise BadReadParameter(
            f"'lang' is one of {', '.join(config['LANGUAGES'])}, not {lang[:20]!r}."
        )
    ref = readcache.lookup(site, key)
    if ref is None:
        get_thread(site, key)  # raises NotFound with the usual message
        raise AssertionError("lookup() and get_thread() disagree")
    locale = str(get_locale())
    cache_key = readcache.key_for(
        "api-comments",
        ref,
        view.sort,
        str(view.after or ""),
        str(view.limit),
        locale,
        # `next` is an absolute URL: one entry per host name we are reached by.
        request.host_url,
    )

    def render() -> str:
        found = db.session.get(Thread, ref.thread_id)
        assert found is not None  # lookup() just found it
        page = read_page(found, view, locale)
        timezone = found.site.timezone
        following = None
        if page.next is not None:
            following = url_for(
                "api.comments",
                site=site,
                key=key,
                sort=view.sort,
                limit=view.limit,
                after=str(page.next),
                _external=True,
            )
        return current_app.json.dumps(
            {
                "comments": [
                    comment_json(node.comment, timezone, locale) for node in page.flat()
                ],
                "sort": view.sort,
                "total_top_level": page.total_roots,
                "total": page.total_comments,
                "next": following,
            }
        )

    mark_shared(site, key, ref)  # the same request again: from memory
    return readcache.serve(cache_key, render, "application/json", {})


@bp.post("/sites/<site>/threads/<key>/comments")
@post_limits
def post_comment(site: str, key: str) -> ResponseReturnValue:
    """Post a comment: 201 published, 202 held or being checked, 200 rejected."""
    found = get_thread(site, key)
    check_origin(request, found.site)
    payload = _json_object()
    idempotency_key = request.headers.get("Idempotency-Key") or None
    token = None
    if is_browser(request):
        # Browsers are held to a form token; non-browser clients need none.
        token = read_token(_form_token(payload), found)
        idempotency_key = None
    if idempotency_key is not None and len(idempotency_key) > 64:
        raise InvalidInput("Idempotency-Key has at most 64 characters.")
    new = check_comment(
        payload,
        body_max=current_app.config["BODY_MAX_LENGTH"],
        handle_max=current_app.config["HANDLE_MAX_LENGTH"],
        idempotency_key=idempotency_key,
    )
    notify = payload.get("notify_replies", False)
    if not isinstance(notify, bool):
        raise InvalidInput(
            "notify_replies must be true or false.",
            {"notify_replies": ["Must be true or false."]},
        )
    if notify and new.email is None:
        # The same rule and words as the iframe's form.
        message = _("Give your email to get replies by email.")
        raise InvalidInput(message, {"email": [message]})
    new = replace(new, notify_replies=notify)
    if token is not None:
        # A browser's key: its form token with what it posts (signing.py).
        new = replace(
            new,
            idempotency_key=form_idempotency_key(
                token, new.handle, new.body, new.parent_id
            ),
        )
    comment = submit_comment(found, new)
    body = _result(comment)
    # Follow a comment that is still being checked (or held) with its receipt.
    receipt = issue_receipt(comment)
    body["receipt"] = receipt
    body["status_url"] = url_for("api.receipt", receipt=receipt, _external=True)
    return jsonify(body), RESPONSE_STATUS[comment.status]


@bp.get("/sites/<site>/counts")
def counts(site: str) -> ResponseReturnValue:
    """Published comments per thread (?thread=KEY, repeated, at most 100)."""
    found = get_site(site)
    keys = thread_keys(request.args.getlist("thread"))
    response = jsonify(counts=published_counts(found, keys))
    # Read by the publisher's own pages (count.js): CORS for its origins only.
    origin = allowed_cors_origin(request, found)
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
    response.vary.add("Origin")
    # Asked again on every page view (a 304 when nothing changed): a count kept
    # for a minute said "0 comments" above a thread that had two.
    response.headers["Cache-Control"] = "public, no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.post("/sites/<site>/threads/<key>/comments/<int:comment_id>/reports")
@report_limits
def report(site: str, key: str, comment_id: int) -> ResponseReturnValue:
    """Report a published comment: 201 recorded, 409 already reported by you."""
    found = get_thread(site, key)
    check_origin(request, found.site)
    payload = _json_object()
    if is_browser(request):
        read_token(_form_token(payload), found)
    reason, text = check_report(payload)
    comment = reportable(comment_id, found.id)
    report_comment(comment, reason, text, network_key())
    return jsonify(
        status="reported", message="Thank you: the moderators will look at it."
    ), HTTPStatus.CREATED


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
    """The request's JSON body, which must be an object (422 otherwise)."""
    return json_object(InvalidInput, '{"handle": ..., "body": ...}')


def _form_token(payload: dict[str, object]) -> str | None:
    """A browser's form token: the body's `token`, else the X-Form-Token header.
    A token that is not a string counts as none."""
    token = payload.get("token")
    if isinstance(token, str) and token:
        return token
    return request.headers.get("X-Form-Token")
