"""The review queue's reads: queues, filters, keyset pages, counts, author history.

Every list is ordered by (created_at, id) and paged by keyset, never OFFSET: a
deep page costs what the first one does. Queues that span several statuses are
read one status at a time (each an ordered walk of ix_comments_status_created)
and merged, because no index orders all statuses together.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..errors import ModerationError
from ..extensions import db
from ..models import (
    Comment,
    CommentStatus,
    Moderator,
    Report,
    RuleHit,
    Score,
    Thread,
    utcnow,
)
from ..screening.base import DEFAULT_THRESHOLDS
from .access import site_ids

PAGE_SIZE = 25
HISTORY_LIMIT = 20


class BadFilter(ModerationError):
    """A queue filter or cursor that does not parse (400)."""

    code = "bad_filter"


@dataclass(frozen=True)
class Queue:
    """A tab of the review queue: which statuses, and any extra condition."""

    name: str
    title: str
    statuses: tuple[CommentStatus, ...]
    reported_only: bool = False


QUEUES: dict[str, Queue] = {
    queue.name: queue
    for queue in (
        Queue("held", "Held", (CommentStatus.HELD,)),
        Queue(
            "reported",
            "Reported",
            (CommentStatus.HELD, CommentStatus.PUBLISHED),
            reported_only=True,
        ),
        Queue("approved", "Approved", (CommentStatus.PUBLISHED,)),
        # Stored, not yet screened: normally seconds; older means workers are down.
        Queue("checking", "Being checked", (CommentStatus.RECEIVED,)),
        Queue("rejected", "Rejected", (CommentStatus.REJECTED,)),
        Queue(
            "all",
            "All",
            (
                CommentStatus.HELD,
                CommentStatus.PUBLISHED,
                CommentStatus.REJECTED,
                CommentStatus.RECEIVED,
                CommentStatus.DELETED,
            ),
        ),
    )
}


@dataclass(frozen=True)
class Cursor:
    """A position in a queue: the (created_at, id) of an item at a page's edge."""

    created_at: datetime
    id: int

    def encode(self) -> str:
        micros = int(self.created_at.timestamp() * 1_000_000)
        return f"{micros}-{self.id}"

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        micros, _, number = raw.partition("-")
        try:
            when = datetime.fromtimestamp(int(micros) / 1_000_000, UTC)
            return cls(when, int(number))
        except (ValueError, OverflowError, OSError) as error:
            raise BadFilter(f"Bad page cursor {raw[:40]!r}.") from error

    @classmethod
    def of(cls, comment: Comment) -> Cursor:
        return cls(comment.created_at, comment.id)


