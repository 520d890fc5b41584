"""The deploy sample works: the Procfile's release, web and worker lines, as written.

Starts `deploy/Procfile`'s processes for real (gunicorn with deploy/gunicorn.conf.py,
and a separate `flask moderation worker`), posts a comment over HTTP and follows its
receipt until the worker has published it. On PostgreSQL when
MODERATION_TEST_DATABASE_URL is set, else on a SQLite file.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from live_server import PROJECT_ROOT, free_port, service_environment

pytestmark = pytest.mark.slow


def procfile() -> dict[str, str]:
    """The Procfile's process types and their commands."""
    lines = (PROJECT_ROOT / "deploy" / "Procfile").read_text().splitlines()
    entries = [
        line.split(":", 1) for line in lines if line and not line.startswith("#")
    ]
    return {name.strip(): command.strip() for name, command in entries}


def _request(url: str, payload: dict[str, str] | None = None) -> tuple[int, dict]:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"web never answered:\n{log.read_text()}")


def test_procfile_release_web_and_worker_publish_a_comment(tmp_path):
    commands = procfile()
    assert set(commands) == {"release", "web", "worker"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = service_environment(tmp_path, url)
    if os.environ.get("MODERATION_TEST_DATABASE_URL"):
        env["MODERATION_DATABASE_URL"] = os.environ["MODERATION_TEST_DATABASE_URL"]
    env.update(
        # As docs/deploy.md says: the web nodes store, the workers screen.
        MODERATION_IN_PROCESS_WORKER="false",
        MODERATION_VERDICT_WAIT="0.5",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        # The venv's gunicorn and flask, as the Procfile names them.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )

    def run(name: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("wb")
        return subprocess.Popen(
            shlex.split(commands[name]),
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    release = run("release")
    assert release.wait(120) == 0, (tmp_path / "release.log").read_text()
    demo = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "moderation", "load-demo"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    web, worker = run("web"), run("worker")
    try:
        _wait_ready(f"{url}/demo", web, tmp_path / "web.log")
        status, body = _request(
            f"{url}/api/v1/sites/demo/threads/seed-article/comments",
            {"handle": "Procfile", "body": "Deployed and screened by a worker."},
        )
        assert status in (201, 202), body
        status_url, deadline = body["status_url"], time.monotonic() + 60
        while body["status"] == "received" and time.monotonic() < deadline:
            time.sleep(0.3)
            _, body = _request(status_url)
        assert body["status"] == "published", body
    finally:
        for process in (worker, web):
            process.send_signal(signal.SIGTERM)
        worker_code, web_code = worker.wait(60), web.wait(60)
    worker_log = (tmp_path / "worker.log").read_text()
    assert worker_code == 0, worker_log  # SIGTERM: finish the batch, then exit
    assert "screened 1 comments" in worker_log, worker_log
    assert web_code == 0
