"""Screening workers: claim received comments in batches, screen them, store verdicts.

The comment row is the job. A worker claims a batch by writing a fresh token and a
lease (`claimed_until`) onto `received` rows: on PostgreSQL with
`SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent workers never wait on each other's
rows; on SQLite inside `BEGIN IMMEDIATE`, so two processes cannot claim the same rows.
A verdict is stored only by an UPDATE that still finds the row `received` under the
same token, in one transaction with its scores, rule hits and decision: a worker
killed mid-batch loses nothing (its rows are claimed again once the lease runs out),
and a worker whose lease expired while it was still scoring stores nothing, so no
comment ever gets two verdicts.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    Comment,
    CommentStatus,
    Decision,
    Report,
    RuleHit,
    Score,
    Thread,
    utcnow,
)
from ..screening.base import Action, Draft, Policy
from ..screening.pipeline import Screener, ScreeningFailed, Verdict
from .bans import premoderation
from .comments import announce
from .revisions import bump_threads
from .site_heads import maybe_retrain, site_policy
from .sites import surge_guard

logger = logging.getLogger(__name__)

SCREEN_ACTOR = "screen"

STATUS_FOR_ACTION = {
    Action.PUBLISH: CommentStatus.PUBLISHED,
    Action.HOLD: CommentStatus.HELD,
    Action.REJECT: CommentStatus.REJECTED,
}


def worker_name() -> str:
    """host:pid:thread, stored on each claim so an operator can see who holds it."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_native_id()}"


@dataclass
class Stats:
    """What a worker did: verdicts by status, claims lost to another worker."""

    batches: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def screened(self) -> int:
        return sum(self.verdicts.values())

    def summary(self) -> str:
        """One line for the log and the CLI."""
        elapsed = time.monotonic() - self.started
        rate = self.screened / elapsed if elapsed > 0 else 0.0
        counts = self.verdicts
        return (
            f"screened {self.screened:,} comments in {self.batches:,} batches, "
            f"{elapsed:.1f} s ({rate:.1f}/s): {counts['published']:,} published, "
            f"{counts['held']:,} held, {counts['rejected']:,} rejected; "
            f"{self.lost} claims lost"
        )


def claim(batch_size: int, lease: float, worker: str) -> tuple[str, list[int]]:
    """Claim up to batch_size received comments nobody holds; (token, ids)."""
    token = secrets.token_hex(16)
    now = utcnow()
    claimable = (
        sa.select(Comment.id)
        .where(
            Comment.status == CommentStatus.RECEIVED,
            sa.or_(Comment.claimed_until.is_(None), Comment.claimed_until < now),
        )
        .order_by(Comment.created_at, Comment.id)
        .limit(batch_size)
        # PostgreSQL: rows another worker is claiming are skipped, not waited on.
        .with_for_update(skip_locked=True)
    )
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Take the write lock before reading, so that two processes cannot
            # both read the same unclaimed rows (busy_timeout makes others wait).
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        ids = list(connection.execute(claimable).scalars())
        if ids:
            connection.execute(
                sa.update(Comment)
                .where(Comment.id.in_(ids))
                .values(
                    claim_token=token,
                    claimed_by=worker[:120],
                    claimed_until=now + timedelta(seconds=lease),
                    screen_attempts=Comment.screen_attempts + 1,
                )
            )
        connection.commit()
    return token, ids


