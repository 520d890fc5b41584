"""Reading threads: published comments as a tree, sorted and paged, cheaply.

A thread of thousands of comments is read in two steps: first only (id, parent_id,
created_at) of its published comments, enough to build the tree, count replies,
sort and pick one page of top-level comments; then the full rows of that page's
comments and their replies, and nothing else.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..errors import ModerationError
from ..extensions import db
from ..models import Comment, CommentStatus, Thread
from ..rendering import display_time

# How top-level comments can be ordered; replies always read oldest first, as a
# conversation does.
SORTS = ("oldest", "newest", "replies", "liked")
DEFAULT_SORT = "oldest"

# Replies nest this deep; deeper ones are listed under their ancestor at this
# depth, in conversation order (the page indents no further than 3 levels anyway).
MAX_DEPTH = 8

# Rows fetched per `id IN (...)` query: far below every backend's parameter limit.
_CHUNK = 500

_CURSOR = re.compile(r"([0-9]{1,9})\.([0-9]{1,18})\.([0-9]{1,18})")
_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII: str.isdigit() also takes "²"
# The last microsecond of year 9999: a cursor past it names no real time.
_MAX_MICROS = 253_402_300_799_999_999


class BadReadParameter(ModerationError):
    """A sort, cursor or limit the read path does not understand."""

    code = "invalid_parameter"


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: just after this top-level comment's sort key."""

    # Its published descendants ("liked" order: its like_count) when the page
    # was made.
    replies: int
    micros: int  # its created_at, microseconds since the epoch (UTC)
    id: int

    def __str__(self) -> str:
        return f"{self.replies}.{self.micros}.{self.id}"

    @classmethod
    def parse(cls, raw: str) -> Cursor:
        """A cursor from its text, or BadReadParameter."""
        match = _CURSOR.fullmatch(raw)
        if match is None or int(match.group(2)) > _MAX_MICROS:
            raise BadReadParameter(
                f"'after' must be a cursor from a 'next' link, not {raw[:40]!r}."
            )
        return cls(*(int(part) for part in match.groups()))


@dataclass(frozen=True)
class ReadView:
    """Which part of a thread to show: the order, where to start, how many roots."""

    sort: str = DEFAULT_SORT
    after: Cursor | None = None
    limit: int = 50
    # A permalink's comment (?comment=<id>): with no cursor, the page starts at
    # its conversation when that is not on the first page.
    focus: int | None = None


def read_view(
    args: Mapping[str, str], page_size: int, max_limit: int, strict: bool
) -> ReadView:
    """The view a request asks for (sort, after, limit).

    strict (the API): bad values are a 400 with a message a developer can act on.
    Not strict (the iframe, whose URL the reader cannot fix): they fall back to
    the first page in the default order, and limit is not taken from the URL.
    """
    sort = args.get("sort") or DEFAULT_SORT
    if sort not in SORTS:
        if strict:
            raise BadReadParameter(
                f"'sort' must be one of {', '.join(SORTS)}, not {sort[:40]!r}."
            )
        sort = DEFAULT_SORT
    after = None
    if args.get("after"):
        try:
            after = Cursor.parse(args["after"])
        except BadReadParameter:
            if strict:
                raise
    limit = page_size
    if strict and args.get("limit"):
        raw = args["limit"]
        if not _NUMBER.fullmatch(raw) or not 1 <= int(raw) <= max_limit:
            raise BadReadParameter(
                f"'limit' must be a whole number from 1 to {max_limit}."
            )
        limit = int(raw)
    focus = None
    raw_focus = args.get("comment", "")
    if not strict and _NUMBER.fullmatch(raw_focus):
        focus = int(raw_focus)  # the iframe's permalinks; API clients page alone
    return ReadView(sort=sort, after=after, limit=limit, focus=focus)


@dataclass
class Node:
    """A published comment and its published replies."""

    comment: Comment
    display_time: str
    replies: list[Node] = field(default_factory=list)
    # Published descendants at any depth (what "most replies" sorts by).
    reply_count: int = 0


