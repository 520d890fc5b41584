"""Threshold calibration: what each hold threshold would have done to comments
moderators have already decided.

A comment's final moderator decision is the ground truth: rejected counts as
"should have been held", published as "should not". For a threshold t the screen
would have held every comment whose score is >= t (the pipeline's own rule).

`suggest` picks the threshold the page offers, `preview` says what a threshold
would have done to the recent decisions before an admin applies it
(services/thresholds.py writes it).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import sqlalchemy as sa

from ..extensions import db
from ..models import Comment, CommentStatus, Decision, Score
from ..services.figures import on_sites

THRESHOLDS = tuple(round(0.50 + 0.05 * i, 2) for i in range(10))  # 0.50 .. 0.95
# Below this many decided, scored comments the figures are noise: say so instead.
MIN_DECISIONS = 20
# The preview replays this many of the most recently decided comments.
PREVIEW_RECENT = 500
# Examples the preview shows of each kind of change.
PREVIEW_EXAMPLES = 3


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


def suggest(rows: Sequence[Row]) -> Row | None:
    """The row with the best F1 (of equals, the highest threshold: fewer held)."""
    scored = [row for row in rows if row.f1 is not None]
    if not scored:
        return None
    return max(scored, key=lambda row: (round(row.f1 or 0.0, 9), row.threshold))


@dataclass(frozen=True)
class Decided:
    """One recently decided comment, for the preview."""

    comment_id: int
    score: float
    rejected: bool


@dataclass(frozen=True)
class Example:
    """A comment the preview shows: its id, score and the start of its text."""

    comment_id: int
    score: float
    excerpt: str


@dataclass(frozen=True)
class Preview:
    """What a hold threshold would have done to the recent decided comments,
    against what the current threshold does."""

    label: str
    threshold: float
    current: float | None
    reject_threshold: float | None  # toxicity only: at or above, rejected outright
    approved: int  # moderators published
    rejected: int  # moderators rejected
    approved_stopped: int  # published by moderators, held or rejected at threshold
    approved_rejected: int  # of those, rejected outright (the reject threshold)
    approved_stopped_now: int  # the same at the current threshold
    rejected_passing: int  # rejected by moderators, passed at threshold
    rejected_passing_now: int  # the same at the current threshold
    stopped_examples: tuple[Example, ...] = ()
    passing_examples: tuple[Example, ...] = ()

    @property
    def decided(self) -> int:
        """Every recent decided comment with a score for the label."""
        return self.approved + self.rejected


def _stops(score: float, hold: float | None, reject: float | None) -> bool:
    """The screen holds or rejects a comment on this score (the pipeline's rule)."""
    return (hold is not None and score >= hold) or (
        reject is not None and score >= reject
    )


def preview(
    decided: Sequence[Decided],
    label: str,
    threshold: float,
    current: float | None,
    reject_threshold: float | None = None,
    examples: int = PREVIEW_EXAMPLES,
) -> tuple[Preview, list[int], list[int]]:
    """The figures of a threshold's preview, and the ids of the comments to show
    as examples (approved but stopped; rejected but passing), those whose outcome
    the change moves first, then the most telling (highest, lowest scores)."""
    reject = reject_threshold if label == "toxicity" else None
    approved = [d for d in decided if not d.rejected]
    rejected = [d for d in decided if d.rejected]
    stopped = [d for d in approved if _stops(d.score, threshold, reject)]
    passing = [d for d in rejected if not _stops(d.score, threshold, reject)]
    stopped.sort(
        key=lambda d: (_stops(d.score, current, reject), -d.score, d.comment_id)
    )
    passing.sort(
        key=lambda d: (not _stops(d.score, current, reject), d.score, d.comment_id)
    )
    figures = Preview(
        label=label,
        threshold=threshold,
        current=current,
        reject_threshold=reject,
        approved=len(approved),
        rejected=len(rejected),
        approved_stopped=len(stopped),
        approved_rejected=sum(
            1 for d in stopped if reject is not None and d.score >= reject
        ),
        approved_stopped_now=sum(
            1 for d in approved if _stops(d.score, current, reject)
        ),
        rejected_passing=len(passing),
        rejected_passing_now=sum(
            1 for d in rejected if not _stops(d.score, current, reject)
        ),
    )
    return (
        figures,
        [d.comment_id for d in stopped[:examples]],
        [d.comment_id for d in passing[:examples]],
    )


def recent_decided(
    site_id: int, label: str, recent: int = PREVIEW_RECENT
) -> list[Decided]:
    """The site's `recent` most recently decided comments (latest moderator
    decision published or rejected them) that have a `label` score."""
    latest = (
        sa.select(sa.func.max(Decision.id).label("id"))
        .join(Comment, Comment.id == Decision.comment_id)
        .where(on_sites({site_id}, by_index=False), Decision.moderator_id.is_not(None))
        .group_by(Decision.comment_id)
        .subquery()
    )
    final = (
        sa.select(Decision.id, Decision.comment_id, Decision.to_status)
        .join(latest, latest.c.id == Decision.id)
        .where(
            Decision.to_status.in_([CommentStatus.PUBLISHED, CommentStatus.REJECTED])
        )
        .order_by(Decision.id.desc())
        .limit(recent)
        .subquery()
    )
    statement = (
        sa.select(final.c.comment_id, final.c.to_status, sa.func.max(Score.value))
        .select_from(final)
        .join(
            Score,
            sa.and_(Score.comment_id == final.c.comment_id, Score.label == label),
        )
        .group_by(final.c.comment_id, final.c.to_status)
    )
    return [
        Decided(comment_id, float(score), status == CommentStatus.REJECTED)
        for comment_id, status, score in db.session.execute(statement)
    ]


def examples(ids: Sequence[int], scores: dict[int, float]) -> tuple[Example, ...]:
    """The comments `ids` as examples, in that order, their text cut short."""
    if not ids:
        return ()
    bodies: dict[int, str] = {
        comment_id: body
        for comment_id, body in db.session.execute(
            sa.select(Comment.id, Comment.body).where(Comment.id.in_(ids))
        )
    }
    return tuple(
        Example(comment_id, scores[comment_id], _excerpt(bodies.get(comment_id, "")))
        for comment_id in ids
    )


def _excerpt(body: str, length: int = 160) -> str:
    text = " ".join(body.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def site_preview(
    site_id: int,
    label: str,
    threshold: float,
    current: float | None,
    reject_threshold: float | None = None,
) -> Preview:
    """The preview of a threshold over the site's recent decisions, with examples."""
    decided = recent_decided(site_id, label)
    figures, stopped, passing = preview(
        decided, label, threshold, current, reject_threshold
    )
    scores = {d.comment_id: d.score for d in decided}
    return replace(
        figures,
        stopped_examples=examples(stopped, scores),
        passing_examples=examples(passing, scores),
    )