def pending() -> int:
    """How many comments still wait for a verdict (claimed or not)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Comment)
            .where(Comment.status == CommentStatus.RECEIVED)
        )
        or 0
    )


def _repeats(comments: Sequence[Comment]) -> set[int]:
    """Ids of the comments whose body is already in their thread, in one query."""
    earlier = db.session.execute(
        sa.select(Comment.thread_id, Comment.fingerprint, sa.func.min(Comment.id))
        .where(
            Comment.thread_id.in_({c.thread_id for c in comments}),
            Comment.fingerprint.in_({c.fingerprint for c in comments}),
        )
        .group_by(Comment.thread_id, Comment.fingerprint)
    )
    first = {(thread, fingerprint): id_ for thread, fingerprint, id_ in earlier}
    return {c.id for c in comments if first[(c.thread_id, c.fingerprint)] < c.id}


def screen_claimed(
    tokens: set[str], ids: Sequence[int], screener: Screener, stats: Stats
) -> None:
    """Screen the comments claimed under `tokens` and store their verdicts."""
    comments = list(
        db.session.scalars(
            sa.select(Comment)
            .where(Comment.id.in_(ids), Comment.claim_token.in_(tokens))
            .options(joinedload(Comment.thread).joinedload(Thread.site))
            .order_by(Comment.id)
        )
    )
    if not comments:
        return
    repeats = _repeats(comments)
    # Thread pre-moderation and handle standing: two queries for the batch.
    premoderate = premoderation(comments)
    touched = {c.thread_id for c in comments}
    by_site: dict[int, list[Comment]] = {}
    for comment in comments:
        by_site.setdefault(comment.thread.site_id, []).append(comment)
    timeout = current_app.config["SCREEN_TIMEOUT"]
    for group in by_site.values():
        policy: Policy = site_policy(group[0].thread.site)
        drafts = [
            Draft(
                c.body,
                c.handle,
                is_repeat=c.id in repeats,
                premoderate=premoderate[c.id][0],
                premoderate_reason=premoderate[c.id][1],
            )
            for c in group
        ]
        try:
            verdicts: list[Verdict | ScreeningFailed] = list(
                screener.screen(drafts, policy, timeout=timeout)
            )
        except ScreeningFailed as error:
            logger.exception("screening failed for comments %s", [c.id for c in group])
            verdicts = [error] * len(group)
        _record(group, verdicts, stats)
    # After the verdicts are stored: a flooded thread holds its next comments.
    surge_guard(touched)


def _record(
    comments: Sequence[Comment],
    verdicts: Sequence[Verdict | ScreeningFailed],
    stats: Stats,
) -> None:
    """Store verdicts, each only if this worker's claim on the comment still holds."""
    now = utcnow()
    groups: dict[tuple[CommentStatus, str | None], list[Comment]] = {}
    for comment, verdict in zip(comments, verdicts, strict=True):
        key: tuple[CommentStatus, str | None]
        if isinstance(verdict, ScreeningFailed):
            key = (CommentStatus.HELD, None)
        else:
            key = (STATUS_FOR_ACTION[verdict.action], verdict.classifier)
        groups.setdefault(key, []).append(comment)
    stored: set[int] = set()
    # One guarded UPDATE per outcome (at most a handful per batch): a row moves only
    # if it is still received under the token this worker claimed it with.
    for (status, classifier), group in groups.items():
        # A held comment waits in the queue from its verdict; one published with
        # open reports (an edit re-screened) stays in the Reported queue as it was.
        queued: object = now if status is CommentStatus.HELD else None
        if status is CommentStatus.PUBLISHED:
            queued = sa.case(
                (
                    sa.exists().where(
                        Report.comment_id == Comment.id, Report.resolved_at.is_(None)
                    ),
                    Comment.queued_at,
                ),
                else_=None,
            )
        moved = db.session.execute(
            sa.update(Comment)
            .where(
                Comment.id.in_([c.id for c in group]),
                Comment.claim_token.in_({c.claim_token for c in group}),
                Comment.status == CommentStatus.RECEIVED,
            )
            .values(
                status=status,
                classifier=classifier,
                screened_at=now,
                updated_at=now,
                queued_at=queued,
                claim_token=None,
                claimed_until=None,
            )
            .returning(Comment.id)
            .execution_options(synchronize_session=False)
        )
        stored.update(moved.scalars())
    rows: dict[type, list[dict[str, object]]] = {Score: [], RuleHit: [], Decision: []}
    for comment, verdict in zip(comments, verdicts, strict=True):
        if comment.id not in stored:
            # The lease ran out and another worker took the comment over.
            stats.lost += 1
            logger.warning("comment %s: claim lost, verdict dropped", comment.id)
            continue
        _rows(comment.id, verdict, rows)
    for model, values in rows.items():
        if values:  # executemany: one round trip per table, not per row
            db.session.execute(sa.insert(model), values)
    # Who listens (mail, webhooks: notify/events.py) adds to this transaction.
    for (status, _), group in groups.items():
        for comment in group:
            if comment.id in stored:
                announce(comment, status, by=None, was=CommentStatus.RECEIVED)
    # Newly published comments change what their threads' readers see.
    bump_threads(
        comment.thread_id
        for (status, _), group in groups.items()
        if status is CommentStatus.PUBLISHED
        for comment in group
        if comment.id in stored
    )
    db.session.commit()
    db.session.expire_all()
    for (status, _), group in groups.items():
        for comment in group:
            if comment.id in stored:
                stats.verdicts[status.value] += 1
                logger.info("comment %s screened: %s", comment.id, status.value)


