"""Scoring speed of detoxify `original`, three ways (SPEED ONLY: random weights).

(a) `Detoxify.predict` called once per comment (what a naive integration does);
(b) the bare model's best batched forward pass: torch fp32, ONNX Runtime fp32 and int8,
    batch sizes 8/16/32/64, batches in input order and sorted by length;
(c) the service's workers end to end (claim, score, store) on 2,000 comments, on
    SQLite and, with --postgres, on PostgreSQL.

The checkpoint is a full-size bert-base-uncased `BertForSequenceClassification` with
random weights in detoxify's own format, and a 30,522-token WordPiece vocabulary trained
here on the comment texts: the same shapes and the same work as the real model, so the
same speed, but never the same scores. Built once into bench/out/ (git-ignored).

    python bench/scoring.py                        # (a), (b), (c) on SQLite
    python bench/scoring.py --only c --postgres postgresql+psycopg://u:p@host/bench
    python bench/scoring.py --only a,b --threads 2 --b-count 192
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Before transformers is imported anywhere: never ask the hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

ROOT = Path(__file__).resolve().parents[1]
# shared/ lies beside the checkout.
SHARED = ROOT.parent / "shared" / "data" / "train"
OUT = ROOT / "bench" / "out"
# Civil Comments (news-site comments) first: closest to what this service screens.
SOURCES = (
    (SHARED / "toxic-spans" / "tsd_train.csv", "text"),
    (SHARED / "jigsaw-detoxify-sample" / "train.csv", "comment_text"),
    (SHARED / "davidson" / "labeled_data.csv", "tweet"),
)
# Detoxify's `original` training classes, as its checkpoint spells them.
CLASSES = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
VOCAB_SIZE = 30522  # bert-base-uncased's
BATCH_SIZES = (8, 16, 32, 64)
LABEL = "SPEED ONLY: random weights, never use these scores"

csv.field_size_limit(2**31 - 1)


def read_corpus() -> tuple[list[str], str]:
    """Comment texts from the first shared data set present, else generated ones."""
    for path, column in SOURCES:
        if path.is_file():
            with path.open(newline="", encoding="utf-8") as handle:
                texts = [row[column] for row in csv.DictReader(handle) if row[column]]
            return texts, f"{path.parent.name}/{path.name}"
    return _generated(20_000), "generated"


def _generated(count: int) -> list[str]:
    # Zipf-like word choice and 5..120 words: roughly the shape of news comments.
    rng = random.Random(0)
    words = [f"w{i}" for i in range(20_000)]
    weights = [1 / (rank + 1) for rank in range(len(words))]
    return [
        " ".join(rng.choices(words, weights, k=rng.randint(5, 120)))
        for _ in range(count)
    ]


def build_checkpoint(directory: Path, corpus: Sequence[str]) -> tuple[Path, Path]:
    """Write the random-weight bert-base checkpoint and its config dir, once."""
    checkpoint = directory / "checkpoint.ckpt"
    config_dir = directory / "config"
    if checkpoint.is_file() and (config_dir / "config.json").is_file():
        return checkpoint, config_dir
    import tokenizers
    import torch
    import transformers

    started = time.perf_counter()
    config_dir.mkdir(parents=True, exist_ok=True)
    # A WordPiece vocabulary learnt from the comments splits them into about as
    # many pieces as bert-base-uncased's does, and sequence length is what
    # decides the speed.
    trainer = tokenizers.BertWordPieceTokenizer(lowercase=True)
    trainer.train_from_iterator(
        corpus, vocab_size=VOCAB_SIZE, special_tokens=list(SPECIAL)
    )
    vocab = sorted(trainer.get_vocab().items(), key=lambda item: item[1])
    pieces = [piece for piece, _ in vocab]
    # A small corpus learns fewer pieces; fill up so the embedding is full size.
    pieces += [f"[unused{i}]" for i in range(VOCAB_SIZE - len(pieces))]
    vocab_file = directory / "vocab.txt"
    vocab_file.write_text("\n".join(pieces) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizer(
        vocab=str(vocab_file), do_lower_case=True, model_max_length=512
    )
    tokenizer.save_pretrained(config_dir)
    # BertConfig's defaults are bert-base: 12 layers, 768 hidden, 12 heads, 3072.
    config = transformers.BertConfig(vocab_size=VOCAB_SIZE, num_labels=len(CLASSES))
    config.save_pretrained(config_dir)
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config).eval()
    torch.save(
        {
            "config": {
                "arch": {
                    "args": {
                        "model_type": "bert-base-uncased",
                        "model_name": "BertForSequenceClassification",
                        "tokenizer_name": "BertTokenizer",
                        "num_classes": len(CLASSES),
                    }
                },
                "dataset": {"args": {"classes": list(CLASSES)}},
            },
            "state_dict": model.state_dict(),
        },
        checkpoint,
    )
    (directory / "README.txt").write_text(LABEL + "\n", encoding="utf-8")
    print(f"built {checkpoint} in {time.perf_counter() - started:.0f} s ({LABEL})")
    return checkpoint, config_dir


def build_onnx(directory: Path, checkpoint: Path, config_dir: Path) -> Path:
    """Export the checkpoint with the service's own optimize-model code, once."""
    from moderation.screening.onnx import META_NAME, export

    target = directory / "onnx"
    if not (target / META_NAME).is_file():
        started = time.perf_counter()
        export(checkpoint, config_dir, target)
        print(f"exported {target} in {time.perf_counter() - started:.0f} s")
    return target


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def per_comment_predict(
    checkpoint: Path,
    config_dir: Path,
    texts: Sequence[str],
    threads: int,
    device: str = "cpu",
) -> float:
    """(a) comments/s with Detoxify.predict(text) called once per comment."""
    from moderation.screening.detoxify_model import DetoxifyClassifier

    detoxify = DetoxifyClassifier(
        "original", checkpoint, config_dir, device=device, threads=threads
    )
    for text in texts[:3]:  # warm-up: first calls allocate
        detoxify.detoxify.predict(text)
    started = time.perf_counter()
    for text in texts:
        detoxify.detoxify.predict(text)
    return _rate(len(texts), time.perf_counter() - started)


