"""What the importers share: parsed records, cleaning, safe XML loading, storing.

A parser turns an export into plain records and refuses the whole file on the
first missing required element; only then does `store()` write, in one
transaction, so a bad file never leaves half an import behind.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import sqlalchemy as sa
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import parse as parse_xml
from slugify import slugify

from ..extensions import db
from ..links import web_url
from ..models import (
    EMAIL_MAX,
    HANDLE_MAX,
    THREAD_KEY_MAX,
    THREAD_URL_MAX,
    Comment,
    CommentStatus,
    Decision,
    Site,
    Thread,
)
from ..rendering import render_body
from ..services.audit import record
from ..services.comments import fingerprint
from ..services.revisions import bump_threads
from ..services.shapes import clean_text

logger = logging.getLogger(__name__)

ACTOR = "import"
IDEMPOTENCY_MAX = 64  # Comment.idempotency_key
# Thread keys travel in URL paths (/embed/<site>/<key>): no slash, no space.
_SAFE_KEY = re.compile(r"^[\w.~-]+$")


class ImportFailed(Exception):
    """The file cannot be imported; nothing was stored."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ThreadRecord:
    """A thread as an export describes it."""

    source_id: str  # the export's own id, which its comments refer to
    key: str
    url: str
    title: str


@dataclass(frozen=True)
class CommentRecord:
    """A comment as an export describes it, cleaned and ready to store."""

    source_id: str
    thread: str  # ThreadRecord.source_id
    parent: str | None  # the source_id of the comment it replies to
    handle: str
    email: str | None
    body: str
    created_at: datetime  # aware, UTC
    status: CommentStatus  # PUBLISHED or HELD
    idempotency_key: str
    note: str = ""  # why it is held, for the moderator


@dataclass
class Export:
    """An export's threads and the comments worth importing, plus what was skipped."""

    source: str
    threads: dict[str, ThreadRecord] = field(default_factory=dict)
    comments: list[CommentRecord] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass
class ImportResult:
    """Counts for the final line of the command."""

    threads: int = 0  # threads created
    published: int = 0
    held: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    touched: list[int] = field(default_factory=list)  # thread ids that changed

    @property
    def comments(self) -> int:
        return self.published + self.held

    def summary(self) -> str:
        """`imported 2 threads, 14 comments (1 skipped: spam)`."""
        line = f"imported {self.threads:,} threads, {self.comments:,} comments"
        if self.held:
            line += f" ({self.published:,} published, {self.held:,} held)"
        total = sum(self.skipped.values())
        if len(self.skipped) == 1:
            line += f" ({total:,} skipped: {next(iter(self.skipped))})"
        elif total:
            reasons = ", ".join(
                f"{count:,} {reason}" for reason, count in sorted(self.skipped.items())
            )
            line += f" ({total:,} skipped: {reasons})"
        return line


