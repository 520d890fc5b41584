"""A site's threads and comments as one JSON document, written a thread at a time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TextIO

import sqlalchemy as sa

from ..extensions import db
from ..models import Comment, Site, Thread, utcnow

FORMAT = "moderation-export/1"


@dataclass
class ExportCounts:
    threads: int = 0
    comments: int = 0


def write_export(
    site: Site, out: TextIO, *, include_emails: bool = False
) -> ExportCounts:
    """Write every thread of `site` with all its comments (any status) to `out`.

    Only one thread's comments are in memory at a time, so a large site streams.
    Emails are personal data: they are written only when asked for.
    """
    counts = ExportCounts()
    header = {
        "format": FORMAT,
        "exported_at": utcnow().isoformat(),
        "site": {"slug": site.slug, "name": site.name, "timezone": site.timezone},
        "include_emails": include_emails,
    }
    # The header's closing brace is replaced by the threads array.
    out.write(json.dumps(header, ensure_ascii=False)[:-1] + ', "threads": [')
    thread_ids = db.session.scalars(
        sa.select(Thread.id).where(Thread.site_id == site.id).order_by(Thread.id)
    ).all()
    for number, thread_id in enumerate(thread_ids):
        thread = db.session.get_one(Thread, thread_id)
        comments = db.session.scalars(
            sa.select(Comment)
            .where(Comment.thread_id == thread_id)
            .order_by(Comment.created_at, Comment.id)
        ).all()
        document = thread_json(thread)
        document["comments"] = [comment_json(c, include_emails) for c in comments]
        out.write(("," if number else "") + "\n")
        out.write(json.dumps(document, ensure_ascii=False))
        counts.threads += 1
        counts.comments += len(comments)
        # Let the session forget what has been written.
        db.session.expunge_all()
    out.write("\n]}\n")
    return counts


def thread_json(thread: Thread) -> dict[str, Any]:
    """A thread's fields for the export."""
    return {
        "key": thread.key,
        "url": thread.url,
        "title": thread.title,
        "open": thread.is_open,
        "created_at": thread.created_at.isoformat(),
    }


def comment_json(comment: Comment, include_email: bool) -> dict[str, Any]:
    """A comment's fields for the export, in any status."""
    document: dict[str, Any] = {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "status": comment.status.value,
        "handle": comment.handle,
        "created_at": comment.created_at.isoformat(),
        "edited_at": comment.edited_at.isoformat() if comment.edited_at else None,
        "body": comment.body,
        "html": comment.html,
    }
    if include_email:
        document["email"] = comment.email
    return document
