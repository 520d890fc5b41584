"""The dashboard's authorship-nudge figures: do nudged writers edit, and then pass?

Only drafts that were posted after a nudge are stored (`Comment.nudge` "edited" or
"unchanged"); a nudged draft its writer abandoned leaves no row, so it is not
counted. One grouped query over the window's comments, by site, nudge and status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import Comment, CommentStatus, Site, Thread
from ..services.figures import Window


@dataclass
class NudgeRow:
    """One site's comments posted after a nudge in the window, by outcome now."""

    site: Site
    edited: int = 0
    unchanged: int = 0
    published: int = 0
    held: int = 0
    rejected: int = 0
    # Published now, among the edited and among the unchanged.
    edited_published: int = 0
    unchanged_published: int = 0

    @property
    def posted(self) -> int:
        return self.edited + self.unchanged

    @property
    def stopped(self) -> int:
        """Held or rejected now (still being checked and deleted are neither)."""
        return self.held + self.rejected

    def share(self, count: int, of: int | None = None) -> float | None:
        """`count` as a share of `of` (default: the drafts posted after a nudge)."""
        whole = self.posted if of is None else of
        return count / whole if whole else None


def nudge_rows(window: Window, sites: Sequence[Site]) -> list[NudgeRow]:
    """Per site (those nudging now, or with nudged comments in the window), the
    comments received in the window after a nudge, by edit and by status now."""
    if not sites:
        return []
    rows = {site.id: NudgeRow(site) for site in sites}
    statement = (
        sa.select(Thread.site_id, Comment.nudge, Comment.status, sa.func.count())
        .join(Thread, Thread.id == Comment.thread_id)
        .where(
            Thread.site_id.in_(rows),
            # Every status named: the (status, created_at) index is range-scanned.
            Comment.status.in_(list(CommentStatus)),
            Comment.created_at >= window.start,
            Comment.created_at < window.end,
            Comment.nudge.is_not(None),
        )
        .group_by(Thread.site_id, Comment.nudge, Comment.status)
    )
    for site_id, nudge, status, count in db.session.execute(statement):
        row = rows[site_id]
        if nudge == "unchanged":
            row.unchanged += count
        else:
            row.edited += count
        if status is CommentStatus.PUBLISHED:
            row.published += count
            if nudge == "unchanged":
                row.unchanged_published += count
            else:
                row.edited_published += count
        elif status is CommentStatus.HELD:
            row.held += count
        elif status is CommentStatus.REJECTED:
            row.rejected += count
    return [row for row in rows.values() if row.site.nudge or row.posted]
