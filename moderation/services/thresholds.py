"""One hold threshold at a time: set from the calibration page, and undone.

The setting itself is written by `sites.update_settings`, the service behind
Sites → Settings, so a change made here is stored and audited exactly as one made
there (`site.settings`, hold thresholds before and after). Undo reads that audit
row back and restores the value it replaced, unless the threshold was changed again
since.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..errors import InvalidTransition, ModerationError, NotFound
from ..extensions import db
from ..models import AuditEntry, Moderator, Site
from .sites import settings_of, update_settings

logger = logging.getLogger(__name__)

SETTINGS_ACTION = "site.settings"
# A threshold changes in hundredths at most; closer than this is the same value.
_SAME = 1e-9
# How far back the page looks for the last change of a label's threshold.
_HISTORY = 200


class BadThreshold(ModerationError):
    """A threshold that is not a number from 0 to 1 (400)."""

    code = "bad_threshold"


@dataclass(frozen=True)
class Change:
    """One audited change of a label's hold threshold (None: no threshold)."""

    entry_id: int
    label: str
    before: float | None
    after: float | None
    actor: str
    created_at: datetime
    reason: str
    # The site's threshold is still `after`: Undo would restore `before`.
    undoable: bool = False


def parse_threshold(raw: object) -> float:
    """A threshold typed by a moderator: a number from 0 to 1, or BadThreshold."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        raise BadThreshold("Enter a threshold: a number from 0 to 1, like 0.65.")
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise BadThreshold(
            f"{text[:20]!r} is not a number: enter a threshold from 0 to 1, like 0.65."
        ) from None
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise BadThreshold(
            f"{text[:20]} is outside 0 to 1: a threshold is a score from 0 to 1."
        )
    return value


def current(site: Site, label: str) -> float | None:
    """The score at which the site holds comments for `label`; None: never."""
    value = settings_of(site)["hold_thresholds"].get(label)
    return float(value) if value is not None else None


def same(a: float | None, b: float | None) -> bool:
    """Two thresholds are the same value (None only equals None)."""
    if a is None or b is None:
        return a is b
    return abs(a - b) < _SAME


def show(value: float | None) -> str:
    """A threshold as the pages write it."""
    return "none" if value is None else f"{value:g}"


def _label_values(entry: AuditEntry, label: str) -> tuple[Any, Any] | None:
    """The label's threshold before and after an audited settings change, or None
    when the change left it alone."""
    before = (entry.before or {}).get("hold_thresholds")
    after = (entry.after or {}).get("hold_thresholds")
    if before is None and after is None:
        return None
    old = (before or {}).get(label)
    new = (after or {}).get(label)
    old = float(old) if old is not None else None
    new = float(new) if new is not None else None
    return None if same(old, new) else (old, new)


def _change(entry: AuditEntry, label: str, now: float | None) -> Change | None:
    values = _label_values(entry, label)
    if values is None:
        return None
    before, after = values
    return Change(
        entry_id=entry.id,
        label=label,
        before=before,
        after=after,
        actor=entry.actor,
        created_at=entry.created_at,
        reason=entry.reason or "",
        undoable=same(now, after),
    )


def _later_change(site: Site, entry_id: int, label: str) -> Change | None:
    """The first audited change of the label's threshold after `entry_id`."""
    later = db.session.scalars(
        sa.select(AuditEntry)
        .where(
            AuditEntry.site_id == site.id,
            AuditEntry.action == SETTINGS_ACTION,
            AuditEntry.id > entry_id,
        )
        .order_by(AuditEntry.id)
    )
    for entry in later:
        change = _change(entry, label, None)
        if change is not None:
            return change
    return None


def last_change(site: Site, label: str) -> Change | None:
    """The latest audited change of the site's hold threshold for `label`."""
    entries = db.session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.site_id == site.id, AuditEntry.action == SETTINGS_ACTION)
        .order_by(AuditEntry.id.desc())
        .limit(_HISTORY)
    )
    now = current(site, label)
    for entry in entries:
        change = _change(entry, label, now)
        if change is not None:
            return change
    return None


