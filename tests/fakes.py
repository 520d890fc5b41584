"""Stand-ins a test controls: a classifier whose scores the test sets."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence


class FixedClassifier:
    """Scores every text with the scores a test set; can be told to fail or stall."""

    name = "fixed"
    version = "fixed 1"
    labels = ("toxicity", "insult", "threat")
    limitations = "a test double: its scores are set by the test"

    def __init__(self, scores: dict[str, float] | None = None) -> None:
        self.scores = scores or {"toxicity": 0.01, "insult": 0.01, "threat": 0.0}
        self.by_text: dict[str, dict[str, float]] = {}
        self.error: Exception | None = None
        self.stall: threading.Event | None = None
        self.calls: list[list[str]] = []
        self.hook: Callable[[Sequence[str]], None] | None = None

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """The set scores, after any failure or stall the test asked for."""
        self.calls.append(list(texts))
        if self.hook is not None:
            self.hook(texts)
        if self.stall is not None:
            self.stall.wait(30)
        if self.error is not None:
            raise self.error
        return [dict(self.by_text.get(text, self.scores)) for text in texts]
