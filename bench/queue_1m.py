"""The moderator queue at 1,000,000 comments: query times, plans, whole pages.

    .venv/bin/python bench/queue_1m.py [--comments 1000000] [--sqlite PATH]
        [--postgres URL] [--repeat 5] [--plans]

Seeds a fresh SQLite file (and, when given, a PostgreSQL database whose schema is
dropped first) through the real migrations with a realistic mix: 5 sites, 2,000
threads, 50,000 handles, 80% published, 6% held (each with classifier scores, a
third with a rule hit), 10% rejected, the rest received or deleted, 0.5% of the
published reported. Then times the queue's own queries (queries.py) for an admin
and for a moderator of two sites, and whole pages through the test client: best
and median of --repeat runs. --plans prints each query's plan. Run by hand; never
part of the suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from moderation import create_app  # noqa: E402
from moderation.extensions import db  # noqa: E402
from moderation.models import (  # noqa: E402
    Comment,
    CommentStatus,
    Moderator,
    Report,
    Role,
    RuleHit,
    Score,
    Site,
    Thread,
)
from moderation.services.review_queues import (  # noqa: E402
    QUEUES,
    Cursor,
    Filters,
    count,
    counts,
    queue_page,
)

PASSWORD = "bench password"
CHUNK = 20_000


class _Quiet:
    """A classifier the bench never calls: nothing is screened here."""

    name = "none"
    version = "none"
    labels = ("toxicity",)
    limitations = ""

    def score(self, texts: Any) -> list[dict[str, float]]:
        return [{"toxicity": 0.0} for _ in texts]


def make_app(url: str, instance: Path) -> Any:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": str(instance),
            "IN_PROCESS_WORKER": False,
            "CLASSIFIER_OBJECT": _Quiet(),
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )


def _statuses(rng: random.Random) -> CommentStatus:
    roll = rng.random()
    if roll < 0.80:
        return CommentStatus.PUBLISHED
    if roll < 0.86:
        return CommentStatus.HELD
    if roll < 0.96:
        return CommentStatus.REJECTED
    if roll < 0.98:
        return CommentStatus.RECEIVED
    return CommentStatus.DELETED


def seed(app: Any, total: int) -> dict[str, Any]:
    """Fill the database; returns ids the timings filter on."""
    rng = random.Random(20261126)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.execute(sa.text("DROP SCHEMA public CASCADE"))
                connection.execute(sa.text("CREATE SCHEMA public"))
        upgrade()
        sites = [Site(slug=f"site{n}", name=f"Site {n}") for n in range(5)]
        db.session.add_all(sites)
        db.session.flush()
        threads = [
            Thread(site=sites[n % 5], key=f"t{n}", title=f"Story {n}")
            for n in range(2000)
        ]
        db.session.add_all(threads)
        admin = Moderator(email="admin@bench", name="Admin", role=Role.ADMIN)
        admin.set_password(PASSWORD)
        scoped = Moderator(email="mod@bench", name="Mod", sites=sites[:2])
        scoped.set_password(PASSWORD)
        db.session.add_all([admin, scoped])
        db.session.commit()
        thread_ids = [t.id for t in threads]
        start = datetime.now(UTC) - timedelta(days=365)
        step = 365 * 86400 / total
        comments = Comment.__table__
        next_id = 1
        held_ids: list[int] = []
        reported_rows: list[dict[str, Any]] = []
        began = time.perf_counter()
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA synchronous=OFF")
            while next_id <= total:
                rows = []
                for number in range(next_id, min(next_id + CHUNK, total + 1)):
                    status = _statuses(rng)
                    when = start + timedelta(seconds=number * step + rng.random())
                    handle = f"reader{int(rng.paretovariate(1.2) * 7) % 50_000}"
                    reported = (
                        status is CommentStatus.PUBLISHED and rng.random() < 0.005
                    )
                    if status is CommentStatus.HELD:
                        held_ids.append(number)
                    rows.append(
                        {
                            "id": number,
                            "thread_id": rng.choice(thread_ids),
                            "handle": handle,
                            "email": f"{handle}@example.com",
                            "network_key": f"net{hash(handle) % 20_000}",
                            "body": "A comment of ordinary length about the story.",
                            "html": "<p>A comment of ordinary length.</p>",
                            "status": status.value,
                            "created_at": when,
                            "updated_at": when,
                            "fingerprint": f"{number:064x}",
                            "report_count": rng.randint(1, 6) if reported else 0,
                            "screen_attempts": 0,
                        }
                    )
                connection.execute(sa.insert(comments), rows)
                reported_rows.extend(row for row in rows if row["report_count"])
                next_id += CHUNK
            # Every report_count step has its Report row, as reports.py stores them.
            reports = [
                {
                    "comment_id": row["id"],
                    "reason": "spam",
                    "text": "",
                    "reporter_key": f"reader-{row['id']}-{n}",
                    "created_at": row["created_at"],
                }
                for row in reported_rows
                for n in range(row["report_count"])
            ]
            scores, hits = [], []
            for number in held_ids:
                for label in ("toxicity", "insult", "threat"):
                    scores.append(
                        {
                            "comment_id": number,
                            "classifier": "bench",
                            "version": "1",
                            "label": label,
                            "value": rng.random(),
                        }
                    )
                if rng.random() < 0.33:
                    hits.append(
                        {
                            "comment_id": number,
                            "rule": rng.choice(["links", "suspect_word", "repeat"]),
                            "action": "hold",
                            "reason": "bench",
                            "spans": [],
                        }
                    )
            for table, rows in (
                (Score.__table__, scores),
                (RuleHit.__table__, hits),
                (Report.__table__, reports),
            ):
                for offset in range(0, len(rows), CHUNK):
                    connection.execute(sa.insert(table), rows[offset : offset + CHUNK])
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    "SELECT setval('comments_id_seq', (SELECT max(id) FROM comments))"
                )
                connection.exec_driver_sql("ANALYZE")
        else:
            with engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        seconds = time.perf_counter() - began
    return {"seed_seconds": seconds, **facts(app)}


def _seeded(app: Any) -> bool:
    """True when the database already holds a seeded queue (for --reuse)."""
    with app.app_context():
        try:
            return bool(db.session.scalar(sa.select(Comment.id).limit(1)))
        except sa.exc.DBAPIError:
            db.session.rollback()
            return False


def facts(app: Any) -> dict[str, Any]:
    """What the timings filter on: a site, a busy thread and handle, two cursors."""
    with app.app_context():
        held = sa.select(Comment).where(Comment.status == CommentStatus.HELD)
        total = db.session.scalar(
            sa.select(sa.func.count()).where(Comment.status == CommentStatus.HELD)
        )
        middle = db.session.scalar(
            held.order_by(Comment.created_at, Comment.id).offset(total // 2).limit(1)
        )
        late = db.session.scalar(
            sa.select(Comment)
            .where(Comment.status == CommentStatus.PUBLISHED)
            .order_by(Comment.id.desc())
            .limit(1)
            .offset(50)
        )
        site = db.session.scalar(sa.select(Site.id).filter_by(slug="site3"))
        return {
            "held": total,
            "site": site,
            "thread": middle.thread_id,
            "handle": middle.handle,
            "held_middle": Cursor.of(middle),
            "published_late": Cursor.of(late),
        }


@contextmanager
def captured(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    """The statements run inside the block, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def listen(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)


