"""How well the screen separates abusive comments from the rest: pure functions.

Inputs are plain sequences (labels 0/1, toxicity scores, the screen's decisions,
group names); outputs are dataclasses, and `format_report` lays them out as
fixed-width text. `evaluate_rows` runs them all, for the evaluate command and for
any other code (docs, training) that wants the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

# Inputs may be plain sequences or the arrays other metrics already made.
Labels = Sequence[int] | npt.NDArray[np.int_]
Scores = Sequence[float] | npt.NDArray[np.floating]
Flags = Sequence[bool] | npt.NDArray[np.bool_]

# Label spellings a labelled export may use; compared lower-cased and stripped.
POSITIVE_LABELS = frozenset(
    {"1", "1.0", "true", "hate", "hateful", "toxic", "offensive", "abusive"}
)
NEGATIVE_LABELS = frozenset(
    {
        "0",
        "0.0",
        "false",
        "neutral",
        "neither",
        "none",
        "normal",
        "non-toxic",
        "nontoxic",
        "not toxic",
        "non-hateful",
    }
)
NO_GROUP = "(none)"


def parse_label(value: str | int | bool) -> int:
    """1 for an abusive label, 0 for a clean one; ValueError for anything else."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return value
    text = str(value).strip().lower()
    if text in POSITIVE_LABELS:
        return 1
    if text in NEGATIVE_LABELS:
        return 0
    raise ValueError(
        f"unknown label {value!r}: use 0/1, true/false, hate/toxic/offensive/abusive "
        "or neutral/neither/none/normal/non-toxic"
    )


def is_flagged(decision: str | bool) -> bool:
    """Whether a decision calls the comment abusive: hold or reject, not publish."""
    if isinstance(decision, bool):
        return decision
    return str(decision).strip().lower() in ("hold", "reject")


@dataclass(frozen=True)
class Confusion:
    """Counts of one yes/no prediction against the labels, and what follows."""

    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    @property
    def flagged(self) -> int:
        """How many were predicted abusive (held or rejected)."""
        return self.tp + self.fp

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.tp + self.tn, self.n)

    @property
    def precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    @property
    def fpr(self) -> float | None:
        """Clean comments held: the cost to readers who did nothing wrong."""
        return _ratio(self.fp, self.fp + self.tn)

    @property
    def fnr(self) -> float | None:
        """Abusive comments published: the cost to everyone else."""
        return _ratio(self.fn, self.fn + self.tp)


def _ratio(numerator: int, denominator: int) -> float | None:
    # None, not 0: "no clean comments in this group" is not "a perfect FPR".
    return numerator / denominator if denominator else None


def confusion(labels: Labels, predicted: Flags) -> Confusion:
    """Count true/false positives/negatives of `predicted` against `labels`."""
    y = _labels(labels)
    p = np.asarray(predicted, dtype=bool)
    if y.shape != p.shape:
        raise ValueError(f"{len(y)} labels but {len(p)} predictions")
    return Confusion(
        tp=int(np.sum(p & (y == 1))),
        fp=int(np.sum(p & (y == 0))),
        tn=int(np.sum(~p & (y == 0))),
        fn=int(np.sum(~p & (y == 1))),
    )


def at_threshold(labels: Labels, scores: Scores, threshold: float) -> Confusion:
    """The confusion of `score >= threshold`, the way the pipeline applies it."""
    return confusion(labels, np.asarray(scores, dtype=float) >= threshold)


def roc_auc(labels: Labels, scores: Scores) -> float | None:
    """ROC AUC of the scores; None unless both classes are present."""
    y = _labels(labels)
    if len(np.unique(y)) < 2:
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, np.asarray(scores, dtype=float)))


@dataclass(frozen=True)
class GroupRow:
    """One group's numbers: how the prediction treats the comments about it."""

    group: str
    n: int
    positives: int
    accuracy: float | None
    auc: float | None
    fpr: float | None
    fnr: float | None


@dataclass(frozen=True)
class Gap:
    """The spread of one measure across groups: max minus min, and who they are."""

    measure: str
    value: float
    highest: tuple[str, float]
    lowest: tuple[str, float]


def per_group(
    labels: Labels,
    scores: Scores,
    predicted: Flags,
    groups: Sequence[str],
) -> list[GroupRow]:
    """A row per group (in order of size, then name); blank groups are NO_GROUP."""
    y = _labels(labels)
    s = np.asarray(scores, dtype=float)
    p = np.asarray(predicted, dtype=bool)
    g = np.asarray([str(name).strip() or NO_GROUP for name in groups], dtype=object)
    if not len(y) == len(s) == len(p) == len(g):
        raise ValueError("labels, scores, predictions and groups differ in length")
    rows = []
    for name in sorted(set(g), key=lambda k: (-int(np.sum(g == k)), k)):
        mask = g == name
        counts = confusion(y[mask], p[mask])
        rows.append(
            GroupRow(
                group=name,
                n=counts.n,
                positives=counts.tp + counts.fn,
                accuracy=counts.accuracy,
                auc=roc_auc(y[mask], s[mask]),
                fpr=counts.fpr,
                fnr=counts.fnr,
            )
        )
    return rows


