"""The offline default classifier: a packaged sentence encoder plus the project's heads.

What one text becomes (`features`): the MiniLM embedding of its de-obfuscated copy
(`normalize.deobfuscate`: homoglyphs, zero-width characters, spaced letters, leet),
the rule signals (`rules.rule_features`: threat, dehumanisation, group harm,
counter-speech, slurs, profanity, ...) and alt-profanity-check's score as a logit,
read with identity terms masked (its bag of words learned that group names are
toxic). Each of the six detoxify labels has a head over those features (one hidden
layer, or logistic where that did better on the calibration split),
trained by `flask --app moderation train-screen` on the shared data and the project's
functional cases, then calibrated on a held-out part (isotonic where a label has
enough positives, Platt otherwise), so that a score means the share of such comments
that are abusive. The rules and profanity-check are inputs the heads weigh: the
learned weights are the combining rule, and they are in the heads file.

Heads live in `data/screen_heads.npz` (arrays, read without pickles), with the
command and data hashes that made them in its `meta`. Nothing here imports torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import LABELS

logger = logging.getLogger(__name__)

HEADS_PATH = Path(__file__).parent / "data" / "screen_heads.npz"
HEADS_FORMAT = 2
RULE_FEATURES = (
    "threat",
    "dehumanisation",
    "group_harm",
    "counter_speech",
    "identity_mention",
    "second_person",
    "slur",
    "profanity",
    "disguised",
)
# profanity-check's probability, as a clipped logit.
EXTRA_FEATURES = ("profanity_check",)
_LOGIT_CLIP = 8.0
EMBEDDING_DIMENSION = 384
FEATURE_NAMES = (
    tuple(f"e{i}" for i in range(EMBEDDING_DIMENSION)) + RULE_FEATURES + EXTRA_FEATURES
)


def logit(p: Any) -> Any:
    """The log-odds of probabilities, clipped to +-8 (numpy arrays or floats)."""
    import numpy as np

    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.clip(np.log(p / (1 - p)), -_LOGIT_CLIP, _LOGIT_CLIP)


@dataclass(frozen=True, eq=False)
class Head:
    """One label's head (linear, or one hidden ReLU layer) and its calibration map."""

    # "linear": logit = z @ w1 + b1. "mlp": logit = relu(z @ w1 + b1) @ w2 + b2.
    kind: str
    w1: Any
    b1: Any
    w2: Any = None
    b2: float = 0.0
    # "isotonic": probability = interp(logit, xs, ys); "platt": sigmoid(a * logit + b).
    calibration: str = "platt"
    xs: Any = None
    ys: Any = None
    a: float = 1.0
    b: float = 0.0

    def raw(self, z: Any) -> Any:
        """The uncalibrated logit of standardised features z: shape (n,)."""
        import numpy as np

        hidden = z @ self.w1 + self.b1
        if self.kind == "linear":
            return hidden
        return np.maximum(hidden, 0.0) @ self.w2 + self.b2


@dataclass(frozen=True, eq=False)
class Heads:
    """Every label's head over the standardised features, and where they came from."""

    feature_names: tuple[str, ...]
    mean: Any
    scale: Any
    heads: dict[str, Head]
    sha256: str
    meta: dict[str, Any]

    @property
    def version(self) -> str:
        return f"heads {self.meta.get('version', '?')} sha256:{self.sha256[:12]}"

    @classmethod
    def load(cls, path: Path = HEADS_PATH) -> Heads:
        """Read a heads file (.npz, no pickles); ValueError when it is not one."""
        import io

        import numpy as np

        raw = Path(path).read_bytes()
        try:
            data = np.load(io.BytesIO(raw), allow_pickle=False)
            meta = json.loads(str(data["meta"]))
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"{path} is not a heads file: {exc}") from exc
        if meta.get("format") != HEADS_FORMAT:
            raise ValueError(f"{path} is not a format-{HEADS_FORMAT} heads file")
        names = tuple(str(n) for n in data["feature_names"])
        heads = {}
        for label, info in meta["heads"].items():
            cal = data[f"{label}/calibration"]
            isotonic = info["calibration"] == "isotonic"
            heads[label] = Head(
                kind=info["kind"],
                w1=data[f"{label}/w1"],
                b1=data[f"{label}/b1"],
                w2=data[f"{label}/w2"] if info["kind"] == "mlp" else None,
                b2=float(data[f"{label}/b2"]) if info["kind"] == "mlp" else 0.0,
                calibration=info["calibration"],
                xs=cal[0] if isotonic else None,
                ys=cal[1] if isotonic else None,
                a=1.0 if isotonic else float(cal[0]),
                b=0.0 if isotonic else float(cal[1]),
            )
            if heads[label].w1.shape[0] != len(names):
                raise ValueError(f"{path}: head {label} has the wrong width")
        return cls(
            feature_names=names,
            mean=data["mean"],
            scale=data["scale"],
            heads=heads,
            sha256=hashlib.sha256(raw).hexdigest(),
            meta=meta,
        )

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(label for label in LABELS if label in self.heads)

    def raw_logits(self, features: Any) -> Any:
        """Each head's uncalibrated logit: an (n, labels) array, in `labels` order."""
        import numpy as np

        z = (np.asarray(features, dtype=np.float32) - self.mean) / self.scale
        return np.stack([self.heads[label].raw(z) for label in self.labels], axis=1)

    def probabilities(self, features: Any) -> Any:
        """Calibrated probabilities: an (n, labels) array, in `labels` order."""
        import numpy as np

        raw = self.raw_logits(features)
        out = np.empty_like(raw, dtype=np.float64)
        for k, label in enumerate(self.labels):
            out[:, k] = calibrate(self.heads[label], raw[:, k])
        # Severe toxicity is a kind of toxicity (as in Jigsaw's labels): never
        # above it. Its head learnt from few, mostly templated positives, and its
        # isotonic map steps from 0.3 to 0.9 on texts unlike them ("Load comment
        # 658: a fair point." scored 0.88 beside a toxicity of 0.12).
        if "severe_toxicity" in self.labels and "toxicity" in self.labels:
            severe = self.labels.index("severe_toxicity")
            toxic = self.labels.index("toxicity")
            out[:, severe] = np.minimum(out[:, severe], out[:, toxic])
        return out


