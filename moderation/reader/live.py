"""Live threads: tell a reader with the page open that new comments were published.

The page is cached and the same for every reader, so it carries the thread's
revision and published count from when it was rendered (`state_of`). A reader's
script then asks `changed_since(site, key, since)`: the answer comes from the read
cache's revision lookup (no query within READ_LOOKUP_TTL) and a published count
kept per revision in the read cache (one COUNT per revision per cache), never
from a rendering, and nothing is kept per reader.

Waiting is bounded. A request whose revision is current waits up to
LIVE_WAIT_SECONDS for a change, looking every LIVE_CHECK_SECONDS, but only while
fewer than LIVE_MAX_WAITERS requests of this process already wait: each one holds
a gthread worker thread, and a page read must always find one free. Past the cap,
or on a server that is not threaded (gunicorn's sync worker), the answer is
immediate and asks the client to come back in LIVE_POLL_SECONDS: thousands of
readers of one thread degrade to plain polling of a cheap answer
(docs/benchmarks.md, "Live threads").
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace

import sqlalchemy as sa
from flask import current_app

from ..errors import ModerationError, NotFound
from ..extensions import db
from ..models import Comment, CommentStatus, Thread
from . import cache as readcache

logger = logging.getLogger(__name__)

# Revisions and counts are non-negative integers; 18 digits fit every backend.
_NUMBER_DIGITS = 18


class BadLiveParameter(ModerationError):
    """A `since` or `seen` that is not what the page gave the script."""

    code = "invalid_parameter"


@dataclass(frozen=True)
class LiveState:
    """Where a thread stands: its revision and how many comments it publishes."""

    revision: int
    published: int


@dataclass(frozen=True)
class Answer:
    """What the script is told: the state now, and when to ask again."""

    state: LiveState
    retry: float  # seconds before the next question; 0: at once
    waited: bool  # this request held a worker thread while it waited


# One statement, so that the count is the one of the revision it comes with; the
# count is index-only on (thread_id, status, created_at): no comment row is read.
_STATE = sa.select(
    Thread.revision,
    sa.select(sa.func.count(Comment.id))
    .where(
        Comment.thread_id == Thread.id,
        Comment.status == CommentStatus.PUBLISHED,
    )
    .scalar_subquery(),
).where(Thread.id == sa.bindparam("thread_id"))


def parse_number(name: str, raw: str | None) -> int:
    """A whole number from the query string, or BadLiveParameter naming it."""
    raw = raw or ""
    if not raw.isascii() or not raw.isdigit() or len(raw) > _NUMBER_DIGITS:
        raise BadLiveParameter(
            f"'{name}' must be the whole number the thread page gave "
            f"(data-{name} of its live region), not {raw[:40]!r}."
        )
    return int(raw)


def state_at(ref: readcache.ThreadRef) -> LiveState:
    """The thread's revision and published count: from the read cache when
    they were counted at the ref's revision, else counted now."""
    try:
        cached = readcache.cache.get(readcache.key_for("live-count", ref))
    except Exception as error:  # Redis down: count afresh
        logger.warning("live count get failed: %s", type(error).__name__)
        cached = None
    if isinstance(cached, int):
        return LiveState(ref.revision, cached)
    return _count(ref)


def _count(ref: readcache.ThreadRef) -> LiveState:
    """Count now; cached under the revision it was counted at (which may be
    newer than the ref's)."""
    with db.engine.connect() as connection:
        row = connection.execute(_STATE, {"thread_id": ref.thread_id}).one_or_none()
    if row is None:  # deleted since the lookup
        raise NotFound("This thread no longer exists.")
    state = LiveState(int(row[0]), int(row[1]))
    key = readcache.key_for("live-count", replace(ref, revision=state.revision))
    try:
        readcache.cache.set(key, state.published, timeout=readcache.ttl())
    except Exception as error:  # Redis down: count again next time
        logger.warning("live count set failed: %s", type(error).__name__)
    return state


def state_of(thread: Thread) -> LiveState:
    """What a page rendered now says: the revision and count as they are now.

    Counted afresh, not from `thread.revision`: after a post the request's
    thread row is older than the page, which already shows the reader's own
    comment (published by the worker meanwhile). Counted just after the page's
    comments were read, a comment published in between (a few milliseconds of a
    cache miss) is counted but not shown, and so never announced.
    """
    ref = readcache.ThreadRef(thread.id, thread.revision, thread.site.revision, ())
    return _count(ref)


class Waiters:
    """How many requests of this process wait now; at most `limit` at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def enter(self, limit: int) -> bool:
        """Take a place if one is free."""
        with self._lock:
            if self.count >= limit:
                return False
            self.count += 1
            return True

    def leave(self) -> None:
        """Give the place back."""
        with self._lock:
            self.count -= 1


def waiters() -> Waiters:
    """This process's (and app's) waiters."""
    return current_app.extensions.setdefault("live_waiters", Waiters())


def _ref(site: str, key: str) -> readcache.ThreadRef:
    ref = readcache.lookup(site, key)
    if ref is None:
        raise NotFound(f"No thread {key!r} on site {site!r}.")
    return ref


def changed_since(site: str, key: str, since: int, *, may_wait: bool) -> Answer:
    """The thread's state once its revision is past `since`, or when waiting ends.

    Revisions only grow; one below `since` is this process's lookup memo being up
    to READ_LOOKUP_TTL behind the page, and counts as unchanged.
    may_wait: the server runs requests in threads, so waiting holds a thread and
    not a whole process.
    """
    config = current_app.config
    poll = float(config["LIVE_POLL_SECONDS"])
    ref = _ref(site, key)
    if ref.revision > since:
        return Answer(state_at(ref), 0.0, False)
    wait = float(config["LIVE_WAIT_SECONDS"])
    place = waiters()
    if not may_wait or wait <= 0 or not place.enter(int(config["LIVE_MAX_WAITERS"])):
        return Answer(state_at(ref), poll, False)
    try:
        check = max(0.01, float(config["LIVE_CHECK_SECONDS"]))
        deadline = time.monotonic() + wait
        while ref.revision <= since:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            # No connection or session is held while sleeping: lookup() takes
            # one from the pool and gives it back.
            time.sleep(min(check, left))
            ref = _ref(site, key)
    finally:
        place.leave()
    return Answer(state_at(ref), 0.0, True)
