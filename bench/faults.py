"""Faults: nothing accepted is lost or stored twice while processes die and locks hold.

    .venv/bin/python bench/faults.py [--comments 1500] [--connections 6]
        [--database URL] [--keep]

Starts the deploy sample's processes on a fresh database:
- gunicorn with deploy/gunicorn.conf.py;
- two `flask moderation worker` processes;
- a third worker whose classifier raises on every other batch;
- a fourth whose classifier hangs past SCREEN_TIMEOUT now and then.

It posts through the JSON API. Each post carries its own Idempotency-Key and is
retried, with the same key, until it gets a definitive answer (2xx or 4xx), as a
careful client does after a timeout, a reset connection or a 503.

Meanwhile it injects faults:
- SIGKILL to a scorer worker mid-batch, every few seconds; the worker is restarted;
- a 12 s write lock (SQLite BEGIN IMMEDIATE, or PostgreSQL LOCK TABLE comments);
- SIGKILL to gunicorn's web processes mid-burst; gunicorn starts new ones.

Afterwards it counts, from the database:
- lost: answered 2xx but not stored;
- duplicated: one post stored twice;
- left unscreened.
It exits non-zero unless all three are 0. Run by hand; never part of the suite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import (
    BIN,
    ROOT,
    environment,
    free_port,
    prepare,
    start_web,
    stop,
    wait_for_port,
    wait_for_workers,
)

PATH = "/api/v1/sites/demo/threads/seed-article/comments"
ATTEMPTS = 20

# A worker whose classifier fails: raises (mode "broken") or sleeps past the
# screen's timeout (mode "hung") on every other batch. The screen must leave
# those comments held with a reason, never lose them.
FAULTY_WORKER = """
import sys, time, threading
from moderation import create_app
from moderation.services.worker import run

mode = sys.argv[1]
calls = {"n": 0}

class Faulty:
    name, version, labels = "faulty", "1", ("toxicity",)
    reason = "a classifier that fails on purpose (bench/faults.py)"
    def score(self, texts):
        calls["n"] += 1
        if calls["n"] % 2:
            if mode == "broken":
                raise RuntimeError("broken on purpose")
            time.sleep(30)
        return [{"toxicity": 0.1} for _ in texts]

app = create_app({"CLASSIFIER_OBJECT": Faulty(), "IN_PROCESS_WORKER": False,
                  "SCREEN_TIMEOUT": 2.0})
run(app, batch_size=16, max_wait=0.05, lease=10.0, poll=0.1,
    stop=threading.Event(), wake=threading.Event())
