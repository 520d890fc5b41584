"""A real worker process for the multi-process tests: `python worker_process.py ...`.

It runs the service's own worker loop (`moderation.services.worker.run`) against
the test's database, with a FixedClassifier so that tests control the scores.
`--stall FILE` makes the classifier touch FILE once it holds a batch and then hang,
so that a test can kill the process mid-batch.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from moderation import create_app
from moderation.services.worker import run

from fakes import FixedClassifier


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--instance", required=True)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lease", type=float, default=30.0)
    parser.add_argument("--drain", action="store_true")
    parser.add_argument("--stall", type=Path, default=None)
    parser.add_argument("--name", default=None)
    parser.add_argument(
        "--barrier",
        type=Path,
        default=None,
        help="say ready in this folder, then start only once its 'go' file exists",
    )
    args = parser.parse_args()

    classifier = FixedClassifier()
    if args.stall is not None:
        marker: Path = args.stall

        def hang(texts: object) -> None:
            marker.write_text("holding a batch\n")
            time.sleep(600)

        classifier.hook = hang
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.database,
            "INSTANCE_PATH": args.instance,
            "SECRET_KEY": "worker test",
            "CLASSIFIER_OBJECT": classifier,
            "IN_PROCESS_WORKER": False,
            "SCREEN_TIMEOUT": 300.0,
        }
    )
    if args.barrier is not None:
        # Several processes start together, so that they really compete for claims.
        (args.barrier / f"ready-{args.name}").touch()
        while not (args.barrier / "go").exists():
            time.sleep(0.05)
    stats = run(
        app,
        batch_size=args.batch_size,
        max_wait=0.0,
        lease=args.lease,
        poll=0.1,
        drain=args.drain,
        name=args.name,
    )
    print(stats.summary(), flush=True)


if __name__ == "__main__":
    main()
