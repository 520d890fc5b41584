"""Read a WordPress export (WXR: Tools > Export > All content)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

from ..models import THREAD_TITLE_MAX, CommentStatus
from .common import (
    CommentRecord,
    Export,
    ImportFailed,
    ThreadRecord,
    clean_email,
    clean_handle,
    clip,
    html_to_body,
    idempotency_key,
    load_xml,
    text_of,
    thread_key,
    thread_url,
)

SOURCE = "wordpress"
# WXR 1.0 to 1.2 differ only in this namespace's version; newer WordPress writes
# it with https. `excerpt:` shares the prefix (".../1.2/excerpt/") and is not it.
WXR_NAMESPACE = re.compile(r"\{https?://wordpress\.org/export/1\.[0-2]/\}")
NO_DATE = "0000-00-00 00:00:00"
# comment_approved: "1" approved, "0" pending; the rest are not imported.
SKIPPED = {"spam": "spam", "trash": "deleted", "post-trashed": "deleted"}


def parse(path: Path, timezone: str = "UTC") -> Export:
    """Threads and comments of a WXR file; ImportFailed on a bad file.

    `timezone` reads a comment_date that has no comment_date_gmt beside it.
    """
    root = load_xml(path)
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise ImportFailed(
            f"{path.name} is not a WordPress export (WXR): no <rss><channel>"
        )
    wp = _wxr_namespace(root)
    if wp is None:
        raise ImportFailed(
            f"{path.name} is not a WordPress export (WXR): no wp: elements"
        )
    export = Export(SOURCE)
    zone = ZoneInfo(timezone)
    for number, item in enumerate(channel.iterfind("item"), start=1):
        comments = item.findall(f"{wp}comment")
        if not comments:
            continue  # a page or post without comments: no thread for it
        thread = _thread(item, wp, number)
        export.threads[thread.source_id] = thread
        for comment in comments:
            _comment(comment, wp, thread, export, zone)
    return export


def _wxr_namespace(root: Element) -> str | None:
    for element in root.iter():
        found = WXR_NAMESPACE.match(element.tag)
        if found:
            return found.group(0)
    return None


def _thread(item: Element, wp: str, number: int) -> ThreadRecord:
    """The key is the post's id (<wp:post_id>), else ?p= of its link, else a slug."""
    link = text_of(item, "link")
    identifier = text_of(item, f"{wp}post_id")
    if not identifier and link:
        identifier = parse_qs(urlsplit(link).query).get("p", [""])[0]
    if not identifier and not link:
        raise ImportFailed(f"item #{number} has comments but no <wp:post_id> or <link>")
    return ThreadRecord(
        source_id=str(number),
        key=thread_key(identifier, link),
        url=thread_url(link, f"item #{number}"),
        title=clip(text_of(item, "title"), THREAD_TITLE_MAX),
    )


def _comment(
    element: Element, wp: str, thread: ThreadRecord, export: Export, zone: ZoneInfo
) -> None:
    source_id = text_of(element, f"{wp}comment_id")
    if not source_id:
        raise ImportFailed(f"a comment of thread {thread.key!r} has no <wp:comment_id>")
    where = f"comment {source_id} of thread {thread.key!r}"
    created_at = _time(element, wp, zone, where)
    approved = text_of(element, f"{wp}comment_approved") or "1"
    kind = text_of(element, f"{wp}comment_type").lower()
    if kind in ("pingback", "trackback"):
        export.skipped[kind] += 1
        return
    if approved not in ("0", "1"):
        export.skipped[SKIPPED.get(approved, f"status {approved}")] += 1
        return
    # WordPress stores text with its own line breaks, which mean paragraphs.
    body = html_to_body(text_of(element, f"{wp}comment_content"), keep_newlines=True)
    if not body:
        export.skipped["empty"] += 1
        return
    parent = text_of(element, f"{wp}comment_parent")
    export.comments.append(
        CommentRecord(
            source_id=source_id,
            thread=thread.source_id,
            parent=parent if parent not in ("", "0") else None,
            handle=clean_handle(text_of(element, f"{wp}comment_author")),
            email=clean_email(text_of(element, f"{wp}comment_author_email")),
            body=body,
            created_at=created_at,
            status=CommentStatus.PUBLISHED if approved == "1" else CommentStatus.HELD,
            idempotency_key=idempotency_key(SOURCE, source_id),
            note="" if approved == "1" else "pending in WordPress when exported",
        )
    )


def _time(element: Element, wp: str, zone: ZoneInfo, where: str) -> datetime:
    """comment_date_gmt when WordPress wrote one, else comment_date in `zone`."""
    for tag, tz in (("comment_date_gmt", UTC), ("comment_date", zone)):
        value = text_of(element, f"{wp}{tag}")
        if not value or value == NO_DATE:
            continue
        try:
            moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
        except ValueError as error:
            raise ImportFailed(f"{where} has a bad <wp:{tag}>: {value!r}") from error
        return moment.replace(tzinfo=tz).astimezone(UTC)
    raise ImportFailed(f"{where} has no <wp:comment_date_gmt> or <wp:comment_date>")
