"""The real service in its own process, as production runs it: `gunicorn wsgi:app`.

Migrated and loaded with the demo through the same CLI commands `make run` uses,
on a SQLite file of its own. MODERATION_TEST_DATABASE_URL is deliberately ignored
here: a browser test needs one whole running service, not the suite's shared
database, and SQLite keeps it self-contained.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 30.0


@dataclass(frozen=True)
class LiveServer:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    log: Path


def free_port() -> int:
    """A port nothing listens on now (the OS picks it; reused at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Threads of the one gunicorn worker.
THREADS = 4


def service_environment(directory: Path, url: str) -> dict[str, str]:
    """The environment the service runs with: the caller's, minus its MODERATION_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env.update(
        MODERATION_DATABASE_URL=f"sqlite:///{directory / 'moderation.db'}",
        MODERATION_INSTANCE_PATH=str(directory / "instance"),
        MODERATION_PUBLIC_URL=url,
        MODERATION_SECRET_KEY="browser test secret",
        # Real and fast, and needs no weights: the offline fallback.
        MODERATION_CLASSIFIER="profanity-check",
        MODERATION_CLASSIFIER_PRELOAD="false",
        # The browser checks a page right after changing it, from any worker.
        MODERATION_READ_LOOKUP_TTL="0",
        # Live long-polls may hold half the threads, never all: a page whose live
        # poll outlives its browser context still waits out LIVE_WAIT_SECONDS.
        MODERATION_LIVE_MAX_WAITERS=str(THREADS // 2),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    return env


def _gunicorn() -> list[str]:
    beside = Path(sys.executable).with_name("gunicorn")
    command = [str(beside)] if beside.exists() else [sys.executable, "-m", "gunicorn"]
    try:
        from gunicorn import config
    except ImportError:
        return command
    if hasattr(config, "ControlSocketDisable"):
        # Newer gunicorn opens a control socket at one fixed path under $HOME;
        # a second gunicorn (make run, a parallel test) would share it.
        command.append("--no-control-socket")
    return command


def _flask(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "moderation", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (
        f"flask {' '.join(args)} failed ({result.returncode}):\n"
        f"{result.stdout}\n{result.stderr}"
    )


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with {process.returncode}:\n{log.read_text()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"gunicorn did not answer {url} within {READY_TIMEOUT:.0f}s:\n{log.read_text()}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # gunicorn's graceful stop; its worker goes with it
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def live_server(
    directory: Path, extra_env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """Migrate, load the demo, serve with gunicorn; stop it on the way out."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = service_environment(directory, url)
    env.update(extra_env or {})  # e.g. MODERATION_DEMO_EXTRA_ORIGINS
    _flask(env, "db", "upgrade")
    _flask(env, "load-demo", "--public-url", url)
    log = directory / "gunicorn.log"
    with log.open("wb") as output:
        # One worker: the memory rate limiter and the scorer live per process.
        process = subprocess.Popen(
            [
                *_gunicorn(),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                str(THREADS),
                "--timeout",
                "60",
                "wsgi:app",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_ready(process, f"{url}/demo", log)
        yield LiveServer(url, log)
    finally:
        _stop(process)
