"""Site heads: learn from a site's moderators, validate, switch on, roll back.

Every approve or reject a moderator makes is a labelled example for the comment's
site (rejected 1, published 0; a comment counts once, by its latest moderator
decision). `train_site` embeds the examples with the default classifier's
features, fits a head (screening/adapt.py) on the older 80% and validates it on
the newest 20% against what screens the site now, at the site's toxicity hold
threshold. Only a head at least as good on precision and recall there, and better
on one, is switched on; every attempt is stored as a numbered version with its
figures, and an audit row says who trained, activated or rolled back what.

Moderators mostly decide what the screen held, so the examples lean towards
borderline comments: a head learns most where the default hesitates, and its
validation shares that lean (the calibration page says so too).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np
import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError

from ..errors import InvalidTransition
from ..extensions import db
from ..models import (
    Comment,
    CommentStatus,
    Decision,
    HeadStatus,
    Moderator,
    ScreenHead,
    Site,
    Thread,
    utcnow,
)
from ..screening import adapt
from ..screening.base import DEFAULT_THRESHOLDS, Policy
from .audit import record

logger = logging.getLogger(__name__)

# The newest decisions validate a candidate; the older ones fit it.
VALIDATION_SHARE = 0.2
# Validation needs a few of each kind, or recall and precision are noise.
MIN_VALIDATION_PER_CLASS = 5
# The newest decisions used: embedding 20,000 comments takes about 70 s on 2 cores.
MAX_EXAMPLES = 20_000
FEATURE_BATCH = 64
# A candidate row older than this was left by a training run that died.
TRAINING_LEASE = timedelta(hours=1)
# maybe_retrain looks at the sites at most this often (seconds, per process).
CHECK_EVERY = 3600.0
CACHE_SIZE = 256  # heads kept loaded per process
SCHEDULE_ACTOR = "schedule"
# worker.SCREEN_ACTOR, spelt out: the worker imports this module for the schedule.
SCREEN_ACTOR = "screen"


class FeatureClassifier(Protocol):
    """A classifier that shows its features: what a site head builds on."""

    name: str
    version: str

    def features(self, texts: Sequence[str]) -> np.ndarray: ...

    def score_features(self, features: np.ndarray) -> list[dict[str, float]]: ...


def supports_features(classifier: object) -> bool:
    """True when site heads can build on this classifier."""
    return callable(getattr(classifier, "features", None)) and callable(
        getattr(classifier, "score_features", None)
    )


def describe(classifier: FeatureClassifier) -> str:
    """ "name version": what a head records it was fitted on."""
    return f"{classifier.name} {classifier.version}"


@dataclass(frozen=True)
class Example:
    """One decided comment: its text and what the moderator made of it."""

    comment_id: int
    body: str
    label: int  # 1 rejected, 0 published
    decided_at: datetime


def _labelled(site: Site, since: datetime | None) -> sa.Select:
    """Comment id, body, label status and decision time of the site's examples."""
    latest = (
        sa.select(sa.func.max(Decision.id).label("id"))
        .join(Comment, Comment.id == Decision.comment_id)
        .join(Thread, Thread.id == Comment.thread_id)
        .where(
            Thread.site_id == site.id,
            Decision.moderator_id.is_not(None),
            Decision.actor != SCREEN_ACTOR,
        )
        .group_by(Decision.comment_id)
        .subquery()
    )
    statement = (
        sa.select(Comment.id, Comment.body, Decision.to_status, Decision.created_at)
        .select_from(Decision)
        .join(latest, latest.c.id == Decision.id)
        .join(Comment, Comment.id == Decision.comment_id)
        .where(
            Decision.to_status.in_([CommentStatus.PUBLISHED, CommentStatus.REJECTED]),
            Comment.status != CommentStatus.DELETED,
            # Edited after the decision: the moderator judged another text.
            sa.or_(
                Comment.edited_at.is_(None), Comment.edited_at <= Decision.created_at
            ),
        )
    )
    if since is not None:
        statement = statement.where(Decision.created_at > since)
    return statement


def labelled_examples(
    site: Site, *, since: datetime | None = None, limit: int | None = None
) -> list[Example]:
    """The site's comments whose latest moderator decision published (0) or
    rejected (1) them, oldest decision first; `limit` keeps the newest."""
    statement = _labelled(site, since).order_by(
        Decision.created_at.desc(), Decision.id.desc()
    )
    if limit is not None:
        statement = statement.limit(limit)
    rows = list(db.session.execute(statement))
    rows.reverse()
    return [
        Example(
            comment_id,
            body,
            int(status is CommentStatus.REJECTED),
            decided_at,
        )
        for comment_id, body, status, decided_at in rows
    ]


