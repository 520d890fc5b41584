"""Word rules on the Davidson tweets: rejects on harmless text, hits on hate, speed."""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter
from pathlib import Path

from moderation.screening.base import Action, Draft, Policy
from moderation.screening.rules import apply_rules

# shared/ lies beside the checkout.
SHARED = Path(__file__).resolve().parents[2] / "shared"
DEFAULT = SHARED / "data" / "train" / "davidson" / "labeled_data.csv"
NAMES = {"0": "hate", "1": "offensive", "2": "neither"}


def main(path: Path) -> None:
    """Print, per Davidson class, how many tweets the rules reject or hold."""
    policy = Policy(link_limit=10**6)  # tweets: only the word and spam rules count
    counts: dict[str, Counter[str]] = {k: Counter() for k in NAMES}
    started = time.perf_counter()
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        hits = apply_rules(Draft(row["tweet"]), policy)
        words = [h for h in hits if h.rule in ("banned_word", "suspect_word")]
        c = counts[row["class"]]
        c["total"] += 1
        c["any word hit"] += bool(words)
        c["reject"] += any(h.action is Action.REJECT for h in hits)
        c["hold only"] += bool(words) and all(h.action is Action.HOLD for h in words)
    elapsed = time.perf_counter() - started
    for key, name in NAMES.items():
        c = counts[key]
        print(
            f"class {key} ({name}): {c['total']} tweets, any word hit "
            f"{c['any word hit']} ({c['any word hit'] / c['total']:.1%}), "
            f"reject {c['reject']} ({c['reject'] / c['total']:.2%})"
        )
    print(f"{len(rows)} tweets in {elapsed:.2f}s")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
