"""The authorship nudge: before storing a comment the site's screen would hold or
reject for its words, tell the writer once, and let them edit it or post it anyway.

Only where a site turns it on (`Site.nudge`), and only on the embedded form. The
check is the worker's own pipeline (rules, classifier, the site's policy and head)
run on the draft in the request, judged on the writer's words alone: abuse rules
and classifier scores, never links, repeats, spam signals, pre-moderation, surges
or bans. It uses the classifier this process has already loaded, on a small pool
of its own with a short timeout (NUDGE_TIMEOUT): when the classifier is not
loaded, fails, is busy or is slow, the post goes on un-nudged and the reason is
logged. Nothing is stored for a nudged draft.

The nudged page carries a signed acknowledgement naming the thread and a keyed
digest of the draft. A post with a valid one is never nudged again, even if its
text still would be held, and is stored with `Comment.nudge` "unchanged" (the
same text) or "edited". A forged, expired or other thread's acknowledgement
counts as none.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace

from flask import Flask, current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..models import Thread
from ..screening.base import Action, Draft, Policy
from ..screening.pipeline import ABUSE_RULES, Screener, Verdict, judge, screen
from .comments import NewComment
from .site_heads import site_policy

logger = logging.getLogger(__name__)

# Comment.nudge after a nudge: the writer changed the text, or posted it as it was.
EDITED = "edited"
UNCHANGED = "unchanged"
# The form field that carries the acknowledgement.
ACK_FIELD = "nudge_ack"
_SALT = "moderation.nudge"
# Checks running at once in one process: more skip the nudge rather than queue
# behind a stalled classifier (and never delay the worker's own screening pool).
CHECKS_AT_ONCE = 2
# Seconds between asking a process whose classifier is not loaded to load it.
LOAD_RETRY = 60.0


def message() -> str:
    """What the writer of a nudged draft reads in the form's result area."""
    return _(
        "This may break the site's guidelines: edit it, or post it anyway for review."
    )


@dataclass(frozen=True)
class Nudge:
    """What to do with one post: ask first, or store it (recording a past nudge)."""

    # Not empty: ask the writer, carrying this acknowledgement; store nothing.
    ack: str = ""
    # Comment.nudge for the stored comment: None, EDITED or UNCHANGED.
    outcome: str | None = None


def consider(thread: Thread, new: NewComment, raw_ack: str | None) -> Nudge:
    """Whether to nudge this post, or how a post made after a nudge is recorded."""
    shown = read_ack(raw_ack, thread)
    if shown is not None:
        # Once per draft: whatever the text is now, it goes through.
        same = hmac.compare_digest(shown, _digest(new.body))
        return Nudge(outcome=UNCHANGED if same else EDITED)
    if not thread.site.nudge or not thread.is_open:
        return Nudge()
    if not would_hold(thread, new):
        return Nudge()
    logger.info("nudge shown in thread %s", thread.id)
    return Nudge(ack=issue_ack(thread, new.body))


# The acknowledgement ----------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _digest(body: str) -> str:
    """A keyed digest of a draft: the token proves which text was nudged without
    letting anyone who sees it test guesses of that text."""
    key = hashlib.sha256(f"{_SALT}\0{current_app.config['SECRET_KEY']}".encode())
    return hmac.new(key.digest(), body.encode(), hashlib.sha256).hexdigest()[:32]


def issue_ack(thread: Thread, body: str) -> str:
    """A signed acknowledgement that this thread's writer was nudged about `body`."""
    return _serializer().dumps(
        {"s": thread.site.slug, "t": thread.key, "d": _digest(body)}
    )


