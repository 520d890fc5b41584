"""Moderation JSON API under /api/v1/moderation, for scripts and tools.

Every request carries `Authorization: Bearer TOKEN` (see tokens.py) and acts as
the token's moderator: their role and sites apply exactly as in the UI. No
cookie is read or set, so there is no CSRF to guard against (the blueprint is
exempt); a browser page on another site cannot add the header without CORS.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from ..clients import network_key
from ..errors import InvalidInput, ModerationError, NotFound, Unauthorized
from ..extensions import db, limiter
from ..links import web_url
from ..models import Ban, BanKind, Comment, CommentStatus, Moderator, Site
from ..services.access import require_site
from ..services.api_tokens import authenticate
from ..services.bans import ban, get_ban, lift_ban
from ..services.comments import decide, get_site, keep
from ..services.editorial import feature, unfeature
from ..services.review_queues import QUEUES, Cursor, Filters, queue_page
from ..services.shapes import row_id
from .payloads import json_object

logger = logging.getLogger(__name__)

bp = Blueprint("modapi", __name__, url_prefix="/api/v1/moderation")

# Per token (or per network without one); MODERATION_RATELIMIT_MODERATION_API
# overrides it. Generous for a triage script, a brake on a runaway loop.
DEFAULT_PAGE = 50
MAX_PAGE = 200
MAX_BAN_DAYS = 3650
# API status names -> the queue tabs they read.
QUEUE_NAMES = {
    "held": "held",
    "published": "approved",
    "rejected": "rejected",
    "reported": "reported",
}
ACTIONS = {"approve": CommentStatus.PUBLISHED, "reject": CommentStatus.REJECTED}
REALM = 'Bearer realm="moderation"'


class BadRequest(ModerationError):
    """A body that is not JSON, or not a JSON object."""

    code = "bad_request"


def _limit_key() -> str:
    """The presented token's hash (never the token), else the client's network."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        digest = hashlib.sha256(token.strip().encode()).hexdigest()[:32]
        return f"token:{digest}"
    return network_key()


# Shared: one count per token across every route of the blueprint.
limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_MODERATION_API"],
    key_func=_limit_key,
    scope="moderation-api",
)(bp)


@bp.before_request
def _authenticate() -> None:
    g.api_moderator = authenticate(request.headers.get("Authorization"))


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(Unauthorized)
def _unauthorized(error: Unauthorized) -> ResponseReturnValue:
    # RFC 6750: say which scheme, and that the token (if any) was refused.
    challenge = REALM
    if request.headers.get("Authorization"):
        challenge += ', error="invalid_token"'
    response = jsonify(error=error.code, message=error.message)
    response.headers["WWW-Authenticate"] = challenge
    return response, HTTPStatus.UNAUTHORIZED


def _moderator() -> Moderator:
    moderator: Moderator = g.api_moderator
    return moderator


def _json_object() -> dict[str, Any]:
    """The request's JSON body, which must be an object (400 otherwise)."""
    return json_object(BadRequest)


def _text(payload: dict[str, Any], name: str, limit: int = 1000) -> str:
    value = payload.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} is a string.", {name: ["Must be a string."]})
    if len(value) > limit:
        message = f"{name} has at most {limit:,} characters."
        raise InvalidInput(message, {name: [message]})
    return value.strip()


def _id(raw: str, what: str) -> int:
    found = row_id(raw)
    if found is None:
        raise NotFound(f"No {what} {raw[:20]!r}.")
    return found


def comment_json(comment: Comment) -> dict[str, Any]:
    """A comment as a moderator sees it: text, author, evidence, standing."""
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "site": comment.thread.site.slug,
        "thread": {
            "id": comment.thread.id,
            "key": comment.thread.key,
            "title": comment.thread.title,
            "url": web_url(comment.thread.url) or "",
        },
        "handle": comment.handle,
        # Moderators see it in the UI; the API gives it to the same people.
        "email": comment.email,
        "created_at": comment.created_at.isoformat(),
        "status": comment.status.value,
        "body": comment.body,
        "html": comment.html,
        "classifier": comment.classifier,
        "scores": {score.label: score.value for score in comment.scores},
        "rule_hits": [
            {
                "rule": hit.rule,
                "action": hit.action,
                "reason": hit.reason,
                "spans": [
                    {"start": span[0], "end": span[1], "text": span[2]}
                    for span in hit.spans or []
                ],
            }
            for hit in comment.rule_hits
        ],
        "report_count": comment.report_count,
        "queued_at": _queued_at(comment),
        # Shown in the thread's featured block while it is published.
        "featured_at": (
            comment.featured_at.isoformat() if comment.featured_at else None
        ),
        "staff": comment.staff_id is not None,
    }