def _batchings(
    texts: Sequence[str], tokenizer: Any, quick: bool
) -> dict[str, list[list[str]]]:
    """The batchings (b) tries: fixed sizes in input or length order, token budget."""
    from moderation.screening.detoxify_model import MAX_BATCH_TOKENS, length_batches

    by_length = sorted(texts, key=len)
    batchings: dict[str, list[list[str]]] = {}
    for size in BATCH_SIZES:
        for name, ordered in (("", list(texts)), (", by length", by_length)):
            if quick and (size != 8 or not name):
                continue  # --b-quick: only the best fixed batching seen so far
            batches = [ordered[i : i + size] for i in range(0, len(ordered), size)]
            batchings[f"batch {size}{name}"] = batches
    # What OnnxClassifier does: sorted by pieces, each batch within a budget.
    lengths = [len(ids) for ids in tokenizer(list(texts), truncation=True).input_ids]
    batchings[f"<= {MAX_BATCH_TOKENS} tokens, by length"] = [
        [texts[i] for i in chunk]
        for chunk in length_batches(lengths, max(BATCH_SIZES), MAX_BATCH_TOKENS)
    ]
    return batchings


def _time_forward(
    texts: Sequence[str],
    tokenizer: Any,
    forward: Callable[[dict[str, Any]], Any],
    tensors: str,
    quick: bool,
) -> dict[str, float]:
    """comments/s of `forward` alone (tokenizing excluded) for each batching."""
    rates: dict[str, float] = {}
    for key, batches in _batchings(texts, tokenizer, quick).items():
        encoded = [
            dict(
                tokenizer(
                    batch,
                    truncation=True,
                    max_length=512,
                    padding=True,
                    return_tensors=tensors,
                )
            )
            for batch in batches
        ]
        forward(encoded[0])  # warm-up: allocators, kernels for this shape
        started = time.perf_counter()
        for inputs in encoded:
            forward(inputs)
        rates[key] = _rate(len(texts), time.perf_counter() - started)
    return rates


