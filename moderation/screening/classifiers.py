"""Which classifier scores (`choose`) and building it (`build`): detoxify
(detoxify_model.py) or its ONNX export (onnx.py), averaged with the screen
(screen_model.py); the screen alone; or alt-profanity-check alone. Also fetching
detoxify's weights (`fetch_model`).

Heavy libraries (torch, transformers, detoxify, scikit-learn) are imported inside
the classifiers on first use, so that importing this module, and `choose()`, stay
cheap for the CLI, the web process and the tests.

Detoxify checkpoints are pickles (`torch.load(..., weights_only=False)`): loading
one runs whatever code it carries. Only load files from a trusted source (the
detoxify releases, or a copy made from them).
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.metadata
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .detoxify_model import DetoxifyClassifier
from .errors import ClassifierUnavailable, FetchFailed
from .files import replace_dir, sha256_file

logger = logging.getLogger(__name__)

# As detoxify 0.5.4 spells them (detoxify/detoxify.py, MODEL_URLS); a test checks
# that the two tables agree. Kept here so that choose() need not import detoxify.
DOWNLOAD_URL = "https://github.com/unitaryai/detoxify/releases/download/"
CHECKPOINT_FILES: dict[str, str] = {
    "original": "v0.1-alpha/toxic_original-c1212f89.ckpt",
    "unbiased": "v0.3-alpha/toxic_debiased-c7548aa0.ckpt",
    "multilingual": "v0.4-alpha/multilingual_debiased-0b549669.ckpt",
    "original-small": "v0.1.2/original-albert-0e1d6498.ckpt",
    "unbiased-small": "v0.1.2/unbiased-albert-c8519128.ckpt",
}

# "onnx" is only ever chosen by setting: int8 scores differ from detoxify's and
# are adopted after compare-models shows they agree (docs/benchmarks.md).
# "screen" is the offline default (screen_model.py); "profanity-check" alone is
# kept for comparison and for machines without the encoder package.
SETTINGS = ("auto", "detoxify", "screen", "profanity-check", "onnx")
CHECKPOINT_NAME = "checkpoint.ckpt"
CONFIG_NAME = "config"

_FIX = (
    "copy the checkpoint and its config directory onto this machine and set "
    "MODERATION_DETOXIFY_CHECKPOINT and MODERATION_DETOXIFY_CONFIG_DIR"
)
# torch hub's convention: the file name carries a prefix of the file's sha256.
_HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,})\.")


@runtime_checkable
class Classifier(Protocol):
    """Scores a batch of texts: one dict of label -> probability per text."""

    name: str
    version: str
    labels: tuple[str, ...]
    limitations: str

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]: ...


@dataclass(frozen=True)
class Choice:
    """Which classifier is active and why (logged at start, shown to moderators)."""

    kind: str
    model: str | None
    checkpoint: Path | None
    config_dir: Path | None
    reason: str
    # For "onnx": "int8" or "fp32"; checkpoint is then the .onnx file and
    # config_dir the exported directory (tokenizer, meta.json).
    variant: str | None = None
    # Where the screen's encoder is exported to (the model directory); None: the
    # screen is not part of this choice (profanity-check alone).
    screen_cache: Path | None = None


def checkpoint_url(model: str) -> str:
    """The URL detoxify downloads `model`'s checkpoint from."""
    return DOWNLOAD_URL + CHECKPOINT_FILES[_known_model(model)]


def checkpoint_file_name(model: str) -> str:
    """The file name of `model`'s checkpoint in the torch hub cache."""
    return CHECKPOINT_FILES[_known_model(model)].rsplit("/", 1)[-1]


def torch_hub_checkpoints() -> Path:
    """Where torch hub caches downloaded checkpoints ($TORCH_HOME/hub/checkpoints)."""
    # Same rule as torch.hub.get_dir(), without importing torch.
    xdg = os.environ.get("XDG_CACHE_HOME", os.path.join("~", ".cache"))
    home = os.environ.get("TORCH_HOME", os.path.join(xdg, "torch"))
    return Path(os.path.expanduser(home)) / "hub" / "checkpoints"


