"""The shift dashboard and calibration pages at volume: whole-page times.

    .venv/bin/python bench/dashboard.py [--comments 100000] [--days 1]
        [--database sqlite:////tmp/dashboard.db | postgresql+psycopg://...]
        [--repeat 5]

Seeds a fresh database (a PostgreSQL one has its schema dropped first: use one of
your own) through the real migrations: 3 sites, 30 threads, the comments spread
over the last --days, toxicity drawn from a skewed beta distribution, those at or
above the 0.7 threshold held by the screen and 90% of them then decided by a
moderator after an exponential wait (mean 25 min). Then times the dashboard (all
sites, one site, 7 days) and the calibration page and CSV through Flask's test
client, logged in as an admin: median and best of --repeat. Run by hand; never part
of the suite.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from moderation import create_app  # noqa: E402
from moderation.extensions import db  # noqa: E402
from moderation.models import (  # noqa: E402
    Comment,
    CommentStatus,
    Decision,
    Moderator,
    Role,
    Score,
    Site,
    Thread,
    utcnow,
)

PAGES = [
    "/mod/dashboard",
    "/mod/dashboard?site=s1",
    "/mod/dashboard?range=7d",
    "/mod/calibration?site=s1",
    "/mod/calibration.csv?site=s1",
]
THRESHOLD = 0.7
PASSWORD = "bench password, not a secret"


def seed(comments: int, days: float, rng: random.Random) -> None:
    """Sites, threads, an admin, and `comments` screened and decided comments."""
    sites = [
        Site(
            slug=f"s{n}",
            name=f"Site {n}",
            hold_thresholds={"toxicity": THRESHOLD, "insult": 0.6},
        )
        for n in range(3)
    ]
    threads = [Thread(site=sites[n % 3], key=f"t{n}") for n in range(30)]
    admin = Moderator(email="admin@example.com", name="Admin", role=Role.ADMIN)
    admin.set_password(PASSWORD)
    db.session.add_all([*threads, admin])
    db.session.commit()
    thread_ids = [t.id for t in threads]
    now = utcnow()
    for start in range(0, comments, 5000):
        rows, scores, decisions = [], [], []
        for number in range(start + 1, min(start + 5000, comments) + 1):
            at = now - timedelta(seconds=rng.uniform(0, days * 86400))
            toxicity = rng.betavariate(0.6, 3)
            screened = (
                CommentStatus.HELD if toxicity >= THRESHOLD else CommentStatus.PUBLISHED
            )
            row = {
                "id": number,
                "thread_id": rng.choice(thread_ids),
                "handle": f"reader{rng.randrange(5000)}",
                "body": "b",
                "html": "<p>b</p>",
                "status": screened,
                "created_at": at,
                "updated_at": at,
                "screened_at": at,
                "fingerprint": "f",
            }
            rows.append(row)
            for label, value in (
                ("toxicity", toxicity),
                ("insult", toxicity * rng.random()),
            ):
                scores.append(
                    {
                        "comment_id": number,
                        "classifier": "bench",
                        "version": "1",
                        "label": label,
                        "value": value,
                    }
                )
            decisions.append(
                {
                    "comment_id": number,
                    "actor": "screen",
                    "from_status": CommentStatus.RECEIVED,
                    "to_status": screened,
                    "created_at": at,
                    "reason": "",
                }
            )
            if screened is CommentStatus.HELD and rng.random() < 0.9:
                decided = at + timedelta(minutes=rng.expovariate(1 / 25))
                if decided < now:
                    final = (
                        CommentStatus.REJECTED
                        if rng.random() < toxicity
                        else CommentStatus.PUBLISHED
                    )
                    row["status"] = final
                    decisions.append(
                        {
                            "comment_id": number,
                            "moderator_id": admin.id,
                            "actor": admin.email,
                            "from_status": CommentStatus.HELD,
                            "to_status": final,
                            "created_at": decided,
                            "reason": "",
                        }
                    )
        db.session.execute(sa.insert(Comment), rows)
        db.session.execute(sa.insert(Score), scores)
        db.session.execute(sa.insert(Decision), decisions)
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--database", default="sqlite:////tmp/dashboard-bench.db")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    if args.database.startswith("sqlite:///"):
        Path(args.database.removeprefix("sqlite:///")).unlink(missing_ok=True)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.database,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": "/tmp/dashboard-bench-instance",
            "IN_PROCESS_WORKER": False,
            "CLASSIFIER_PRELOAD": False,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(sa.text("DROP SCHEMA public CASCADE"))
                connection.execute(sa.text("CREATE SCHEMA public"))
        upgrade()
        started = time.perf_counter()
        seed(args.comments, args.days, random.Random(1))
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as connection:
                connection.execute(sa.text("VACUUM ANALYZE"))
        print(
            f"seeded {args.comments:,} comments over {args.days:g} days "
            f"in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    client = app.test_client()
    login = client.post(
        "/mod/login", data={"email": "admin@example.com", "password": PASSWORD}
    )
    assert login.status_code == 302, login.status_code
    print(f"{platform.node()} {platform.machine()}, {args.database.split(':')[0]}")
    print("| page | median | best |\n|---|---:|---:|")
    for path in PAGES:
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code)
        print(
            f"| `{path}` | {statistics.median(times) * 1000:.0f} ms "
            f"| {min(times) * 1000:.0f} ms |"
        )


if __name__ == "__main__":
    main()
