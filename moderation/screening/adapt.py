"""Site-adapted heads: a site's moderators' decisions correct the default toxicity.

A head is a logistic regression on the classifier's features plus the logit of its
calibrated toxicity. It is fitted as a correction of the default model, not as a
model of its own: the penalty pulls the feature weights towards 0 and the weight
of the default's logit towards 1 (and the intercept towards 0), so that a head
fitted on few decisions scores almost as the default does, and only many
decisions move it far. (Plain L2 on [X, logit] would instead shrink a small
site's head towards a constant.) Features are standardised for the fit, so that
one penalty suits every dimension, then folded back into raw-feature weights.

Calibration is Platt scaling (a sigmoid of the head's raw score) fitted on
out-of-fold scores from 5 stratified folds, then applied to the head refitted on
every example. Platt rather than isotonic: heads are fitted on a few hundred to a
few thousand decisions, where isotonic's step function overfits and its flat steps
make the hold threshold jump between validation runs; two parameters need little
data, and the head is already logistic, so a monotone sigmoid is the right shape.
Out-of-fold rather than one held-out split: every decision serves both the fit
and the calibration, which matters most when decisions are few.

No Flask and no database here: `services/site_heads.py` stores and serves heads.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.model_selection import StratifiedKFold

logger = logging.getLogger(__name__)

# Below these no head is fitted: a few dozen decisions are mostly noise.
MIN_EXAMPLES = 200
MIN_PER_CLASS = 30
# Precision of the prior on the feature weights, per dimension: strength * d. With
# standardised features, d * (1 / (strength * d)) = 1 / strength is then the prior
# variance of the correction's logit, whatever d is (bench/site_learning.py).
PRIOR_STRENGTH = 4.0
# Precision of the prior that the default's logit keeps weight 1 and the intercept
# 0: a few hundred decisions move these two freely, a few dozen do not.
BASE_PRIOR = 10.0
FOLDS = 5
# Scores are clipped before the logit: a default that says 0 or 1 stays finite.
_CLIP = 1e-4
FORMAT = 1


class TooFewExamples(ValueError):
    """Not enough labelled decisions to fit a head; the message says what is short."""


def too_few(
    y: np.ndarray | Sequence[int],
    minimum: int = MIN_EXAMPLES,
    per_class: int = MIN_PER_CLASS,
) -> str | None:
    """Why these labels are too few to fit on, or None when they are enough."""
    labels = np.asarray(y)
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if len(labels) < minimum:
        return f"{len(labels):,} decisions, {minimum:,} needed"
    if min(positives, negatives) < per_class:
        return (
            f"{positives:,} rejected and {negatives:,} approved, "
            f"{per_class:,} of each needed"
        )
    return None


def logit(p: np.ndarray | Sequence[float]) -> np.ndarray:
    """log(p / (1 - p)), clipped so that 0 and 1 stay finite."""
    clipped = np.clip(np.asarray(p, dtype=np.float64), _CLIP, 1 - _CLIP)
    return np.log(clipped) - np.log1p(-clipped)


@dataclass(eq=False)
class SiteHead:
    """A fitted head: raw-feature weights, the default's weight, Platt's two numbers.

    probability = sigmoid(platt_a * (X @ weights + base_weight * logit(base)
    + bias) + platt_b). Implements screening.base.Adapter.
    """

    weights: np.ndarray
    bias: float
    base_weight: float
    platt_a: float = 1.0
    platt_b: float = 0.0
    # The classifier ("name version") whose features and toxicity it was fitted on.
    base: str = ""
    examples: int = 0
    positives: int = 0
    # Set by the service once stored ("v3"); the pipeline may record it.
    version: str = "unsaved"
    _warned: bool = field(default=False, init=False, repr=False)

    @property
    def n_features(self) -> int:
        return int(self.weights.shape[0])

    def raw(
        self, X: np.ndarray, base_toxicity: Sequence[float] | np.ndarray
    ) -> np.ndarray:
        """The uncalibrated score (a logit) of each row."""
        X = np.asarray(X, dtype=np.float64)
        return X @ self.weights + self.base_weight * logit(base_toxicity) + self.bias

    def predict(
        self, X: np.ndarray, base_toxicity: Sequence[float] | np.ndarray
    ) -> np.ndarray:
        """Calibrated toxicity of each row, in 0..1."""
        return expit(self.platt_a * self.raw(X, base_toxicity) + self.platt_b)

    def adjust(
        self, scores: Sequence[Mapping[str, float]], features: np.ndarray | None
    ) -> list[dict[str, float]]:
        """Replace each "toxicity" by the head's; other labels are left alone."""
        adjusted = [dict(score) for score in scores]
        if features is None:
            return adjusted
        X = np.asarray(features)
        if X.ndim != 2 or X.shape != (len(scores), self.n_features):
            # A classifier with other features than the head was fitted on (a new
            # default model): the default's scores stand until the site retrains.
            if not self._warned:
                logger.warning(
                    "site head %s expects %d features, got shape %s: not applied",
                    self.version,
                    self.n_features,
                    X.shape,
                )
                self._warned = True
            return adjusted
        rows = [i for i, score in enumerate(scores) if "toxicity" in score]
        if rows:
            toxicity = self.predict(X[rows], [scores[i]["toxicity"] for i in rows])
            for i, value in zip(rows, toxicity, strict=True):
                adjusted[i]["toxicity"] = float(value)
        return adjusted

    def to_json(self) -> str:
        """The head as JSON text (floats kept exactly)."""
        return json.dumps(
            {
                "format": FORMAT,
                "weights": [float(w) for w in self.weights],
                "bias": float(self.bias),
                "base_weight": float(self.base_weight),
                "platt": {"a": float(self.platt_a), "b": float(self.platt_b)},
                "base": self.base,
                "examples": self.examples,
                "positives": self.positives,
            }
        )

    @classmethod
    def from_json(cls, text: str, version: str = "unsaved") -> SiteHead:
        """A head from to_json's text."""
        data: dict[str, Any] = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown site head format {data.get('format')!r}")
        return cls(
            weights=np.asarray(data["weights"], dtype=np.float64),
            bias=float(data["bias"]),
            base_weight=float(data["base_weight"]),
            platt_a=float(data["platt"]["a"]),
            platt_b=float(data["platt"]["b"]),
            base=str(data.get("base", "")),
            examples=int(data.get("examples", 0)),
            positives=int(data.get("positives", 0)),
            version=version,
        )


