"""A GPU scorer worker, measured (SPEED ONLY: random weights, as bench/scoring.py).

    python bench/gpu_worker.py [--device cuda] [--comments 10000] [--batch-size 512]

On a machine with a CUDA GPU: (a) `Detoxify.predict` once per comment on the GPU,
(b) the service's DetoxifyClassifier.score() on all comments at once (length-sorted
batches bounded by GPU memory), (c) the worker end to end (claim, rules, score,
store) on SQLite, draining the comments. Prints one JSON report.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scoring


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--comments", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=512, help="worker batch")
    parser.add_argument("--a-count", type=int, default=300)
    args = parser.parse_args()

    import torch

    corpus, source = scoring.read_corpus()
    texts = (corpus * (args.comments // len(corpus) + 1))[: args.comments]
    directory = scoring.OUT / "original-random"
    checkpoint, config_dir = scoring.build_checkpoint(directory, corpus)
    report: dict[str, object] = {
        "label": scoring.LABEL,
        "device": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu",
        "torch": torch.__version__,
        "texts": source,
    }
    report["a_per_comment"] = scoring.per_comment_predict(
        checkpoint, config_dir, texts[: args.a_count], threads=4, device=args.device
    )

    from moderation.screening.detoxify_model import DetoxifyClassifier

    classifier = DetoxifyClassifier(
        "original", checkpoint, config_dir, device=args.device
    )
    classifier.score(texts[:512])  # warm-up: kernels, allocator
    started = time.perf_counter()
    classifier.score(texts)
    report["b_score_all"] = len(texts) / (time.perf_counter() - started)

    database = scoring.OUT / "gpu-e2e.db"
    report["c_worker_sqlite"] = scoring.end_to_end(
        f"sqlite:///{database}",
        "detoxify",
        texts,
        {"checkpoint": checkpoint, "config": config_dir, "onnx": directory / "onnx"},
        threads=4,
        batch_size=args.batch_size,
        device=args.device,
    )
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
