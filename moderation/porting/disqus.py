"""Read a Disqus export (the XML of Admin > Community > Export)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from xml.etree.ElementTree import Element

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

SOURCE = "disqus"
INTERNALS = "{http://disqus.com/disqus-internals}id"


def parse(path: Path) -> Export:
    """Threads and comments of a Disqus export; ImportFailed on a bad file."""
    root = load_xml(path)
    namespace = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    if root.tag != f"{namespace}disqus":
        raise ImportFailed(
            f"{path.name} is not a Disqus export (its root element is "
            f"<{root.tag.removeprefix(namespace)}>, not <disqus>)"
        )
    export = Export(SOURCE)
    for number, element in enumerate(root.iterfind(f"{namespace}thread"), start=1):
        thread = _thread(element, namespace, number)
        if thread is not None:
            export.threads[thread.source_id] = thread
    for number, element in enumerate(root.iterfind(f"{namespace}post"), start=1):
        _post(element, namespace, number, export)
    return export


def _thread(element: Element, ns: str, number: int) -> ThreadRecord | None:
    source_id = element.get(INTERNALS, "").strip()
    if not source_id:
        raise ImportFailed(f"thread #{number} has no dsq:id attribute")
    identifier = text_of(element, f"{ns}id")
    link = text_of(element, f"{ns}link")
    if not identifier and not link:
        # Disqus writes such stubs now and then; no post can be placed in them.
        return None
    return ThreadRecord(
        source_id=source_id,
        key=thread_key(identifier, link),
        url=thread_url(link, f"thread {source_id}"),
        title=clip(text_of(element, f"{ns}title"), THREAD_TITLE_MAX),
    )


def _post(element: Element, ns: str, number: int, export: Export) -> None:
    source_id = element.get(INTERNALS, "").strip()
    if not source_id:
        raise ImportFailed(f"post #{number} has no dsq:id attribute")
    where = f"post {source_id}"
    thread = element.find(f"{ns}thread")
    thread_id = thread.get(INTERNALS, "").strip() if thread is not None else ""
    if not thread_id:
        raise ImportFailed(f"{where} names no thread (<thread dsq:id=...>)")
    created = text_of(element, f"{ns}createdAt")
    if not created:
        raise ImportFailed(f"{where} has no <createdAt>")
    created_at = _time(created, where)
    if _flag(element, f"{ns}isSpam"):
        export.skipped["spam"] += 1
        return
    if _flag(element, f"{ns}isDeleted"):
        export.skipped["deleted"] += 1
        return
    if thread_id not in export.threads:
        export.skipped["no thread"] += 1
        return
    body = html_to_body(text_of(element, f"{ns}message"))
    if not body:
        export.skipped["empty"] += 1
        return
    author = element.find(f"{ns}author")
    parent = element.find(f"{ns}parent")
    parent_id = parent.get(INTERNALS, "").strip() if parent is not None else ""
    # Newer exports mark comments still waiting in Disqus's own queue.
    approved = text_of(element, f"{ns}isApproved").lower() != "false"
    export.comments.append(
        CommentRecord(
            source_id=source_id,
            thread=thread_id,
            parent=parent_id or None,
            handle=clean_handle(
                text_of(author, f"{ns}name") or text_of(author, f"{ns}username")
            ),
            email=clean_email(text_of(author, f"{ns}email")),
            body=body,
            created_at=created_at,
            status=CommentStatus.PUBLISHED if approved else CommentStatus.HELD,
            idempotency_key=idempotency_key(SOURCE, source_id),
            note="" if approved else "pending in Disqus when exported",
        )
    )


def _flag(element: Element, tag: str) -> bool:
    return text_of(element, tag).lower() == "true"


def _time(value: str, where: str) -> datetime:
    """Disqus writes ISO 8601 in UTC (`2013-10-10T19:20:29Z`)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise ImportFailed(f"{where} has a bad <createdAt>: {value!r}") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