def gaps(rows: Sequence[GroupRow], min_size: int = 1) -> dict[str, Gap | None]:
    """Max minus min of per-group AUC and FPR: the bias measure.

    Only groups with at least `min_size` comments count (a group of three moves
    any rate by a third), and never NO_GROUP, which is not a group. A measure
    with fewer than two groups to compare is None.
    """
    eligible = [r for r in rows if r.n >= min_size and r.group != NO_GROUP]
    result: dict[str, Gap | None] = {}
    for measure in ("auc", "fpr"):
        values = [
            (r.group, v) for r in eligible if (v := getattr(r, measure)) is not None
        ]
        if len(values) < 2:
            result[measure] = None
            continue
        highest = max(values, key=lambda item: item[1])
        lowest = min(values, key=lambda item: item[1])
        result[measure] = Gap(measure, highest[1] - lowest[1], highest, lowest)
    return result


@dataclass(frozen=True)
class Evaluation:
    """Every number the evaluate command prints."""

    n: int
    positives: int
    auc: float | None
    # The screen's own decision; None when only scores were evaluated.
    decision: Confusion | None
    # Name ("hold", "reject") -> (threshold, the confusion of score >= threshold).
    thresholds: dict[str, tuple[float, Confusion]] = field(default_factory=dict)
    groups: list[GroupRow] = field(default_factory=list)
    gaps: dict[str, Gap | None] = field(default_factory=dict)
    # What the per-group accuracy and rates count as predicted abusive.
    group_prediction: str = ""
    min_group_size: int = 1


def evaluate_rows(
    labels: Labels,
    scores: Scores,
    decisions: Sequence[str | bool] | None = None,
    groups: Sequence[str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    min_group_size: int = 1,
) -> Evaluation:
    """Evaluate scores (and decisions, and groups when given) against labels.

    Per-group rates use the decisions when there are any, else the first of
    `thresholds` (else 0.5) applied to the scores.
    """
    y = _labels(labels)
    s = np.asarray(scores, dtype=float)
    if len(y) != len(s):
        raise ValueError(f"{len(y)} labels but {len(s)} scores")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite numbers")
    thresholds = dict(thresholds or {})
    by_threshold = {
        name: (value, at_threshold(y, s, value)) for name, value in thresholds.items()
    }
    decision = None
    if decisions is not None:
        predicted = np.asarray([is_flagged(d) for d in decisions], dtype=bool)
        decision = confusion(y, predicted)
        how = "the screen's decision (hold or reject)"
    else:
        name, value = next(iter(thresholds.items()), ("", 0.5))
        predicted = s >= value
        how = f"toxicity >= {value:.2f}" + (f" ({name})" if name else "")
    rows = per_group(y, s, predicted, groups) if groups is not None else []
    return Evaluation(
        n=len(y),
        positives=int(np.sum(y)),
        auc=roc_auc(y, s),
        decision=decision,
        thresholds=by_threshold,
        groups=rows,
        gaps=gaps(rows, min_group_size) if rows else {},
        group_prediction=how,
        min_group_size=min_group_size,
    )


def _labels(labels: Labels) -> np.ndarray:
    y = np.asarray(labels, dtype=int).reshape(-1)
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    return y


def _number(value: float | None, width: int) -> str:
    return ("-" if value is None or math.isnan(value) else f"{value:.3f}").rjust(width)


def format_report(evaluation: Evaluation, group_title: str = "group") -> str:
    """The evaluation as fixed-width text, the way the evaluate command prints it."""
    e = evaluation
    lines = [
        f"n: {e.n:,}   positives: {e.positives:,}   negatives: {e.n - e.positives:,}",
        f"ROC AUC of toxicity: {_number(e.auc, 0).strip()}",
        "",
    ]
    label_width = 28
    header = (
        f"{'predicted abusive when':<{label_width}} {'flagged':>7} {'accuracy':>8} "
        f"{'precision':>9} {'recall':>7} {'F1':>7}"
    )
    lines += [header, "-" * len(header)]
    rows: list[tuple[str, Confusion]] = []
    if e.decision is not None:
        rows.append(("decision is hold or reject", e.decision))
    for name, (value, counts) in e.thresholds.items():
        rows.append((f"toxicity >= {value:.2f} ({name})", counts))
    for title, c in rows:
        lines.append(
            f"{title:<{label_width}} {c.flagged:>7,} {_number(c.accuracy, 8)} "
            f"{_number(c.precision, 9)} {_number(c.recall, 7)} {_number(c.f1, 7)}"
        )
    if e.groups:
        width = max(len(group_title), *(len(r.group) for r in e.groups))
        header = (
            f"{group_title:<{width}} {'n':>6} {'pos':>6} {'accuracy':>8} "
            f"{'AUC':>7} {'FPR':>7} {'FNR':>7}"
        )
        lines += [
            "",
            f"by {group_title}; predicted abusive: {e.group_prediction};",
            "FPR: share of label 0 flagged; FNR: share of label 1 missed",
            header,
            "-" * len(header),
        ]
        for r in e.groups:
            lines.append(
                f"{r.group:<{width}} {r.n:>6,} {r.positives:>6,} "
                f"{_number(r.accuracy, 8)} {_number(r.auc, 7)} "
                f"{_number(r.fpr, 7)} {_number(r.fnr, 7)}"
            )
        scope = (
            f"groups of at least {e.min_group_size}"
            if e.min_group_size > 1
            else "all groups"
        )
        lines += ["", f"gaps, max - min over {scope} (not {NO_GROUP}):"]
        for measure, title in (("auc", "AUC"), ("fpr", "FPR")):
            gap = e.gaps.get(measure)
            if gap is None:
                lines.append(f"  {title}: - (fewer than two groups have it)")
            else:
                lines.append(
                    f"  {title}: {gap.value:.3f}   highest {gap.highest[0]} "
                    f"{gap.highest[1]:.3f}, lowest {gap.lowest[0]} "
                    f"{gap.lowest[1]:.3f}"
                )
    return "\n".join(lines)