def choose(
    setting: str,
    model: str,
    checkpoint: str | None,
    config_dir: str | None,
    model_dir: Path,
    onnx_dir: str | None = None,
    onnx_variant: str = "int8",
) -> Choice:
    """Pick the classifier from settings and the files present; imports nothing."""
    if setting not in SETTINGS:
        raise ClassifierUnavailable(
            f"unknown classifier setting {setting!r}; use one of {', '.join(SETTINGS)}"
        )
    if setting == "profanity-check":
        return Choice(
            "profanity-check", None, None, None, "profanity-check chosen by setting"
        )
    cache = Path(model_dir)
    if setting == "screen":
        return Choice(
            "screen", None, None, None, _SCREEN + " chosen by setting", None, cache
        )
    model = _known_model(model)
    if setting == "onnx":
        return replace(
            _choose_onnx(model, onnx_dir, onnx_variant, cache), screen_cache=cache
        )
    found, missing = _find_weights(model, checkpoint, config_dir, cache)
    if found is not None:
        weights, config = found
        reason = (
            f"detoxify weights found at {weights} (config {config}), "
            f"averaged with {_SCREEN}"
        )
        return Choice("detoxify", model, weights, config, reason, None, cache)
    if setting == "detoxify":
        raise ClassifierUnavailable(
            f"detoxify is required but {missing}; fetch the weights on a machine "
            f"with internet (fetch_model) or {_FIX}"
        )
    reason = f"{missing}; using the offline default, {_SCREEN}"
    return Choice("screen", None, None, None, reason, None, cache)


_SCREEN = "the screen (MiniLM encoder + trained heads, profanity-check and rules)"


def default_onnx_dir(model: str, model_dir: Path) -> Path:
    """Where optimize-model writes, and the onnx setting reads, by default."""
    return Path(model_dir) / _known_model(model) / "onnx"


def _choose_onnx(
    model: str, onnx_dir: str | None, variant: str, model_dir: Path
) -> Choice:
    from .onnx import META_NAME, model_file  # stdlib-only at import

    directory = Path(onnx_dir) if onnx_dir else default_onnx_dir(model, model_dir)
    path = model_file(directory, variant)
    if not (path.is_file() and (directory / META_NAME).is_file()):
        raise ClassifierUnavailable(
            f"ONNX is required but there is no exported model at {path}; run "
            "`flask --app moderation optimize-model` (it needs the detoxify "
            "weights), or set MODERATION_ONNX_DIR"
        )
    reason = f"ONNX Runtime {variant} model at {path} (CLASSIFIER=onnx)"
    return Choice("onnx", model, path, directory, reason, variant)


def build(
    choice: Choice, device: str = "cpu", threads: int | None = None
) -> Classifier:
    """Load the chosen classifier; slow for detoxify (imports torch, reads weights)."""
    if choice.kind == "profanity-check":
        return ProfanityCheckClassifier()
    if choice.kind == "screen":
        return _screen(choice, threads)
    if choice.kind == "onnx":
        from .onnx import OnnxClassifier

        if choice.config_dir is None or choice.variant is None:
            raise ClassifierUnavailable("an onnx choice needs a directory and variant")
        if device != "cpu":
            # The onnxruntime wheel this project installs runs on the CPU only.
            raise ClassifierUnavailable(
                f"the onnx classifier runs on the CPU only, not {device!r}"
            )
        return combine(
            OnnxClassifier(choice.config_dir, choice.variant, threads), choice, threads
        )
    if choice.kind != "detoxify":
        raise ClassifierUnavailable(f"unknown classifier kind {choice.kind!r}")
    if choice.model is None or choice.checkpoint is None or choice.config_dir is None:
        raise ClassifierUnavailable(
            "a detoxify choice needs a model, a checkpoint and a config directory"
        )
    return combine(
        DetoxifyClassifier(
            choice.model, choice.checkpoint, choice.config_dir, device, threads
        ),
        choice,
        threads,
    )


def _screen(choice: Choice, threads: int | None) -> Any:
    from .encoder import EncoderUnavailable
    from .screen_model import ScreenClassifier

    assert choice.screen_cache is not None
    try:
        return ScreenClassifier(choice.screen_cache, threads)
    except (EncoderUnavailable, OSError, ValueError) as exc:
        raise ClassifierUnavailable(f"cannot load the screen: {exc}") from exc


def combine(first: Classifier, choice: Choice, threads: int | None) -> Classifier:
    """The full model averaged with the screen, when the choice includes it."""
    if choice.screen_cache is None:
        return first
    return AveragedClassifier(first, _screen(choice, threads))