def _fit_correction(
    Z: np.ndarray, t: np.ndarray, y: np.ndarray, strength: float, base_prior: float
) -> tuple[np.ndarray, float, float]:
    """MAP weights of sigmoid(Z w + a t + b): w ~ N(0, 1/(strength d)),
    a ~ N(1, 1/base_prior), b ~ N(0, 1/base_prior). Returns (w, a, b)."""
    d = Z.shape[1]
    penalty = strength * max(d, 1)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, a, b = theta[:d], theta[d], theta[d + 1]
        s = Z @ w + a * t + b
        value = float(np.sum(np.logaddexp(0.0, s) - y * s))
        value += 0.5 * penalty * float(w @ w)
        value += 0.5 * base_prior * ((a - 1.0) ** 2 + b**2)
        r = expit(s) - y
        gradient = np.empty_like(theta)
        gradient[:d] = Z.T @ r + penalty * w
        gradient[d] = float(t @ r) + base_prior * (a - 1.0)
        gradient[d + 1] = float(r.sum()) + base_prior * b
        return value, gradient

    start = np.zeros(d + 2)
    start[d] = 1.0  # the default model as it is
    result = minimize(
        loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 1000}
    )
    if not result.success:
        logger.warning("site head fit: %s after %d steps", result.message, result.nit)
    theta = result.x
    return theta[:d], float(theta[d]), float(theta[d + 1])


