"""Threshold calibration: what each hold threshold would have done to comments
moderators have already decided.

A comment's final moderator decision is the ground truth: rejected counts as
"should have been held", published as "should not". For a threshold t the screen
would have held every comment whose score is >= t (the pipeline's own rule).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import Comment, CommentStatus, Decision, Score
from .queries import on_sites

THRESHOLDS = tuple(round(0.50 + 0.05 * i, 2) for i in range(10))  # 0.50 .. 0.95
# Below this many decided, scored comments the figures are noise: say so instead.
MIN_DECISIONS = 20


@dataclass(frozen=True)
class Sample:
    """One decided comment: its score for the label and the moderator's verdict."""

    score: float
    rejected: bool


@dataclass(frozen=True)
class Row:
    """What one threshold would have done to the decided comments."""

    threshold: float
    held: int  # score >= threshold
    held_rejected: int  # of those, rejected by moderators
    rejected: int  # every moderator-rejected comment
    current: bool = False

    @property
    def precision(self) -> float | None:
        """Of the comments it would hold, the share moderators rejected."""
        return self.held_rejected / self.held if self.held else None

    @property
    def recall(self) -> float | None:
        """Of the comments moderators rejected, the share it would hold."""
        return self.held_rejected / self.rejected if self.rejected else None

    @property
    def f1(self) -> float | None:
        """The harmonic mean of precision and recall."""
        precision, recall = self.precision, self.recall
        if precision is None or recall is None or precision + recall == 0:
            return None
        return 2 * precision * recall / (precision + recall)


def calibrate(
    samples: Iterable[Sample],
    thresholds: Sequence[float] = THRESHOLDS,
    current: float | None = None,
) -> list[Row]:
    """One row per threshold (the current one added when it is off the grid)."""
    # Sorted once, each threshold is a binary search: fine for 100k decisions.
    scored = sorted(samples, key=lambda sample: sample.score)
    scores = [sample.score for sample in scored]
    # rejected_from[i]: rejected comments among scored[i:].
    rejected_from = [0] * (len(scored) + 1)
    for i in range(len(scored) - 1, -1, -1):
        rejected_from[i] = rejected_from[i + 1] + scored[i].rejected
    grid = sorted(set(thresholds) | ({current} if current is not None else set()))
    rows = []
    for threshold in grid:
        first_held = bisect_left(scores, threshold)
        rows.append(
            Row(
                threshold=threshold,
                held=len(scored) - first_held,
                held_rejected=rejected_from[first_held],
                rejected=rejected_from[0],
                current=current is not None and abs(threshold - current) < 1e-9,
            )
        )
    return rows


def decided_samples(site_id: int, label: str) -> tuple[list[Sample], int]:
    """The site's comments whose latest moderator decision published or rejected
    them, with their `label` score; and how many such comments had no such score."""
    # Moderator decisions are few: find them first, then their comments' sites,
    # rather than every comment of the site and then its decisions.
    latest = (
        sa.select(sa.func.max(Decision.id).label("id"))
        .join(Comment, Comment.id == Decision.comment_id)
        .where(on_sites({site_id}, by_index=False), Decision.moderator_id.is_not(None))
        .group_by(Decision.comment_id)
        .subquery()
    )
    final = (
        sa.select(Decision.comment_id, Decision.to_status)
        .join(latest, latest.c.id == Decision.id)
        .where(
            Decision.to_status.in_([CommentStatus.PUBLISHED, CommentStatus.REJECTED])
        )
        .subquery()
    )
    # Several classifiers may have scored a comment: the highest score is the one
    # that would have held it.
    statement = (
        sa.select(final.c.to_status, sa.func.max(Score.value))
        .select_from(final)
        .outerjoin(
            Score,
            sa.and_(Score.comment_id == final.c.comment_id, Score.label == label),
        )
        .group_by(final.c.comment_id, final.c.to_status)
    )
    samples, unscored = [], 0
    for status, score in db.session.execute(statement):
        if score is None:
            unscored += 1
        else:
            samples.append(Sample(float(score), status == CommentStatus.REJECTED))
    return samples, unscored


def decided_labels(site_id: int, recent: int = 500) -> list[str]:
    """The labels scored on the site's most recently decided comments."""
    decided = (
        sa.select(Decision.comment_id)
        .join(Comment, Comment.id == Decision.comment_id)
        .where(on_sites({site_id}, by_index=False), Decision.moderator_id.is_not(None))
        .order_by(Decision.id.desc())
        .limit(recent)
    )
    return sorted(
        db.session.scalars(
            sa.select(Score.label).where(Score.comment_id.in_(decided)).distinct()
        )
    )
