"""Comment counts for publishers' article lists: one grouped query per request."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from flask import Request

from ..errors import InvalidInput
from ..extensions import db
from ..models import THREAD_KEY_MAX, Comment, CommentStatus, Site, Thread
from ..origins import site_origins

MAX_KEYS = 100  # one page of article teasers; more is a crawl, not a page


def thread_keys(values: Sequence[str]) -> list[str]:
    """The distinct `thread` parameters, in order, or InvalidInput."""
    keys = list(dict.fromkeys(v for v in values if v))
    if not keys:
        raise InvalidInput(
            "Name at least one thread: ?thread=KEY (repeat it for more).",
            {"thread": ["At least one thread key."]},
        )
    if len(keys) > MAX_KEYS:
        raise InvalidInput(
            f"At most {MAX_KEYS} threads per request ({len(keys)} given).",
            {"thread": [f"At most {MAX_KEYS} keys."]},
        )
    if any(len(k) > THREAD_KEY_MAX for k in keys):
        raise InvalidInput(
            f"Thread keys have at most {THREAD_KEY_MAX} characters.",
            {"thread": [f"At most {THREAD_KEY_MAX} characters each."]},
        )
    return keys


def published_counts(site: Site, keys: Sequence[str]) -> dict[str, int]:
    """Published comments per thread key; 0 for keys with no thread (yet)."""
    rows = db.session.execute(
        sa.select(Thread.key, sa.func.count(Comment.id))
        .join(Comment, Comment.thread_id == Thread.id)
        .where(
            Thread.site_id == site.id,
            Thread.key.in_(keys),
            Comment.status == CommentStatus.PUBLISHED,
        )
        .group_by(Thread.key)
    )
    found = {key: int(count) for key, count in rows}
    return {key: found.get(key, 0) for key in keys}


def allowed_cors_origin(request: Request, site: Site) -> str | None:
    """The request's Origin when it is one of the site's; None otherwise."""
    origin = request.headers.get("Origin", "").lower()
    allowed = site_origins(site)
    return origin if origin and origin in allowed else None