def _fit_platt(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt's (a, b) for sigmoid(a * raw + b), with his smoothed targets."""
    positives = float(y.sum())
    negatives = float(len(y) - positives)
    # Platt (1999): targets pulled off 0 and 1 so that a separable set stays finite.
    target = np.where(y == 1, (positives + 1) / (positives + 2), 1 / (negatives + 2))

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        s = theta[0] * raw + theta[1]
        value = float(np.sum(np.logaddexp(0.0, s) - target * s))
        r = expit(s) - target
        return value, np.array([float(r @ raw), float(r.sum())])

    result = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    return float(result.x[0]), float(result.x[1])


def fit_site_head(
    X: np.ndarray,
    base_toxicity: np.ndarray | Sequence[float],
    y: np.ndarray | Sequence[int],
    *,
    seed: int = 0,
    strength: float = PRIOR_STRENGTH,
    base_prior: float = BASE_PRIOR,
    minimum: int = MIN_EXAMPLES,
    per_class: int = MIN_PER_CLASS,
    base: str = "",
) -> SiteHead:
    """Fit and calibrate a head on decisions (y: 1 rejected, 0 approved).

    Raises TooFewExamples below `minimum` decisions or `per_class` of either kind.
    """
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(y, dtype=np.float64)
    base_scores = np.asarray(base_toxicity, dtype=np.float64)
    if X.ndim != 2 or len(X) != len(labels) or len(base_scores) != len(labels):
        raise ValueError(
            f"shapes disagree: X {X.shape}, base {base_scores.shape}, y {labels.shape}"
        )
    if not np.isfinite(X).all():
        raise ValueError("features hold NaN or infinite values")
    reason = too_few(labels, minimum, per_class)
    if reason is not None:
        raise TooFewExamples(reason)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale = np.where(scale > 1e-8, scale, 1.0)  # constant columns: weight stays ~0
    Z = (X - mean) / scale
    t = logit(base_scores)

    # Out-of-fold raw scores for Platt: each row scored by a head that never saw it.
    smaller = int(min(labels.sum(), len(labels) - labels.sum()))
    platt_a, platt_b = 1.0, 0.0
    if smaller >= 2:
        folds = StratifiedKFold(
            n_splits=min(FOLDS, smaller), shuffle=True, random_state=seed
        )
        out_of_fold = np.empty(len(labels))
        for train, held in folds.split(Z, labels):
            w, a, b = _fit_correction(
                Z[train], t[train], labels[train], strength, base_prior
            )
            out_of_fold[held] = Z[held] @ w + a * t[held] + b
        platt_a, platt_b = _fit_platt(out_of_fold, labels)

    w, a, b = _fit_correction(Z, t, labels, strength, base_prior)
    weights = w / scale
    return SiteHead(
        weights=weights,
        bias=float(b - mean @ weights),
        base_weight=a,
        platt_a=platt_a,
        platt_b=platt_b,
        base=base,
        examples=len(labels),
        positives=int(labels.sum()),
    )


@dataclass(frozen=True)
class Metrics:
    """How one model did on the validation decisions at the hold threshold."""

    examples: int
    positives: int  # rejected by moderators
    held: int  # score >= threshold
    held_positive: int
    log_loss: float

    @property
    def precision(self) -> float | None:
        """Of what it would hold, the share moderators rejected."""
        return self.held_positive / self.held if self.held else None

    @property
    def recall(self) -> float | None:
        """Of what moderators rejected, the share it would hold."""
        return self.held_positive / self.positives if self.positives else None

    def as_dict(self) -> dict[str, Any]:
        """For the metrics JSON column."""
        return {
            "examples": self.examples,
            "positives": self.positives,
            "held": self.held,
            "held_positive": self.held_positive,
            "precision": self.precision,
            "recall": self.recall,
            "log_loss": self.log_loss,
        }


def measure(
    probabilities: np.ndarray | Sequence[float],
    y: np.ndarray | Sequence[int],
    threshold: float,
) -> Metrics:
    """Precision, recall and log loss of probabilities against labels."""
    p = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(y).astype(bool)
    held = p >= threshold  # the pipeline's rule: at or above holds
    clipped = np.clip(p, 1e-7, 1 - 1e-7)
    loss = -np.mean(np.where(labels, np.log(clipped), np.log1p(-clipped)))
    return Metrics(
        examples=len(labels),
        positives=int(labels.sum()),
        held=int(held.sum()),
        held_positive=int((held & labels).sum()),
        log_loss=float(loss) if len(labels) else 0.0,
    )


@dataclass(frozen=True)
class Validation:
    """A candidate head against the current model on the newest decisions."""

    threshold: float
    candidate: Metrics
    current: Metrics
    accept: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """For the metrics JSON column."""
        return {
            "threshold": self.threshold,
            "candidate": self.candidate.as_dict(),
            "current": self.current.as_dict(),
            "accept": self.accept,
            "reason": self.reason,
        }


def validate(
    candidate: SiteHead,
    current: SiteHead | None,
    X_val: np.ndarray,
    base_val: np.ndarray | Sequence[float],
    y_val: np.ndarray | Sequence[int],
    threshold: float,
) -> Validation:
    """Accept the candidate only if it is at least as good as the current model
    (a head, or the default's toxicity when None) on both precision and recall at
    the threshold, and better on at least one."""
    base_scores = np.asarray(base_val, dtype=np.float64)
    ours = measure(candidate.predict(X_val, base_scores), y_val, threshold)
    theirs_p = base_scores if current is None else current.predict(X_val, base_scores)
    theirs = measure(theirs_p, y_val, threshold)
    if ours.positives == 0 or ours.positives == ours.examples:
        return Validation(
            threshold,
            ours,
            theirs,
            False,
            "the validation decisions are all of one kind: nothing to compare on",
        )
    # Holding nothing has no precision: it counts as 0, never as a tie won.
    p_ours, p_theirs = ours.precision or 0.0, theirs.precision or 0.0
    r_ours, r_theirs = ours.recall or 0.0, theirs.recall or 0.0
    summary = (
        f"precision {p_ours:.3f} vs {p_theirs:.3f}, "
        f"recall {r_ours:.3f} vs {r_theirs:.3f} at {threshold:.2f}"
    )
    if p_ours < p_theirs or r_ours < r_theirs:
        return Validation(threshold, ours, theirs, False, f"worse: {summary}")
    if p_ours == p_theirs and r_ours == r_theirs:
        return Validation(threshold, ours, theirs, False, f"no better: {summary}")
    return Validation(threshold, ours, theirs, True, f"better: {summary}")