def read_ack(raw: str | None, thread: Thread) -> str | None:
    """The nudged draft's digest, if `raw` is our unexpired ack for this thread."""
    if not raw:
        return None
    try:
        data = _serializer().loads(
            raw, max_age=current_app.config["FORM_TOKEN_MAX_AGE"]
        )
    except BadSignature:  # forged, altered or expired (SignatureExpired)
        logger.info("nudge ack refused in thread %s: bad or expired", thread.id)
        return None
    if (
        not isinstance(data, dict)
        or data.get("s") != thread.site.slug
        or data.get("t") != thread.key
        or not isinstance(data.get("d"), str)
    ):
        logger.info("nudge ack refused in thread %s: another thread's", thread.id)
        return None
    return str(data["d"])


# The check --------------------------------------------------------------------


def tone_action(verdict: Verdict, policy: Policy) -> Action:
    """What the screen does for the writer's words alone: abuse rules and scores
    under the site's thresholds; links, repeats, spam and pre-moderation left out."""
    hits = [hit for hit in verdict.hits if hit.rule in ABUSE_RULES]
    action, _reasons = judge(hits, verdict.scores, replace(policy, premoderate=False))
    return action


@dataclass
class _Checks:
    """One process's pool for nudge checks, and when it last asked for a load."""

    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(
            max_workers=CHECKS_AT_ONCE, thread_name_prefix="nudge"
        )
    )
    slots: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(CHECKS_AT_ONCE)
    )
    lock: threading.Lock = field(default_factory=threading.Lock)
    load_asked: float | None = None


def _checks(app: Flask) -> _Checks:
    checks = app.extensions.get("nudges")
    if checks is None:
        checks = app.extensions.setdefault("nudges", _Checks())
    return checks


def _ask_to_load(checks: _Checks, screener: Screener) -> None:
    """Start loading the classifier in the background, at most once a minute.

    A web process whose comments are screened by `flask moderation worker`
    processes never loads one otherwise.
    """
    now = time.monotonic()
    with checks.lock:
        if checks.load_asked is not None and now - checks.load_asked < LOAD_RETRY:
            return
        checks.load_asked = now
    screener.preload()


def would_hold(thread: Thread, new: NewComment) -> bool:
    """Whether the site's screen would hold or reject this draft for its words.

    False, logged, whenever the check cannot answer in time: a nudge is a
    courtesy, and never blocks or loses a post.
    """
    checks = _checks(current_app)
    screener: Screener | None = current_app.extensions.get("screener")
    classifier = screener.loaded if screener is not None else None
    if screener is None or classifier is None:
        if screener is not None:
            _ask_to_load(checks, screener)
        logger.info("nudge skipped in thread %s: classifier not loaded", thread.id)
        return False
    if not checks.slots.acquire(blocking=False):
        logger.warning("nudge skipped in thread %s: checks all busy", thread.id)
        return False
    try:
        # The database is read here, in the request's own session.
        policy = replace(site_policy(thread.site), premoderate=False)
        draft = Draft(new.body, new.handle, premoderate=False)
    except Exception:
        checks.slots.release()
        logger.exception("nudge skipped in thread %s: no policy", thread.id)
        return False

    def check() -> Verdict:
        try:
            return screen([draft], policy, classifier)[0]
        finally:
            checks.slots.release()

    timeout = float(current_app.config["NUDGE_TIMEOUT"])
    started = time.monotonic()
    try:
        future = checks.executor.submit(check)
    except RuntimeError:  # the pool was shut down (the process is stopping)
        checks.slots.release()
        logger.warning("nudge skipped in thread %s: pool closed", thread.id)
        return False
    try:
        verdict = future.result(timeout=timeout)
    except FutureTimeout:
        logger.warning(
            "nudge skipped in thread %s: check slower than %g s", thread.id, timeout
        )
        return False
    except Exception:
        logger.exception("nudge skipped in thread %s: check failed", thread.id)
        return False
    action = tone_action(verdict, policy)
    logger.debug(
        "nudge check in thread %s: %s in %.0f ms",
        thread.id,
        action.value,
        (time.monotonic() - started) * 1000,
    )
    return action is not Action.PUBLISH