@dataclass(frozen=True)
class Page:
    """One page of a thread: top-level comments with their replies nested."""

    nodes: list[Node]
    view: ReadView
    start: int  # how many top-level comments come before this page
    total_roots: int  # top-level comments in the whole thread
    total_comments: int  # published comments shown anywhere in the thread
    next: Cursor | None  # where the page after this one starts; None: last page

    def flat(self) -> Iterator[Node]:
        """Each node, depth first: a top-level comment, then its replies."""
        stack = list(reversed(self.nodes))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.replies))


@dataclass(frozen=True)
class _Outline:
    """The shape of a thread without its text: who replies to whom, and when."""

    roots: list[int]  # top-level comment ids, oldest first
    # (created_at as the database returns it, id) of each, ascending (see _OUTLINE)
    root_keys: list[tuple[Any, int]]
    children: dict[int, list[int]]  # published replies of each comment, oldest first
    counts: dict[int, int]  # published descendants of each top-level comment
    parent_of: dict[int, int]  # each shown reply's parent
    likes: dict[int, int]  # like_count of each top-level comment


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(raw: Any) -> int:
    """Microseconds since the epoch of a created_at as _OUTLINE returns it."""
    moment = datetime.fromisoformat(raw) if isinstance(raw, str) else raw
    return (moment.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)


def _raw(micros: int, like: Any) -> Any:
    """The inverse of _micros, in the form the database returned `like` in."""
    moment = (_EPOCH + timedelta(microseconds=micros)).replace(tzinfo=None)
    if isinstance(like, str):  # SQLAlchemy's SQLite storage format
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment


# Four narrow columns by the (thread_id, status, created_at) index, run as plain
# Core: for 5,000 comments the ORM's per-row work would cost more than the query.
# created_at comes back raw (type_coerce): SQLite's stored text, PostgreSQL's naive
# UTC datetime. Parsing 5,000 SQLite timestamps would double this step, and only
# the order matters here, which the raw values keep (SQLite itself orders by them).
_OUTLINE = (
    sa.select(
        Comment.id,
        Comment.parent_id,
        sa.type_coerce(Comment.created_at, sa.String).label("created"),
        Comment.like_count,
    )
    .where(
        Comment.thread_id == sa.bindparam("thread_id"),
        Comment.status == CommentStatus.PUBLISHED,
    )
    .order_by(Comment.created_at, Comment.id)
)


def _outline(thread_id: int) -> _Outline:
    rows = db.session.connection().execute(_OUTLINE, {"thread_id": thread_id}).all()
    published = {row[0] for row in rows}
    roots: list[int] = []
    root_keys: list[tuple[Any, int]] = []
    children: dict[int, list[int]] = {}
    likes: dict[int, int] = {}
    for comment_id, parent_id, created, like_count in rows:
        if parent_id is None:
            roots.append(comment_id)
            root_keys.append((created, comment_id))
            likes[comment_id] = like_count
        elif parent_id in published:
            children.setdefault(parent_id, []).append(comment_id)
        # A reply whose parent is no longer published is not shown, nor are its
        # own replies: they are never reached from a root below.
    # Reply counts in two flat passes: breadth first down from the roots, then
    # each reply adds its own subtree to its parent's, deepest first.
    order = list(roots)
    parent_of: dict[int, int] = {}
    for comment_id in order:  # grows as it goes
        for child in children.get(comment_id, ()):
            parent_of[child] = comment_id
            order.append(child)
    size = dict.fromkeys(order, 0)
    for comment_id in reversed(order[len(roots) :]):
        size[parent_of[comment_id]] += size[comment_id] + 1
    counts = {root: size[root] for root in roots}
    return _Outline(roots, root_keys, children, counts, parent_of, likes)


def _descendants(root: int, children: dict[int, list[int]]) -> Iterator[int]:
    """Every reply under `root`, depth first, each comment's replies oldest first."""
    stack = list(reversed(children.get(root, ())))
    while stack:
        comment_id = stack.pop()
        yield comment_id
        stack.extend(reversed(children.get(comment_id, ())))


def _ranking(outline: _Outline, sort: str) -> dict[int, int]:
    """The count a ranked order sorts top-level comments by (and cursors carry)."""
    return outline.likes if sort == "liked" else outline.counts


