"""The read path's cache: rendered thread pages and their JSON, keyed by revisions.

Every change a reader could see bumps its thread's (or site's) revision in the
same transaction (revisions.py), and the revisions are part of every key here,
so nothing is ever invalidated by hand: a changed thread simply has new keys, and
old entries age out. Before a cache hit the request costs one small query (the
revisions and the site's allowed origins, by site slug and thread key).

SimpleCache (per process) in the embedded default; RedisCache, shared by every web
process, when REDIS_URL is set. A cache that fails (Redis down) is logged and
skipped: readers get a fresh rendering, never an error.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus

import sqlalchemy as sa
from flask import Flask, Response, current_app, request
from flask_caching import Cache

from ..extensions import db
from ..models import Site, Thread

logger = logging.getLogger(__name__)

cache = Cache()

# Part of every key: a change to what an entry holds makes old entries misses.
_FORMAT = "1"

# Shared caches (a CDN) may keep a page 10 s and serve it up to 30 s longer while
# they fetch a fresh one: a thread read by thousands at once costs us one request
# per edge and URL every 10 s, and a removed comment stays visible 40 s at most.
# Browsers (max-age=0) ask every time; with the ETag that is a 304 after one
# small query. The page is the same for every reader (no cookie, one shared form
# token), so "public" is safe; per-reader pages say "no-store" instead.
SHARED_CACHE_CONTROL = "public, max-age=0, s-maxage=10, stale-while-revalidate=30"


def init_app(app: Flask) -> None:
    """Bind the cache: Redis when REDIS_URL is set, else in-process memory."""
    config: dict[str, object] = {
        "CACHE_DEFAULT_TIMEOUT": app.config["READ_CACHE_TTL"],
        "CACHE_KEY_PREFIX": app.config["READ_CACHE_PREFIX"],
    }
    if app.config.get("CACHE_TYPE"):  # chosen outright, e.g. NullCache
        config["CACHE_TYPE"] = app.config["CACHE_TYPE"]
    elif app.config.get("REDIS_URL"):
        config["CACHE_TYPE"] = "RedisCache"
        config["CACHE_REDIS_URL"] = app.config["REDIS_URL"]
        # A hung Redis must not hold every reader: give up quickly, render afresh.
        config["CACHE_OPTIONS"] = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    else:
        config["CACHE_TYPE"] = "SimpleCache"
        config["CACHE_THRESHOLD"] = app.config["READ_CACHE_ENTRIES"]
    cache.init_app(app, config=config)


@dataclass(frozen=True)
class ThreadRef:
    """What the hot path needs before a cache hit: ids, revisions, origins."""

    thread_id: int
    revision: int
    site_revision: int
    allowed_origins: tuple[str, ...]


# Built once and run as plain Core on a pooled connection of its own: on a cache
# hit this query is most of the request's cost, and the ORM session's per-call
# statement building, result processing and teardown would double it.
_LOOKUP = (
    sa.select(Thread.id, Thread.revision, Site.revision, Site.allowed_origins)
    .join(Site, Site.id == Thread.site_id)
    .where(Site.slug == sa.bindparam("site"), Thread.key == sa.bindparam("key"))
)

# Bounds the per-process memo of lookups; it is emptied when it fills.
_MEMO_ENTRIES = 10_000


def lookup(site_slug: str, key: str) -> ThreadRef | None:
    """The thread's revisions and its site's origins: one small indexed query.

    With READ_LOOKUP_TTL > 0 a process reuses a lookup for that many seconds: a
    busy thread's readers then cost no query at all, and a change made anywhere
    reaches this process's readers at most that late (the entries themselves
    are still keyed by revision, so nothing older than the memo is ever served).
    """
    ttl = float(current_app.config["READ_LOOKUP_TTL"])
    memo: dict[tuple[str, str], tuple[float, ThreadRef]] = (
        current_app.extensions.setdefault("readcache_lookups", {})
    )
    now = time.monotonic()
    if ttl > 0:
        remembered = memo.get((site_slug, key))
        if remembered is not None and remembered[0] > now:
            return remembered[1]
    with db.engine.connect() as connection:
        row = connection.execute(_LOOKUP, {"site": site_slug, "key": key}).one_or_none()
    if row is None:
        return None
    ref = ThreadRef(row[0], row[1], row[2], tuple(row[3] or ()))
    if ttl > 0:
        if len(memo) >= _MEMO_ENTRIES:
            memo.clear()
        memo[(site_slug, key)] = (now + ttl, ref)
    return ref


def key_for(kind: str, ref: ThreadRef, *parts: str) -> str:
    """A fixed-length cache key for one rendering of one thread at its revisions."""
    revisions = (str(ref.thread_id), str(ref.revision), str(ref.site_revision))
    text = "\x1f".join((_FORMAT, kind, *revisions, *parts))
    return hashlib.sha256(text.encode()).hexdigest()


def ttl() -> int:
    """Seconds an entry lives: READ_CACHE_TTL, kept well under the form token's life.

    A cached page carries the form token it was rendered with, so an entry (and
    what a CDN or browser keeps of it) must be far younger than the token's
    FORM_TOKEN_MAX_AGE, or readers would be handed forms that are already stale.
    """
    config = current_app.config
    cap = config["FORM_TOKEN_MAX_AGE"] // 10
    return max(1, min(int(config["READ_CACHE_TTL"]), cap))


def serve(
    key: str,
    render: Callable[[], str | bytes],
    mimetype: str,
    headers: Mapping[str, str],
) -> Response:
    """The rendering under `key`, from the cache or made now; 304 when unchanged."""
    entry = _get(key)
    outcome = "hit"
    if entry is None:
        outcome = "miss"
        body = render()
        if isinstance(body, str):
            body = body.encode()
        # The ETag names this rendering, not only the key: a re-rendered entry
        # (after its TTL) carries a fresh form token, and a browser that kept the
        # old page must get the new one rather than a 304.
        etag = hashlib.sha256(f"{key}:{time.time_ns()}".encode()).hexdigest()[:40]
        entry = (etag, body)
        _set(key, entry)
    etag, body = entry
    if request.if_none_match.contains(etag):
        response = current_app.response_class(status=HTTPStatus.NOT_MODIFIED)
    else:
        response = current_app.response_class(body, mimetype=mimetype)
    response.set_etag(etag)  # strong: the bytes are identical for every reader
    response.headers["Cache-Control"] = SHARED_CACHE_CONTROL
    # The locale comes from Accept-Language when the URL names none.
    response.headers["Vary"] = "Accept-Language"
    response.headers["X-Read-Cache"] = outcome
    response.headers.update(headers)
    return response


def _get(key: str) -> tuple[str, bytes] | None:
    try:
        entry = cache.get(key)
    except Exception as error:  # Redis down or unreadable: render afresh
        logger.warning("read cache get failed: %s", type(error).__name__)
        return None
    if (
        isinstance(entry, tuple)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and isinstance(entry[1], bytes)
    ):
        return entry
    return None


def _set(key: str, entry: tuple[str, bytes]) -> None:
    try:
        cache.set(key, entry, timeout=ttl())
    except Exception as error:
        logger.warning("read cache set failed: %s", type(error).__name__)
