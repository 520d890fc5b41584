"""Site heads by simulation: how held-out error falls as moderators decide more.

A labelled CSV is replayed as a stream of moderator decisions (a seeded shuffle per
run; a fixed held-out test set is set aside first and never decided). After 100,
1,000 and 10,000 decisions a site head is fitted exactly as `train-screen --site` does
(moderation/screening/adapt.py: the newest 20% of the decisions validate it, the
rest fit it) and both the default model and the head are scored on the test set:
error rate, log loss, precision and recall at 0.5. "deployed" is what the service
would screen with: the head when it has enough decisions and wins its validation,
the default otherwise. Below adapt.MIN_EXAMPLES the service fits nothing; the
head's figures there are from a forced fit, to show what the minimum protects from.

    .venv/bin/python bench/site_learning.py --csv PATH --text-column T \\
        --label-column L [--positive 0,1] [--features screen-model|random-projection]

Features: `screen-model` is the service's ScreenClassifier (MiniLM embedding plus
rule features; the default's toxicity is its own calibrated head). Without it,
`random-projection` is a seeded Gaussian random projection (384 dimensions, as
MiniLM) of a TF-IDF bag of words fitted on the stream's texts (never the test
set's): a real, if weak, encoder; the default's toxicity is then the shipped
alt-profanity-check model (real weights, trained on other data). `--decisions held`
replays only the comments the default would hold, as a live site's moderators
mostly see (the test set stays the whole distribution).

`--test-csv` tests on another CSV instead of a random 4,000 rows (its texts are
taken out of the stream). The shipped default heads were fitted on 70% of Davidson,
so docs/screening.md tests on the 30% they never saw (bench/held_out_csvs.py
writes it) and replays the rest, which the default has seen: a conservative
measure of what a site head adds:

    .venv/bin/python bench/held_out_csvs.py bench/out/held_out
    .venv/bin/python bench/site_learning.py \\
        --csv ../shared/data/train/davidson/labeled_data.csv \\
        --text-column tweet --label-column class --positive 0,1 \\
        --test-csv bench/out/held_out/davidson.csv

Davidson et al.'s tweets, hate or offensive (class 0 or 1) as "reject":

    .venv/bin/python bench/site_learning.py \\
        --csv ../shared/data/train/davidson/labeled_data.csv \\
        --text-column tweet --label-column class --positive 0,1 \\
        --features random-projection
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from moderation.screening import adapt  # noqa: E402

csv.field_size_limit(2**31 - 1)

Features = Callable[[Sequence[str]], np.ndarray]


def read_labelled(
    path: Path, text_column: str, label_column: str, positive: set[str] | None
) -> tuple[list[str], np.ndarray]:
    """Texts and 0/1 labels: label in `positive`, or a number >= 0.5 when None."""
    texts: list[str] = []
    labels: list[int] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for name in (text_column, label_column):
            if name not in (reader.fieldnames or []):
                raise SystemExit(f"no column {name!r} in {path.name}")
        for row in reader:
            text, value = row[text_column] or "", (row[label_column] or "").strip()
            if not text.strip() or not value:
                continue
            texts.append(text)
            labels.append(
                int(value in positive)
                if positive is not None
                else int(float(value) >= 0.5)
            )
    return texts, np.asarray(labels, dtype=np.int64)


class RandomProjection:
    """TF-IDF (fitted on unlabelled texts) projected to `dimension` by a seeded
    Gaussian matrix, rows L2-normalised as sentence embeddings are."""

    def __init__(self, fit_texts: Sequence[str], dimension: int = 384, seed: int = 0):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.random_projection import GaussianRandomProjection

        self.tfidf = TfidfVectorizer(
            sublinear_tf=True, min_df=2, ngram_range=(1, 2), max_features=200_000
        ).fit(fit_texts)
        self.projection = GaussianRandomProjection(
            n_components=dimension, random_state=seed
        ).fit(self.tfidf.transform(fit_texts[:10]))

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        projected = self.projection.transform(self.tfidf.transform(texts))
        norms = np.linalg.norm(projected, axis=1, keepdims=True)
        return (projected / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def profanity_check_toxicity(texts: Sequence[str]) -> np.ndarray:
    """alt-profanity-check's probability: the service's offline fallback."""
    from profanity_check import predict_prob

    return np.asarray(predict_prob(list(texts)), dtype=np.float64)


def screen_model(
    cache: Path,
) -> tuple[Features, Callable[[np.ndarray], np.ndarray], str]:
    """The service's ScreenClassifier: its features and its calibrated toxicity."""
    try:
        from moderation.screening.screen_model import ScreenClassifier
    except ImportError as error:
        raise SystemExit(
            f"no ScreenClassifier here ({error}); try --features random-projection"
        ) from error
    classifier = ScreenClassifier(cache)

    def toxicity(X: np.ndarray) -> np.ndarray:
        return np.asarray([s["toxicity"] for s in classifier.score_features(X)])

    return classifier.features, toxicity, classifier.version


