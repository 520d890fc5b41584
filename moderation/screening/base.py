"""Values shared by the rules, the classifiers and the pipeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np


class Action(StrEnum):
    """What the screen recommends for one comment, strongest last."""

    PUBLISH = "publish"
    HOLD = "hold"
    REJECT = "reject"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Action.PUBLISH: 0, Action.HOLD: 1, Action.REJECT: 2}


@dataclass(frozen=True)
class Span:
    """Where a rule matched in the body, for highlighting: body[start:end] == text."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class RuleHit:
    """One rule that fired, with the action it asks for and a reason a human reads."""

    rule: str
    action: Action
    reason: str
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Draft:
    """A comment as the screen sees it: the body, and what the service knew of it."""

    body: str
    handle: str = ""
    # True when the same (normalised) body is already in the same thread.
    is_repeat: bool = False
    # Pre-moderation decided for this comment (its thread, its handle's standing):
    # None leaves it to the policy; True holds a clean comment, giving
    # premoderate_reason; False lets a clean comment through (a trusted handle).
    premoderate: bool | None = None
    premoderate_reason: str = ""


# The six labels of detoxify's `original` model: what the screen's heads produce,
# what training data is mapped to, and what sites set thresholds on.
LABELS = (
    "toxicity",
    "severe_toxicity",
    "obscene",
    "threat",
    "insult",
    "identity_attack",
)


DEFAULT_THRESHOLDS: Mapping[str, float] = {
    "toxicity": 0.5,
    "severe_toxicity": 0.3,
    "obscene": 0.6,
    "threat": 0.3,
    "insult": 0.5,
    "identity_attack": 0.3,
    "sexual_explicit": 0.5,
}


class Adapter(Protocol):
    """A site's own correction of the classifier's scores (screening/adapt.py)."""

    version: str

    def adjust(
        self, scores: Sequence[Mapping[str, float]], features: np.ndarray | None
    ) -> list[dict[str, float]]:
        """New scores for the batch; unchanged when `features` is None."""
        ...


@dataclass(frozen=True)
class Policy:
    """A site's screening settings: thresholds, link limit, extra word lists."""

    # A score at or above hold_thresholds[label] holds the comment.
    hold_thresholds: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_THRESHOLDS)
    )
    # A toxicity at or above this rejects outright; None: the classifier never rejects.
    reject_threshold: float | None = None
    # More links than this holds the comment.
    link_limit: int = 1
    # Site-specific additions to the shipped lists.
    banned_words: tuple[str, ...] = ()
    suspect_words: tuple[str, ...] = ()
    # Hold everything that passed the screen.
    premoderate: bool = False
    # The site's adapted head, learnt from its moderators' decisions; None: the
    # classifier's scores as they are. Left out of ==: it holds numpy arrays.
    adapter: Adapter | None = field(default=None, compare=False)