def bare_forward(
    checkpoint: Path,
    config_dir: Path,
    onnx_dir: Path,
    texts: Sequence[str],
    threads: int,
    quick: bool = False,
) -> dict[str, dict[str, float]]:
    """(b) the bare model's batched forward pass for torch fp32, ONNX fp32 and int8."""
    import numpy as np
    import torch

    from moderation.screening.detoxify_model import DetoxifyClassifier
    from moderation.screening.onnx import model_file, open_session

    detoxify = DetoxifyClassifier("original", checkpoint, config_dir, threads=threads)
    model, tokenizer = detoxify.detoxify.model.eval(), detoxify.detoxify.tokenizer

    def torch_forward(inputs: dict[str, Any]) -> Any:
        with torch.inference_mode():
            return model(**inputs).logits

    results = {
        "torch fp32": _time_forward(texts, tokenizer, torch_forward, "pt", quick)
    }
    for variant in ("fp32", "int8"):
        session = open_session(model_file(onnx_dir, variant), threads)
        names = [i.name for i in session.get_inputs()]

        def onnx_forward(
            inputs: dict[str, Any], session: Any = session, names: Any = names
        ) -> Any:
            feed = {name: inputs[name].astype(np.int64) for name in names}
            return session.run(["logits"], feed)

        key = f"onnx {variant}"
        results[key] = _time_forward(texts, tokenizer, onnx_forward, "np", quick)
        del session
    return results


def classifier_score(
    checkpoint: Path,
    config_dir: Path,
    onnx_dir: Path,
    texts: Sequence[str],
    threads: int,
    batch_size: int,
) -> dict[str, float]:
    """The service's classifiers' score() on the batch, tokenizing included."""
    from moderation.screening.detoxify_model import DetoxifyClassifier
    from moderation.screening.onnx import OnnxClassifier

    makers: dict[str, Callable[[], Any]] = {
        "detoxify (torch fp32)": lambda: DetoxifyClassifier(
            "original", checkpoint, config_dir, threads=threads, batch_size=batch_size
        ),
        "onnx fp32": lambda: OnnxClassifier(onnx_dir, "fp32", threads, batch_size),
        "onnx int8": lambda: OnnxClassifier(onnx_dir, "int8", threads, batch_size),
    }
    rates = {}
    for name, make in makers.items():
        classifier = make()
        classifier.score(texts[:batch_size])  # warm-up
        started = time.perf_counter()
        classifier.score(texts)
        rates[name] = _rate(len(texts), time.perf_counter() - started)
        del classifier
    return rates


def end_to_end(
    url: str,
    spec: str,
    texts: Sequence[str],
    paths: dict[str, Path],
    threads: int,
    batch_size: int,
    device: str = "cpu",
) -> dict[str, Any] | None:
    """(c) seed received comments into a fresh database and time the worker's drain."""
    try:
        from moderation.services import worker
    except ImportError as error:
        print(f"(c) skipped: the worker is not importable ({error})")
        return None
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from moderation import create_app
    from moderation.extensions import db
    from moderation.models import Comment, CommentStatus, Site, Thread
    from moderation.rendering import render_body
    from moderation.services.comments import fingerprint

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    setting, _, variant = spec.partition("-")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": str(OUT / "instance"),
            "CLASSIFIER": setting,
            "CLASSIFIER_PRELOAD": False,
            "DETOXIFY_CHECKPOINT": str(paths["checkpoint"]),
            "DETOXIFY_CONFIG_DIR": str(paths["config"]),
            "DETOXIFY_THREADS": threads,
            "DETOXIFY_DEVICE": device,
            "ONNX_DIR": str(paths["onnx"]),
            "ONNX_VARIANT": variant or "int8",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        if not url.startswith("sqlite:///"):
            # Only this service's own tables are dropped, never the whole schema.
            db.drop_all()
            with db.engine.begin() as connection:
                connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        site = Site(slug="bench", name="Benchmark")
        threads_ = [Thread(site=site, key=f"article-{i}") for i in range(10)]
        db.session.add_all([site, *threads_])
        db.session.flush()
        started = time.perf_counter()
        db.session.execute(
            sa.insert(Comment),
            [
                {
                    "thread_id": threads_[i % len(threads_)].id,
                    "handle": f"reader{i}",
                    "body": text,
                    "html": render_body(text),
                    "status": CommentStatus.RECEIVED,
                    "fingerprint": fingerprint(text),
                }
                for i, text in enumerate(texts)
            ],
        )
        db.session.commit()
        seeded = time.perf_counter() - started
        screener = app.extensions["screener"]
        classifier = screener.classifier()  # loading is not part of the drain
        classifier.score(list(texts[:batch_size]))  # warm-up
        db.session.remove()
    options: dict[str, Any] = {"batch_size": batch_size, "max_wait": 0.0, "drain": True}
    if "lease" in inspect.signature(worker.run).parameters:
        options["lease"] = 3600.0
    started = time.perf_counter()
    stats = worker.run(app, **options)
    elapsed = time.perf_counter() - started
    with app.app_context():
        left = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Comment)
            .where(Comment.status == CommentStatus.RECEIVED)
        )
        db.engine.dispose()
    return {
        "database": url.split(":", 1)[0],
        "classifier": classifier.name,
        "comments": len(texts),
        "batch_size": batch_size,
        "seconds": elapsed,
        "rate": _rate(len(texts), elapsed),
        "seed_seconds": seeded,
        "left_received": left,
        "summary": getattr(stats, "summary", lambda: str(stats))(),
    }