def in_batches(features: Features, texts: Sequence[str], size: int = 256) -> np.ndarray:
    """features() over texts in batches, with progress on stderr."""
    parts = []
    for start in range(0, len(texts), size):
        parts.append(np.asarray(features(texts[start : start + size])))
        if (start // size) % 20 == 19:
            done = min(start + size, len(texts))
            print(f"features {done:,}/{len(texts):,}", file=sys.stderr)
    return np.vstack(parts)


@dataclass(frozen=True)
class Scores:
    """One model on the test set: error at 0.5, log loss, precision, recall, and
    average precision (threshold-free: how well it ranks)."""

    error: float
    log_loss: float
    precision: float | None
    recall: float | None
    average_precision: float

    @classmethod
    def of(cls, p: np.ndarray, y: np.ndarray) -> Scores:
        from sklearn.metrics import average_precision_score

        m = adapt.measure(p, y, 0.5)
        wrong = (p >= 0.5) != y.astype(bool)
        return cls(
            float(wrong.mean()),
            m.log_loss,
            m.precision,
            m.recall,
            float(average_precision_score(y, p)),
        )


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def split(n: int, test_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The held-out test rows and the rest (the decisions' pool), fixed."""
    order = np.random.default_rng(12345).permutation(n)
    return order[:test_size], order[test_size:]


def simulate(
    X: np.ndarray,
    base: np.ndarray,
    y: np.ndarray,
    *,
    checkpoints: Sequence[int],
    seed: int,
    test: np.ndarray,
    pool: np.ndarray,
    threshold: float,
    decisions: str,
    strength: float,
) -> list[dict[str, Any]]:
    """One replay: a shuffle, a test set, then a head at each checkpoint."""
    # One test set for every seed (the features were fitted without it); the seed
    # orders the stream.
    pool = np.random.default_rng(seed).permutation(pool)
    if decisions == "held":
        pool = pool[base[pool] >= threshold]
    base_test = Scores.of(base[test], y[test])
    results = []
    for n in checkpoints:
        if n > len(pool):
            print(
                f"seed {seed}: only {len(pool):,} decisions, skipping {n:,}",
                file=sys.stderr,
            )
            continue
        stream = pool[:n]
        n_val = max(1, round(0.2 * n))
        fit, val = stream[: n - n_val], stream[n - n_val :]
        refused = adapt.too_few(y[fit])
        started = time.perf_counter()
        try:
            head = adapt.fit_site_head(
                X[fit],
                base[fit],
                y[fit],
                seed=seed,
                strength=strength,
                minimum=0,
                per_class=1,
            )
        except adapt.TooFewExamples as error:  # one kind of decision only
            head, refused = None, str(error)
        seconds = time.perf_counter() - started
        if head is not None:
            check = adapt.validate(head, None, X[val], base[val], y[val], threshold)
            head_test = Scores.of(head.predict(X[test], base[test]), y[test])
            accepted, reason = check.accept, check.reason
        else:
            head_test, accepted, reason = None, False, "nothing fitted"
        used = refused is None and accepted
        results.append(
            {
                "seed": seed,
                "decisions": n,
                "fit": len(fit),
                "fit_positives": int(y[fit].sum()),
                "refused": refused,
                "accepted": accepted,
                "deployed": "head" if used else "default",
                "validation": reason,
                "fit_seconds": seconds,
                "base": base_test.__dict__,
                "head": head_test.__dict__ if head_test else None,
                "deployed_scores": (head_test if used else base_test).__dict__,
            }
        )
    return results


def _cell(values: list[float | None], percent: bool = True) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "–"
    mean = statistics.fmean(present)
    spread = statistics.stdev(present) if len(present) > 1 else 0.0
    if percent:
        return f"{100 * mean:.1f} ± {100 * spread:.1f}"
    return f"{mean:.3f} ± {spread:.3f}"


def report(results: list[dict[str, Any]]) -> str:
    """A markdown table: mean ± sd over seeds per checkpoint and model."""
    lines = [
        "| decisions | model | error % | log loss | precision % | recall % | AP % "
        "| note |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for n in sorted({r["decisions"] for r in results}):
        rows = [r for r in results if r["decisions"] == n]
        accepted = sum(r["accepted"] for r in rows)
        used = sum(r["deployed"] == "head" for r in rows)
        refused = sorted({r["refused"] for r in rows if r["refused"]})
        unfitted = sum(r["head"] is None for r in rows)
        notes = {
            "base": "",
            "head": (
                f"forced fit: the service refuses ({'; '.join(refused)})"
                if refused
                else f"validation accepted {accepted}/{len(rows)}"
            )
            + (f"; nothing fitted in {unfitted}/{len(rows)} runs" if unfitted else ""),
            "deployed_scores": f"head used in {used}/{len(rows)} runs",
        }
        for key, name in (
            ("base", "default"),
            ("head", "site head"),
            ("deployed_scores", "deployed"),
        ):
            scored = [r[key] for r in rows if r[key] is not None]

            def cell(measure: str, percent: bool = True, scored=scored) -> str:
                return _cell([s[measure] for s in scored], percent)

            lines.append(
                f"| {n:,} | {name} | {cell('error')} | "
                f"{cell('log_loss', percent=False)} | {cell('precision')} | "
                f"{cell('recall')} | {cell('average_precision')} | {notes[key]} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", required=True, type=Path)
    parser.add_argument("--text-column", required=True)
    parser.add_argument("--label-column", required=True)
    parser.add_argument(
        "--positive",
        default=None,
        help="Label values meaning 'reject', comma-separated (default: number >= 0.5).",
    )
    parser.add_argument(
        "--features",
        choices=("screen-model", "random-projection"),
        default="screen-model",
    )
    parser.add_argument(
        "--model-cache",
        type=Path,
        default=ROOT / "bench" / "out" / "encoder",
        help="screen-model: where the encoder's ONNX export is kept.",
    )
    parser.add_argument("--checkpoints", default="100,1000,10000")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--test-size", type=int, default=4000)
    parser.add_argument(
        "--test-csv",
        type=Path,
        default=None,
        help="Test on this CSV instead (e.g. a set the default never trained on, "
        "from bench/held_out_csvs.py); its texts are removed from the stream.",
    )
    parser.add_argument("--test-text-column", default="text")
    parser.add_argument("--test-label-column", default="label")
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="The site's toxicity hold threshold (validation).",
    )
    parser.add_argument("--decisions", choices=("all", "held"), default="all")
    parser.add_argument("--strength", type=float, default=adapt.PRIOR_STRENGTH)
    parser.add_argument("--json", type=Path, default=None, help="Write every run here.")
    args = parser.parse_args()

    positive = set(args.positive.split(",")) if args.positive else None
    texts, y = read_labelled(args.csv, args.text_column, args.label_column, positive)
    print(f"{len(y):,} labelled rows, {y.mean():.1%} positive", file=sys.stderr)
    if args.test_csv is not None:
        test_texts, test_y = read_labelled(
            args.test_csv, args.test_text_column, args.test_label_column, None
        )
        unseen = {_key(t) for t in test_texts}
        keep = [i for i, t in enumerate(texts) if _key(t) not in unseen]
        print(
            f"test: {len(test_y):,} rows of {args.test_csv.name}; "
            f"{len(texts) - len(keep):,} of them removed from the stream",
            file=sys.stderr,
        )
        texts = [texts[i] for i in keep] + test_texts
        y = np.concatenate([y[keep], test_y])
        test = np.arange(len(keep), len(y))
        pool = np.arange(len(keep))
    else:
        test, pool = split(len(y), args.test_size)
    started = time.perf_counter()
    if args.features == "screen-model":
        features, toxicity, described = screen_model(args.model_cache)
        X = in_batches(features, texts)
        base = toxicity(X)
    else:
        # The encoder is fitted on the pool's texts, never the test set's.
        unlabelled = [texts[i] for i in sorted(pool)]
        X = in_batches(RandomProjection(unlabelled, seed=0), texts)
        base = profanity_check_toxicity(texts)
        described = "random projection (384) of TF-IDF; default = alt-profanity-check"
    print(
        f"features {X.shape} in {time.perf_counter() - started:.1f} s", file=sys.stderr
    )

    checkpoints = [int(c) for c in args.checkpoints.split(",")]
    results = []
    for seed in range(args.seeds):
        results += simulate(
            X,
            base,
            y,
            checkpoints=checkpoints,
            seed=seed,
            test=test,
            pool=pool,
            threshold=args.threshold,
            decisions=args.decisions,
            strength=args.strength,
        )
    print(
        f"{args.csv.name}: {len(y):,} rows ({y.mean():.1%} reject), test "
        f"{len(test):,} held out"
        f"{f' ({args.test_csv.name})' if args.test_csv else ''}, "
        f"{args.seeds} seeds, decisions: "
        f"{args.decisions}, features: {described}, prior strength {args.strength:g}"
    )
    print(report(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
