"""Reading the audit log: filters, keyset pages (newest first) and a CSV export."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import AuditEntry, Moderator, Site
from ..services.access import site_ids

PAGE_SIZE = 50
EXPORT_BATCH = 500
CSV_COLUMNS = (
    "id",
    "created_at",
    "actor",
    "action",
    "site",
    "target_type",
    "target_id",
    "before",
    "after",
    "reason",
)
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page and its export show; every field optional."""

    action: str = ""  # exact, or a prefix ending in "." ("comment.")
    actor: str = ""  # an email, or "system"
    site: str = ""  # a site's slug
    target: str = ""  # "comment:12", "comment:" or "12"
    since: date | None = None  # inclusive, UTC
    until: date | None = None  # inclusive, UTC
    errors: dict[str, list[str]] = field(default_factory=dict, compare=False)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AuditFilter:
        """Read the filter from query parameters; a bad date is InvalidInput."""
        errors: dict[str, list[str]] = {}

        def day(name: str) -> date | None:
            raw = (args.get(name) or "").strip()
            if not raw:
                return None
            try:
                return date.fromisoformat(raw)
            except ValueError:
                errors[name] = ["Use a date like 2026-11-26."]
                return None

        found = cls(
            action=(args.get("action") or "").strip()[:40],
            actor=(args.get("actor") or "").strip().lower()[:254],
            site=(args.get("site") or "").strip()[:64],
            target=(args.get("target") or "").strip()[:90],
            since=day("since"),
            until=day("until"),
        )
        if errors:
            raise InvalidInput("Use dates like 2026-11-26 (UTC).", errors)
        return found

    def query_args(self) -> dict[str, str]:
        """The filter as query parameters (for links to the next page, the export)."""
        values = {
            "action": self.action,
            "actor": self.actor,
            "site": self.site,
            "target": self.target,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {key: value for key, value in values.items() if value}


def _statement(viewer: Moderator, wanted: AuditFilter) -> sa.Select:
    statement = sa.select(AuditEntry, Site.slug).outerjoin(
        Site, AuditEntry.site_id == Site.id
    )
    allowed = site_ids(viewer)
    if allowed is not None:
        # Moderators see what happened on their sites; admins see everything.
        statement = statement.where(AuditEntry.site_id.in_(allowed or {-1}))
    if wanted.action.endswith("."):
        statement = statement.where(AuditEntry.action.startswith(wanted.action))
    elif wanted.action:
        statement = statement.where(AuditEntry.action == wanted.action)
    if wanted.actor:
        statement = statement.where(sa.func.lower(AuditEntry.actor) == wanted.actor)
    if wanted.site:
        site_id = db.session.scalar(sa.select(Site.id).filter_by(slug=wanted.site))
        if site_id is None:
            raise NotFound(f"No site called {wanted.site!r}.")
        statement = statement.where(AuditEntry.site_id == site_id)
    if wanted.target:
        kind, colon, ident = wanted.target.partition(":")
        if not colon:
            kind, ident = "", kind
        if kind:
            statement = statement.where(AuditEntry.target_type == kind)
        if ident:
            statement = statement.where(AuditEntry.target_id == ident)
    if wanted.since:
        start = datetime.combine(wanted.since, time.min, tzinfo=UTC)
        statement = statement.where(AuditEntry.created_at >= start)
    if wanted.until:
        end = datetime.combine(wanted.until + timedelta(days=1), time.min, tzinfo=UTC)
        statement = statement.where(AuditEntry.created_at < end)
    return statement.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())


def encode_cursor(entry: AuditEntry) -> str:
    """An opaque cursor just past `entry` (newest first)."""
    raw = f"{entry.created_at.isoformat()}|{entry.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (created_at, id) a cursor points past; InvalidInput when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, number = raw.rpartition("|")
        when = datetime.fromisoformat(stamp)
        if when.tzinfo is None:
            raise ValueError("no zone")
        return when, int(number)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput("That page cursor is not valid.") from error


def _after(statement: sa.Select, cursor: tuple[datetime, int]) -> sa.Select:
    when, number = cursor
    return statement.where(
        sa.or_(
            AuditEntry.created_at < when,
            sa.and_(AuditEntry.created_at == when, AuditEntry.id < number),
        )
    )


@dataclass
class AuditPage:
    rows: list[tuple[AuditEntry, str | None]]  # each entry with its site's slug
    next_cursor: str | None


def page(
    viewer: Moderator,
    wanted: AuditFilter,
    cursor: str | None = None,
    size: int = PAGE_SIZE,
) -> AuditPage:
    """One page of entries, newest first, and the cursor of the next (or None)."""
    statement = _statement(viewer, wanted)
    if cursor:
        statement = _after(statement, decode_cursor(cursor))
    found = db.session.execute(statement.limit(size + 1))
    rows = [(entry, slug) for entry, slug in found]
    more = len(rows) > size
    rows = rows[:size]
    return AuditPage(rows, encode_cursor(rows[-1][0]) if more and rows else None)


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will show as text, never run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _json(value: dict[str, Any] | None) -> str:
    return (
        "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)
    )


def csv_export(viewer: Moderator, wanted: AuditFilter) -> Iterator[str]:
    """The filtered entries as CSV text: a header, then rows read in keyset batches.

    The query is built here, before the first line is asked for, so a bad filter
    is refused with a 4xx rather than breaking a response already under way.
    """
    return _csv_lines(_statement(viewer, wanted))


def _csv_lines(statement: sa.Select) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    cursor: tuple[datetime, int] | None = None
    while True:
        batch = statement if cursor is None else _after(statement, cursor)
        rows = list(db.session.execute(batch.limit(EXPORT_BATCH)))
        for entry, slug in rows:
            writer.writerow(
                [
                    safe_cell(cell)
                    for cell in (
                        entry.id,
                        entry.created_at.isoformat(),
                        entry.actor,
                        entry.action,
                        slug or "",
                        entry.target_type,
                        entry.target_id,
                        _json(entry.before),
                        _json(entry.after),
                        entry.reason,
                    )
                ]
            )
        if rows:
            yield flush()
        if len(rows) < EXPORT_BATCH:
            return
        last = rows[-1][0]
        cursor = (last.created_at, last.id)
