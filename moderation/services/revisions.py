"""Thread revisions: the read path's cache keys and ETags carry them.

Every change a reader could see (a comment published or unpublished, edited or
deleted, a thread opened or closed) bumps its thread's revision in the same
transaction, so a cached rendering of the old state is never served again.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from ..extensions import db
from ..models import Site, Thread


def bump_threads(thread_ids: Iterable[int]) -> None:
    """Mark threads changed, in the caller's transaction."""
    # Sorted: two transactions locking the same rows lock them in one order.
    ids = sorted(set(thread_ids))
    if ids:
        db.session.execute(
            sa.update(Thread)
            .where(Thread.id.in_(ids))
            .values(revision=Thread.revision + 1)
            .execution_options(synchronize_session=False)
        )


def bump_site(site_id: int) -> None:
    """Mark every thread of a site changed (its time zone or settings moved)."""
    db.session.execute(
        sa.update(Site)
        .where(Site.id == site_id)
        .values(revision=Site.revision + 1)
        .execution_options(synchronize_session=False)
    )