def count_labelled(site: Site, since: datetime | None = None) -> int:
    """How many labelled examples the site has (decided after `since`)."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count()).select_from(_labelled(site, since).subquery())
        )
        or 0
    )


def hold_threshold(site: Site) -> float:
    """The toxicity score at which the site holds a comment."""
    thresholds = site.hold_thresholds or DEFAULT_THRESHOLDS
    return float(thresholds.get("toxicity", DEFAULT_THRESHOLDS["toxicity"]))


@dataclass(frozen=True)
class Outcome:
    """What a training run did, for the CLI, the schedule and the audit log."""

    site: str
    status: str  # activated, rejected, too-few, busy, unsupported
    message: str
    version: int | None = None
    examples: int = 0
    positives: int = 0
    validation: adapt.Validation | None = None

    @property
    def activated(self) -> bool:
        return self.status == "activated"


def _embed(
    classifier: FeatureClassifier,
    texts: Sequence[str],
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Features in batches of FEATURE_BATCH, and the default's toxicity from them."""
    parts = []
    for start in range(0, len(texts), FEATURE_BATCH):
        batch = texts[start : start + FEATURE_BATCH]
        parts.append(np.asarray(classifier.features(batch)))
        if progress is not None:
            progress(len(batch))
    X = np.vstack(parts).astype(np.float64)
    base = np.asarray(
        [scores["toxicity"] for scores in classifier.score_features(X)],
        dtype=np.float64,
    )
    return X, base


def _active_row(site_id: int) -> ScreenHead | None:
    return db.session.scalar(
        sa.select(ScreenHead)
        .where(ScreenHead.site_id == site_id, ScreenHead.status == HeadStatus.ACTIVE)
        .order_by(ScreenHead.version.desc())
        .limit(1)
    )


def _reserve(
    site: Site, now: datetime, examples: int, positives: int, actor: str
) -> ScreenHead | None:
    """Commit a candidate row with the next version; None if one is in training."""
    training = db.session.scalar(
        sa.select(ScreenHead.id).where(
            ScreenHead.site_id == site.id,
            ScreenHead.status == HeadStatus.CANDIDATE,
            ScreenHead.created_at > now - TRAINING_LEASE,
        )
    )
    if training is not None:
        return None
    latest = db.session.scalar(
        sa.select(sa.func.max(ScreenHead.version)).where(ScreenHead.site_id == site.id)
    )
    row = ScreenHead(
        site_id=site.id,
        version=(latest or 0) + 1,
        created_at=now,
        examples=examples,
        positives=positives,
        metrics={},
        status=HeadStatus.CANDIDATE,
        created_by=actor[:254],
    )
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:  # another process took this version a moment ago
        db.session.rollback()
        return None
    return row


