"""Read path: a 5,000-comment thread rendered uncached, and the cached hot path.

    .venv/bin/python bench/long_thread.py [--comments 5000] [--rounds 20]
        [--database URL] [--hot-seconds 5]

Builds a fresh database (a temporary SQLite file, or the PostgreSQL URL given,
whose schema is dropped and migrated again), loads the demo, and adds:
- thread `long`: --comments published comments, 40% top-level, the rest replies
  (a third of them replies to replies);
- thread `mid`: 200 published comments (80 top-level), the hot path's subject.

Then, through Flask's test client (no network, one process):
1. uncached: the iframe page (first page, a later page, the "Load more" fragment)
   and the JSON's first page of `long`, with the read cache off (NullCache);
2. hot path: requests per second for the cached page of `mid`, for a 304 to it,
   and for a trivial endpoint on the same app (its after_request hooks included).
Run by hand; never part of the suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moderation import create_app  # noqa: E402
from moderation.demo.loader import load_demo  # noqa: E402
from moderation.extensions import db  # noqa: E402
from moderation.models import Comment, CommentStatus, Site, Thread  # noqa: E402
from moderation.services.comments import fingerprint  # noqa: E402

BASE = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def build_app(database: str, instance: Path, **extra: object) -> Flask:
    """The app as served, with the classifier and worker out of the way."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "bench",
            "CLASSIFIER": "profanity-check",
            "CLASSIFIER_PRELOAD": False,
            "IN_PROCESS_WORKER": False,
            "RATELIMIT_ENABLED": False,
            "PUBLIC_URL": "http://localhost",
            **extra,
        }
    )


def add_thread(key: str, comments: int, top_share: float) -> None:
    """A published thread of `comments`, bulk-inserted (sa.insert)."""
    site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
    thread = Thread(site=site, key=key, title=key)
    db.session.add(thread)
    db.session.flush()
    first = 1_000_000 + thread.id * 100_000
    roots = max(1, int(comments * top_share))
    rows = []
    for n in range(comments):
        if n < roots:
            parent = None
        elif (n - roots) % 3 == 2:
            parent = first + n - 1  # a reply to the previous reply
        else:
            parent = first + (n * 7919) % roots  # a reply to some top-level one
        moment = BASE + timedelta(seconds=n)
        body = f"Comment {n}: " + "a sentence of ordinary length. " * 4
        rows.append(
            {
                "id": first + n,
                "thread_id": thread.id,
                "parent_id": parent,
                "handle": f"reader{n % 500}",
                "body": body,
                "html": f"<p>{body}</p>",
                "status": CommentStatus.PUBLISHED,
                "created_at": moment,
                "updated_at": moment,
                "fingerprint": fingerprint(body),
            }
        )
    for start in range(0, len(rows), 1000):
        db.session.execute(sa.insert(Comment), rows[start : start + 1000])
    db.session.commit()


def timed(client, url: str, rounds: int, headers=None) -> list[float]:
    """Milliseconds per GET, after one warm-up request."""
    assert client.get(url, headers=headers).status_code in (200, 304), url
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 304), (url, response.status_code)
    return times


def per_second(client, url: str, seconds: float, headers=None) -> float:
    """Sequential requests per second for `seconds`."""
    client.get(url, headers=headers)
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        client.get(url, headers=headers)
        count += 1
    return count / (time.perf_counter() - start)


def summary(times: list[float]) -> str:
    return (
        f"median {statistics.median(times):7.1f} ms   "
        f"min {min(times):7.1f} ms   max {max(times):7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--hot-seconds", type=float, default=5.0)
    parser.add_argument("--database", default="")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="long-thread-"))
    database = args.database or f"sqlite:///{workdir / 'bench.db'}"
    if database.startswith("postgresql"):
        engine = sa.create_engine(database)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    setup = build_app(database, workdir / "instance")
    with setup.app_context():
        upgrade()
        load_demo("http://localhost", workdir / "instance")
        add_thread("long", args.comments, 0.4)
        add_thread("mid", 200, 0.4)
        db.engine.dispose()

    print(
        f"{platform.node()}  {platform.processor() or platform.machine()}  "
        f"{os.cpu_count()} CPUs  Python {platform.python_version()}"
    )
    print(
        f"database: {database.split('://')[0]}; thread `long`: {args.comments} "
        f"comments; page size 50 top-level comments"
    )

    uncached = build_app(database, workdir / "instance", CACHE_TYPE="NullCache")
    client = uncached.test_client()
    first = client.get("/embed/demo/long")
    after = first.text.split('rel="next"', 1)[1].split("after=", 1)[1].split("&")[0]
    after = after.split('"')[0]
    print(
        f"\n1. uncached, {args.rounds} rounds each (first page is "
        f"{len(first.data) / 1024:.0f} KiB of HTML)"
    )
    for label, url in [
        ("iframe page 1", "/embed/demo/long"),
        ("iframe page 2", f"/embed/demo/long?after={after}"),
        ("fragment page 2", f"/embed/demo/long?after={after}&fragment=1"),
        ("iframe, most replies", "/embed/demo/long?sort=replies"),
        ("JSON page 1", "/api/v1/sites/demo/threads/long/comments"),
    ]:
        print(f"  {label:<22} {summary(timed(client, url, args.rounds))}")

    cached = build_app(database, workdir / "instance")
    cached.add_url_rule("/bench-trivial", "bench_trivial", lambda: "ok")
    client = cached.test_client()
    page = client.get("/embed/demo/mid")
    etag = page.headers["ETag"]
    print(
        f"\n2. hot path, sequential, {args.hot_seconds:g} s each "
        f"(`mid`: 200 comments, {len(page.data) / 1024:.0f} KiB)"
    )
    for label, url, headers in [
        ("trivial endpoint", "/bench-trivial", None),
        ("cached page (200)", "/embed/demo/mid", None),
        ("cached page (304)", "/embed/demo/mid", {"If-None-Match": etag}),
        ("uncached page", None, None),
    ]:
        if url is None:
            times = timed(uncached.test_client(), "/embed/demo/mid", args.rounds)
            print(f"  {label:<22} {1000 / statistics.median(times):8.0f} req/s")
            continue
        rate = per_second(client, url, args.hot_seconds, headers)
        print(f"  {label:<22} {rate:8.0f} req/s")


if __name__ == "__main__":
    main()
