"""The screen: rules first, then the classifier, then the site's policy."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .base import Action, Draft, Policy, RuleHit
from .rules import apply_rules

if TYPE_CHECKING:
    from .classifiers import Choice, Classifier

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """What the screen decided for one comment, and every reason for it."""

    action: Action
    hits: tuple[RuleHit, ...]
    scores: dict[str, float]
    classifier: str
    classifier_version: str
    reasons: tuple[str, ...] = field(default=())

    @property
    def toxicity(self) -> float:
        """The score the pipeline acted on (0..1)."""
        return self.scores.get("toxicity", max(self.scores.values(), default=0.0))


def judge(
    hits: Sequence[RuleHit],
    scores: dict[str, float],
    policy: Policy,
    draft: Draft | None = None,
) -> tuple[Action, tuple[str, ...]]:
    """Combine rule hits and scores under a site's policy into one action.

    A draft's own `premoderate` (thread, handle standing) overrides the policy's.
    """
    action = Action.PUBLISH
    reasons: list[str] = []
    for hit in hits:
        reasons.append(hit.reason)
        if hit.action.rank > action.rank:
            action = hit.action
    for label, value in scores.items():
        threshold = policy.hold_thresholds.get(label)
        if threshold is not None and value >= threshold:
            reasons.append(f"{label} {value:.2f} ≥ {threshold:.2f}")
            action = max(action, Action.HOLD, key=lambda a: a.rank)
    toxicity = scores.get("toxicity")
    if (
        policy.reject_threshold is not None
        and toxicity is not None
        and toxicity >= policy.reject_threshold
    ):
        reasons.append(
            f"toxicity {toxicity:.2f} ≥ {policy.reject_threshold:.2f} (reject)"
        )
        action = Action.REJECT
    premoderate = policy.premoderate
    reason = "pre-moderated: every comment is reviewed"
    if draft is not None and draft.premoderate is not None:
        premoderate = draft.premoderate
        reason = draft.premoderate_reason or reason
    if premoderate and action is Action.PUBLISH:
        reasons.append(reason)
        action = Action.HOLD
    return action, tuple(reasons)


# Rules whose hits are evidence of abuse, and so move the toxicity score. Links,
# repeats and spam signals hold for other reasons and leave it alone.
ABUSE_RULES = frozenset(
    {"banned_word", "suspect_word", "threat", "dehumanisation", "group_harm"}
)


def with_rule_evidence(
    scores: dict[str, float],
    hits: Sequence[RuleHit],
    precision: Mapping[str, float],
) -> dict[str, float]:
    """The toxicity a comment gets once its abuse-rule hits are counted.

    A rule that fired is evidence with a measured precision: the share of held-out
    comments it fired on that were abusive (`precision`, from the heads' training).
    The score is the larger of the classifier's and that precision, so a comment a
    rule holds never shows a toxicity that says it is clean. Rules without a
    measured precision move nothing.
    """
    floor = max(
        (
            precision[h.rule]
            for h in hits
            if h.rule in ABUSE_RULES and h.rule in precision
        ),
        default=None,
    )
    if floor is None or "toxicity" not in scores or scores["toxicity"] >= floor:
        return scores
    return {**scores, "toxicity": floor}


def classify(
    texts: Sequence[str], classifier: Classifier, policy: Policy
) -> list[dict[str, float]]:
    """The classifier's scores, adjusted by the site's own head when it has one."""
    with_features = getattr(classifier, "score_with_features", None)
    if with_features is not None:
        scores, features = with_features(texts)
    else:
        scores, features = classifier.score(texts), None
    if len(scores) != len(texts):
        raise RuntimeError(
            f"{classifier.name} returned {len(scores)} scores for {len(texts)} texts"
        )
    if policy.adapter is not None and features is not None:
        scores = policy.adapter.adjust(scores, features)
    return scores


def screen(
    drafts: Sequence[Draft], policy: Policy, classifier: Classifier
) -> list[Verdict]:
    """Screen a batch: rules per draft, one classifier call for the whole batch."""
    if not drafts:
        return []
    hits = [tuple(apply_rules(draft, policy)) for draft in drafts]
    scores = classify([draft.body for draft in drafts], classifier, policy)
    precision: Mapping[str, float] = getattr(classifier, "rule_precision", {})
    scores = [
        with_rule_evidence(row, draft_hits, precision)
        for row, draft_hits in zip(scores, hits, strict=True)
    ]
    verdicts = []
    for draft, draft_hits, draft_scores in zip(drafts, hits, scores, strict=True):
        action, reasons = judge(draft_hits, draft_scores, policy, draft)
        verdicts.append(
            Verdict(
                action=action,
                hits=draft_hits,
                scores={k: float(v) for k, v in draft_scores.items()},
                classifier=classifier.name,
                classifier_version=classifier.version,
                reasons=reasons,
            )
        )
    return verdicts


class ScreeningFailed(Exception):
    """The screen could not give a verdict in time; the comment must be held."""


class Screener:
    """Owns the active classifier: loads it once (in the background if asked)."""

    def __init__(
        self,
        choice: Choice | None = None,
        device: str = "cpu",
        classifier: Classifier | None = None,
        threads: int | None = None,
    ) -> None:
        if choice is None and classifier is None:
            raise ValueError("a Screener needs a classifier choice or a classifier")
        self.choice = choice
        self.device = device
        self.threads = threads
        self._classifier: Classifier | None = classifier
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="screen")

    @property
    def description(self) -> str:
        """Which classifier is active and why, for logs and the moderator page."""
        if self.choice is not None:
            return self.choice.reason
        assert self._classifier is not None
        return f"{self._classifier.name}: set by the application"

    @property
    def limitations(self) -> str:
        """What the active classifier cannot see, as moderators should be told."""
        if self._classifier is not None:
            return self._classifier.limitations
        if self.choice is not None and self.choice.kind == "profanity-check":
            from .classifiers import ProfanityCheckClassifier

            return ProfanityCheckClassifier.limitations
        if self.choice is not None and self.choice.kind == "screen":
            from .screen_model import ScreenClassifier

            return ScreenClassifier.limitations
        return ""

    @property
    def loaded(self) -> Classifier | None:
        """The classifier if it has loaded, without loading it (None until then)."""
        return self._classifier

    def preload(self) -> None:
        """Start loading the classifier without blocking start-up."""
        self._executor.submit(self._safe_load)

    def _safe_load(self) -> None:
        try:
            self.classifier()
        except Exception:  # logged; every screen retries and holds until it loads
            logger.exception("classifier failed to load: %s", self.description)

    def classifier(self) -> Classifier:
        """The loaded classifier, loading it on first use."""
        with self._lock:
            if self._classifier is None:
                from .classifiers import build

                assert self.choice is not None
                logger.info("loading classifier: %s", self.choice.reason)
                self._classifier = build(self.choice, self.device, self.threads)
                logger.info("classifier ready: %s", self._classifier.version)
            return self._classifier

    def screen(
        self, drafts: Sequence[Draft], policy: Policy, timeout: float
    ) -> list[Verdict]:
        """Screen within `timeout` seconds, or raise ScreeningFailed."""
        future = self._executor.submit(
            lambda: screen(drafts, policy, self.classifier())
        )
        try:
            return future.result(timeout=timeout)
        except FutureTimeout as error:
            raise ScreeningFailed(
                f"screening took longer than {timeout:g} s"
            ) from error
        except Exception as error:
            raise ScreeningFailed(f"{type(error).__name__}: {error}") from error
