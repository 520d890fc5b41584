"""The offline screen's speed, first load and memory, as a web process sees them.

    .venv/bin/python bench/screen_speed.py [--texts N] [--batch 64] [--rounds 3]

Runs each measurement in a fresh child process, so that imports and the first load
are counted as a restarted web process would count them:
- export: the one-time ONNX export of the packaged encoder (into a new directory);
- first load: `create_app()` with the default classifier setting (auto: the screen
  when detoxify's weights are absent), then the screener's classifier loaded;
- throughput: comments of 50 words (Civil Comments texts from the SemEval trial
  file, cut to 50 words), scored by `pipeline.screen` (rules and classifier) in
  batches of the worker's size, best of the rounds;
- memory: the process's peak resident set after loading and scoring.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRIAL = ROOT.parent / "shared" / "data" / "train" / "toxic-spans" / "tsd_trial.csv"

CHILD = r"""
import json, resource, sys, time
started = time.monotonic()
from moderation import create_app
from moderation.screening.base import Draft, Policy
from moderation.screening.pipeline import screen
app = create_app({"MODEL_DIR": sys.argv[1], "IN_PROCESS_WORKER": False,
                  "CLASSIFIER_PRELOAD": False,
                  "SQLALCHEMY_DATABASE_URI": "sqlite://"})
screener = app.extensions["screener"]
classifier = screener.classifier()
loaded = time.monotonic() - started
texts = json.loads(open(sys.argv[2]).read())
batch, rounds = int(sys.argv[3]), int(sys.argv[4])
policy = Policy()
screen([Draft(t) for t in texts[:batch]], policy, classifier)  # warm
best = 0.0
for _ in range(rounds):
    t = time.monotonic()
    for i in range(0, len(texts), batch):
        screen([Draft(x) for x in texts[i:i + batch]], policy, classifier)
    best = max(best, len(texts) / (time.monotonic() - t))
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"classifier": classifier.name, "first_load_s": round(loaded, 2),
                  "comments_per_s": round(best, 1), "peak_rss_mb": round(rss),
                  "choice": screener.description}))
"""


def fifty_word_texts(n: int) -> list[str]:
    """Civil Comments texts of at least 50 words, cut to exactly 50."""
    with TRIAL.open(newline="") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    out = [" ".join(t.split()[:50]) for t in texts if len(t.split()) >= 50]
    while len(out) < n:
        out = out + out
    return out[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    python = sys.executable
    env = {**os.environ, "MODERATION_CLASSIFIER": "auto"}
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        started = time.monotonic()
        subprocess.run(
            [
                python,
                "-c",
                "from moderation.screening.encoder import ensure_exported;"
                f"ensure_exported(__import__('pathlib').Path({str(models)!r}))",
            ],
            check=True,
            cwd=ROOT,
            env=env,
        )
        export_s = time.monotonic() - started
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(fifty_word_texts(args.texts)))
        result = subprocess.run(
            [
                python,
                "-c",
                CHILD,
                str(models),
                str(texts_file),
                str(args.batch),
                str(args.rounds),
            ],
            check=True,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["export_once_s"] = round(export_s, 1)
    figures["texts"] = args.texts
    figures["batch"] = args.batch
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