def _rows(
    comment_id: int,
    verdict: Verdict | ScreeningFailed,
    rows: dict[type, list[dict[str, object]]],
) -> None:
    """Add the score, rule-hit and decision rows of one verdict to `rows`."""
    if isinstance(verdict, ScreeningFailed):
        rows[RuleHit].append(
            {
                "comment_id": comment_id,
                "rule": "screening",
                "action": Action.HOLD.value,
                "reason": str(verdict)[:500],
                "spans": [],
            }
        )
        rows[Decision].append(
            _decision(comment_id, CommentStatus.HELD, "screening failed")
        )
        return
    rows[Score].extend(
        {
            "comment_id": comment_id,
            "classifier": verdict.classifier,
            "version": verdict.classifier_version,
            "label": label,
            "value": value,
        }
        for label, value in verdict.scores.items()
    )
    rows[RuleHit].extend(
        {
            "comment_id": comment_id,
            "rule": hit.rule,
            "action": hit.action.value,
            "reason": hit.reason[:500],
            "spans": [[span.start, span.end, span.text] for span in hit.spans],
        }
        for hit in verdict.hits
    )
    reason = "; ".join(verdict.reasons) or "passed the rules and the classifier"
    rows[Decision].append(
        _decision(comment_id, STATUS_FOR_ACTION[verdict.action], reason)
    )


def _decision(comment_id: int, status: CommentStatus, reason: str) -> dict[str, object]:
    return {
        "comment_id": comment_id,
        "actor": SCREEN_ACTOR,
        "moderator_id": None,
        "from_status": CommentStatus.RECEIVED,
        "to_status": status,
        "reason": reason,
        "created_at": utcnow(),
    }


def run(
    app: Flask,
    *,
    batch_size: int,
    max_wait: float,
    lease: float,
    poll: float = 0.5,
    drain: bool = False,
    stop: threading.Event | None = None,
    wake: threading.Event | None = None,
    on_batch: Callable[[], None] | None = None,
    name: str | None = None,
) -> Stats:
    """Claim and screen batches until stopped (or, with drain, until none are left)."""
    stop = stop or threading.Event()
    wake = wake or threading.Event()
    stats = Stats()
    name = name or worker_name()
    with app.app_context():
        screener: Screener = app.extensions["screener"]
        logger.info("worker %s: %s", name, screener.description)
        while not stop.is_set():
            wake.clear()
            try:
                token, ids = claim(batch_size, lease, name)
                tokens = {token}
                if ids and len(ids) < batch_size and max_wait > 0:
                    # A short batch: give more comments a moment to arrive, so
                    # that the classifier runs on full batches under load.
                    wake.wait(max_wait)
                    token, more = claim(batch_size - len(ids), lease, name)
                    tokens.add(token)
                    ids += more
                if ids:
                    screen_claimed(tokens, ids, screener, stats)
                    stats.batches += 1
                    if on_batch is not None:
                        on_batch()
                    continue
                if drain and pending() == 0:
                    break
                # Idle: the weekly training of sites' own heads (it looks at most
                # hourly, trains one site per call and never raises).
                maybe_retrain(app)
            except Exception:  # the loop must survive a database hiccup
                db.session.rollback()
                logger.exception("worker %s: batch failed; retrying", name)
                stop.wait(max(poll, 1.0))  # a database outage: do not spin
            finally:
                db.session.remove()
            wake.wait(poll)
    logger.info("worker %s stopped: %s", name, stats.summary())
    return stats


class InProcessWorker:
    """The embedded default's worker: a thread in the web process, started on use."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _notify(self) -> None:
        with self._done:
            self._done.notify_all()

    def wake(self) -> None:
        """A comment was stored: start the thread if needed and let it claim now."""
        with self._lock:
            # Started lazily, in the process that serves: safe across gunicorn's fork.
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                config = self.app.config
                self._thread = threading.Thread(
                    target=run,
                    args=(self.app,),
                    kwargs={
                        "batch_size": config["WORKER_BATCH_SIZE"],
                        "max_wait": config["WORKER_MAX_WAIT"],
                        "lease": config["WORKER_LEASE"],
                        "poll": config["WORKER_POLL"],
                        "stop": self._stop,
                        "wake": self._wake,
                        "on_batch": self._notify,
                    },
                    name="screening-worker",
                    daemon=True,
                )
                self._thread.start()
        self._wake.set()

    def wait(self, timeout: float) -> None:
        """Sleep until this process's worker finishes a batch, or timeout."""
        with self._done:
            self._done.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the batch in hand."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
