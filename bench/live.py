"""Live threads: N readers with one thread open, told of new comments.

    .venv/bin/python bench/live.py [--clients 200,1000,3000] [--web-processes 2]
        [--threads 8] [--max-waiters 4] [--wait 25] [--poll 20] [--publishes 2]

For each N: gunicorn as deployed (deploy/gunicorn.conf.py, gthread), on a fresh
SQLite with the demo loaded, started like bench/load.py does. N clients (one
asyncio loop, a connection per question, as a browser's keep-alive has lapsed by
the next one) ask `/embed/demo/seed-article/live` what live.js asks, with the
since/seen of the cached page, and come back when the answer says. Reported:
- streams held: questions the server keeps waiting at once (sampled every 0.25 s,
  in flight over 1 s), against the cap (processes x LIVE_MAX_WAITERS); the rest
  of the N poll;
- memory: RSS of gunicorn's processes with no client, then with N, per client;
- publish to told: a published comment (inserted and the revision bumped, as
  a moderator's approval does), then the time until each client's answer says
  "N new" (p50, p90, max, and how many within 3 s);
- page reads: the cached thread page from 4 keep-alive connections, before the
  clients and while they ask, requests/s and latency percentiles.
Rate limits off. Run by hand; never part of the suite.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import environment, free_port, prepare, start_web, stop, wait_for_port

PAGE = "/embed/demo/seed-article"
LIVE = re.compile(r'data-since="(\d+)" data-seen="(\d+)"')


def rss_kib(master: int) -> int:
    """Resident memory of gunicorn's master and workers, in KiB."""
    pids = [master]
    children = Path(f"/proc/{master}/task/{master}/children")
    if children.exists():
        pids += [int(pid) for pid in children.read_text().split()]
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def page_reads(
    port: int, connections: int = 4, each: int = 150, budget: float = 60.0
) -> dict[str, float]:
    """The cached page from `connections` keep-alive connections at once (for at
    most `budget` seconds: a server whose threads all wait answers nothing)."""
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + budget

    def read() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=budget)
        mine: list[float] = []
        for _ in range(each):
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            try:
                connection.request("GET", PAGE)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                failures.append(0)
                break
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                failures.append(response.status)
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=read) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if not latencies:
        return {"requests_per_s": 0.0, "p50_ms": 0.0, "p99_ms": 0.0, "failures": 4}
    return {
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * percentile(latencies, 0.5),
        "p90_ms": 1000 * percentile(latencies, 0.9),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "max_ms": 1000 * max(latencies),
        "failures": len(failures),
    }