@dataclass(frozen=True)
class Filters:
    """What a moderator narrowed the queue to; parsed from the query string."""

    queue: Queue = QUEUES["held"]
    site: int | None = None
    thread: int | None = None
    label: str | None = None
    min_score: float | None = None
    rule: str | None = None
    handle: str | None = None
    newest: bool = False
    show_claimed: bool = False
    after: Cursor | None = None
    before: Cursor | None = None

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> Filters:
        """Filters from request arguments; BadFilter (400) for any that do not parse."""
        name = args.get("queue") or "held"
        if name not in QUEUES:
            raise BadFilter(f"No queue called {name[:40]!r}.")
        order = args.get("order") or "oldest"
        if order not in ("oldest", "newest"):
            raise BadFilter("Order is 'oldest' or 'newest'.")
        label = (args.get("label") or "").strip() or None
        if label is not None and label not in DEFAULT_THRESHOLDS:
            raise BadFilter(f"No classifier label {label[:40]!r}.")
        min_score = _number(args, "min", float)
        if min_score is not None and not 0 <= min_score <= 1:
            raise BadFilter("A minimum score is between 0 and 1.")
        rule = (args.get("rule") or "").strip() or None
        if rule is not None and len(rule) > 40:
            raise BadFilter("A rule name has at most 40 characters.")
        handle = (args.get("handle") or "").strip() or None
        if handle is not None and len(handle) > 40:
            raise BadFilter("A handle has at most 40 characters.")
        after, before = args.get("after"), args.get("before")
        if after and before:
            raise BadFilter("Page after or before an item, not both.")
        return cls(
            queue=QUEUES[name],
            site=_number(args, "site", int),
            thread=_number(args, "thread", int),
            label=label,
            min_score=min_score,
            rule=rule,
            handle=handle,
            newest=order == "newest",
            show_claimed=args.get("claimed") in ("1", "on", "true"),
            after=Cursor.decode(after) if after else None,
            before=Cursor.decode(before) if before else None,
        )

    def args(self, **changes: Any) -> dict[str, str]:
        """Query-string arguments for these filters (pages left out unless given)."""
        # Built by hand, not with dataclasses.replace: a page asks for this a few
        # times per item (filter links), and replace() is slow enough to show.
        values = {
            "queue": self.queue,
            "site": self.site,
            "thread": self.thread,
            "label": self.label,
            "min": self.min_score,
            "rule": self.rule,
            "handle": self.handle,
            "newest": self.newest,
            "show_claimed": self.show_claimed,
            "after": None,
            "before": None,
            **{("min" if k == "min_score" else k): v for k, v in changes.items()},
        }
        out: dict[str, str] = {"queue": values.pop("queue").name}
        newest, claimed = values.pop("newest"), values.pop("show_claimed")
        after, before = values.pop("after"), values.pop("before")
        out.update({k: str(v) for k, v in values.items() if v is not None})
        if newest:
            out["order"] = "newest"
        if claimed:
            out["claimed"] = "1"
        if after:
            out["after"] = after.encode()
        if before:
            out["before"] = before.encode()
        return out


def _number(args: Mapping[str, str], key: str, kind: type[Any]) -> Any:
    raw = (args.get(key) or "").strip()
    if not raw:
        return None
    try:
        value = kind(raw)
    except ValueError as error:
        raise BadFilter(f"{key} must be a number, not {raw[:40]!r}.") from error
    if kind is int and not 0 < value < 2**63:
        raise BadFilter(f"{key} is out of range.")
    return value


def _conditions(
    filters: Filters, moderator: Moderator, status: CommentStatus
) -> list[sa.ColumnElement[bool]]:
    """Every WHERE condition of one status's walk, the status first."""
    where: list[sa.ColumnElement[bool]] = [Comment.status == status]
    allowed = site_ids(moderator)
    if allowed is not None:
        where.append(Thread.site_id.in_(allowed or {-1}))
    if filters.site is not None:
        where.append(Thread.site_id == filters.site)
    if filters.thread is not None:
        where.append(Comment.thread_id == filters.thread)
    if filters.handle is not None:
        where.append(Comment.handle == filters.handle)
    if filters.queue.reported_only:
        # Comments with reports no moderator has looked at yet (a decision resolves
        # them): the planner starts from the few open reports (ix_reports_open),
        # not from every published row.
        where.append(
            Comment.id.in_(
                sa.select(Report.comment_id).where(Report.resolved_at.is_(None))
            )
        )
    if filters.label is not None:
        floor = (
            filters.min_score
            if filters.min_score is not None
            else DEFAULT_THRESHOLDS[filters.label]
        )
        where.append(
            sa.exists().where(
                Score.comment_id == Comment.id,
                Score.label == filters.label,
                Score.value >= floor,
            )
        )
    if filters.rule is not None:
        where.append(
            sa.exists().where(
                RuleHit.comment_id == Comment.id, RuleHit.rule == filters.rule
            )
        )
    return where


def _from_comments(
    statement: sa.Select, filters: Filters, moderator: Moderator
) -> sa.Select:
    """Join threads only when a site matters: without the join, counts are
    index-only walks of ix_comments_status_created (no table rows read)."""
    if filters.site is None and site_ids(moderator) is None:
        return statement
    return statement.join(Thread, Thread.id == Comment.thread_id)


def _unclaimed(moderator: Moderator, now: datetime) -> sa.ColumnElement[bool]:
    """Not held by another moderator's live claim."""
    return sa.or_(
        Comment.review_moderator_id.is_(None),
        Comment.review_moderator_id == moderator.id,
        Comment.review_until <= now,
    )