class AveragedClassifier:
    """Two classifiers' probabilities averaged per label: detoxify and the screen.

    The documented rule: for each label both give, the mean of the two; a label
    only one gives is that one's. The screen's rule signals then count under either
    classifier, and a site head (trained on the screen's features) still applies.
    The equal weights are not fitted: detoxify's real weights cannot be had on the
    machines this was built on (docs/screening.md).
    """

    limitations = ""

    def __init__(self, first: Classifier, screen: Any) -> None:
        self.first = first
        self.screen = screen
        self.name = f"{first.name}+{screen.name}"
        self.version = f"{first.version} | {screen.version}"
        self.labels = tuple(dict.fromkeys((*first.labels, *screen.labels)))
        self.rule_precision = screen.rule_precision

    def score_with_features(
        self, texts: Sequence[str]
    ) -> tuple[list[dict[str, float]], Any]:
        """Averaged scores, and the screen's features (for site heads)."""
        own = self.first.score(texts)
        theirs, features = self.screen.score_with_features(texts)
        out = []
        for a, b in zip(own, theirs, strict=True):
            row = {**a, **b}
            for label in a.keys() & b.keys():
                row[label] = (a[label] + b[label]) / 2
            out.append(row)
        return out, features

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Averaged scores per text."""
        return self.score_with_features(texts)[0]


class ProfanityCheckClassifier:
    """alt-profanity-check: a linear SVM on TF-IDF, shipped inside its wheel."""

    name = "profanity-check"
    # Its probability is reported as "toxicity": the score the pipeline acts on.
    labels: tuple[str, ...] = ("toxicity",)
    limitations = (
        "Sees profanity and insults only: not threats, identity attacks or "
        "obfuscated spellings."
    )

    def __init__(self) -> None:
        """Import the model now, so that a missing package fails at start."""
        try:
            from profanity_check import predict_prob

            version = importlib.metadata.version("alt-profanity-check")
        except ImportError as exc:
            raise ClassifierUnavailable(
                f"alt-profanity-check is not installed: {exc}"
            ) from exc
        self.version = f"alt-profanity-check {version}"
        self._predict_prob: Callable[[list[str]], Any] = predict_prob
        self._lock = threading.Lock()
        logger.info("loaded %s (%s)", self.name, self.version)

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Score texts; one {"toxicity": probability} per text."""
        texts = list(texts)
        if not texts:
            return []
        with self._lock:
            probabilities = self._predict_prob(texts)
        return [{"toxicity": float(p)} for p in probabilities]


def fetch_model(model: str, model_dir: Path, timeout: float = 10.0) -> Path:
    """Download a checkpoint and its config so that detoxify later loads offline."""
    model = _known_model(model)
    model_dir = Path(model_dir)
    target = model_dir / model
    created = not model_dir.exists()
    model_dir.mkdir(parents=True, exist_ok=True)
    # Everything is written under a staging directory and renamed into place at
    # the end, so that a failed fetch leaves nothing half-written.
    staging = Path(tempfile.mkdtemp(prefix=f".fetch-{model}-", dir=model_dir))
    try:
        _refuse_offline_hub()
        staged_checkpoint = staging / CHECKPOINT_NAME
        _download_checkpoint(model, staged_checkpoint, timeout)
        args = _checkpoint_arch_args(staged_checkpoint)
        _save_hf_files(args, staging / CONFIG_NAME, staging / "hub-cache", timeout)
        target.mkdir(exist_ok=True)
        replace_dir(staging / CONFIG_NAME, target / CONFIG_NAME)
        # The checkpoint last: choose() looks for it, and it is only there once
        # its config is.
        os.replace(staged_checkpoint, target / CHECKPOINT_NAME)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):
                model_dir.rmdir()  # only when still empty
        raise
    shutil.rmtree(staging, ignore_errors=True)
    logger.info("fetched detoxify %s into %s", model, target)
    return target / CHECKPOINT_NAME


def _known_model(model: str) -> str:
    if model not in CHECKPOINT_FILES:
        raise ClassifierUnavailable(
            f"unknown detoxify model {model!r}; use one of "
            f"{', '.join(CHECKPOINT_FILES)}"
        )
    return model


def _is_config_dir(path: Path) -> bool:
    return (path / "config.json").is_file()


