"""The audit log: who did what, when, with the state before and after."""

from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import AuditEntry, Moderator


def record(
    action: str,
    target_type: str,
    target_id: object,
    *,
    moderator: Moderator | None = None,
    actor: str | None = None,
    site_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Append an audit row in the caller's transaction (the caller commits).

    `action` is dotted, subject first: "comment.published", "ban.created",
    "site.settings", "moderator.role". `actor` defaults to the moderator's email,
    or "system" for the screen, the surge guard and readers' own edits.
    """
    entry = AuditEntry(
        moderator_id=moderator.id if moderator is not None else None,
        actor=actor or (moderator.email if moderator is not None else "system"),
        action=action,
        site_id=site_id,
        target_type=target_type,
        target_id=str(target_id),
        before=before,
        after=after,
        reason=reason,
    )
    db.session.add(entry)
    return entry
