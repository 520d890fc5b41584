"""Threads and sites: open, close and pre-moderate threads, edit a site's settings,
and the surge guard that switches a flooded thread to pre-moderation.

Every change is audited with the state before and after, and bumps the revisions
readers' caches key on when readers could see it (a closed thread's form, a time
zone).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from .. import signals
from ..errors import InvalidInput, NotFound
from ..extensions import changed_one, db
from ..models import Comment, CommentStatus, Moderator, Site, Thread, utcnow
from ..origins import origin_of
from ..screening.base import DEFAULT_THRESHOLDS
from ..screening.rules import fold_phrase
from .audit import record
from .revisions import bump_site, bump_threads

logger = logging.getLogger(__name__)

# A held share says little about a handful of comments.
SURGE_MIN_FOR_RATE = 10
# The settings form, in order: what a site's owner may tune.
SETTINGS = (
    "allowed_origins",
    "timezone",
    "premoderate",
    "nudge",
    "hold_thresholds",
    "reject_threshold",
    "banned_words",
    "suspect_words",
    "link_limit",
    "report_threshold",
    "trust_after",
    "edit_window_minutes",
    "erasure_mode",
    "surge_window_minutes",
    "surge_max_comments",
    "surge_held_rate",
)
# What a reader's erasure request does to their comments (services/erasure.py).
ERASURE_MODES = {
    "redact": "Replace their comments' text with [removed], in place",
    "delete": "Delete their comments from view",
}
# (lowest, highest) for the whole-number settings.
_INT_BOUNDS = {
    "link_limit": (0, 100),
    "report_threshold": (1, 1000),
    "trust_after": (0, 10_000),
    "edit_window_minutes": (0, 24 * 60),
    "surge_window_minutes": (1, 24 * 60),
    "surge_max_comments": (1, 1_000_000),
}
_MAX_WORDS = 2000
# A site's slug, as /embed/<site>/<key> and the API's URLs use it.
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
NAME_MAX = 200


def get_thread_by_id(thread_id: int) -> Thread:
    """The thread with this id, or NotFound."""
    thread = db.session.get(Thread, thread_id)
    if thread is None:
        raise NotFound(f"No thread {thread_id}.")
    return thread


def _thread_json(thread: Thread) -> dict[str, Any]:
    return {
        "is_open": thread.is_open,
        "premoderate": thread.premoderate,
        "surge_at": thread.surge_at.isoformat() if thread.surge_at else None,
    }


def _change_thread(
    thread: Thread,
    action: str,
    moderator: Moderator | None,
    reason: str,
    **values: Any,
) -> Thread:
    """Set thread fields, audit before/after, bump its revision; commits."""
    before = _thread_json(thread)
    for name, value in values.items():
        setattr(thread, name, value)
    after = _thread_json(thread)
    if after == before:
        return thread  # nothing changed: nothing to audit
    record(
        action,
        "thread",
        thread.id,
        moderator=moderator,
        site_id=thread.site_id,
        before=before,
        after=after,
        reason=reason.strip(),
    )
    # The embed shows the form or "Comments are closed": readers see it at once.
    bump_threads([thread.id])
    db.session.commit()
    logger.info(
        "thread %s: %s by %s",
        thread.id,
        action,
        f"moderator {moderator.id}" if moderator else "the system",
    )
    return thread


def close_thread(thread: Thread, *, moderator: Moderator, reason: str = "") -> Thread:
    """Close a thread to new comments."""
    return _change_thread(thread, "thread.closed", moderator, reason, is_open=False)


def reopen_thread(thread: Thread, *, moderator: Moderator, reason: str = "") -> Thread:
    """Open a closed thread again."""
    return _change_thread(thread, "thread.opened", moderator, reason, is_open=True)


def set_thread_premoderate(
    thread: Thread, on: bool, *, moderator: Moderator, reason: str = ""
) -> Thread:
    """Hold (or stop holding) every comment of a thread for review.

    Switching it off also ends a surge: the moderator has looked.
    """
    if on:
        return _change_thread(
            thread, "thread.premoderate", moderator, reason, premoderate=True
        )
    return _change_thread(
        thread,
        "thread.postmoderate",
        moderator,
        reason,
        premoderate=False,
        surge_at=None,
    )


def end_surge(thread: Thread, *, moderator: Moderator, reason: str = "") -> Thread:
    """Switch a surging thread back: no pre-moderation, surge cleared."""
    return _change_thread(
        thread,
        "thread.surge_cleared",
        moderator,
        reason,
        premoderate=False,
        surge_at=None,
    )


# Site settings --------------------------------------------------------------


def settings_of(site: Site) -> dict[str, Any]:
    """A site's settings as JSON values (audit before/after, the form)."""
    return {
        "allowed_origins": list(site.allowed_origins or []),
        "timezone": site.timezone,
        "premoderate": bool(site.premoderate),
        "nudge": bool(site.nudge),
        "hold_thresholds": dict(site.hold_thresholds or DEFAULT_THRESHOLDS),
        "reject_threshold": site.reject_threshold,
        "banned_words": list(site.banned_words or []),
        "suspect_words": list(site.suspect_words or []),
        "link_limit": site.link_limit,
        "report_threshold": site.report_threshold,
        "trust_after": site.trust_after,
        "edit_window_minutes": site.edit_window_minutes,
        "erasure_mode": site.erasure_mode,
        "surge_window_minutes": site.surge_window_minutes,
        "surge_max_comments": site.surge_max_comments,
        "surge_held_rate": site.surge_held_rate,
    }