def machine() -> dict[str, Any]:
    """What ran it: CPU model, cores, threads used, library versions."""
    import importlib.metadata

    model = platform.processor()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in lscpu.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        **{
            name: importlib.metadata.version(name)
            for name in ("torch", "transformers", "detoxify", "onnxruntime")
        },
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Build (once) and measure; print a report and save it as JSON in bench/out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="a,b,c", help="which of a, b, c to run")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--a-count", type=int, default=100, help="comments for (a)")
    parser.add_argument("--b-count", type=int, default=192, help="comments for (b)")
    parser.add_argument("--c-count", type=int, default=2000, help="comments for (c)")
    parser.add_argument("--batch-size", type=int, default=32, help="worker batch")
    parser.add_argument(
        "--b-quick",
        action="store_true",
        help="(b): only batch 8 by length and the token budget (the slow ones "
        "never won on 2 cores)",
    )
    parser.add_argument(
        "--classifiers",
        default="onnx-int8,detoxify",
        help="for (c): any of detoxify, onnx-int8, onnx-fp32",
    )
    parser.add_argument(
        "--postgres",
        default=None,
        help="also run (c) on this PostgreSQL database (its service tables are "
        "dropped and re-created)",
    )
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))

    corpus, source = read_corpus()
    rng = random.Random(0)
    sample = rng.sample(corpus, min(len(corpus), max(args.c_count, args.b_count)))
    paths = {}
    paths["checkpoint"], paths["config"] = build_checkpoint(
        OUT / "original-random", corpus
    )
    paths["onnx"] = build_onnx(
        OUT / "original-random", paths["checkpoint"], paths["config"]
    )
    import transformers

    tokenizer = transformers.BertTokenizer.from_pretrained(str(paths["config"]))
    lengths = [
        len(ids) for ids in tokenizer(sample, truncation=True, max_length=512).input_ids
    ]
    report: dict[str, Any] = {
        "label": LABEL,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "threads": args.threads,
        "texts": source,
        "wordpieces": {
            "mean": statistics.mean(lengths),
            "median": statistics.median(lengths),
            "max": max(lengths),
        },
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    print(json.dumps({k: report[k] for k in ("machine", "texts", "wordpieces")}))
    if "a" in parts:
        rate = per_comment_predict(
            paths["checkpoint"], paths["config"], sample[: args.a_count], args.threads
        )
        report["a"] = rate
        print(f"(a) Detoxify.predict per comment: {rate:.1f} comments/s")
    if "b" in parts:
        texts = sample[: args.b_count]
        report["b"] = bare_forward(
            paths["checkpoint"],
            paths["config"],
            paths["onnx"],
            texts,
            args.threads,
            args.b_quick,
        )
        for name, rates in report["b"].items():
            best = max(rates, key=rates.__getitem__)
            cells = ", ".join(f"{k} {v:.1f}" for k, v in rates.items())
            print(f"(b) {name}: best {rates[best]:.1f}/s ({best}); {cells}")
        report["score"] = classifier_score(
            paths["checkpoint"],
            paths["config"],
            paths["onnx"],
            texts,
            args.threads,
            args.batch_size,
        )
        for name, rate in report["score"].items():
            print(f"    {name} score(), batch {args.batch_size}: {rate:.1f}/s")
    if "c" in parts:
        texts = sample[: args.c_count]
        urls = [f"sqlite:///{OUT / 'e2e.db'}"]
        if args.postgres:
            urls.append(args.postgres)
        report["c"] = []
        for url in urls:
            for spec in args.classifiers.split(","):
                result = end_to_end(
                    url, spec, texts, paths, args.threads, args.batch_size
                )
                if result is None:
                    break
                report["c"].append(result)
                print(
                    f"(c) {result['database']} {result['classifier']}: "
                    f"{result['rate']:.1f} comments/s ({result['summary']})"
                )
    OUT.mkdir(parents=True, exist_ok=True)
    saved = OUT / f"scoring-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    saved.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"saved {saved}")


if __name__ == "__main__":
    main()