@dataclass
class Page:
    """One page of a queue, with cursors for the pages on either side."""

    comments: list[Comment]
    next: Cursor | None = None
    previous: Cursor | None = None
    filters: Filters = field(default_factory=Filters)


def _walk(
    filters: Filters,
    moderator: Moderator,
    status: CommentStatus,
    position: Cursor | None,
    forward: bool,
    limit: int,
    now: datetime,
) -> list[tuple[datetime, int]]:
    """(created_at, id) of up to `limit` items of one status beyond `position`."""
    ascending = forward != filters.newest
    statement = _from_comments(
        sa.select(Comment.created_at, Comment.id), filters, moderator
    ).where(*_conditions(filters, moderator, status))
    if not filters.show_claimed:
        statement = statement.where(_unclaimed(moderator, now))
    if position is not None:
        # Spelled out rather than as a row value: the first condition is a plain
        # range on created_at, which both databases take to the index.
        when, number = position.created_at, position.id
        if ascending:
            statement = statement.where(
                Comment.created_at >= when,
                sa.or_(Comment.created_at > when, Comment.id > number),
            )
        else:
            statement = statement.where(
                Comment.created_at <= when,
                sa.or_(Comment.created_at < when, Comment.id < number),
            )
    if ascending:
        statement = statement.order_by(Comment.created_at, Comment.id)
    else:
        statement = statement.order_by(Comment.created_at.desc(), Comment.id.desc())
    return [(row[0], row[1]) for row in db.session.execute(statement.limit(limit))]


def _keys(
    filters: Filters,
    moderator: Moderator,
    position: Cursor | None,
    forward: bool,
    limit: int,
    now: datetime,
) -> list[tuple[datetime, int]]:
    """The next `limit` keys in display direction, merged across the statuses."""
    walks = [
        _walk(filters, moderator, status, position, forward, limit, now)
        for status in filters.queue.statuses
    ]
    descending = forward == filters.newest
    merged = heapq.merge(*walks, reverse=descending)
    return list(merged)[:limit]


def queue_page(filters: Filters, moderator: Moderator, size: int = PAGE_SIZE) -> Page:
    """One page of the queue the filters describe, for this moderator."""
    now = utcnow()
    if filters.before is not None:
        keys = _keys(filters, moderator, filters.before, False, size + 1, now)
        has_more_back = len(keys) > size
        keys = list(reversed(keys[:size]))
        has_forward = True
    else:
        keys = _keys(filters, moderator, filters.after, True, size + 1, now)
        has_forward = len(keys) > size
        keys = keys[:size]
        has_more_back = filters.after is not None and bool(
            _keys(
                filters,
                moderator,
                Cursor(*keys[0]) if keys else filters.after,
                False,
                1,
                now,
            )
        )
    comments = _load([key[1] for key in keys])
    page = Page(comments, filters=filters)
    if keys and has_forward:
        page.next = Cursor(*keys[-1])
    if keys and has_more_back:
        page.previous = Cursor(*keys[0])
    return page


def _load(ids: Sequence[int]) -> list[Comment]:
    """The comments with these ids, in this order, with what the list shows."""
    if not ids:
        return []
    found = db.session.scalars(
        sa.select(Comment)
        .where(Comment.id.in_(ids))
        .options(
            selectinload(Comment.scores),
            selectinload(Comment.rule_hits),
            selectinload(Comment.review_moderator),
            selectinload(Comment.thread).selectinload(Thread.site),
        )
    ).all()
    by_id = {comment.id: comment for comment in found}
    return [by_id[i] for i in ids if i in by_id]


@dataclass(frozen=True)
class Count:
    """How many items a queue holds, exact up to `cap` (QUEUE_COUNT_CAP)."""

    value: int
    capped: bool

    @property
    def label(self) -> str:
        return f"{self.value:,}+" if self.capped else f"{self.value:,}"

    def as_json(self) -> dict[str, object]:
        return {"count": self.value, "capped": self.capped, "label": self.label}


