"""Write the held-out sets (never trained on) as CSVs for `flask ... evaluate`.

    .venv/bin/python bench/held_out_csvs.py OUT_DIR [--data ../shared/data/train]

One CSV per set with columns text, label (the toxicity label), group and every
other label the set gives; `docs/screening.md` runs `evaluate` on each.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from moderation.screening.base import LABELS
from moderation.screening.training_data import held_out_sets

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument(
        "--data", type=Path, default=ROOT.parent / "shared" / "data" / "train"
    )
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, examples in held_out_sets(args.data).items():
        path = args.out_dir / f"{name}.csv"
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "label", "group", *LABELS])
            for e in examples:
                labels = ["" if e.labels[k] is None else e.labels[k] for k in LABELS]
                writer.writerow([e.text, e.labels["toxicity"], e.group, *labels])
        print(f"{path}: {len(examples):,} rows")


if __name__ == "__main__":
    main()