@dataclass
class Clients:
    """N readers' questions and what they were told."""

    port: int
    since: int
    seen: int
    in_flight: dict[int, float] = field(default_factory=dict)
    told: dict[int, dict[int, float]] = field(default_factory=dict)  # new -> times
    # Clients told by an answer to a question that had been waiting.
    told_waiting: dict[int, set[int]] = field(default_factory=dict)
    answers: int = 0
    waited: int = 0
    errors: int = 0
    held_samples: list[int] = field(default_factory=list)
    stop: bool = False

    async def ask(self, client: int, since: int) -> dict[str, Any] | None:
        path = f"{PAGE}/live?since={since}&seen={self.seen}"
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Accept: application/json\r\nConnection: close\r\n\r\n"
        )
        self.in_flight[client] = time.monotonic()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.port), 30
            )
            writer.write(request.encode())
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), 90)
            writer.close()
        except (OSError, TimeoutError):
            self.errors += 1
            return None
        finally:
            self.in_flight.pop(client, None)
        head, _, body = data.partition(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            self.errors += 1
            return None
        return json.loads(body)

    async def reader(self, client: int, ramp: float) -> None:
        await asyncio.sleep(random.random() * ramp)  # readers arrive over time
        since = self.since
        backoff = 0.0
        while not self.stop:
            answer = await self.ask(client, since)
            if answer is None:
                backoff = min(backoff * 2 or 2.0, 60.0)
                await asyncio.sleep(backoff)
                continue
            backoff = 0.0
            self.answers += 1
            self.waited += bool(answer["waited"])
            since = max(since, int(answer["revision"]))
            new = int(answer["new"])
            if new and client not in self.told.setdefault(new, {}):
                self.told[new][client] = time.monotonic()
                if answer["waited"]:
                    self.told_waiting.setdefault(new, set()).add(client)
            retry = float(answer["retry"])
            # As live.js: at least 1 s apart, a quarter of randomness on top.
            await asyncio.sleep(max(1.0, retry) * (1 + random.random() * 0.25))

    async def sample(self) -> None:
        while not self.stop:
            now = time.monotonic()
            self.held_samples.append(
                sum(1 for t in list(self.in_flight.values()) if now - t > 1.0)
            )
            await asyncio.sleep(0.25)


def publish(engine: sa.Engine, n: int) -> float:
    """A published comment and the revision bump, in one transaction."""
    now = datetime.now(UTC).replace(tzinfo=None)
    body = f"Live bench comment {n}."
    with engine.begin() as connection:
        thread_id = connection.execute(
            sa.text("SELECT id FROM threads WHERE key = 'seed-article'")
        ).scalar_one()
        connection.execute(
            sa.text(
                "INSERT INTO comments (thread_id, handle, body, html, status, "
                "created_at, updated_at, fingerprint) VALUES (:thread, 'bench', "
                ":body, :html, 'published', :now, :now, :fingerprint)"
            ),
            {
                "thread": thread_id,
                "body": body,
                "html": f"<p>{body}</p>",
                "now": now,
                "fingerprint": f"bench{n}",
            },
        )
        connection.execute(
            sa.text("UPDATE threads SET revision = revision + 1 WHERE id = :id"),
            {"id": thread_id},
        )
    return time.monotonic()


def run(args: argparse.Namespace, clients: int) -> dict[str, object]:
    scratch = Path(tempfile.mkdtemp(prefix="moderation-live-"))
    database = f"sqlite:///{scratch / 'live.db'}"
    port = free_port()
    env = environment(scratch, database, port, args.web_processes)
    env.update(
        GUNICORN_THREADS=str(args.threads),
        MODERATION_CLASSIFIER_PRELOAD="false",
        MODERATION_LIVE_MAX_WAITERS=str(args.max_waiters),
        MODERATION_LIVE_WAIT_SECONDS=str(args.wait),
        MODERATION_LIVE_POLL_SECONDS=str(args.poll),
    )
    prepare(env, database)
    logs = scratch / "logs"
    logs.mkdir()
    web = start_web(env, logs)
    engine = sa.create_engine(database)
    result: dict[str, object] = {"clients": clients}
    try:
        wait_for_port(port, logs)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", PAGE)
        match = LIVE.search(connection.getresponse().read().decode())
        connection.close()
        assert match, "the page has no live region"
        since, seen = int(match.group(1)), int(match.group(2))
        page_reads(port, each=50)  # warm both processes: caches, templates
        time.sleep(1)
        rss_before = rss_kib(web.pid)
        result["reads_before"] = page_reads(port)

        state = Clients(port, since, seen)
        loop = asyncio.new_event_loop()

        async def main() -> None:
            tasks = [
                asyncio.create_task(state.reader(n, args.ramp)) for n in range(clients)
            ]
            tasks.append(asyncio.create_task(state.sample()))
            while not state.stop:
                await asyncio.sleep(0.1)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        runner = threading.Thread(target=loop.run_until_complete, args=(main(),))
        runner.start()
        time.sleep(args.ramp + 5)
        steady_from = len(state.held_samples)
        answers_before, clock = state.answers, time.monotonic()
        result["reads_during"] = page_reads(port)
        rss_during = rss_kib(web.pid)
        result["rss_kib_before"] = rss_before
        result["rss_kib_during"] = rss_during
        latencies: list[list[float]] = []
        waiting: list[list[float]] = []
        for n in range(1, args.publishes + 1):
            published = publish(engine, n)
            deadline = published + args.poll * 1.25 + 10
            while len(state.told.get(n, {})) < clients and time.monotonic() < deadline:
                time.sleep(0.1)
            told = state.told.get(n, {})
            latencies.append([t - published for t in told.values()])
            waiting.append(
                [told[c] - published for c in state.told_waiting.get(n, set())]
            )
            time.sleep(2)
        result["answers_per_s"] = (state.answers - answers_before) / (
            time.monotonic() - clock
        )
        state.stop = True
        runner.join(120)
        held = state.held_samples[steady_from:]
        result["held_max"] = max(held, default=0)
        result["held_median"] = statistics.median(held) if held else 0
        result["held_cap"] = args.web_processes * args.max_waiters
        result["answers"] = state.answers
        result["waited_answers"] = state.waited
        result["errors"] = state.errors
        result["told"] = [
            {
                "told": len(times),
                "p50_s": percentile(times, 0.5) if times else None,
                "p90_s": percentile(times, 0.9) if times else None,
                "max_s": max(times) if times else None,
                "within_3s": sum(1 for t in times if t <= 3),
                "told_while_waiting": len(held_times),
                "waiting_max_s": max(held_times) if held_times else None,
            }
            for times, held_times in zip(latencies, waiting, strict=True)
        ]
        before, during = result["reads_before"], result["reads_during"]
        assert isinstance(before, dict) and isinstance(during, dict)
        grown = rss_during - rss_before
        result["summary"] = (
            f"N={clients}: held max {result['held_max']} (cap "
            f"{result['held_cap']}), {result['answers_per_s']:.0f} answers/s, "
            f"errors {state.errors}; RSS +{grown / 1024:.1f} MiB = "
            f"{grown / clients:.1f} KiB per client; page reads "
            f"{before['requests_per_s']:.0f}/s p50 {before['p50_ms']:.1f} ms -> "
            f"{during['requests_per_s']:.0f}/s p50 {during['p50_ms']:.1f} ms "
            f"p99 {during['p99_ms']:.0f} ms; load average {os.getloadavg()[0]:.2f}"
        )
    finally:
        stop([web])
        engine.dispose()
        shutil.rmtree(scratch, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="200,1000")
    parser.add_argument("--web-processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--max-waiters", type=int, default=4)
    parser.add_argument("--wait", type=float, default=25)
    parser.add_argument("--poll", type=float, default=20)
    parser.add_argument(
        "--ramp", type=float, default=20, help="seconds over which readers arrive"
    )
    parser.add_argument("--publishes", type=int, default=2)
    args = parser.parse_args()
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
        f"{args.web_processes} processes x {args.threads} threads, "
        f"LIVE_MAX_WAITERS {args.max_waiters}, wait {args.wait:g} s, "
        f"poll {args.poll:g} s",
        flush=True,
    )
    for clients in (int(n) for n in args.clients.split(",")):
        result = run(args, clients)
        print(json.dumps(result, indent=1), flush=True)
        print(result["summary"], flush=True)


if __name__ == "__main__":
    main()