def plans(engine: sa.Engine, statements: list[tuple[str, Any]]) -> list[str]:
    """EXPLAIN (QUERY PLAN) of each captured statement."""
    out = []
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        for statement, params in statements:
            rows = connection.exec_driver_sql(prefix + statement, params).all()
            out.append("\n".join(" | ".join(str(c) for c in row) for row in rows))
    return out


def timed(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best and median milliseconds of `repeat` runs after one warm-up."""
    run()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000)
    return min(times), statistics.median(times)


def measure(app: Any, facts: dict[str, Any], repeat: int, show_plans: bool) -> list:
    rows: list[tuple[str, float, float]] = []
    with app.app_context():
        admin = db.session.scalar(sa.select(Moderator).filter_by(email="admin@bench"))
        scoped = db.session.scalar(sa.select(Moderator).filter_by(email="mod@bench"))
        held = Filters()
        cases: list[tuple[str, Callable[[], object]]] = [
            ("held, first page", lambda: queue_page(held, admin)),
            (
                "held, newest first",
                lambda: queue_page(replace(held, newest=True), admin),
            ),
            (
                "held, deep keyset page (middle)",
                lambda: queue_page(replace(held, after=facts["held_middle"]), admin),
            ),
            (
                "held, previous page (middle)",
                lambda: queue_page(replace(held, before=facts["held_middle"]), admin),
            ),
            (
                "approved, deep keyset page (end)",
                lambda: queue_page(
                    Filters(QUEUES["approved"], after=facts["published_late"]), admin
                ),
            ),
            (
                "reported, first page",
                lambda: queue_page(Filters(QUEUES["reported"]), admin),
            ),
            ("all, first page", lambda: queue_page(Filters(QUEUES["all"]), admin)),
            ("held, moderator of 2 sites", lambda: queue_page(held, scoped)),
            (
                "held, site filter",
                lambda: queue_page(replace(held, site=facts["site"]), admin),
            ),
            (
                "held, thread filter",
                lambda: queue_page(replace(held, thread=facts["thread"]), admin),
            ),
            (
                "all, handle filter",
                lambda: queue_page(
                    Filters(QUEUES["all"], handle=facts["handle"]), admin
                ),
            ),
            (
                "held, label insult >= 0.9",
                lambda: queue_page(replace(held, label="insult", min_score=0.9), admin),
            ),
            (
                "held, rule links",
                lambda: queue_page(replace(held, rule="links"), admin),
            ),
            ("count held (exact)", lambda: count(held, admin)),
            (
                "count approved (capped)",
                lambda: count(Filters(QUEUES["approved"]), admin),
            ),
            ("counts, all five tabs", lambda: counts(held, admin)),
            ("counts, five tabs, 2 sites", lambda: counts(held, scoped)),
            ("counts, five tabs, cap 1,000", lambda: counts(held, admin, 1000)),
            (
                "counts, five tabs, 2 sites, cap 1,000",
                lambda: counts(held, scoped, 1000),
            ),
        ]
        for name, run in cases:
            best, median = timed(run, repeat)
            rows.append((name, best, median))
            if show_plans:
                with captured(db.engine) as seen:
                    run()
                print(f"\n### {name}")
                for plan in plans(db.engine, seen):
                    print(plan, "\n")
        # count() with no cap: what an exact count would cost.
        best, median = timed(
            lambda: count(Filters(QUEUES["approved"]), admin, 10**9), 1
        )
        rows.append(("count approved, exact (uncapped)", best, median))
    client = app.test_client()
    response = client.post(
        "/mod/login", data={"email": "admin@bench", "password": PASSWORD}
    )
    assert response.status_code == 302, response.status_code
    after = facts["held_middle"].encode()
    for name, path in (
        ("page /mod/ (held, 25 items + counts)", "/mod/"),
        ("page /mod/?after=... (deep)", f"/mod/?after={after}"),
        ("page /mod/?queue=all", "/mod/?queue=all"),
        ("json /mod/counts", "/mod/counts"),
        (
            "page /mod/comments/ID (item, history, claim)",
            f"/mod/comments/{facts['held_middle'].id}",
        ),
    ):

        def get(path: str = path) -> None:
            assert client.get(path).status_code == 200

        best, median = timed(get, repeat)
        rows.append((name, best, median))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--sqlite", default=None, help="file (default: a temp dir)")
    parser.add_argument("--postgres", default=None, help="a database URL to fill")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--plans", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="time databases already seeded"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="queue1m-"))
    sqlite = Path(args.sqlite) if args.sqlite else work / "queue.db"
    if not args.reuse:
        sqlite.unlink(missing_ok=True)
    targets = [("SQLite", f"sqlite:///{sqlite}")]
    if args.postgres:
        targets.append(("PostgreSQL", args.postgres))
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, {platform.processor()}"
    )
    print(f"command: {' '.join(sys.argv)}")
    for name, url in targets:
        app = make_app(url, work / name)
        if args.reuse and _seeded(app):
            found = {"seed_seconds": 0.0, **facts(app)}
        else:
            found = seed(app, args.comments)
        print(
            f"\n## {name}: {args.comments:,} comments ({found['held']:,} held) "
            f"seeded in {found['seed_seconds']:.0f} s"
        )
        print("| query | best ms | median ms |\n|---|---:|---:|")
        for label, best, median in measure(app, found, args.repeat, args.plans):
            print(f"| {label} | {best:.1f} | {median:.1f} |")


if __name__ == "__main__":
    main()
