"""A burst of "respect" presses on a thread that readers are reading, in process.

Each press bumps the thread's revision, so the next read of the page is a cache
miss. This measures what that costs: a miss against a hit, and how many renders
a burst causes with the per-process lookup memo (READ_LOOKUP_TTL) at 0 and 1 s.

    .venv/bin/python bench/respect_burst.py --comments 200 --seconds 3
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask_migrate import upgrade

from moderation import create_app
from moderation.extensions import db
from moderation.models import Comment, CommentStatus, Site, Thread

SITE, KEY = "bench", "respect-burst"
ORIGIN = "https://news.example"


def _seed(comments: int) -> list[int]:
    site = Site(slug=SITE, name="Bench", allowed_origins=[ORIGIN])
    thread = Thread(site=site, key=KEY, title="Burst", url=f"{ORIGIN}/a")
    db.session.add_all([site, thread])
    db.session.flush()
    start = datetime(2024, 3, 1, tzinfo=UTC)
    rows = [
        Comment(
            thread_id=thread.id,
            handle=f"reader{n}",
            body=f"Comment number {n}, with a few words to render.",
            html=f"<p>Comment number {n}, with a few words to render.</p>",
            fingerprint=f"{n:064x}",
            status=CommentStatus.PUBLISHED,
            created_at=start + timedelta(minutes=n),
        )
        for n in range(comments)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def run(comments: int, seconds: float, lookup_ttl: float, reads_per_press: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="respect-burst-"))
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'b.db'}",
            "INSTANCE_PATH": str(directory / "instance"),
            "RATELIMIT_ENABLED": False,
            "READ_LOOKUP_TTL": lookup_ttl,
            "CLASSIFIER": "profanity-check",
            "CLASSIFIER_PRELOAD": False,
            "IN_PROCESS_WORKER": False,
        }
    )
    with app.app_context():
        upgrade()
        ids = _seed(comments)
    client = app.test_client()
    page = f"/embed/{SITE}/{KEY}?origin={ORIGIN}"
    client.get(page)
    token = client.get(page).text.split('name="token" value="')[1].split('"')[0]

    def timed(n: int) -> float:
        began = time.perf_counter()
        for _ in range(n):
            client.get(page)
        return (time.perf_counter() - began) / n * 1000

    hit = timed(50)
    misses = presses = reads = 0
    miss_ms = 0.0
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        client.environ_base["REMOTE_ADDR"] = f"10.0.{presses // 250}.{presses % 250}"
        client.post(
            f"/embed/{SITE}/{KEY}/comments/{ids[presses % len(ids)]}/respect",
            data={"token": token},
            headers={"Accept": "application/json"},
        )
        presses += 1
        for _ in range(reads_per_press):
            t = time.perf_counter()
            response = client.get(page)
            reads += 1
            if response.headers.get("X-Read-Cache") == "miss":
                misses += 1
                miss_ms += (time.perf_counter() - t) * 1000
    print(
        f"READ_LOOKUP_TTL={lookup_ttl:g}: {comments} comments, hit {hit:.1f} ms, "
        f"miss {miss_ms / max(misses, 1):.1f} ms; {presses} presses "
        f"({presses / seconds:.0f}/s), {reads} reads, {misses} renders"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--comments", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--reads-per-press", type=int, default=5)
    args = parser.parse_args()
    for ttl in (0.0, 1.0):
        run(args.comments, args.seconds, ttl, args.reads_per_press)


if __name__ == "__main__":
    main()
