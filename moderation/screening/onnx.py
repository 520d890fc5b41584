"""Detoxify exported to ONNX Runtime: fp32, and an int8 dynamically quantized copy.

`export()` loads a detoxify checkpoint exactly as `DetoxifyClassifier` does (offline,
issue #126 work-around), writes `model.fp32.onnx`, `model.int8.onnx`, the tokenizer
files and `meta.json` into one directory. `OnnxClassifier` scores with either file.

Int8 changes scores: it is adopted only after `flask --app moderation compare-models`
shows that it agrees with detoxify on real comments (docs/benchmarks.md).
Heavy imports (torch, transformers, onnxruntime, numpy) happen inside the functions.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .detoxify_model import MAX_BATCH_TOKENS, DetoxifyClassifier, length_batches
from .errors import ClassifierUnavailable
from .files import replace_dir, sha256_file

logger = logging.getLogger(__name__)

VARIANTS = ("int8", "fp32")
META_NAME = "meta.json"
# Bumped when the directory's layout or meta.json changes meaning.
FORMAT = 1
# Opset 17 has LayerNormalization as one op and is read by every onnxruntime >= 1.14.
OPSET = 17


def model_file(directory: Path, variant: str) -> Path:
    """Where `variant` ("int8" or "fp32") lives in an exported directory."""
    if variant not in VARIANTS:
        raise ClassifierUnavailable(
            f"unknown ONNX variant {variant!r}; use one of {', '.join(VARIANTS)}"
        )
    return Path(directory) / f"model.{variant}.onnx"


def export(
    checkpoint: Path,
    config_dir: Path,
    out_dir: Path,
    model: str = "original",
) -> Path:
    """Export a detoxify checkpoint to fp32 and int8 ONNX in out_dir; return out_dir."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    checkpoint, config_dir, out_dir = Path(checkpoint), Path(config_dir), Path(out_dir)
    started = time.monotonic()
    # The same loading path the service uses, so that the export scores what
    # detoxify scores (offline, local config, issue #126 handled).
    source = DetoxifyClassifier(model, checkpoint, config_dir)
    hf_model = source.detoxify.model.eval()
    tokenizer = source.detoxify.tokenizer
    max_length = _max_length(tokenizer, hf_model.config)
    example = tokenizer(
        ["an example comment", "a second, somewhat longer example comment"],
        return_tensors="pt",
        padding=True,
    )
    inputs = [name for name in tokenizer.model_input_names if name in example]

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed into place, so that a running service never
    # reads a half-written model and a failed export leaves nothing behind.
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        fp32 = model_file(staging, "fp32")
        with torch.no_grad(), warnings.catch_warnings():
            # The tracer warns that mask-shape checks become constants; for an
            # encoder they are constant (mask length == sequence length), and
            # tests/test_onnx.py checks other batch and sequence sizes agree.
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            # dynamo=False is deprecated, not gone; see below for why it is used.
            warnings.simplefilter("ignore", DeprecationWarning)
            # Advanced indexing is exported correctly for non-negative indices,
            # which is all BERT uses; the fp32 test compares scores to 1e-4.
            warnings.filterwarnings("ignore", "Exporting aten::index operator")
            torch.onnx.export(
                _logits_only(hf_model, inputs),
                tuple(example[name] for name in inputs),
                str(fp32),
                input_names=inputs,
                output_names=["logits"],
                dynamic_axes={
                    **{name: {0: "batch", 1: "sequence"} for name in inputs},
                    "logits": {0: "batch"},
                },
                opset_version=OPSET,
                # The TorchScript exporter: the dynamo one needs onnxscript, which
                # is not installed; this one is checked on torch 2.13 by the tests.
                dynamo=False,
            )
        # QInt8 weights (U8S8, onnxruntime's fast path on x86). On CPUs without
        # VNNI it can saturate; compare-models is what shows whether it agrees.
        quantize_dynamic(fp32, model_file(staging, "int8"), weight_type=QuantType.QInt8)
        tokenizer.save_pretrained(staging)
        meta = {
            "format": FORMAT,
            "model": model,
            "labels": list(source.labels),
            "inputs": inputs,
            "max_length": max_length,
            "tokenizer_name": type(tokenizer).__name__,
            "checkpoint": checkpoint.name,
            "checkpoint_sha256": sha256_file(checkpoint),
            "exported_with": {
                name: importlib.metadata.version(name)
                for name in ("torch", "transformers", "onnx", "onnxruntime")
            },
        }
        (staging / META_NAME).write_text(
            json.dumps(meta, indent=2) + "\n", encoding="utf-8"
        )
        replace_dir(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info(
        "exported detoxify %s to %s in %.1f s",
        model,
        out_dir,
        time.monotonic() - started,
    )
    return out_dir


def read_meta(directory: Path) -> dict[str, Any]:
    """The meta.json of an exported directory, or ClassifierUnavailable."""
    path = Path(directory) / META_NAME
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ClassifierUnavailable(
            f"no readable ONNX export at {directory} ({exc}); run "
            "`flask --app moderation optimize-model`"
        ) from exc
    if meta.get("format") != FORMAT:
        raise ClassifierUnavailable(
            f"{path} is format {meta.get('format')!r}, not {FORMAT}; run "
            "`flask --app moderation optimize-model` again"
        )
    return dict(meta)


def open_session(path: Path, threads: int | None = None) -> Any:
    """An onnxruntime CPU session as the classifier runs it (also used by bench/)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    # One batch at a time runs across all intra-op threads; a second pool
    # would only compete with it.
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxClassifier:
    """An exported detoxify model run by ONNX Runtime; same labels and sigmoid."""

    limitations = ""

    def __init__(
        self,
        model_dir: Path,
        variant: str = "int8",
        threads: int | None = None,
        batch_size: int = 32,
        max_tokens: int = MAX_BATCH_TOKENS,
    ) -> None:
        """Open the session and the tokenizer saved beside it; never touch the hub."""
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        model_dir = Path(model_dir)
        path = model_file(model_dir, variant)
        meta = read_meta(model_dir)
        if not path.is_file():
            raise ClassifierUnavailable(f"no ONNX model at {path}")
        try:
            import numpy as np
            import onnxruntime as ort
            import transformers
        except ImportError as exc:
            raise ClassifierUnavailable(f"onnxruntime is not installed: {exc}") from exc
        started = time.monotonic()
        self._session = open_session(path, threads)
        tokenizer_class = getattr(transformers, meta["tokenizer_name"])
        self._tokenizer = tokenizer_class.from_pretrained(
            str(model_dir), local_files_only=True
        )
        self._np = np
        self._inputs = tuple(meta["inputs"])
        self.max_length = int(meta["max_length"])
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self._pad_id = int(self._tokenizer.pad_token_id or 0)
        self.variant = variant
        self.labels = tuple(meta["labels"])
        self.name = f"onnx-{meta['model']}-{variant}"
        self.version = (
            f"onnxruntime {ort.__version__} {variant} / {meta['checkpoint']} "
            f"sha256:{meta['checkpoint_sha256'][:12]}"
        )
        # Fast tokenizers refuse concurrent calls ("Already borrowed").
        self._lock = threading.Lock()
        logger.info(
            "loaded %s (%s) in %.1f s",
            self.name,
            self.version,
            time.monotonic() - started,
        )

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Score texts in length-sorted batches; one dict per text, in input order."""
        np = self._np
        texts = list(texts)
        if not texts:
            return []
        with self._lock:
            encoded = self._tokenizer(
                texts, truncation=True, max_length=self.max_length
            )
        columns = {name: encoded[name] for name in self._inputs}
        lengths = [len(ids) for ids in columns["input_ids"]]
        results: list[dict[str, float]] = [{} for _ in texts]
        for chunk in length_batches(lengths, self.batch_size, self.max_tokens):
            width = max(lengths[i] for i in chunk)
            feed = {}
            for name, rows in columns.items():
                pad = self._pad_id if name == "input_ids" else 0
                array = np.full((len(chunk), width), pad, dtype=np.int64)
                for row, i in enumerate(chunk):
                    array[row, : lengths[i]] = rows[i]
                feed[name] = array
            (logits,) = self._session.run(["logits"], feed)
            # A sigmoid, as detoxify's predict(); written with logaddexp so that
            # a large negative logit does not overflow.
            probabilities = np.exp(-np.logaddexp(0.0, -logits.astype(np.float64)))
            for i, row in zip(chunk, probabilities, strict=True):
                results[i] = {
                    label: float(row[k]) for k, label in enumerate(self.labels)
                }
        return results


def _max_length(tokenizer: Any, config: Any) -> int:
    """The longest input the model takes: the tokenizer's maximum, capped."""
    longest = min(int(tokenizer.model_max_length), 512)
    positions = getattr(config, "max_position_embeddings", None)
    if positions:
        # RoBERTa-family models spend two positions on the padding offset.
        offset = 2 if "roberta" in str(getattr(config, "model_type", "")) else 0
        longest = min(longest, int(positions) - offset)
    return longest


def _logits_only(model: Any, inputs: Sequence[str]) -> Any:
    """Wrap a Hugging Face model so that the exported graph returns bare logits."""
    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: Any) -> Any:
            return self.model(**dict(zip(inputs, tensors, strict=True))).logits

    return LogitsOnly()