def form_values(site: Site) -> dict[str, str]:
    """A site's settings as the form's text fields show them."""
    values = settings_of(site)
    text: dict[str, str] = {
        "allowed_origins": "\n".join(values["allowed_origins"]),
        "banned_words": "\n".join(values["banned_words"]),
        "suspect_words": "\n".join(values["suspect_words"]),
        "reject_threshold": (
            ""
            if values["reject_threshold"] is None
            else f"{values['reject_threshold']:g}"
        ),
        "premoderate": "y" if values["premoderate"] else "",
        "nudge": "y" if values["nudge"] else "",
        "surge_held_rate": f"{values['surge_held_rate']:g}",
        "timezone": values["timezone"],
        "erasure_mode": values["erasure_mode"],
    }
    for name in _INT_BOUNDS:
        text[name] = str(values[name])
    for label, value in values["hold_thresholds"].items():
        text[f"hold_{label}"] = f"{value:g}"
    return text


def threshold_labels(site: Site) -> list[str]:
    """The labels the form offers a hold threshold for."""
    labels = list(DEFAULT_THRESHOLDS)
    labels += [label for label in site.hold_thresholds or {} if label not in labels]
    return labels


def _fraction(raw: str, name: str, errors: dict[str, list[str]]) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        errors[name] = ["Enter a number from 0 to 1."]
        return None
    if not math.isfinite(value) or not 0 <= value <= 1:
        errors[name] = ["Enter a number from 0 to 1."]
        return None
    return value


def _words(raw: str, name: str, errors: dict[str, list[str]]) -> list[str]:
    """One word or phrase a line; blank lines dropped, repeats kept once."""
    words: list[str] = []
    seen: set[str] = set()
    for line in raw.splitlines():
        word = " ".join(line.split())
        if not word:
            continue
        if len(word) > 100:
            errors[name] = [f"At most 100 characters a line: {word[:30]!r}…"]
            return []
        if not fold_phrase(word):
            errors[name] = [f"{word!r} has no letters or digits to match."]
            return []
        if word.lower() not in seen:
            seen.add(word.lower())
            words.append(word)
    if len(words) > _MAX_WORDS:
        errors[name] = [f"At most {_MAX_WORDS:,} lines."]
    return words


def _origins(raw: str, errors: dict[str, list[str]]) -> list[str]:
    origins: list[str] = []
    for line in raw.split():
        origin = origin_of(line)
        # Exactly scheme://host[:port]: no path, query, user or wildcard.
        if (
            not origin
            or origin != line.lower().rstrip("/")
            or origin.split("://", 1)[0] not in ("http", "https")
            or "@" in origin
            or "*" in origin
        ):
            errors["allowed_origins"] = [
                f"{line!r} is not an origin: write scheme://host[:port], "
                "like https://news.example.com"
            ]
            return []
        try:  # a port must be a number in range
            urlsplit(origin).port  # noqa: B018 - raises on a bad port
        except ValueError:
            errors["allowed_origins"] = [f"{line!r} has a bad port."]
            return []
        if origin not in origins:
            origins.append(origin)
    return origins


def _zone(zone: str, errors: dict[str, list[str]]) -> str | None:
    try:
        if not zone:
            raise ValueError
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = [
            f"{zone!r} is not a time zone: use a name like Europe/Paris or UTC."
        ]
        return None
    return zone