def _queued_at(comment: Comment) -> str | None:
    """When it entered the queue it is in (a held import: its screening)."""
    since = comment.queued_at
    if since is None and comment.status is CommentStatus.HELD:
        since = comment.screened_at or comment.created_at
    return since.isoformat() if since is not None else None


def ban_json(entry: Ban) -> dict[str, Any]:
    """A ban as the API answers it."""
    return {
        "id": entry.id,
        "site": entry.site.slug if entry.site is not None else None,
        "kind": entry.kind.value,
        "value": entry.value,
        "reason": entry.reason,
        "created_at": entry.created_at.isoformat(),
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
        "lifted_at": entry.lifted_at.isoformat() if entry.lifted_at else None,
    }


@bp.get("/queue")
def queue() -> ResponseReturnValue:
    """A page of comments in one state, on the token's moderator's sites."""
    moderator = _moderator()
    status = request.args.get("status") or "held"
    if status not in QUEUE_NAMES:
        raise InvalidInput(
            "status is one of held, published, rejected, reported.",
            {"status": [f"Unknown status {status[:40]!r}."]},
        )
    raw_limit = request.args.get("limit") or str(DEFAULT_PAGE)
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAGE:
        raise InvalidInput(
            f"limit is a whole number from 1 to {MAX_PAGE}.",
            {"limit": [f"From 1 to {MAX_PAGE}."]},
        )
    site_id = None
    if slug := request.args.get("site"):
        site = get_site(slug)
        require_site(moderator, site.id)
        site_id = site.id
    cursor = request.args.get("cursor")
    filters = Filters(
        queue=QUEUES[QUEUE_NAMES[status]],
        site=site_id,
        # Held comments oldest first (as the queue works them), the rest newest.
        newest=status != "held",
        # A colleague's claim in the UI does not hide a comment from the API.
        show_claimed=True,
        after=Cursor.decode(cursor) if cursor else None,
    )
    found = queue_page(filters, moderator, size=int(raw_limit))
    return jsonify(
        comments=[comment_json(comment) for comment in found.comments],
        next_cursor=found.next.encode() if found.next else None,
    )


@bp.post("/comments/<comment_id>/decision")
def decision(comment_id: str) -> ResponseReturnValue:
    """Approve, reject or keep a comment: the same Decision and audit rows as the
    UI."""
    moderator = _moderator()
    comment = db.session.get(Comment, _id(comment_id, "comment"))
    if comment is None:
        raise NotFound(f"No comment {comment_id}.")
    require_site(moderator, comment.thread.site_id)
    payload = _json_object()
    action = payload.get("action")
    if action != "keep" and action not in ACTIONS:
        raise InvalidInput(
            'action is "approve", "reject" or "keep".',
            {"action": ['Must be "approve", "reject" or "keep".']},
        )
    expected = None
    if (raw_expected := payload.get("expected")) is not None:
        try:
            expected = CommentStatus(raw_expected)
        except ValueError as error:
            raise InvalidInput(
                "expected is a comment status.", {"expected": ["Unknown status."]}
            ) from error
    reason = _text(payload, "reason")
    if action == "keep":
        # Dismiss the open reports; the comment stays (or is put back) up.
        decided = keep(comment, moderator, reason=reason, expected=expected)
    else:
        decided = decide(
            comment, moderator, ACTIONS[action], reason=reason, expected=expected
        )
    logger.info("API decision on comment %s by moderator %s", decided.id, moderator.id)
    return jsonify(comment_json(decided))


def _comment(comment_id: str, moderator: Moderator) -> Comment:
    """The comment at this id, on one of the moderator's sites (404, 403)."""
    comment = db.session.get(Comment, _id(comment_id, "comment"))
    if comment is None:
        raise NotFound(f"No comment {comment_id}.")
    require_site(moderator, comment.thread.site_id)
    return comment


