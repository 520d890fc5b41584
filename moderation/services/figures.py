"""The shift dashboard's numbers: grouped in SQL, bounded by a time window.

Hours are grouped in the database (one row per hour and status, not one per
comment), so a busy day of 100k comments costs a few hundred rows on the wire;
Python then adds hours into the window's buckets. SQLite and PostgreSQL spell
"the hour of" and "round down" differently; `_hour` and `_floor` hide that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, aliased

from ..extensions import db
from ..models import Comment, CommentStatus, Decision, Score, Thread

# (span shown, width of one bar): a week of hourly bars is too dense to read.
RANGES: dict[str, tuple[timedelta, timedelta]] = {
    "24h": (timedelta(hours=24), timedelta(hours=1)),
    "7d": (timedelta(days=7), timedelta(hours=6)),
}
HISTOGRAM_BINS = 20
STATUS_ORDER = (
    CommentStatus.PUBLISHED,
    CommentStatus.HELD,
    CommentStatus.REJECTED,
    CommentStatus.RECEIVED,
    CommentStatus.DELETED,
)


@dataclass(frozen=True)
class Window:
    """A time range cut into equal buckets; `end` is the end of the current hour."""

    start: datetime
    end: datetime
    bucket: timedelta

    @classmethod
    def ending(cls, now: datetime, span: timedelta, bucket: timedelta) -> Window:
        """The window of `span` whose last bucket holds `now`."""
        hour = now.replace(minute=0, second=0, microsecond=0)
        end = hour + timedelta(hours=1)
        return cls(end - span, end, bucket)

    @property
    def size(self) -> int:
        return math.ceil((self.end - self.start) / self.bucket)

    @property
    def starts(self) -> list[datetime]:
        return [self.start + i * self.bucket for i in range(self.size)]

    def index(self, moment: datetime) -> int | None:
        """The bucket a moment falls in, or None outside the window."""
        if not self.start <= moment < self.end:
            return None
        return int((moment - self.start) // self.bucket)


@dataclass
class Dashboard:
    """Everything the dashboard page draws, for one window and set of sites."""

    window: Window
    by_status: dict[CommentStatus, list[int]]
    received: list[int]
    held_by_screen: list[int]
    waits: list[float]  # minutes, one per moderator decision in the window
    waits_by_bucket: list[list[float]]
    histogram: list[int]
    label: str
    waiting_now: int
    labels: list[str] = field(default_factory=list)

    @cached_property
    def held_rate(self) -> list[float | None]:
        return [
            held / total if total else None
            for held, total in zip(self.held_by_screen, self.received, strict=True)
        ]

    @cached_property
    def wait_percentiles(self) -> list[tuple[float | None, float | None]]:
        """(median, 90th percentile) minutes in queue, per bucket."""
        return [(percentile(w, 50), percentile(w, 90)) for w in self.waits_by_bucket]

    @property
    def total(self) -> int:
        return sum(self.received)

    @property
    def total_held(self) -> int:
        return sum(self.held_by_screen)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), interpolated between ranks as numpy does."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _hour(column: InstrumentedAttribute[datetime]) -> sa.ColumnElement[Any]:
    """The hour a stored (naive UTC) time falls in, cheap to group by."""
    if _dialect() == "sqlite":
        # Stored as text, 'YYYY-MM-DD HH:MM:SS.ffffff': the first 13 characters
        # name the hour, and cutting text is far cheaper than strftime per row.
        return sa.func.substr(column, 1, 13)
    return sa.func.date_trunc("hour", column)


def _hour_start(value: str | datetime) -> datetime:
    """The aware UTC start of an hour as `_hour` returned it."""
    if isinstance(value, str):
        value = datetime.strptime(value, "%Y-%m-%d %H")
    return value.replace(tzinfo=UTC)


def _floor(expression: sa.ColumnElement[float]) -> sa.ColumnElement[int]:
    """Round a non-negative number down to an integer."""
    if _dialect() == "sqlite":
        # CAST truncates in SQLite (floor() needs the optional math functions).
        return sa.cast(expression, sa.Integer)
    # PostgreSQL's CAST rounds to nearest: floor first.
    return sa.cast(sa.func.floor(expression), sa.Integer)


def on_sites(site_ids: set[int], *, by_index: bool = True) -> sa.ColumnElement[bool]:
    """A condition on Comment: it belongs to one of these sites.

    `by_index=False` keeps SQLite from driving the query from the comments'
    thread index (`thread_id + 0` is not indexed): right when another table is
    the cheaper way in, such as a range of decisions or scores. SQLite's planner
    prefers any usable index; PostgreSQL weighs costs itself, and the expression
    would only hide its statistics, so it is left alone there.
    """
    threads = sa.select(Thread.id).where(Thread.site_id.in_(site_ids or {-1}))
    thread_id: sa.ColumnElement[int] | InstrumentedAttribute[int] = Comment.thread_id
    if not by_index and _dialect() == "sqlite":
        thread_id = thread_id + 0
    return thread_id.in_(threads)


def _in_sites(
    statement: sa.Select, site_ids: set[int] | None, *, by_index: bool = True
) -> sa.Select:
    """Limit a select over comments to some sites; None means every site."""
    if site_ids is None:
        return statement
    return statement.where(on_sites(site_ids, by_index=by_index))


def _in_window(statement: sa.Select, window: Window) -> sa.Select:
    # Naming every status lets both databases range-scan the (status, created_at)
    # index instead of reading the whole table.
    return statement.where(
        Comment.status.in_(list(CommentStatus)),
        Comment.created_at >= window.start,
        Comment.created_at < window.end,
    )


IdRange = tuple[int, int]


def volume(
    window: Window, site_ids: set[int] | None
) -> tuple[dict[CommentStatus, list[int]], IdRange | None]:
    """Comments received in each bucket by their status now; and the lowest and
    highest id among them, which the other queries range-scan by."""
    hour = _hour(Comment.created_at).label("hour")
    statement = _in_window(
        _in_sites(
            sa.select(
                hour,
                Comment.status,
                sa.func.count(),
                sa.func.min(Comment.id),
                sa.func.max(Comment.id),
            ),
            site_ids,
        ),
        window,
    ).group_by(hour, Comment.status)
    counts = {status: [0] * window.size for status in STATUS_ORDER}
    low, high = None, None
    for value, status, count, first, last in db.session.execute(statement):
        index = window.index(_hour_start(value))
        if index is not None:
            counts[status][index] += count
            low = first if low is None else min(low, first)
            high = last if high is None else max(high, last)
    return counts, (low, high) if low is not None and high is not None else None


def comments_by_status(
    window: Window, site_ids: set[int] | None
) -> dict[CommentStatus, list[int]]:
    """Comments received in each bucket, by their status now."""
    return volume(window, site_ids)[0]


def _received_in(
    statement: sa.Select,
    child_id: InstrumentedAttribute[int],
    window: Window,
    site_ids: set[int] | None,
    ids: IdRange,
) -> sa.Select:
    """Rows of a child table (decisions, scores) for comments received in the window.

    The child's comment_id is range-scanned between the window's lowest and
    highest comment ids (in id order, which is storage order) and each comment
    is then checked by primary key: far cheaper than one index probe per comment
    in time order, and still exact, as the range covers every comment received
    in the window.
    """
    return _in_sites(
        statement.join(Comment, Comment.id == child_id).where(
            child_id.between(*ids),
            Comment.created_at >= window.start,
            Comment.created_at < window.end,
        ),
        site_ids,
        by_index=False,
    )


def held_by_screen(
    window: Window, site_ids: set[int] | None, ids: IdRange | None = None
) -> list[int]:
    """Comments received in each bucket that the screen held (whatever came next)."""
    counts = [0] * window.size
    ids = ids or volume(window, site_ids)[1]
    if ids is None:
        return counts
    hour = _hour(Comment.created_at).label("hour")
    statement = (
        _received_in(
            sa.select(
                hour, sa.func.count(sa.distinct(Decision.comment_id))
            ).select_from(Decision),
            Decision.comment_id,
            window,
            site_ids,
            ids,
        )
        .where(
            Decision.moderator_id.is_(None),
            Decision.from_status == CommentStatus.RECEIVED,
            Decision.to_status == CommentStatus.HELD,
        )
        .group_by(hour)
    )
    for value, count in db.session.execute(statement):
        index = window.index(_hour_start(value))
        if index is not None:
            counts[index] += count
    return counts


def queue_waits(
    window: Window, site_ids: set[int] | None
) -> list[tuple[datetime, float]]:
    """(decided at, minutes waited) for each moderator decision in the window on a
    queued comment: from the moment it entered the queue it was decided from (held,
    or reported) to the decision. The queue shows the same wait (queued_at)."""
    held = aliased(Decision)
    # Decisions written before queued_at was kept, and any without it: the
    # latest hold before the decision (a comment reported back into the queue
    # waits from then, not from its first screening).
    held_at = (
        sa.select(sa.func.max(held.created_at))
        .where(
            held.comment_id == Decision.comment_id,
            held.to_status == CommentStatus.HELD,
            held.created_at <= Decision.created_at,
        )
        .scalar_subquery()
    )
    statement = _in_sites(
        sa.select(
            Decision.created_at,
            Decision.queued_at,
            held_at.label("held_at"),
            Comment.screened_at,
            Comment.created_at,
        ).join(Comment, Comment.id == Decision.comment_id),
        site_ids,
        by_index=False,
    ).where(
        Decision.moderator_id.is_not(None),
        sa.or_(
            Decision.queued_at.is_not(None),
            Decision.from_status == CommentStatus.HELD,
        ),
        Decision.created_at >= window.start,
        Decision.created_at < window.end,
    )
    waits = []
    for decided, queued, held_at_value, screened, created in db.session.execute(
        statement
    ):
        start = queued or held_at_value or screened or created
        waits.append((decided, max(0.0, (decided - start).total_seconds() / 60)))
    return waits


def score_histogram(
    window: Window,
    site_ids: set[int] | None,
    label: str,
    ids: IdRange | None = None,
) -> list[int]:
    """Counts of one label's score in HISTOGRAM_BINS equal bins over 0..1, for
    comments received in the window.

    A comment has one score per label: the worker stores one per screening, and
    an edit deletes the old text's scores before the new text is screened.
    """
    bins = HISTOGRAM_BINS
    counts = [0] * bins
    ids = ids or volume(window, site_ids)[1]
    if ids is None:
        return counts
    index = sa.case(
        (Score.value >= 1, bins - 1),
        (Score.value <= 0, 0),
        else_=_floor(Score.value * bins),
    ).label("bin")
    statement = (
        _received_in(
            sa.select(index, sa.func.count()).select_from(Score),
            Score.comment_id,
            window,
            site_ids,
            ids,
        )
        .where(Score.label == label)
        .group_by(index)
    )
    for position, count in db.session.execute(statement):
        counts[min(max(int(position), 0), bins - 1)] += count
    return counts


def score_labels(site_ids: set[int] | None, recent: int = 500) -> list[str]:
    """The labels scored on the most recent comments: what the classifier gives."""
    latest = (
        _in_sites(sa.select(Comment.id), site_ids)
        .order_by(Comment.id.desc())
        .limit(recent)
    )
    statement = sa.select(Score.label).where(Score.comment_id.in_(latest)).distinct()
    return sorted(db.session.scalars(statement))


def waiting_now(site_ids: set[int] | None) -> int:
    """Comments held right now."""
    statement = _in_sites(
        sa.select(sa.func.count()).select_from(Comment), site_ids
    ).where(Comment.status == CommentStatus.HELD)
    return db.session.scalar(statement) or 0


def dashboard(
    window: Window, site_ids: set[int] | None, label: str = "toxicity"
) -> Dashboard:
    """All of the dashboard's numbers for one window and set of sites."""
    by_status, ids = volume(window, site_ids)
    received = [sum(counts) for counts in zip(*by_status.values(), strict=True)]
    waits = queue_waits(window, site_ids)
    waits_by_bucket: list[list[float]] = [[] for _ in range(window.size)]
    for decided, minutes in waits:
        index = window.index(decided)
        if index is not None:
            waits_by_bucket[index].append(minutes)
    return Dashboard(
        window=window,
        by_status=by_status,
        received=received,
        held_by_screen=held_by_screen(window, site_ids, ids),
        waits=[minutes for _, minutes in waits],
        waits_by_bucket=waits_by_bucket,
        histogram=score_histogram(window, site_ids, label, ids),
        label=label,
        waiting_now=waiting_now(site_ids),
        labels=score_labels(site_ids),
    )