def _find_weights(
    model: str, checkpoint: str | None, config_dir: str | None, model_dir: Path
) -> tuple[tuple[Path, Path] | None, str]:
    """Return ((checkpoint, config dir), "") or (None, what is missing)."""
    local = model_dir / model
    if checkpoint:
        candidates = [Path(checkpoint)]
    else:
        hub_file = torch_hub_checkpoints() / checkpoint_file_name(model)
        candidates = [local / CHECKPOINT_NAME, hub_file]
    weights = next((path for path in candidates if path.is_file()), None)
    if weights is None:
        return None, "no detoxify weights at " + " or ".join(map(str, candidates))
    if config_dir:
        configs = [Path(config_dir)]
    else:
        # Next to the fetched checkpoint, or next to an explicit one.
        configs = list(
            dict.fromkeys([local / CONFIG_NAME, weights.parent / CONFIG_NAME])
        )
    config = next((path for path in configs if _is_config_dir(path)), None)
    if config is None:
        # Without a local config detoxify would ask the hub (issue #126).
        where = " or ".join(map(str, configs))
        return None, (
            f"detoxify weights at {weights} but no config directory (config.json) "
            f"at {where}"
        )
    return (weights, config), ""


def _refuse_offline_hub() -> None:
    """Fail at once when this process cannot reach the Hugging Face hub."""
    names = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    offline = any(
        os.environ.get(name, "").upper() in {"1", "ON", "YES", "TRUE"} for name in names
    )
    hub = _loaded_hub_constants()
    if offline or (hub is not None and hub.HF_HUB_OFFLINE):
        raise FetchFailed(
            "HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE is set in this process, so the "
            "config and tokenizer cannot be downloaded; run the fetch in a fresh "
            f"shell without them, or {_FIX}"
        )


def _loaded_hub_constants() -> Any:
    return sys.modules.get("huggingface_hub.constants")


def _download_checkpoint(model: str, destination: Path, timeout: float) -> None:
    """Copy from the torch hub cache, or download; check the hash in the name."""
    url = checkpoint_url(model)
    name = checkpoint_file_name(model)
    cached = torch_hub_checkpoints() / name
    if cached.is_file():
        logger.info("copying detoxify %s from the torch hub cache %s", model, cached)
        shutil.copyfile(cached, destination)
    else:
        logger.info("downloading detoxify %s from %s", model, url)
        try:
            with (
                urllib.request.urlopen(url, timeout=timeout) as response,
                destination.open("wb") as out,
            ):
                shutil.copyfileobj(response, out, 1 << 20)
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts
            raise FetchFailed(
                f"cannot download {url}: {exc}. Without internet, {_FIX}"
            ) from exc
    expected = _HASH_IN_NAME.search(name)
    if expected and not sha256_file(destination).startswith(expected.group(1)):
        raise FetchFailed(
            f"{url} does not match the sha256 prefix {expected.group(1)} in its "
            "name; the download is corrupt or was tampered with"
        )


def _checkpoint_arch_args(checkpoint: Path) -> dict[str, Any]:
    """Read the training config's arch args (model_type, names, num_classes)."""
    import torch

    # A pickle: only the checked detoxify release file gets here.
    loaded = torch.load(checkpoint, map_location="cpu", weights_only=False)
    try:
        return dict(loaded["config"]["arch"]["args"])
    except (KeyError, TypeError) as exc:
        raise FetchFailed(f"{checkpoint} is not a detoxify checkpoint") from exc


def _save_hf_files(
    args: dict[str, Any], destination: Path, cache: Path, timeout: float
) -> None:
    """Save the hub config (num_labels = num_classes) and tokenizer locally."""
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", str(max(1, int(timeout))))
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", str(max(1, int(timeout))))
    import huggingface_hub
    import transformers

    repo = args["model_type"]
    try:
        snapshot = huggingface_hub.snapshot_download(
            repo,
            cache_dir=cache,
            etag_timeout=timeout,
            allow_patterns=[
                "config.json",
                "tokenizer*",
                "vocab*",
                "merges.txt",
                "special_tokens_map.json",
                "*.model",
            ],
        )
    except Exception as exc:  # the hub client raises many kinds; all mean the same
        raise FetchFailed(
            f"cannot download the config and tokenizer of {repo} from "
            f"https://huggingface.co/{repo}: {exc}. Without internet, {_FIX}"
        ) from exc
    model_class = getattr(transformers, args["model_name"])
    config = model_class.config_class.from_pretrained(
        snapshot, num_labels=args["num_classes"], local_files_only=True
    )
    config.save_pretrained(destination)
    tokenizer = getattr(transformers, args["tokenizer_name"]).from_pretrained(
        snapshot, local_files_only=True
    )
    tokenizer.save_pretrained(destination)
    # Checked here rather than at load time (notes/detoxify.md, trap 2).
    saved = json.loads((destination / "config.json").read_text(encoding="utf-8"))
    if len(saved.get("id2label", {})) != args["num_classes"]:
        raise FetchFailed(f"saved config for {repo} lost num_labels")