def train_site(
    site: Site,
    classifier: FeatureClassifier,
    now: datetime | None = None,
    *,
    moderator: Moderator | None = None,
    actor: str | None = None,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Fit, validate and store a new head version for the site; switch it on
    only if it beats what screens the site now (see the module's docstring).

    `progress` is told how many comments each embedded batch held.
    """
    now = now or utcnow()
    actor = actor or (moderator.email if moderator is not None else "system")
    if not supports_features(classifier):
        return Outcome(
            site.slug,
            "unsupported",
            f"{getattr(classifier, 'name', classifier)!s} gives no features: site "
            "heads build on the default screen classifier",
        )
    examples = labelled_examples(site, limit=MAX_EXAMPLES)
    labels = np.asarray([e.label for e in examples], dtype=np.int64)
    n_val = round(VALIDATION_SHARE * len(examples))
    fit_labels, val_labels = (
        labels[: len(labels) - n_val],
        labels[len(labels) - n_val :],
    )
    short = _too_few_to_fit(len(examples), fit_labels) or _too_few_to_validate(
        val_labels
    )
    if short is not None:
        return Outcome(
            site.slug,
            "too-few",
            f"not enough decisions to train on: {short}",
            examples=len(examples),
            positives=int(labels.sum()),
        )
    row = _reserve(site, now, len(examples), int(labels.sum()), actor)
    if row is None:
        return Outcome(site.slug, "busy", "a head is being trained for this site now")
    version = row.version
    try:
        started = time.monotonic()
        X, base = _embed(classifier, [e.body for e in examples], progress)
        split = len(examples) - n_val
        candidate = adapt.fit_site_head(
            X[:split], base[:split], fit_labels, seed=seed, base=describe(classifier)
        )
        candidate.version = f"v{version}"
        seconds = time.monotonic() - started
        return _decide(
            site,
            row,
            candidate,
            classifier,
            X[split:],
            base[split:],
            val_labels,
            examples,
            seconds,
            moderator,
            actor,
        )
    except Exception as error:
        db.session.rollback()
        failed = db.session.get(ScreenHead, row.id)
        if failed is not None and failed.status is HeadStatus.CANDIDATE:
            failed.status = HeadStatus.REJECTED
            failed.metrics = {"error": f"{type(error).__name__}: {error}"[:500]}
            db.session.commit()
        logger.exception("site %s: training head v%d failed", site.id, version)
        raise


def _too_few_to_fit(total: int, labels: np.ndarray) -> str | None:
    short = adapt.too_few(labels)
    if short is None:
        return None
    return (
        f"{short} to fit on, after the newest {VALIDATION_SHARE:.0%} of the "
        f"{total:,} are set aside to validate"
    )


def _too_few_to_validate(labels: np.ndarray) -> str | None:
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if min(positives, negatives) < MIN_VALIDATION_PER_CLASS:
        return (
            f"the newest {len(labels):,} decisions (validation) hold {positives:,} "
            f"rejected and {negatives:,} approved, {MIN_VALIDATION_PER_CLASS} of "
            "each needed"
        )
    return None


def _decide(
    site: Site,
    row: ScreenHead,
    candidate: adapt.SiteHead,
    classifier: FeatureClassifier,
    X_val: np.ndarray,
    base_val: np.ndarray,
    y_val: np.ndarray,
    examples: Sequence[Example],
    seconds: float,
    moderator: Moderator | None,
    actor: str,
) -> Outcome:
    """Validate against the head active now (or the default) and store the verdict."""
    active = _active_row(site.id)
    current = None
    against = "the default model"
    if active is not None and active.head:
        loaded = adapt.SiteHead.from_json(active.head, f"v{active.version}")
        if loaded.n_features == X_val.shape[1] and loaded.base == describe(classifier):
            current, against = loaded, f"v{active.version}"
        else:
            against = f"the default model (v{active.version} fits another classifier)"
    threshold = hold_threshold(site)
    check = adapt.validate(candidate, current, X_val, base_val, y_val, threshold)
    row.head = candidate.to_json()
    row.metrics = {
        **check.as_dict(),
        "against": against,
        "fit_examples": len(examples) - len(y_val),
        "validation_examples": len(y_val),
        "classifier": describe(classifier),
        "decided_until": examples[-1].decided_at.isoformat(),
        # Rollback goes back to this one (None: the default model).
        "replaced": active.version if check.accept and active is not None else None,
        "seconds": round(seconds, 1),
    }
    if check.accept:
        if active is not None:
            active.status = HeadStatus.RETIRED
        row.status = HeadStatus.ACTIVE
    else:
        row.status = HeadStatus.REJECTED
    action = "screen_head.activated" if check.accept else "screen_head.rejected"
    record(
        action,
        "screen_head",
        row.id,
        moderator=moderator,
        actor=actor,
        site_id=site.id,
        before={"active": active.version if active is not None else None},
        after={
            "active": row.version
            if check.accept
            else (active.version if active is not None else None),
            "version": row.version,
        },
        reason=f"v{row.version} against {against}: {check.reason}",
    )
    db.session.commit()
    logger.info(
        "site %s: head v%d %s (%s)",
        site.id,
        row.version,
        "activated" if check.accept else "rejected",
        check.reason,
    )
    return Outcome(
        site.slug,
        "activated" if check.accept else "rejected",
        f"v{row.version} {'activated' if check.accept else 'rejected'} against "
        f"{against}: {check.reason}",
        version=row.version,
        examples=row.examples,
        positives=row.positives,
        validation=check,
    )


def rollback(
    site: Site,
    *,
    moderator: Moderator | None = None,
    actor: str | None = None,
    reason: str = "",
) -> ScreenHead | None:
    """Retire the active head and re-activate the one it replaced (None: the
    default model screens the site again). InvalidTransition if none is active."""
    active = _active_row(site.id)
    if active is None:
        raise InvalidTransition(
            f"No site head is active on {site.slug}: the default model screens it."
        )
    replaced = (active.metrics or {}).get("replaced")
    previous = None
    if replaced is not None:
        previous = db.session.scalar(
            sa.select(ScreenHead).where(
                ScreenHead.site_id == site.id,
                ScreenHead.version == int(replaced),
                ScreenHead.status == HeadStatus.RETIRED,
                ScreenHead.head.is_not(None),
            )
        )
    who = actor or (moderator.email if moderator is not None else "system")
    active.status = HeadStatus.RETIRED
    active.metrics = {
        **(active.metrics or {}),
        "rolled_back": {"at": utcnow().isoformat(), "by": who},
    }
    if previous is not None:
        previous.status = HeadStatus.ACTIVE
    record(
        "screen_head.rollback",
        "screen_head",
        active.id,
        moderator=moderator,
        actor=actor,
        site_id=site.id,
        before={"active": active.version},
        after={"active": previous.version if previous is not None else None},
        reason=reason,
    )
    db.session.commit()
    logger.info(
        "site %s: head v%d rolled back to %s",
        site.id,
        active.version,
        f"v{previous.version}" if previous is not None else "the default model",
    )
    return previous


def history(site: Site, limit: int = 20) -> list[ScreenHead]:
    """The site's head versions, newest first."""
    return list(
        db.session.scalars(
            sa.select(ScreenHead)
            .where(ScreenHead.site_id == site.id)
            .order_by(ScreenHead.version.desc())
            .limit(limit)
        )
    )


@dataclass
class _Cache:
    """Loaded heads by (site id, version): one app's, shared by its threads."""

    heads: OrderedDict[tuple[int, int], adapt.SiteHead] = field(
        default_factory=OrderedDict
    )
    lock: threading.Lock = field(default_factory=threading.Lock)
    checked_at: float | None = None


def _cache(app: Flask) -> _Cache:
    cache = app.extensions.get("site_heads")
    if cache is None:
        cache = app.extensions.setdefault("site_heads", _Cache())
    return cache


def site_policy(site: Site) -> Policy:
    """The site's screening settings with its active head: what the screen runs."""
    return replace(site.policy(), adapter=active_head(site))


def active_head(site: Site) -> adapt.SiteHead | None:
    """The site's active head: one small query, the head parsed once per version."""
    found = db.session.execute(
        sa.select(ScreenHead.id, ScreenHead.version)
        .where(ScreenHead.site_id == site.id, ScreenHead.status == HeadStatus.ACTIVE)
        .order_by(ScreenHead.version.desc())
        .limit(1)
    ).first()
    if found is None:
        return None
    head_id, version = found
    cache = _cache(current_app)
    key = (site.id, version)
    with cache.lock:
        head = cache.heads.get(key)
        if head is not None:
            cache.heads.move_to_end(key)
            return head
    text = db.session.scalar(sa.select(ScreenHead.head).where(ScreenHead.id == head_id))
    if not text:
        return None
    head = adapt.SiteHead.from_json(text, f"v{version}")
    with cache.lock:
        cache.heads[key] = head
        while len(cache.heads) > CACHE_SIZE:
            cache.heads.popitem(last=False)
    return head


def _due(site: Site, now: datetime, days: float) -> bool:
    """Last finished head older than `days` (or none), and MIN_EXAMPLES new
    decisions since it."""
    if db.session.scalar(
        sa.select(ScreenHead.id).where(
            ScreenHead.site_id == site.id,
            ScreenHead.status == HeadStatus.CANDIDATE,
            ScreenHead.created_at > now - TRAINING_LEASE,
        )
    ):
        return False  # being trained elsewhere
    last = db.session.scalar(
        sa.select(sa.func.max(ScreenHead.created_at)).where(
            ScreenHead.site_id == site.id,
            ScreenHead.status != HeadStatus.CANDIDATE,
        )
    )
    if last is not None and last > now - timedelta(days=days):
        return False
    return count_labelled(site, since=last) >= adapt.MIN_EXAMPLES


def maybe_retrain(
    app: Flask,
    now: datetime | None = None,
    classifier: FeatureClassifier | None = None,
    *,
    force_check: bool = False,
) -> list[Outcome]:
    """The weekly schedule: train each site whose last head is older than
    SITE_HEAD_RETRAIN_DAYS and that has MIN_EXAMPLES new decisions since.

    Cheap to call often: it looks at most once per CHECK_EVERY seconds per process.
    It trains at most one site per call (embedding 10,000 decisions takes about
    35 s on 2 cores), so a worker that calls it when idle is back at its queue
    after one site. Never raises: a failed training is logged, and stored as a
    rejected version that says why.
    """
    cache = _cache(app)
    clock = time.monotonic()
    with cache.lock:
        if (
            not force_check
            and cache.checked_at is not None
            and clock - cache.checked_at < CHECK_EVERY
        ):
            return []
        cache.checked_at = clock
    outcomes: list[Outcome] = []
    with app.app_context():
        try:
            now = now or utcnow()
            if classifier is None:
                classifier = app.extensions["screener"].classifier()
            if not supports_features(classifier):
                return outcomes
            days = float(app.config["SITE_HEAD_RETRAIN_DAYS"])
            for site in list(db.session.scalars(sa.select(Site).order_by(Site.id))):
                if not _due(site, now, days):
                    continue
                outcome = train_site(site, classifier, now, actor=SCHEDULE_ACTOR)
                logger.info("site %s scheduled training: %s", site.id, outcome.message)
                outcomes.append(outcome)
                if outcome.status in ("activated", "rejected"):
                    # One site's training per call; the next call looks again at
                    # once, and finds the next due site.
                    with cache.lock:
                        cache.checked_at = None
                    break
                # too-few or busy cost a query or two: look at the next site
        except Exception:
            db.session.rollback()
            logger.exception("scheduled site head training failed")
    return outcomes
