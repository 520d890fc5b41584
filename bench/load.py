"""Load: 5,000 comments over 8 connections to gunicorn, with scorer workers running.

    .venv/bin/python bench/load.py [--comments 5000] [--connections 8]
        [--workers 1] [--web-processes 2] [--database URL]

Starts the deploy sample's processes (gunicorn with deploy/gunicorn.conf.py, and
`flask moderation worker` processes) on a fresh database (a SQLite file by default,
or the PostgreSQL URL given, whose tables are emptied first), posts through the JSON
API from 8 keep-alive connections, then waits for the workers to drain. Reports
requests per second, latency percentiles, and checks that the comments stored equal
the 2xx answers, with none left unscored. Rate limits are off: every request comes
from 127.0.0.1. Run by hand; never part of the suite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(env: dict[str, str], database: str) -> None:
    """Empty tables (PostgreSQL) or a fresh file (SQLite); migrate; load the demo."""
    if database.startswith("postgresql"):
        engine = sa.create_engine(database)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    for args in (["db", "upgrade"], ["load-demo"]):
        subprocess.run(
            [str(BIN / "flask"), "--app", "moderation", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    # The surge guard would pre-moderate the one thread after 200 comments in 10
    # minutes (as it should under a real flood); this measures the screening path.
    engine = sa.create_engine(database)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE sites SET surge_max_comments = 1000000"))
    engine.dispose()


def environment(
    scratch: Path, database: str, port: int, web_processes: int
) -> dict[str, str]:
    """The service's environment for a bench: a scratch instance, workers apart
    (no in-process one), rate limits off, access log off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env.update(
        MODERATION_DATABASE_URL=database,
        MODERATION_INSTANCE_PATH=str(scratch / "instance"),
        MODERATION_PUBLIC_URL=f"http://127.0.0.1:{port}",
        MODERATION_SECRET_KEY="bench",
        MODERATION_IN_PROCESS_WORKER="false",
        MODERATION_RATELIMIT_ENABLED="false",
        MODERATION_VERDICT_WAIT="0.5",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(web_processes),
        GUNICORN_ACCESS_LOG="/dev/null",
        HF_HUB_OFFLINE="1",
    )
    return env


def start_web(env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    """gunicorn with the deploy sample's configuration."""
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "--config", "deploy/gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=(logs / "web.log").open("wb"),
        stderr=subprocess.STDOUT,
    )


def wait_for_port(port: int, logs: Path, timeout: float = 60.0) -> None:
    """Until gunicorn listens; its log as the error when it never does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit((logs / "web.log").read_text()) from None
            time.sleep(0.2)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM them all, then wait; kill what will not stop."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for_workers(port: int, engine: sa.Engine, timeout: float = 180.0) -> float:
    """Post one comment and wait for its verdict: the workers' classifiers are
    loaded (the first start may export the encoder) before the clock starts."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = json.dumps({"handle": "warmup", "body": "A first comment, to warm up."})
    path = "/api/v1/sites/demo/threads/seed-article/comments"
    connection.request("POST", path, body, {"Content-Type": "application/json"})
    connection.getresponse().read()
    connection.close()
    while time.monotonic() - started < timeout:
        with engine.connect() as db:
            left = db.execute(
                sa.text("SELECT count(*) FROM comments WHERE status = 'received'")
            ).scalar()
        if not left:
            return time.monotonic() - started
        time.sleep(0.2)
    raise SystemExit("the workers screened nothing in time")