@bp.post("/comments/<comment_id>/feature")
def feature_comment(comment_id: str) -> ResponseReturnValue:
    """Feature a published comment at the top of its thread; 409 if not published."""
    moderator = _moderator()
    featured = feature(_comment(comment_id, moderator), moderator)
    return jsonify(comment_json(featured))


@bp.delete("/comments/<comment_id>/feature")
def unfeature_comment(comment_id: str) -> ResponseReturnValue:
    """Take a comment out of its thread's featured comments (200 if it was not in)."""
    moderator = _moderator()
    return jsonify(comment_json(unfeature(_comment(comment_id, moderator), moderator)))


def _ban_target(
    payload: dict[str, Any], kind: BanKind, moderator: Moderator
) -> tuple[str, Site | None]:
    """The value to ban and the comment's site, from `value` or `comment_id`."""
    if (raw_id := payload.get("comment_id")) is not None:
        comment_id = row_id(raw_id) if not isinstance(raw_id, str) else None
        if comment_id is None:
            raise InvalidInput(
                "comment_id is a comment's id, a whole number from 1.",
                {"comment_id": ["A whole number from 1."]},
            )
        comment = db.session.get(Comment, comment_id)
        if comment is None:
            raise NotFound(f"No comment {comment_id}.")
        require_site(moderator, comment.thread.site_id)
        # The network key is a keyed hash already: moderators never see an address.
        value = {
            BanKind.HANDLE: comment.handle,
            BanKind.EMAIL: comment.email,
            BanKind.NETWORK: comment.network_key,
        }[kind]
        if not value:
            raise InvalidInput(
                f"Comment {comment.id} has no {kind.value} to ban.",
                {"kind": [f"The comment has no {kind.value}."]},
            )
        return value, comment.thread.site
    value = payload.get("value")
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            "Give the value to ban, or a comment_id to take it from.",
            {"value": ["A string, or send comment_id instead."]},
        )
    return value, None


@bp.post("/bans")
def create_ban() -> ResponseReturnValue:
    """Ban a handle, email or network (from a comment) on a site or every site."""
    moderator = _moderator()
    payload = _json_object()
    try:
        kind = BanKind(payload.get("kind") or "")
    except ValueError as error:
        raise InvalidInput(
            "kind is handle, email or network.",
            {"kind": ["One of handle, email, network."]},
        ) from error
    value, comment_site = _ban_target(payload, kind, moderator)
    raw_site = payload.get("site")
    site: Site | None
    if raw_site == "*":
        site = None  # every site (admins only; the service checks)
    elif isinstance(raw_site, str) and raw_site:
        site = get_site(raw_site)
    elif raw_site is None and comment_site is not None:
        site = comment_site
    else:
        raise InvalidInput(
            'site is a site\'s slug, or "*" for every site.',
            {"site": ['A slug, or "*".']},
        )
    days = payload.get("duration_days")
    if days is not None and (
        isinstance(days, bool)
        or not isinstance(days, int)
        or not 1 <= days <= MAX_BAN_DAYS
    ):
        raise InvalidInput(
            f"duration_days is a whole number from 1 to {MAX_BAN_DAYS}, "
            "or null for a ban until lifted.",
            {"duration_days": [f"From 1 to {MAX_BAN_DAYS}, or null."]},
        )
    entry = ban(
        site,
        kind,
        value,
        moderator=moderator,
        reason=_text(payload, "reason"),
        duration=timedelta(days=days) if days is not None else None,
    )
    return jsonify(ban_json(entry)), HTTPStatus.CREATED


@bp.delete("/bans/<ban_id>")
def delete_ban(ban_id: str) -> ResponseReturnValue:
    """Lift a ban (it is kept, marked lifted); an optional JSON body gives a reason."""
    moderator = _moderator()
    entry = get_ban(_id(ban_id, "ban"))
    reason = ""
    if request.get_data():
        reason = _text(_json_object(), "reason")
    lifted = lift_ban(entry, moderator=moderator, reason=reason)
    return jsonify(ban_json(lifted))
