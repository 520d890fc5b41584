"""Training the screen's default heads: `flask --app moderation train-screen`.

Deterministic for a given seed, data and installed encoder: the examples come in a
fixed order (`training_data`), the calibration split is a seeded shuffle, and
scikit-learn's lbfgs logistic regression has no randomness. Embeddings are cached
by text hash (`CachingEncoder`), so a second run only re-reads the rules and fits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .base import LABELS
from .screen_model import HEADS_FORMAT
from .training_data import (
    Example,
    calibration_split,
    held_out_sets,
    training_examples,
)

logger = logging.getLogger(__name__)

# The heads tried per label; the best on the calibration split's log-loss wins:
# logistic at each inverse regularisation strength, and MLPs with one hidden
# ReLU layer (they can weigh "a derogation, but negated" where a line cannot).
C_GRID = (0.03, 0.1, 0.3, 1.0)
MLP_HIDDEN = 64
MLP_ALPHAS = (1e-2, 1e-1)
CALIBRATION_FRACTION = 0.2
# A head needs at least this many positive examples to be fitted.
MIN_POSITIVES = 10
# Fewer calibration positives than this: a two-parameter Platt map, not isotonic.
ISOTONIC_MIN_POSITIVES = 60
# Knots kept from the isotonic fit (enough for a smooth map, a small file).
MAX_KNOTS = 64


class CachingEncoder:
    """Wraps an encoder and keeps every text's window embeddings in one .npz file.

    Keyed by the text the encoder reads (after de-obfuscation), so that a change to
    the rules or to de-obfuscation re-embeds only the texts it changed.
    """

    def __init__(self, encoder: Any, path: Path | None) -> None:
        self.encoder = encoder
        self.version = encoder.version
        self.path = path
        self.rows: dict[str, Any] = {}
        self.added = 0
        if path is not None and path.is_file():
            import numpy as np

            with np.load(path, allow_pickle=False) as data:
                if str(data["key"]) == self.version:
                    rows, counts = data["rows"], data["counts"]
                    offsets = np.concatenate([[0], np.cumsum(counts)])
                    for k, digest in enumerate(data["digests"]):
                        self.rows[str(digest)] = rows[offsets[k] : offsets[k + 1]]

    @staticmethod
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]

    def embed_windows(self, texts: Sequence[str]) -> tuple[Any, list[int]]:
        """The wrapped encoder's answer, from the cache where it can."""
        import numpy as np

        digests = [self.digest(text) for text in texts]
        missing = sorted(
            {d: i for i, d in enumerate(digests) if d not in self.rows}.values()
        )
        if missing:
            rows, owners = self.encoder.embed_windows([texts[i] for i in missing])
            for k, i in enumerate(missing):
                self.rows[digests[i]] = rows[
                    [r for r, o in enumerate(owners) if o == k]
                ]
            self.added += len(missing)
        out: list[Any] = []
        owners_out: list[int] = []
        for i, d in enumerate(digests):
            out.append(self.rows[d])
            owners_out.extend([i] * len(self.rows[d]))
        return np.vstack(out), owners_out

    def save(self) -> None:
        """Write the cache (only when something was added)."""
        import numpy as np

        if self.path is None or not self.added:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        digests = sorted(self.rows)
        tmp = self.path.with_name(self.path.name + ".tmp.npz")
        np.savez(
            tmp,
            key=np.asarray(self.version),
            digests=np.asarray(digests),
            counts=np.asarray([len(self.rows[d]) for d in digests]),
            rows=np.vstack([self.rows[d] for d in digests]),
        )
        tmp.replace(self.path)
        self.added = 0