def poster(
    port: int,
    numbers: range,
    latencies: list[float],
    codes: Counter[int],
    lock: threading.Lock,
) -> None:
    """Post one comment per number over one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    path = "/api/v1/sites/demo/threads/seed-article/comments"
    mine: list[float] = []
    counted: Counter[int] = Counter()
    for n in numbers:
        body = json.dumps(
            {"handle": f"reader{n % 500}", "body": f"Load comment {n}: a fair point."}
        )
        started = time.perf_counter()
        try:
            connection.request("POST", path, body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            status = 0
        mine.append(time.perf_counter() - started)
        counted[status] += 1
    with lock:
        latencies.extend(mine)
        codes.update(counted)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="scorer processes")
    parser.add_argument("--web-processes", type=int, default=2)
    parser.add_argument("--database", default=None, help="PostgreSQL URL")
    parser.add_argument(
        "--keep", action="store_true", help="Keep the scratch directory (logs)."
    )
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="moderation-load-"))
    database = args.database or f"sqlite:///{scratch / 'load.db'}"
    port = free_port()
    env = environment(scratch, database, port, args.web_processes)
    prepare(env, database)
    logs = scratch / "logs"
    logs.mkdir()
    web = start_web(env, logs)
    workers = [
        subprocess.Popen(
            [str(BIN / "flask"), "--app", "moderation", "moderation", "worker"],
            cwd=ROOT,
            env=env,
            stdout=(logs / f"worker{n}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for n in range(args.workers)
    ]
    engine = sa.create_engine(database)
    try:
        wait_for_port(port, logs)
        warm = wait_for_workers(port, engine)
        with engine.connect() as connection:
            before = connection.execute(
                sa.text("SELECT count(*) FROM comments")
            ).scalar()

        latencies: list[float] = []
        codes: Counter[int] = Counter()
        lock = threading.Lock()
        share = -(-args.comments // args.connections)
        threads = [
            threading.Thread(
                target=poster,
                args=(
                    port,
                    range(i * share, min(args.comments, (i + 1) * share)),
                    latencies,
                    codes,
                    lock,
                ),
            )
            for i in range(args.connections)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        posting = time.perf_counter() - started

        drain_deadline = time.monotonic() + 900
        while True:
            with engine.connect() as connection:
                left = connection.execute(
                    sa.text("SELECT count(*) FROM comments WHERE status = 'received'")
                ).scalar()
            if not left or time.monotonic() > drain_deadline:
                break
            time.sleep(0.5)
        drained = time.perf_counter() - started
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT status, count(*) FROM comments GROUP BY status")
            ).all()
            stored = connection.execute(
                sa.text("SELECT count(*) FROM comments")
            ).scalar()
            reasons = connection.execute(
                sa.text(
                    "SELECT reason, count(*) FROM decisions WHERE actor = 'screen' "
                    "GROUP BY reason ORDER BY count(*) DESC LIMIT 5"
                )
            ).all()
            double = connection.execute(
                sa.text(
                    "SELECT count(*) FROM (SELECT comment_id FROM decisions "
                    "WHERE actor = 'screen' GROUP BY comment_id HAVING count(*) > 1) d"
                )
            ).scalar()
    finally:
        stop([*workers, web])
        engine.dispose()

    ok = sum(n for code, n in codes.items() if 200 <= code < 300)
    new = stored - before
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    )
    print(
        f"database: {database.split(':')[0]}; {args.web_processes} web processes x "
        f"{os.environ.get('GUNICORN_THREADS', '8')} threads; {args.workers} workers"
    )
    print(f"workers ready (first verdict) {warm:.1f} s after the web started")
    print(
        f"posted {args.comments:,} over {args.connections} connections in "
        f"{posting:.1f} s: {args.comments / posting:.0f} requests/s"
    )
    p50, p90, p99 = (1000 * percentile(latencies, f) for f in (0.5, 0.9, 0.99))
    slowest, mean = 1000 * max(latencies), 1000 * statistics.fmean(latencies)
    print(
        f"latency ms: p50 {p50:.0f}, p90 {p90:.0f}, p99 {p99:.0f}, "
        f"max {slowest:.0f}, mean {mean:.0f}"
    )
    print(f"answers: {dict(sorted(codes.items()))}")
    print(f"statuses: {dict(rows)}; all screened {drained:.1f} s after the first post")
    print("the screen's commonest reasons:")
    for reason, count in reasons:
        print(f"  {count:>6,}  {reason[:110]}")
    checks = {
        "stored == 2xx answers": new == ok,
        "none left unscored": dict(rows).get("received", 0) == 0,
        "no comment with two verdicts": double == 0,
    }
    for name, passed in checks.items():
        print(f"{'ok  ' if passed else 'FAIL'} {name}")
    if args.keep:
        print(f"kept: {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