"""


def post_until_answered(port: int, number: int, answers: Counter[str]) -> int:
    """One logical post, retried with its key until a 2xx or 4xx; its last status."""
    body = json.dumps(
        {"handle": f"reader{number % 200}", "body": f"Fault post {number}: noted."}
    )
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": f"fault-{number}",
    }
    for attempt in range(ATTEMPTS):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        try:
            connection.request("POST", PATH, body, headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
        finally:
            connection.close()
        answers[str(status)] += 1
        if 200 <= status < 500 and status != 429:
            return status
        time.sleep(min(5.0, 0.2 * 2**attempt) * random.uniform(0.5, 1.0))
    return 0


def start_worker(env: dict[str, str], logs: Path, name: str, faulty: str = ""):
    command = (
        [sys.executable, "-c", FAULTY_WORKER, faulty]
        if faulty
        else [str(BIN / "flask"), "--app", "moderation", "moderation", "worker"]
    )
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=(logs / f"{name}.log").open("ab"),
        stderr=subprocess.STDOUT,
    )


def gunicorn_children(master: int) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-P", str(master)], capture_output=True, text=True
    ).stdout.split()
    return [int(pid) for pid in found]


def hold_write_lock(database: str, seconds: float) -> None:
    """Hold the database's write lock, as a long migration or backup might."""
    if database.startswith("sqlite"):
        holder = sqlite3.connect(database.removeprefix("sqlite:///"), timeout=30)
        holder.isolation_level = None
        holder.execute("BEGIN IMMEDIATE")
        time.sleep(seconds)
        holder.execute("ROLLBACK")
        holder.close()
        return
    engine = sa.create_engine(database)
    with engine.begin() as connection:
        connection.execute(sa.text("LOCK TABLE comments IN EXCLUSIVE MODE"))
        time.sleep(seconds)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=1500)
    parser.add_argument("--connections", type=int, default=6)
    parser.add_argument("--database", default=None, help="PostgreSQL URL")
    parser.add_argument("--keep", action="store_true", help="Keep logs.")
    args = parser.parse_args()
    random.seed(0)

    scratch = Path(tempfile.mkdtemp(prefix="moderation-faults-"))
    database = args.database or f"sqlite:///{scratch / 'faults.db'}"
    port = free_port()
    env = environment(scratch, database, port, web_processes=2)
    env["MODERATION_WORKER_LEASE"] = "10"  # a killed worker's batch comes back soon
    prepare(env, database)
    logs = scratch / "logs"
    logs.mkdir()
    web = start_web(env, logs)
    workers = {
        "worker0": start_worker(env, logs, "worker0"),
        "worker1": start_worker(env, logs, "worker1"),
        "broken": start_worker(env, logs, "broken", faulty="broken"),
        "hung": start_worker(env, logs, "hung", faulty="hung"),
    }
    engine = sa.create_engine(database)
    injected: Counter[str] = Counter()
    answers: Counter[str] = Counter()
    finals: Counter[int] = Counter()
    lock = threading.Lock()
    stop_chaos = threading.Event()

    def chaos() -> None:
        tick = 0
        while not stop_chaos.wait(3.0):
            tick += 1
            victim = f"worker{tick % 2}"
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            workers[victim] = start_worker(env, logs, victim)
            injected["worker SIGKILL"] += 1
            if tick % 4 == 0:
                for pid in gunicorn_children(web.pid):
                    os.kill(pid, signal.SIGKILL)
                    injected["web process SIGKILL"] += 1
            if tick == 3:
                hold_write_lock(database, 12.0)
                injected["12 s write lock"] += 1

    try:
        wait_for_port(port, logs)
        warm = wait_for_workers(port, engine)
        with engine.connect() as connection:
            before = connection.execute(
                sa.text("SELECT count(*) FROM comments")
            ).scalar()

        numbers = iter(range(args.comments))

        def client() -> None:
            while True:
                with lock:
                    number = next(numbers, None)
                if number is None:
                    return
                status = post_until_answered(port, number, answers)
                with lock:
                    finals[status] += 1

        chaos_thread = threading.Thread(target=chaos, daemon=True)
        chaos_thread.start()
        started = time.perf_counter()
        clients = [threading.Thread(target=client) for _ in range(args.connections)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        posting = time.perf_counter() - started
        stop_chaos.set()
        chaos_thread.join()

        drain_deadline = time.monotonic() + 600
        while True:
            with engine.connect() as connection:
                left = connection.execute(
                    sa.text("SELECT count(*) FROM comments WHERE status = 'received'")
                ).scalar()
            if not left or time.monotonic() > drain_deadline:
                break
            time.sleep(0.5)
        with engine.connect() as connection:
            stored_keys = Counter(
                key
                for (key,) in connection.execute(
                    sa.text(
                        "SELECT idempotency_key FROM comments "
                        "WHERE idempotency_key LIKE 'fault-%'"
                    )
                )
            )
            rows = dict(
                connection.execute(
                    sa.text("SELECT status, count(*) FROM comments GROUP BY status")
                ).all()
            )
            stored = connection.execute(
                sa.text("SELECT count(*) FROM comments")
            ).scalar()
            failed_screens = connection.execute(
                sa.text(
                    "SELECT count(DISTINCT comment_id) FROM decisions "
                    "WHERE reason LIKE '%screening failed%'"
                )
            ).scalar()
    finally:
        stop_chaos.set()
        stop([*workers.values(), web])
        engine.dispose()

    accepted = sum(n for status, n in finals.items() if 200 <= status < 300)
    duplicated = sum(n - 1 for n in stored_keys.values() if n > 1)
    lost = accepted - len(stored_keys)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    )
    print(f"database: {database.split(':')[0]}; workers ready in {warm:.1f} s")
    print(
        f"{args.comments:,} posts over {args.connections} clients in {posting:.1f} s; "
        f"faults injected: {dict(injected)}"
    )
    print(f"every attempt's answer: {dict(sorted(answers.items()))}")
    print(f"final answers: {dict(sorted(finals.items()))}")
    print(
        f"stored {stored - before:,} new comments: {rows}; "
        f"{failed_screens} held by a failed screen"
    )
    checks = {
        f"lost {lost}": lost == 0,
        f"duplicated {duplicated}": duplicated == 0,
        f"left unscreened {rows.get('received', 0)}": rows.get("received", 0) == 0,
        f"unanswered {finals.get(0, 0)}": finals.get(0, 0) == 0,
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