def features_in_batches(
    featurize: Callable[[Sequence[str]], Any],
    texts: Sequence[str],
    batch: int = 512,
    log: Callable[[str], None] | None = None,
) -> Any:
    """Featurize many texts in batches, logging progress every tenth or so."""
    import numpy as np

    parts = []
    step = max(batch, len(texts) // 10 // batch * batch)
    for start in range(0, len(texts), batch):
        parts.append(featurize(texts[start : start + batch]))
        done = min(start + batch, len(texts))
        if log is not None and (done % step < batch or done == len(texts)):
            log(f"  featurized {done:,} of {len(texts):,}")
    return np.vstack(parts)


def _column(examples: Sequence[Example], label: str) -> tuple[Any, Any, Any]:
    import numpy as np

    index = [i for i, e in enumerate(examples) if e.labels.get(label) is not None]
    y = np.asarray([examples[i].labels[label] for i in index], dtype=np.int64)
    w = np.asarray([examples[i].weight for i in index], dtype=np.float64)
    return np.asarray(index, dtype=np.int64), y, w


def _fit_calibration(raw: Any, y: Any, w: Any) -> tuple[dict[str, Any], Any]:
    """A calibration map for raw logits: (its description, its array)."""
    import numpy as np
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    if int(y.sum()) >= ISOTONIC_MIN_POSITIVES and int((1 - y).sum()) >= 60:
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        iso.fit(raw, y, sample_weight=w)
        xs, ys = np.asarray(iso.X_thresholds_), np.asarray(iso.y_thresholds_)
        if len(xs) > MAX_KNOTS:
            keep = np.unique(np.linspace(0, len(xs) - 1, MAX_KNOTS).round().astype(int))
            xs, ys = xs[keep], ys[keep]
        # Never exactly 0 or 1: a score is a share of such comments, not a proof.
        ys = np.clip(ys, 0.001, 0.999)
        return {"calibration": "isotonic"}, np.vstack([xs, ys])
    platt = LogisticRegression(C=1e4)
    platt.fit(raw.reshape(-1, 1), y, sample_weight=w)
    return {"calibration": "platt"}, np.asarray(
        [platt.coef_[0, 0], platt.intercept_[0]]
    )


def _candidates(zf: Any, fy: Any, fw: Any, seed: int) -> Iterator[tuple[str, Any]]:
    """The heads tried per label: logistic at each C, and one-hidden-layer MLPs."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=3000)
        model.fit(zf, fy, sample_weight=fw)
        yield f"linear C={c}", model
    for alpha in MLP_ALPHAS:
        model = MLPClassifier(
            hidden_layer_sizes=(MLP_HIDDEN,),
            alpha=alpha,
            max_iter=200,
            early_stopping=True,
            random_state=seed,
        )
        model.fit(zf, fy, sample_weight=fw)
        yield f"mlp {MLP_HIDDEN} alpha={alpha}", model


def _arrays(model: Any) -> dict[str, Any]:
    import numpy as np

    if hasattr(model, "coefs_"):
        return {
            "w1": model.coefs_[0].astype(np.float32),
            "b1": model.intercepts_[0].astype(np.float32),
            "w2": model.coefs_[1][:, 0].astype(np.float32),
            "b2": np.float32(model.intercepts_[1][0]),
        }
    return {
        "w1": model.coef_[0].astype(np.float32),
        "b1": np.float32(model.intercept_[0]),
    }


def fit_heads(
    fit_x: Any,
    fit_examples: Sequence[Example],
    cal_x: Any,
    cal_examples: Sequence[Example],
    log: Callable[[str], None] = logger.info,
    seed: int = 0,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit, choose and calibrate a head per label on standardised features.

    Every candidate is fitted on the fit split; the one with the lowest log-loss on
    the calibration split is kept, and calibrated on that split. Returns (arrays for
    the .npz file, a JSON-able description of each head).
    """
    import numpy as np
    from sklearn.metrics import log_loss

    from .screen_model import Head

    mean = fit_x.mean(axis=0).astype(np.float32)
    scale = fit_x.std(axis=0).astype(np.float32)
    scale[scale < 1e-6] = 1.0
    zf = (fit_x - mean) / scale
    zc = (cal_x - mean) / scale
    arrays: dict[str, Any] = {"mean": mean, "scale": scale}
    described: dict[str, Any] = {}
    for label in LABELS:
        fi, fy, fw = _column(fit_examples, label)
        ci, cy, cw = _column(cal_examples, label)
        if fy.sum() < MIN_POSITIVES or cy.sum() < 1:
            raise ValueError(f"too few {label} examples to train on ({int(fy.sum())})")
        best: tuple[float, str, Any] | None = None
        for name, model in _candidates(zf[fi], fy, fw, seed):
            loss = log_loss(cy, model.predict_proba(zc[ci])[:, 1], sample_weight=cw)
            if best is None or loss < best[0]:
                best = (loss, name, model)
        assert best is not None
        loss, name, model = best
        parts = _arrays(model)
        kind = "mlp" if "w2" in parts else "linear"
        raw = Head(
            kind, parts["w1"], parts["b1"], parts.get("w2"), parts.get("b2", 0.0)
        ).raw(zc[ci].astype(np.float32))
        calibration, table = _fit_calibration(np.asarray(raw, dtype=np.float64), cy, cw)
        for key, value in parts.items():
            arrays[f"{label}/{key}"] = value
        arrays[f"{label}/calibration"] = table
        described[label] = {
            "kind": kind,
            "chosen": name,
            "calibration_log_loss": round(float(loss), 4),
            "fit_examples": len(fy),
            "fit_positives": int(fy.sum()),
            "calibration_examples": len(cy),
            "calibration_positives": int(cy.sum()),
            **calibration,
        }
        log(
            f"{label}: {name}, log-loss {loss:.3f}, {int(fy.sum())}/{len(fy)} "
            f"positive, {calibration['calibration']} calibration"
        )
    return arrays, described


# A rule's precision is recorded only when it fired on at least this many
# calibration examples.
RULE_MIN_FIRED = 20


def rule_precision(examples: Sequence[Example]) -> dict[str, float]:
    """Per abuse rule: the share of the toxicity-labelled examples it fired on that
    are toxic (Laplace-smoothed), the evidence `pipeline.with_rule_evidence` uses."""
    from .base import Draft, Policy
    from .pipeline import ABUSE_RULES
    from .rules import apply_rules

    policy = Policy()
    fired: dict[str, list[int]] = {}
    for example in examples:
        label = example.labels.get("toxicity")
        if label is None:
            continue
        for hit in apply_rules(Draft(example.text), policy):
            if hit.rule in ABUSE_RULES:
                fired.setdefault(hit.rule, []).append(label)
    return {
        rule: round((sum(labels) + 1) / (len(labels) + 2), 4)
        for rule, labels in sorted(fired.items())
        if len(labels) >= RULE_MIN_FIRED
    }


def write_heads(
    path: Path, meta: dict[str, Any], names: Sequence[str], arrays: dict[str, Any]
) -> None:
    """Write a heads file: arrays, feature names and the meta as a JSON string."""
    import numpy as np

    tmp = path.with_name(path.name + ".tmp.npz")
    with tmp.open("wb") as f:
        np.savez_compressed(
            f,
            meta=np.asarray(json.dumps(meta, sort_keys=True)),
            feature_names=np.asarray(list(names)),
            **arrays,
        )
    tmp.replace(path)


def data_fingerprint(directory: Path) -> dict[str, str]:
    """SHA-256 prefixes of every training file read, for the heads' record."""
    from .files import sha256_file

    names = (
        "jigsaw-detoxify-sample/train.csv",
        "davidson/labeled_data.csv",
        "toxic-spans/tsd_train.csv",
        "toxic-spans/tsd_trial.csv",
        "toxigen/statements.csv",
    )
    return {name: sha256_file(directory / name)[:16] for name in names}


def train_default(
    data_dir: Path,
    output: Path,
    featurizer: Any,
    seed: int = 0,
    command: str = "",
    log: Callable[[str], None] = logger.info,
) -> dict[str, Any]:
    """Train the default heads from the shared data and the functional cases."""
    started = time.monotonic()
    examples = training_examples(data_dir, seed)
    fit_examples, cal_examples = calibration_split(examples, CALIBRATION_FRACTION, seed)
    log(
        f"{len(examples):,} examples: {len(fit_examples):,} to fit, "
        f"{len(cal_examples):,} to calibrate"
    )
    x = features_in_batches(featurizer.features, [e.text for e in examples], log=log)
    position = {id(e): i for i, e in enumerate(examples)}
    fit_x = x[[position[id(e)] for e in fit_examples]]
    cal_x = x[[position[id(e)] for e in cal_examples]]
    arrays, described = fit_heads(fit_x, fit_examples, cal_x, cal_examples, log, seed)
    precision = rule_precision(cal_examples)
    log(f"rule precision on the calibration split: {precision}")
    sources: dict[str, int] = {}
    for example in examples:
        sources[example.source] = sources.get(example.source, 0) + 1
    meta = {
        "format": HEADS_FORMAT,
        "version": 1,
        "command": command,
        "seed": seed,
        "encoder": featurizer.encoder.version,
        "data_sha256": data_fingerprint(data_dir),
        "examples": sources,
        "rule_precision": precision,
        "labels": list(LABELS),
        "heads": described,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    write_heads(output, meta, featurizer.names, arrays)
    log(f"wrote {output} in {time.monotonic() - started:.0f} s")
    return meta


def held_out_report(classifier: Any, data_dir: Path) -> dict[str, dict[str, float]]:
    """ROC AUC of each labelled head on each held-out set (never trained on)."""
    from sklearn.metrics import roc_auc_score

    report: dict[str, dict[str, float]] = {}
    for name, examples in held_out_sets(data_dir).items():
        x = features_in_batches(classifier.features, [e.text for e in examples])
        probabilities = classifier.heads.probabilities(x)
        row: dict[str, float] = {"n": float(len(examples))}
        for k, label in enumerate(classifier.labels):
            index, y, _ = _column(examples, label)
            if len(set(y.tolist())) == 2:
                row[label] = float(roc_auc_score(y, probabilities[index, k]))
        report[name] = row
    return report