def load_xml(path: Path) -> Element:
    """The root element of an export; entities, DTDs and bad XML are refused."""
    try:
        return parse_xml(path, forbid_dtd=True).getroot()
    except ParseError as error:
        raise ImportFailed(f"{path.name} is not well-formed XML: {error}") from error
    except DefusedXmlException as error:
        raise ImportFailed(
            f"{path.name} declares a DTD, entities or external references, which an "
            f"import never reads or expands ({type(error).__name__})"
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        raise ImportFailed(f"cannot read {path.name}: {error}") from error


def text_of(element: Element | None, tag: str | None = None) -> str:
    """The stripped text of an element (or of its child `tag`), '' when absent."""
    if element is not None and tag is not None:
        element = element.find(tag)
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


def thread_key(identifier: str, link: str) -> str:
    """A URL-safe thread key: the export's identifier when usable, else a slug."""
    if identifier and len(identifier) <= THREAD_KEY_MAX and _SAFE_KEY.match(identifier):
        return identifier
    return slugify(identifier or link, max_length=THREAD_KEY_MAX)


def idempotency_key(source: str, *parts: str) -> str:
    """`disqus:123`: stable per imported comment, so a second import adds nothing."""
    key = ":".join((source, *parts))
    if len(key) <= IDEMPOTENCY_MAX:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{source}:{digest}"[:IDEMPOTENCY_MAX]


def clean_handle(name: str, fallback: str = "Anonymous") -> str:
    """A display name cut to the model's 40 characters, at a space when one is near."""
    handle = " ".join(clean_text(name).split())
    if len(handle) > HANDLE_MAX:
        cut = handle[: HANDLE_MAX + 1]
        space = cut.rfind(" ", HANDLE_MAX // 2)
        handle = (cut[:space] if space > 0 else cut[:HANDLE_MAX]).rstrip()
    return handle or fallback


def clean_email(value: str) -> str | None:
    """The address as given, or None when it is missing or cannot be one."""
    email = clean_text(value).strip()
    if not email or "@" not in email or len(email) > EMAIL_MAX or " " in email:
        return None
    return email


def thread_url(link: str, where: str) -> str:
    """A thread's link as stored: '' when it has none, else an http(s) URL cut to
    the column. Any other link (javascript:, data:) fails the whole import."""
    if not link:
        return ""
    url = web_url(link)
    if url is None:
        raise ImportFailed(
            f"{where} links to {link[:80]!r}, which is not an http or https URL"
        )
    return clip(url, THREAD_URL_MAX)


def clip(value: str, limit: int) -> str:
    """Text cut to a column's length."""
    return clean_text(value).strip()[:limit]


# Elements whose content is never text a reader wrote.
_DROP = frozenset(
    [
        "script",
        "style",
        "iframe",
        "object",
        "embed",
        "template",
        "noscript",
        "textarea",
        "title",
        "head",
        "svg",
        "math",
        "select",
    ]
)
_BLOCK = frozenset(
    [
        "p",
        "div",
        "ul",
        "ol",
        "table",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "figure",
        "hr",
    ]
)
_MARKS = {"strong": "**", "b": "**", "em": "*", "i": "*", "code": "`"}


class _TextFromHtml(HTMLParser):
    """Turns an exported comment's HTML into the markdown subset bodies use."""

    def __init__(self, keep_newlines: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.keep_newlines = keep_newlines
        self.parts: list[list[str]] = [[]]
        self.dropping = 0
        self.links: list[tuple[str, int]] = []
        self.lists: list[str] = []
        self.pre = 0
        self.marks: list[str] = []  # open bold/italic/code, closed at the end

    def _emit(self, text: str) -> None:
        self.parts[-1].append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            self.dropping += 1
        elif self.dropping:
            return
        elif tag == "br":
            self._emit("\n")
        elif tag == "pre":
            self.pre += 1
            self._emit("\n\n```\n")
        elif tag in _BLOCK:
            if tag in ("ul", "ol"):
                self.lists.append(tag)
            self._emit("\n\n")
        elif tag == "li":
            marker = "1. " if self.lists and self.lists[-1] == "ol" else "- "
            self._emit("\n" + marker)
        elif tag == "blockquote":
            self.parts.append([])
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append((href.strip(), len(self.parts[-1])))
        elif tag in _MARKS and not self.pre:
            self.marks.append(tag)
            self._emit(_MARKS[tag])

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self.dropping = max(0, self.dropping - 1)
        elif self.dropping:
            return
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self._emit("\n```\n\n")
        elif tag in _BLOCK:
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
            self._emit("\n\n")
        elif tag == "blockquote" and len(self.parts) > 1:
            quoted = _tidy("".join(self.parts.pop()))
            lines = "\n".join(f"> {line}".rstrip() for line in quoted.split("\n"))
            self._emit(f"\n\n{lines}\n\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.parts[-1][start:]).strip()
            del self.parts[-1][start:]
            # Only links a reader could follow safely; the rest keep their text.
            if href.lower().startswith(("http://", "https://", "mailto:")):
                self._emit(href if label in ("", href) else f"[{label}]({href})")
            else:
                self._emit(label)
        elif tag in _MARKS and not self.pre and tag in self.marks:
            self.marks.reverse()
            self.marks.remove(tag)
            self.marks.reverse()
            self._emit(_MARKS[tag])

    def handle_data(self, data: str) -> None:
        if self.dropping:
            return
        if not (self.keep_newlines or self.pre):
            data = re.sub(r"\s+", " ", data)
        self._emit(data)

    def text(self) -> str:
        for tag in reversed(self.marks):  # tags left open
            self._emit(_MARKS[tag])
        while len(self.parts) > 1:  # an unclosed blockquote
            self.handle_endtag("blockquote")
        return _tidy("".join(self.parts[0]))


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\xa0", " ").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_body(html: str, *, keep_newlines: bool = False) -> str:
    """Markdown-ish text from exported HTML: scripts dropped, links kept if safe.

    The stored html is then rendered from this text by rendering.render_body,
    so an import passes through the same allowlist as every reader's comment.
    """
    parser = _TextFromHtml(keep_newlines)
    parser.feed(clean_text(html))
    parser.close()
    return parser.text()


def _parents_first(comments: Iterable[CommentRecord]) -> list[CommentRecord]:
    """Comments ordered so that each comes after the one it replies to."""
    by_id = {(c.thread, c.source_id): c for c in comments}
    ordered: list[CommentRecord] = []
    placed: set[tuple[str, str]] = set()
    for comment in by_id.values():
        chain: list[CommentRecord] = []
        seen: set[tuple[str, str]] = set()
        current: CommentRecord | None = comment
        while current is not None:
            ident = (current.thread, current.source_id)
            if ident in placed or ident in seen:  # done, or a cycle in the export
                break
            seen.add(ident)
            chain.append(current)
            parent = current.parent
            current = by_id.get((current.thread, parent)) if parent else None
        for item in reversed(chain):
            placed.add((item.thread, item.source_id))
            ordered.append(item)
    return ordered


def store(
    site: Site,
    export: Export,
    *,
    filename: str,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Write an export's threads and comments into `site` in one transaction."""
    result = ImportResult(skipped=Counter(export.skipped))
    try:
        _store(site, export, result, progress)
        bump_threads(result.touched)
        record(
            f"site.import_{export.source}",
            "site",
            site.id,
            actor=ACTOR,
            site_id=site.id,
            after={
                "file": filename,
                "threads": result.threads,
                "published": result.published,
                "held": result.held,
                "skipped": dict(result.skipped),
            },
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    logger.info(
        "imported %s into site %s: %s threads, %s comments",
        export.source,
        site.id,
        result.threads,
        result.comments,
    )
    return result


def _store(
    site: Site,
    export: Export,
    result: ImportResult,
    progress: Callable[[int], None] | None,
) -> None:
    threads: dict[str, Thread] = {}
    # Per thread: idempotency key -> the comment (an id when stored before this run).
    existing: dict[int, dict[str, Comment | int]] = {}
    stored: dict[tuple[str, str], Comment | int] = {}
    touched: set[Thread] = set()
    for record_ in _parents_first(export.comments):
        thread = threads.get(record_.thread)
        if thread is None:
            thread = threads[record_.thread] = _thread(
                site, export.threads[record_.thread], result
            )
        if thread.id not in existing:
            existing[thread.id] = _imported_keys(thread, export.source)
        ident = (record_.thread, record_.source_id)
        known = existing[thread.id].get(record_.idempotency_key)
        if known is not None:
            stored[ident] = known
            # Stored by an earlier run, or twice in this file (two posts, one key).
            result.skipped[
                "already imported" if isinstance(known, int) else "duplicate"
            ] += 1
        else:
            parent = stored.get((record_.thread, record_.parent or ""))
            comment = _comment(thread, record_, parent, export.source)
            stored[ident] = existing[thread.id][record_.idempotency_key] = comment
            touched.add(thread)
            if record_.status is CommentStatus.PUBLISHED:
                result.published += 1
            else:
                result.held += 1
        if progress is not None:
            progress(1)
    db.session.flush()
    result.touched = [t.id for t in touched]


def _thread(site: Site, source: ThreadRecord, result: ImportResult) -> Thread:
    thread = db.session.scalar(
        sa.select(Thread).filter_by(site_id=site.id, key=source.key)
    )
    if thread is None:
        thread = Thread(site=site, key=source.key, url=source.url, title=source.title)
        db.session.add(thread)
        result.threads += 1
    else:
        # A thread the site already has keeps what its owner set.
        thread.url = thread.url or source.url
        thread.title = thread.title or source.title
    db.session.flush()
    return thread


def _imported_keys(thread: Thread, source: str) -> dict[str, Comment | int]:
    rows = db.session.execute(
        sa.select(Comment.idempotency_key, Comment.id).where(
            Comment.thread_id == thread.id,
            Comment.idempotency_key.startswith(f"{source}:", autoescape=True),
        )
    )
    return {key: comment_id for key, comment_id in rows if key}


def _comment(
    thread: Thread,
    source: CommentRecord,
    parent: Comment | int | None,
    origin: str,
) -> Comment:
    comment = Comment(
        thread_id=thread.id,  # no backref: the thread's collection stays unloaded
        handle=source.handle,
        email=source.email,
        body=source.body,
        html=render_body(source.body),
        status=source.status,
        created_at=source.created_at,
        updated_at=source.created_at,
        idempotency_key=source.idempotency_key,
        fingerprint=fingerprint(source.body),
    )
    # A reply whose parent was skipped (deleted, spam) becomes a top-level comment.
    if isinstance(parent, Comment):
        comment.parent = parent
    elif isinstance(parent, int):
        comment.parent_id = parent
    comment.decisions.append(
        Decision(
            actor=ACTOR,
            from_status=CommentStatus.RECEIVED,
            to_status=source.status,
            reason=source.note or f"imported from {origin}",
        )
    )
    db.session.add(comment)
    return comment