def calibrate(head: Head, raw: Any) -> Any:
    """Map raw head logits to calibrated probabilities."""
    import numpy as np

    if head.calibration == "isotonic":
        return np.interp(raw, head.xs, head.ys)
    return 1.0 / (1.0 + np.exp(-(head.a * np.asarray(raw, dtype=np.float64) + head.b)))


class Featurizer:
    """Turns texts into the heads' inputs: embedding, rule signals, profanity-check."""

    def __init__(self, encoder: Any) -> None:
        from profanity_check import predict_prob

        self.encoder = encoder
        self._profanity = predict_prob
        self._lock = threading.Lock()

    names = FEATURE_NAMES

    def features(self, texts: Sequence[str], pick: Any = None) -> Any:
        """An (n, d) float array; `pick(rows) -> index` chooses among a long text's
        windows (by default their mean)."""
        import numpy as np

        from .normalize import deobfuscate
        from .patterns import mask_identity
        from .rules import rule_features

        texts = list(texts)
        n = len(texts)
        if not n:
            return np.zeros((0, len(self.names)), dtype=np.float32)
        # Group names masked for the encoder and profanity-check alike: both would
        # otherwise learn "gay" or "Muslim" as toxic words. That a group is named
        # is the identity_mention signal; what is said of it is in the embedding.
        clean = [mask_identity(deobfuscate(text)) for text in texts]
        windows, owners = self.encoder.embed_windows(clean)
        embedding = np.zeros((n, windows.shape[1]), dtype=np.float32)
        by_text: dict[int, list[int]] = {}
        for row, owner in enumerate(owners):
            by_text.setdefault(owner, []).append(row)
        for owner, rows in by_text.items():
            if len(rows) == 1:
                embedding[owner] = windows[rows[0]]
            elif pick is not None:
                embedding[owner] = windows[rows[pick(windows[rows])]]
            else:
                embedding[owner] = windows[rows].mean(axis=0)
        rules = np.asarray(
            [
                [feats[name] for name in RULE_FEATURES]
                for feats in map(rule_features, texts)
            ],
            dtype=np.float32,
        )
        with self._lock:  # its vectoriser is not documented as thread-safe
            profane = self._profanity(clean)
        extra = logit(np.asarray(profane)).reshape(n, 1).astype(np.float32)
        return np.hstack([embedding, rules, extra])


class ScreenClassifier:
    """The offline default: encoder features and the trained, calibrated heads."""

    name = "screen"
    limitations = (
        "A small encoder with heads trained on public data and the project's own "
        "cases: it sees threats, identity attacks and disguised spellings, but less "
        "surely than detoxify's full model; implicit hate without telling words "
        "is its weakest point."
    )

    def __init__(
        self,
        cache_dir: Path,
        threads: int | None = None,
        heads_path: Path = HEADS_PATH,
        encoder: Any = None,
    ) -> None:
        """Load the heads, then the encoder (exporting it once if needed)."""
        from .encoder import Encoder

        started = time.monotonic()
        self.heads = Heads.load(heads_path)
        self.encoder = encoder if encoder is not None else Encoder(cache_dir, threads)
        self.featurizer = Featurizer(self.encoder)
        if self.featurizer.names != self.heads.feature_names:
            raise ValueError(
                f"{heads_path} was trained on other features; run train-screen"
            )
        self.labels = self.heads.labels
        # Measured at training: how often each abuse rule's hits were abusive.
        self.rule_precision: dict[str, float] = dict(
            self.heads.meta.get("rule_precision", {})
        )
        self.version = (
            f"screen {self.heads.version} on {self.encoder.version} "
            "+ profanity-check + rules"
        )
        logger.info(
            "loaded %s (%s) in %.1f s",
            self.name,
            self.version,
            time.monotonic() - started,
        )

    def _pick(self, rows: Any) -> int:
        # A long comment is judged by its more toxic window.
        toxicity = self.heads.raw_logits(self._pad(rows))[:, 0]
        return int(toxicity.argmax())

    def _pad(self, rows: Any) -> Any:
        import numpy as np

        # The other features at their training mean: they add nothing to the choice.
        tail = self.heads.mean[rows.shape[1] :]
        return np.hstack([rows, np.tile(tail, (rows.shape[0], 1))])

    def features(self, texts: Sequence[str]) -> Any:
        """What the heads see for each text: an (n, d) float32 array."""
        return self.featurizer.features(texts, pick=self._pick)

    def score_features(self, features: Any) -> list[dict[str, float]]:
        """Calibrated probabilities for precomputed features, one dict per row."""
        probabilities = self.heads.probabilities(features)
        return [
            {label: float(row[k]) for k, label in enumerate(self.labels)}
            for row in probabilities
        ]

    def score_with_features(
        self, texts: Sequence[str]
    ) -> tuple[list[dict[str, float]], Any]:
        """Scores and the features they came from (site heads build on both)."""
        features = self.features(texts)
        return self.score_features(features), features

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Score texts; one dict of the six labels per text."""
        return self.score_with_features(texts)[0]