def _store(
    site: Site,
    label: str,
    value: float | None,
    *,
    moderator: Moderator,
    reason: str,
) -> Change | None:
    """Write one label's threshold through the settings service; the audit row."""
    thresholds = dict(settings_of(site)["hold_thresholds"])
    if value is None:
        thresholds.pop(label, None)
    else:
        thresholds[label] = value
    newest = _newest_entry_id(site, moderator)
    update_settings(
        site, {"hold_thresholds": thresholds}, moderator=moderator, reason=reason
    )
    entry_id = _newest_entry_id(site, moderator)
    if entry_id is None or entry_id == newest:
        return None
    entry = db.session.get(AuditEntry, entry_id)
    assert entry is not None
    return _change(entry, label, current(site, label))


def _newest_entry_id(site: Site, moderator: Moderator) -> int | None:
    return db.session.scalar(
        sa.select(sa.func.max(AuditEntry.id)).where(
            AuditEntry.site_id == site.id,
            AuditEntry.action == SETTINGS_ACTION,
            AuditEntry.moderator_id == moderator.id,
        )
    )


def apply(
    site: Site,
    label: str,
    value: float,
    *,
    moderator: Moderator,
    expected: float | None,
    reason: str = "",
) -> Change | None:
    """Set the label's hold threshold (admins, from calibration); audited, commits.

    `expected` is the threshold the moderator previewed against: if it changed
    since, nothing is written (InvalidTransition, 409). None when nothing changed.
    """
    before = current(site, label)
    if not same(before, expected):
        raise InvalidTransition(
            f"The {label} threshold of {site.name} is {show(before)} now, not "
            f"{show(expected)} as when you previewed: someone changed it. "
            "Preview again."
        )
    if same(before, value):
        return None
    why = f"calibration: {label} hold threshold {show(before)} → {show(value)}"
    if reason.strip():
        why += f"; {reason.strip()}"
    change = _store(site, label, value, moderator=moderator, reason=why)
    logger.info(
        "site %s %s hold threshold %s -> %s by moderator %s (calibration)",
        site.id,
        label,
        show(before),
        show(value),
        moderator.id,
    )
    return change


def undo(
    site: Site, entry_id: int, label: str, *, moderator: Moderator, reason: str = ""
) -> Change:
    """Restore the label's threshold from before audited change `entry_id`.

    Refused (InvalidTransition, 409) when the threshold was changed again since;
    NotFound when that entry is no change of this label's threshold on this site.
    """
    entry = db.session.get(AuditEntry, entry_id)
    change = (
        _change(entry, label, current(site, label))
        if entry is not None
        and entry.site_id == site.id
        and entry.action == SETTINGS_ACTION
        else None
    )
    if change is None:
        raise NotFound(
            f"There is no change #{entry_id} of the {label} threshold of "
            f"{site.name} to undo."
        )
    later = _later_change(site, entry_id, label)
    if later is not None:
        raise InvalidTransition(
            f"Not undone: the {label} threshold of {site.name} was changed again "
            f"since, to {show(later.after)} by {later.actor} on "
            f"{later.created_at:%Y-%m-%d %H:%M} UTC. Undo that change, or set the "
            "threshold again."
        )
    if not change.undoable:
        raise InvalidTransition(
            f"Not undone: the {label} threshold of {site.name} is "
            f"{show(current(site, label))} now, not {show(change.after)}: it was "
            "changed again since."
        )
    why = (
        f"undo of change #{entry_id}: {label} hold threshold "
        f"{show(change.after)} → {show(change.before)}"
    )
    if reason.strip():
        why += f"; {reason.strip()}"
    restored = _store(site, label, change.before, moderator=moderator, reason=why)
    assert restored is not None  # the values differ, so update_settings audited it
    logger.info(
        "site %s %s hold threshold change %s undone by moderator %s",
        site.id,
        label,
        entry_id,
        moderator.id,
    )
    return restored