def _ordered(outline: _Outline, view: ReadView) -> list[int]:
    """The top-level comments from the cursor on, in the view's order."""
    roots, keys = outline.roots, outline.root_keys
    after = view.after
    mark = None
    if after is not None and keys:
        mark = (_raw(after.micros, keys[0][0]), after.id)
    if view.sort == "oldest":
        return roots[bisect_right(keys, mark) :] if mark else list(roots)
    if view.sort == "newest":
        return roots[: bisect_left(keys, mark)][::-1] if mark else roots[::-1]
    # Most replies (or most liked) first; among equals, oldest first.
    counts = _ranking(outline, view.sort)
    ranked = sorted(range(len(roots)), key=lambda n: (-counts[roots[n]], n))
    if after is not None and mark is not None:
        cut = (-after.replies, *mark)
        ranked = [n for n in ranked if (-counts[roots[n]], *keys[n]) > cut]
    return [roots[n] for n in ranked]


def _from_focus(outline: _Outline, ordered: list[int], view: ReadView) -> list[int]:
    """Start at the permalinked comment's conversation when it is past page one."""
    root = view.focus
    while root in outline.parent_of:
        root = outline.parent_of[root]
    if root not in outline.counts:  # not shown (unknown, held, another thread)
        return ordered
    position = ordered.index(root)
    return ordered[position:] if position >= view.limit else ordered


def read_page(thread: Thread, view: ReadView, locale: str = "en") -> Page:
    """One page of top-level comments in the view's order, replies nested.

    Pages follow a keyset cursor (the last top-level comment's sort key), so a
    comment published or removed between two pages neither repeats nor skips one
    in the oldest and newest orders. In the "most replies" and "liked" orders a
    comment whose count changed in between may move across the cursor.
    """
    outline = _outline(thread.id)
    ordered = _ordered(outline, view)
    if view.after is None and view.focus is not None:
        ordered = _from_focus(outline, ordered, view)
    chosen = ordered[: view.limit]
    following = None
    if len(ordered) > view.limit and chosen:
        last = chosen[-1]
        created = outline.root_keys[outline.roots.index(last)][0]
        rank = _ranking(outline, view.sort)[last]
        following = Cursor(rank, _micros(created), last)

    wanted = list(chosen)
    for root in chosen:
        wanted.extend(_descendants(root, outline.children))
    loaded = {comment.id: comment for comment in _load(wanted)}
    timezone = thread.site.timezone

    def make(comment_id: int) -> Node:
        comment = loaded[comment_id]
        return Node(comment, display_time(comment.created_at, timezone, locale))

    nodes = []
    for root in chosen:
        top = make(root)
        top.reply_count = outline.counts[root]
        nodes.append(top)
        # Iterative: a chain of thousands of replies must not exhaust the stack.
        stack = [(top, 0)]
        while stack:
            node, depth = stack.pop()
            if depth + 1 >= MAX_DEPTH:
                # Deeper replies are listed in conversation order at this level.
                node.replies = [
                    make(reply)
                    for reply in _descendants(node.comment.id, outline.children)
                ]
                continue
            node.replies = [
                make(reply) for reply in outline.children.get(node.comment.id, ())
            ]
            stack.extend((reply, depth + 1) for reply in node.replies)
    total = len(outline.roots) + sum(outline.counts.values())
    start = len(outline.roots) - len(ordered)
    return Page(nodes, view, start, len(outline.roots), total, following)


def _load(ids: Iterable[int]) -> Iterator[Comment]:
    ids = list(ids)
    for start in range(0, len(ids), _CHUNK):
        yield from db.session.scalars(
            sa.select(Comment).where(Comment.id.in_(ids[start : start + _CHUNK]))
        )


def comment_json(
    comment: Comment, timezone: str, locale: str = "en"
) -> dict[str, object]:
    """The public fields of a published comment: never the email or the raw body."""
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "handle": comment.handle,
        "created_at": comment.created_at.isoformat(),
        "display_time": display_time(comment.created_at, timezone, locale),
        "html": comment.html,
        "like_count": comment.like_count,  # readers' "respect"
        "featured": comment.featured_at is not None,  # an editors' pick
        "staff": comment.staff_id is not None,  # posted by a moderator as staff
    }
