"""Detoxify's own model, run strictly offline, in length-sorted batches.

Heavy libraries (torch, transformers, detoxify) are imported on first use. Detoxify
checkpoints are pickles (`torch.load(..., weights_only=False)`): loading one runs
whatever code it carries, so only load files from a trusted source (the detoxify
releases, or a copy made from them). classifiers.py chooses and builds it; onnx.py
exports it.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import ClassifierUnavailable
from .files import sha256_file

logger = logging.getLogger(__name__)

# What a tokenizer reports when its config sets no maximum length.
_NO_MAX_LENGTH = 1_000_000
# Installing the issue #126 work-around happens once, whichever thread builds first.
_PATCH_LOCK = threading.Lock()

# Rows x padded length per forward pass; bert-base on 2 cores ran best at about
# 8 comments of ~50 pieces sorted by length (docs/benchmarks.md).
MAX_BATCH_TOKENS = 512


def length_batches(
    lengths: Sequence[int], batch_size: int, max_tokens: int
) -> list[list[int]]:
    """Indices grouped shortest first, each group within batch_size and max_tokens."""
    # Comments vary from a few words to 512 pieces: padding a batch to its
    # longest member wasted most of the work (docs/benchmarks.md), so similar
    # lengths go together and long ones go in small batches.
    batches: list[list[int]] = []
    current: list[int] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        if current and (
            len(current) == batch_size or (len(current) + 1) * lengths[i] > max_tokens
        ):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


class DetoxifyClassifier:
    """Detoxify's own `Detoxify(...).predict()`, loaded strictly offline."""

    limitations = ""

    def __init__(
        self,
        model: str,
        checkpoint: Path,
        config_dir: Path,
        device: str = "cpu",
        threads: int | None = None,
        batch_size: int | None = None,
        max_tokens: int | None = None,
    ) -> None:
        """Load a trusted checkpoint and its local config; never touch the hub."""
        # Before transformers is first imported: huggingface_hub reads these once,
        # at import, and then refuses every request instead of retrying for ~30 s.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import torch
        from detoxify import Detoxify

        _work_around_issue_126()
        if threads is not None:
            # Process-wide; left at torch's default unless configured.
            torch.set_num_threads(threads)
        started = time.monotonic()
        checkpoint, config_dir = Path(checkpoint), Path(config_dir)
        digest = sha256_file(checkpoint)
        try:
            self._detoxify = Detoxify(
                model_type=model,
                checkpoint=str(checkpoint),
                device=device,
                huggingface_config_path=str(config_dir),
            )
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ClassifierUnavailable(
                f"cannot load detoxify checkpoint {checkpoint} with config "
                f"{config_dir}: {exc} (config.json needs num_labels equal to the "
                "checkpoint's num_classes)"
            ) from exc
        tokenizer = self._detoxify.tokenizer
        if tokenizer.model_max_length > _NO_MAX_LENGTH:
            # A tokenizer saved without a maximum would not truncate, and texts
            # longer than the model's 512 positions would fail to score.
            tokenizer.model_max_length = 512
        self.name = f"detoxify-{model}"
        self.version = (
            f"detoxify {importlib.metadata.version('detoxify')} / "
            f"{checkpoint.name} sha256:{digest[:12]}"
        )
        self.labels = tuple(self._detoxify.class_names)
        # On a CPU, padding is wasted work: small, length-sorted batches. On a GPU
        # the bound is memory, and big batches keep it busy.
        on_cpu = device == "cpu"
        self.batch_size = batch_size or (32 if on_cpu else 256)
        self.max_tokens = max_tokens or (MAX_BATCH_TOKENS if on_cpu else 65_536)
        self._torch = torch
        self._lock = threading.Lock()
        logger.info(
            "loaded %s (%s) on %s in %.1f s",
            self.name,
            self.version,
            device,
            time.monotonic() - started,
        )

    @property
    def detoxify(self) -> Any:
        """The loaded upstream Detoxify (model, tokenizer, class_names), for export."""
        return self._detoxify

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Score texts in length-sorted batches; one dict per text, in input order."""
        texts = list(texts)
        if not texts:
            return []
        with self._lock:
            lengths = [
                len(ids)
                for ids in self._detoxify.tokenizer(texts, truncation=True).input_ids
            ]
        results: list[dict[str, float]] = [{} for _ in texts]
        for chunk in length_batches(lengths, self.batch_size, self.max_tokens):
            scores = self._score_batch([texts[i] for i in chunk])
            for i, row in zip(chunk, scores, strict=True):
                results[i] = row
        return results

    def _score_batch(self, texts: list[str]) -> list[dict[str, float]]:
        if not texts:
            return []
        # One predict at a time: the model is shared, and torch already uses
        # every core for one batch.
        with self._lock, self._torch.inference_mode():
            raw = self._detoxify.predict(texts)
        columns: dict[str, list[float]] = {}
        for label in self.labels:
            values = raw[label]
            # predict() squeezes a batch of one down to a bare float.
            columns[label] = values if isinstance(values, list) else [values]
        return [
            {label: float(columns[label][i]) for label in self.labels}
            for i in range(len(texts))
        ]


def _work_around_issue_126() -> None:
    """Make detoxify build the config from the local directory when given one."""
    import detoxify.detoxify as upstream

    with _PATCH_LOCK:
        original = upstream.get_model_and_tokenizer
        if getattr(original, "_local_config_first", False):
            return

        # Upstream issue #126: get_model_and_tokenizer() calls
        # `config_class.from_pretrained(model_type)` with the hub id stored in the
        # checkpoint ("bert-base-uncased") even when huggingface_config_path is
        # given; offline that fails, or retries for ~30 s. With a local config
        # directory, read the config from it instead. Without one, unchanged.
        @functools.wraps(original)
        def get_model_and_tokenizer(
            model_type: str,
            model_name: str,
            tokenizer_name: str,
            num_classes: int,
            state_dict: Any,
            huggingface_config_path: str | None = None,
        ) -> Any:
            if huggingface_config_path is not None:
                model_type = str(huggingface_config_path)
            return original(
                model_type,
                model_name,
                tokenizer_name,
                num_classes,
                state_dict,
                huggingface_config_path,
            )

        get_model_and_tokenizer._local_config_first = True  # type: ignore[attr-defined]
        upstream.get_model_and_tokenizer = get_model_and_tokenizer
