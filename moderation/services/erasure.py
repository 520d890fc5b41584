"""A reader's personal data: found by email, handle or receipt, exported, erased.

A reader asks to see (GDPR access) or remove (erasure) what the service holds on
them. They are found by the email they gave, the handle they posted under (in
any spelling that shares its key: `bans.stored_handle`), or a comment's receipt
(that comment, plus every comment sharing its email).

Erasing removes from each of their comments the email, the hashed network and,
when asked, the handle. The site's `erasure_mode` decides the text:
- "redact" replaces the body with "[removed]" in place, so replies keep their
  context;
- "delete" also moves the comment to `deleted`, out of view.

Old texts kept in the audit log (edits record the text they replaced) are
scrubbed too. A moderator's standing settings for an erased handle go as well.
Bans keep their value, so that a ban still holds.

The erasure itself is audited by counts only: the audit row names no personal data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import AuditEntry, Comment, CommentStatus, Handle, Moderator, Site, Thread
from ..rendering import render_body
from ..signing import read_receipt
from .audit import record
from .bans import stored_handle
from .comments import fingerprint, log_move
from .revisions import bump_threads

logger = logging.getLogger(__name__)

REMOVED = "[removed]"
# Audit fields that may hold what a reader wrote or who they are.
_PERSONAL_FIELDS = ("body", "email", "handle", "network_key")


@dataclass(frozen=True)
class Reader:
    """How a reader is named in a request: one of these is enough."""

    email: str | None = None
    handle: str | None = None
    receipt: str | None = None

    def describe(self) -> str:
        """What the request named, without the value (for the audit log)."""
        return ", ".join(
            name for name in ("email", "handle", "receipt") if getattr(self, name)
        )


def find_comments(reader: Reader, site: Site | None = None) -> list[Comment]:
    """Every comment of the reader, on one site or all, oldest first."""
    if not (reader.email or reader.handle or reader.receipt):
        raise InvalidInput("Name the reader by email, handle or a comment's receipt.")
    conditions = []
    if reader.email:
        conditions.append(sa.func.lower(Comment.email) == reader.email.strip().lower())
    if reader.handle:
        # Every spelling of the handle (its key), as bans and standing see it.
        conditions.append(Comment.handle_key == stored_handle(reader.handle))
    if reader.receipt:
        comment_id, thread_id = read_receipt(reader.receipt)
        written = db.session.get(Comment, comment_id)
        if written is None or written.thread_id != thread_id:
            raise NotFound("No comment for this receipt.")
        conditions.append(Comment.id == written.id)
        if written.email:
            conditions.append(sa.func.lower(Comment.email) == written.email.lower())
    # Each comment's thread and site are read (URL, slug, erasure mode): load
    # them with the comments, not one query per comment.
    statement = (
        sa.select(Comment)
        .where(sa.or_(*conditions))
        .options(selectinload(Comment.thread).selectinload(Thread.site))
    )
    if site is not None:
        statement = statement.join(Comment.thread).where(Thread.site_id == site.id)
    return list(db.session.scalars(statement.order_by(Comment.created_at, Comment.id)))


def export_reader(reader: Reader, site: Site | None = None) -> dict[str, Any]:
    """Everything held on the reader, as one JSON document (a GDPR access request)."""
    comments = find_comments(reader, site)
    return {
        "comments": [
            {
                "id": comment.id,
                "site": comment.thread.site.slug,
                "thread": comment.thread.key,
                "url": comment.thread.url,
                "created_at": comment.created_at.isoformat(),
                "edited_at": comment.edited_at.isoformat()
                if comment.edited_at
                else None,
                "status": comment.status.value,
                "handle": comment.handle,
                "email": comment.email,
                "body": comment.body,
                "parent_id": comment.parent_id,
            }
            for comment in comments
        ],
        "note": (
            "Networks are stored only as a keyed hash, never as an address; "
            "none is included."
        ),
    }


def scrub_audit(comment_ids: list[int]) -> int:
    """Replace texts and identities in the comments' audit rows; how many changed."""
    if not comment_ids:
        return 0
    entries = db.session.scalars(
        sa.select(AuditEntry).where(
            AuditEntry.target_type == "comment",
            AuditEntry.target_id.in_([str(i) for i in comment_ids]),
        )
    )
    changed = 0
    for entry in entries:
        scrubbed = False
        for side in ("before", "after"):
            values = getattr(entry, side)
            if not values or not any(values.get(f) for f in _PERSONAL_FIELDS):
                continue
            setattr(
                entry,
                side,
                {
                    key: (REMOVED if key in _PERSONAL_FIELDS and value else value)
                    for key, value in values.items()
                },
            )
            scrubbed = True
        changed += scrubbed
    return changed


def forgotten() -> dict[str, Any]:
    """The columns that hold what a reader wrote and how to reach them, emptied:
    for an UPDATE's values, or set on a loaded row (forget_text)."""
    return {
        "body": REMOVED,
        "html": render_body(REMOVED),
        "fingerprint": fingerprint(REMOVED),
        "email": None,
        "idempotency_key": None,
    }


def forget_text(comment: Comment) -> None:
    """Remove what the reader wrote and how to reach them from the row."""
    for column, value in forgotten().items():
        setattr(comment, column, value)


def erase_reader(
    reader: Reader,
    *,
    moderator: Moderator | None,
    actor: str | None = None,
    site: Site | None = None,
    remove_handle: bool = False,
    reason: str = "",
) -> dict[str, int]:
    """Erase the reader's personal data (see the module's docstring); commits.

    Returns the counts: comments redacted, deleted, audit rows scrubbed, handle
    settings removed.
    """
    comments = find_comments(reader, site)
    counts = {"redacted": 0, "deleted": 0, "audit_rows": 0, "handle_settings": 0}
    handles = {(c.thread.site_id, stored_handle(c.handle)) for c in comments}
    for comment in comments:
        forget_text(comment)
        comment.network_key = None
        if remove_handle:
            comment.handle = REMOVED
            comment.handle_key = None  # erased comments share no identity
        mode = comment.thread.site.erasure_mode
        if mode == "delete" and comment.status is not CommentStatus.DELETED:
            previous = comment.status
            comment.status = CommentStatus.DELETED
            log_move(
                comment,
                previous,
                CommentStatus.DELETED,
                "comment.erased",
                "erased at the reader's request",
                moderator,
                actor=actor,
            )
            counts["deleted"] += 1
        else:
            counts["redacted"] += 1
    db.session.flush()
    counts["audit_rows"] = scrub_audit([c.id for c in comments])
    if remove_handle:
        for site_id, handle in handles:
            settings = db.session.scalar(
                sa.select(Handle).filter_by(site_id=site_id, handle=handle)
            )
            if settings is not None:
                db.session.delete(settings)
                counts["handle_settings"] += 1
    bump_threads(sorted({c.thread_id for c in comments}))
    record(
        "reader.erased",
        "reader",
        reader.describe(),
        moderator=moderator,
        actor=actor,
        site_id=site.id if site is not None else None,
        after={**counts, "comments": len(comments), "handle": remove_handle},
        reason=reason,
    )
    db.session.commit()
    logger.info("reader erased: %s", counts)
    return counts