def parse_settings(site: Site, form: Mapping[str, str]) -> dict[str, Any]:
    """Validate the settings form's text fields; InvalidInput with every error."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}

    def text(name: str) -> str:
        return str(form.get(name, "") or "").strip()

    values["allowed_origins"] = _origins(text("allowed_origins"), errors)
    zone = _zone(text("timezone"), errors)
    if zone is not None:
        values["timezone"] = zone
    values["premoderate"] = text("premoderate") in ("y", "on", "true", "1")
    # The authorship nudge (services/nudges.py).
    values["nudge"] = text("nudge") in ("y", "on", "true", "1")
    thresholds: dict[str, float] = {}
    for label in threshold_labels(site):
        raw = text(f"hold_{label}")
        if raw:
            value = _fraction(raw, f"hold_{label}", errors)
            if value is not None:
                thresholds[label] = value
    values["hold_thresholds"] = thresholds
    reject = text("reject_threshold")
    values["reject_threshold"] = (
        _fraction(reject, "reject_threshold", errors) if reject else None
    )
    values["banned_words"] = _words(text("banned_words"), "banned_words", errors)
    values["suspect_words"] = _words(text("suspect_words"), "suspect_words", errors)
    for name, (low, high) in _INT_BOUNDS.items():
        raw = text(name)
        try:
            number = int(raw)
        except ValueError:
            errors[name] = [f"Enter a whole number from {low:,} to {high:,}."]
            continue
        if not low <= number <= high:
            errors[name] = [f"Enter a whole number from {low:,} to {high:,}."]
            continue
        values[name] = number
    erasure = text("erasure_mode") or site.erasure_mode
    if erasure in ERASURE_MODES:
        values["erasure_mode"] = erasure
    else:
        errors["erasure_mode"] = ["Choose redact or delete."]
    rate = _fraction(text("surge_held_rate"), "surge_held_rate", errors)
    if rate is not None:
        values["surge_held_rate"] = rate
    if errors:
        raise InvalidInput("Some settings need fixing; see the fields marked.", errors)
    return values


def update_settings(
    site: Site, values: Mapping[str, Any], *, moderator: Moderator, reason: str = ""
) -> Site:
    """Store validated settings (see parse_settings), audited before/after; commits."""
    before = settings_of(site)
    for name in SETTINGS:
        if name in values:
            setattr(site, name, values[name])
    after = settings_of(site)
    changed = {name for name in SETTINGS if before[name] != after[name]}
    if not changed:
        return site
    record(
        "site.settings",
        "site",
        site.id,
        moderator=moderator,
        site_id=site.id,
        before={name: before[name] for name in sorted(changed)},
        after={name: after[name] for name in sorted(changed)},
        reason=reason.strip(),
    )
    if "timezone" in changed:
        # Every comment's shown time moves: the site's cached threads are stale.
        bump_site(site.id)
    db.session.commit()
    logger.info(
        "site %s settings changed by moderator %s: %s",
        site.id,
        moderator.id,
        ", ".join(sorted(changed)),
    )
    return site


# New sites ------------------------------------------------------------------


def find_site(slug: str) -> Site | None:
    """The site with this slug, or None."""
    return db.session.scalar(sa.select(Site).filter_by(slug=slug))


def all_sites() -> list[Site]:
    """Every site, by slug (the pickers of admin forms)."""
    return list(db.session.scalars(sa.select(Site).order_by(Site.slug)))


def create_site(
    slug: str,
    name: str,
    origins: str,
    timezone: str,
    *,
    copy_from: Site | None = None,
    moderator: Moderator | None = None,
    actor: str | None = None,
    reason: str = "",
) -> Site:
    """Create a site (audited); its other settings are copied from `copy_from`
    (the defaults without one). `origins` is one origin a line (or space).
    InvalidInput naming every field to fix; commits."""
    slug, name = slug.strip(), " ".join(name.split())
    errors: dict[str, list[str]] = {}
    if not slug:
        errors["slug"] = ["Give the site a slug, like daily-news."]
    elif not SLUG.match(slug):
        errors["slug"] = [
            f"{slug!r} is not a slug: 1 to 64 lower-case letters, digits and "
            "hyphens, starting with a letter or digit (it goes in /embed/SLUG/...)."
        ]
    elif find_site(slug) is not None:
        errors["slug"] = [f"A site called {slug!r} exists already; choose another."]
    if not name:
        errors["name"] = ["Give the site a name, like Daily News."]
    elif len(name) > NAME_MAX:
        errors["name"] = [f"At most {NAME_MAX} characters."]
    allowed = _origins(origins.strip(), errors)
    if not allowed and "allowed_origins" not in errors:
        errors["allowed_origins"] = [
            "Give at least one origin its pages are served from, like "
            "https://news.example.com"
        ]
    zone = _zone(timezone.strip(), errors)
    if errors:
        raise InvalidInput("The new site needs fixing; see the fields marked.", errors)
    site = Site(slug=slug, name=name)
    if copy_from is not None:
        # Everything tunable but where it is embedded and its clock.
        copied = settings_of(copy_from)
        for setting in SETTINGS:
            setattr(site, setting, copied[setting])
    site.allowed_origins = allowed
    site.timezone = zone or "UTC"
    db.session.add(site)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        # Another admin made the same slug a moment ago.
        db.session.rollback()
        raise InvalidInput(
            f"A site called {slug!r} exists already; choose another.",
            {"slug": [f"A site called {slug!r} exists already; choose another."]},
        ) from None
    record(
        "site.created",
        "site",
        site.id,
        moderator=moderator,
        actor=actor,
        site_id=site.id,
        after={
            "slug": slug,
            "name": name,
            "copied_from": copy_from.slug if copy_from is not None else None,
            **settings_of(site),
        },
        reason=reason.strip(),
    )
    db.session.commit()
    logger.info(
        "site %s (%s) created by %s",
        site.id,
        slug,
        f"moderator {moderator.id}" if moderator else actor or "the system",
    )
    return site


# Surge guard ----------------------------------------------------------------


def surge_guard(thread_ids: Iterable[int]) -> list[int]:
    """Switch threads flooded in their site's surge window to pre-moderation.

    Called after each worker batch with the threads it touched: one grouped
    query for all of them. A thread trips once: while its surge_at is set (or a
    moderator pre-moderates it already) it is not looked at. Returns the ids of
    the threads switched; commits when there are any.
    """
    ids = sorted(set(thread_ids))
    if not ids:
        return []
    candidates = db.session.execute(
        sa.select(
            Thread.id,
            Site.surge_window_minutes,
            Site.surge_max_comments,
            Site.surge_held_rate,
        )
        .join(Thread.site)
        .where(
            Thread.id.in_(ids),
            Thread.surge_at.is_(None),
            sa.not_(Thread.premoderate),
        )
    ).all()
    if not candidates:
        return []
    now = utcnow()
    # Sites rarely differ in window: one clause per distinct window, one query.
    by_window: dict[int, list[int]] = {}
    for thread_id, window, _, _ in candidates:
        by_window.setdefault(window, []).append(thread_id)
    held = sa.func.sum(sa.case((Comment.status == CommentStatus.HELD, 1), else_=0))
    screened = sa.func.sum(
        sa.case((Comment.status != CommentStatus.RECEIVED, 1), else_=0)
    )
    counts = {
        thread_id: (total, int(held_count or 0), int(screened_count or 0))
        for thread_id, total, held_count, screened_count in db.session.execute(
            sa.select(Comment.thread_id, sa.func.count(), held, screened)
            .where(
                sa.or_(
                    *(
                        sa.and_(
                            Comment.thread_id.in_(group),
                            Comment.created_at >= now - timedelta(minutes=window),
                        )
                        for window, group in by_window.items()
                    )
                )
            )
            .group_by(Comment.thread_id)
        )
    }
    tripped: list[tuple[int, str]] = []
    for thread_id, window, most, rate in candidates:
        total, held_count, screened_count = counts.get(thread_id, (0, 0, 0))
        if total > most:
            why = f"{total} comments in {window} min (limit {most})"
        elif (
            screened_count >= SURGE_MIN_FOR_RATE and held_count / screened_count > rate
        ):
            why = (
                f"{held_count} of {screened_count} comments held in {window} min "
                f"(above {rate:.0%})"
            )
        else:
            continue
        tripped.append((thread_id, why))
    if not tripped:
        return []
    switched: list[int] = []
    for thread_id, why in tripped:
        # Guarded: of two workers tripping the same thread, one switches it.
        moved = changed_one(
            sa.update(Thread)
            .where(Thread.id == thread_id, Thread.surge_at.is_(None))
            .values(premoderate=True, surge_at=now)
        )
        if not moved:
            continue
        thread = db.session.get(Thread, thread_id)
        site_id = thread.site_id if thread is not None else None
        record(
            "thread.surge",
            "thread",
            thread_id,
            actor="surge guard",
            site_id=site_id,
            before={"premoderate": False, "surge_at": None},
            after={"premoderate": True, "surge_at": now.isoformat()},
            reason=why,
        )
        switched.append(thread_id)
        if thread is not None:
            set_committed_value(thread, "premoderate", True)
            set_committed_value(thread, "surge_at", now)
            signals.thread_surged.send(thread, why=why)  # moderators' alerts
        logger.warning(
            "surge guard: thread %s switched to pre-moderation: %s", thread_id, why
        )
    bump_threads(switched)
    db.session.commit()
    return switched


def surging_threads(moderator: Moderator) -> list[Thread]:
    """Threads the surge guard switched that this moderator works, newest first."""
    statement = (
        sa.select(Thread)
        .where(Thread.surge_at.is_not(None))
        .order_by(Thread.surge_at.desc())
        .limit(20)
    )
    if not moderator.is_admin:
        statement = statement.where(
            Thread.site_id.in_({site.id for site in moderator.sites} or {-1})
        )
    return list(db.session.scalars(statement))


def site_threads(site: Site, limit: int = 200) -> list[Thread]:
    """A site's threads, newest first."""
    return list(
        db.session.scalars(
            sa.select(Thread)
            .where(Thread.site_id == site.id)
            .order_by(Thread.created_at.desc(), Thread.id.desc())
            .limit(limit)
        )
    )