def _status_count(
    filters: Filters, moderator: Moderator, status: CommentStatus, cap: int
) -> int:
    """Rows of one status under the filters, counted up to cap + 1."""
    # LIMIT inside: the database stops walking the index at the cap.
    inner = (
        _from_comments(sa.select(Comment.id), filters, moderator)
        .where(*_conditions(filters, moderator, status))
        .limit(cap + 1)
        .subquery()
    )
    return db.session.scalar(sa.select(sa.func.count()).select_from(inner)) or 0


def count(filters: Filters, moderator: Moderator, cap: int) -> Count:
    """Items in the filtered queue, claimed ones included; at most `cap`, then "+"."""
    total = 0
    for status in filters.queue.statuses:
        total += _status_count(filters, moderator, status, cap - total)
        if total > cap:
            return Count(cap, True)
    return Count(total, False)


def counts(filters: Filters, moderator: Moderator, cap: int) -> dict[str, Count]:
    """Each queue's count under the same filters (the tabs' numbers)."""
    # One capped walk per status, shared: All is the sum of the single-status tabs
    # and two more, so it costs two small walks rather than five.
    plain = replace(filters, queue=QUEUES["all"])
    per_status = {
        status: _status_count(plain, moderator, status, cap)
        for status in QUEUES["all"].statuses
    }
    found: dict[str, Count] = {}
    for name, queue in QUEUES.items():
        if queue.reported_only:
            found[name] = count(replace(filters, queue=queue), moderator, cap)
            continue
        total = sum(per_status[status] for status in queue.statuses)
        found[name] = Count(cap, True) if total > cap else Count(total, False)
    return found


@dataclass
class History:
    """An author's other comments by one key (handle, email or network)."""

    key: str
    comments: list[Comment]
    more: bool


def author_history(
    comment: Comment, moderator: Moderator, limit: int = HISTORY_LIMIT
) -> list[History]:
    """The latest comments by the same handle, email and network, newest first.

    The handle is matched by its key: "Sneaky S" and "SneakyS" are one history.
    """
    keys: list[tuple[str, Any, str]] = (
        [("handle", Comment.handle_key, comment.handle_key)]
        if comment.handle_key
        else [("handle", Comment.handle, comment.handle)]
    )
    if comment.email:
        keys.append(("email", Comment.email, comment.email))
    if comment.network_key:
        keys.append(("network", Comment.network_key, comment.network_key))
    allowed = site_ids(moderator)
    histories = []
    for name, column, value in keys:
        statement = (
            sa.select(Comment)
            .join(Thread, Thread.id == Comment.thread_id)
            .where(column == value, Comment.id != comment.id)
            # Each key has its own (key, created_at) index: newest first from it.
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .options(
                selectinload(Comment.decisions),
                selectinload(Comment.thread).selectinload(Thread.site),
            )
            .limit(limit + 1)
        )
        if allowed is not None:
            statement = statement.where(Thread.site_id.in_(allowed or {-1}))
        found = list(db.session.scalars(statement))
        histories.append(History(name, found[:limit], len(found) > limit))
    return histories


def neighbour(
    comment: Comment, moderator: Moderator, filters: Filters, forward: bool = True
) -> Comment | None:
    """The unclaimed item after (or before) this one in a queue: the j and k keys."""
    keys = _keys(filters, moderator, Cursor.of(comment), forward, 1, utcnow())
    found = _load([keys[0][1]]) if keys else []
    return found[0] if found else None


def next_in_queue(
    comment: Comment, moderator: Moderator, filters: Filters
) -> Comment | None:
    """The item to open after this one in the same queue and filters: the next
    one after it, else (at the end) the first one left, else None."""
    found = neighbour(comment, moderator, filters, forward=True)
    if found is not None:
        return found
    first = queue_page(replace(filters, after=None, before=None), moderator, size=2)
    return next((c for c in first.comments if c.id != comment.id), None)


def open_report_ids(ids: Sequence[int]) -> set[int]:
    """Those of these comments that have reports no moderator has looked at."""
    if not ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(Report.comment_id)
            .where(Report.comment_id.in_(ids), Report.resolved_at.is_(None))
            .distinct()
        )
    )
