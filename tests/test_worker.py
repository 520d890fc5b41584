"""Workers: batched claims with leases, verdicts stored once, nothing lost.

The multi-process tests start real worker processes (tests/worker_process.py runs
moderation.services.worker.run) against the suite's database: SQLite by default,
PostgreSQL when MODERATION_TEST_DATABASE_URL is set (FOR UPDATE SKIP LOCKED is
exercised there).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, CommentStatus, Decision, Score, utcnow
from moderation.services.comments import fingerprint
from moderation.services.worker import Stats, claim, run, screen_claimed

from helpers import post_from_iframe

HERE = Path(__file__).parent


@pytest.fixture
def external(make_app, demo, app):
    """An app whose web side only stores: screening is left to worker processes."""
    return make_app(IN_PROCESS_WORKER=False, VERDICT_WAIT=0.0)


def seed_received(app, count: int, prefix: str = "comment") -> list[int]:
    """Store `count` received comments in the demo thread, as the web side does."""
    with app.app_context():
        from moderation.services.comments import get_thread

        thread = get_thread("demo", "seed-article")
        comments = [
            Comment(
                thread=thread,
                handle=f"reader{n}",
                body=f"{prefix} number {n}",
                html=f"<p>{prefix} number {n}</p>",
                fingerprint=fingerprint(f"{prefix} number {n}"),
            )
            for n in range(count)
        ]
        db.session.add_all(comments)
        db.session.commit()
        return [c.id for c in comments]


def screen_decisions(app) -> dict[int, int]:
    """comment id -> how many verdicts the screen stored for it."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Decision.comment_id, sa.func.count())
            .where(Decision.actor == "screen")
            .group_by(Decision.comment_id)
        )
        return dict(rows.all())


def count_received(app) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).where(Comment.status == CommentStatus.RECEIVED)
        )


def start_worker(app, tmp_path, *args: str) -> subprocess.Popen[str]:
    """A real worker process on the test's database."""
    return subprocess.Popen(
        [
            sys.executable,
            str(HERE / "worker_process.py"),
            "--database",
            app.config["SQLALCHEMY_DATABASE_URI"],
            "--instance",
            str(tmp_path / "worker-instance"),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_claims_do_not_overlap_and_record_attempts(external):
    seed_received(external, 10)
    with external.app_context():
        _, first = claim(4, lease=30, worker="a")
        _, second = claim(10, lease=30, worker="b")
        assert len(first) == 4 and len(second) == 6
        assert not set(first) & set(second)
        assert claim(10, lease=30, worker="c")[1] == []
        attempts = db.session.scalars(
            sa.select(Comment.screen_attempts).where(Comment.id.in_(first + second))
        ).all()
        assert set(attempts) == {1}


def test_an_expired_lease_is_claimed_again(external):
    (comment_id,) = seed_received(external, 1)
    with external.app_context():
        claim(1, lease=30, worker="dead")
        db.session.execute(
            sa.update(Comment).values(claimed_until=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        _, ids = claim(1, lease=30, worker="alive")
        assert ids == [comment_id]
        comment = db.session.get(Comment, comment_id)
        assert comment.claimed_by == "alive" and comment.screen_attempts == 2


def test_a_worker_whose_claim_was_taken_over_stores_no_verdict(external):
    (comment_id,) = seed_received(external, 1)
    screener = external.extensions["screener"]
    with external.app_context():
        slow_token, ids = claim(1, lease=30, worker="slow")
        db.session.execute(
            sa.update(Comment).values(claimed_until=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        fast_token, _ = claim(1, lease=30, worker="fast")
        fast, slow = Stats(), Stats()
        screen_claimed({fast_token}, ids, screener, fast)
        screen_claimed({slow_token}, ids, screener, slow)
        assert fast.screened == 1 and slow.screened == 0
    assert screen_decisions(external) == {comment_id: 1}


def test_drain_screens_everything_in_batches_and_stops(external, classifier):
    seed_received(external, 25)
    stats = run(external, batch_size=10, max_wait=0, lease=30, drain=True)
    assert stats.screened == 25
    assert stats.batches == 3
    assert [len(call) for call in classifier.calls] == [10, 10, 5]
    assert count_received(external) == 0
    assert set(screen_decisions(external).values()) == {1}


def test_worker_command_drains_and_prints_counts(external):
    seed_received(external, 5)
    result = external.test_cli_runner().invoke(
        args=["moderation", "worker", "--drain", "--batch-size", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "screened 5 comments in 3 batches" in result.output
    assert "5 published, 0 held, 0 rejected" in result.output


def test_worker_command_refuses_a_lease_shorter_than_the_screen_timeout(external):
    result = external.test_cli_runner().invoke(
        args=["moderation", "worker", "--drain", "--lease", "5"]
    )
    assert result.exit_code == 2
    assert "must outlast SCREEN_TIMEOUT" in result.output


def test_post_answers_being_checked_and_the_receipt_follows_it(external, demo):
    client = external.test_client()
    response = post_from_iframe(client, demo.embed, body="Checked later.")
    assert response.status_code == 202
    assert "being checked" in response.text
    assert "data-receipt-url" in response.text
    api = client.post(demo.api, json={"handle": "Ann", "body": "Also later."})
    assert api.status_code == 202
    body = api.get_json()
    assert body["status"] == "received"
    status_url = body["status_url"].removeprefix("http://localhost")
    assert client.get(status_url).get_json()["status"] == "received"

    run(external, batch_size=8, max_wait=0, lease=30, drain=True)

    followed = client.get(status_url).get_json()
    assert followed["status"] == "published"
    assert followed["comment"]["html"] == "<p>Also later.</p>"
    reload_url = (
        response.text.split('data-reload-url="')[1].split('"')[0].replace("&amp;", "&")
    )
    page = client.get(reload_url)
    assert "Checked later." in page.text
    assert "your comment is published" in page.text


def test_a_forged_receipt_is_refused(client, demo):
    response = client.get("/api/v1/receipts/not-a-receipt")
    assert response.status_code == 422
    page = client.get(f"{demo.embed}?receipt=not-a-receipt")
    assert page.status_code == 200  # the thread, without any receipt message
    assert "being checked" not in page.text


def test_four_worker_processes_screen_each_comment_exactly_once(external, tmp_path):
    ids = seed_received(external, 400)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    workers = [
        start_worker(
            external,
            tmp_path,
            "--drain",
            "--batch-size",
            "8",
            "--name",
            f"w{n}",
            "--barrier",
            str(barrier),
        )
        for n in range(4)
    ]
    wait_for(lambda: len(list(barrier.glob("ready-*"))) == 4, 120, "four workers")
    (barrier / "go").touch()
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), outputs
    decisions = screen_decisions(external)
    assert set(decisions) == set(ids)
    assert set(decisions.values()) == {1}
    with external.app_context():
        scores = db.session.scalar(sa.select(sa.func.count()).select_from(Score))
        assert scores == 400 * 3  # three labels, once each
        who = db.session.scalars(sa.select(Comment.claimed_by).distinct()).all()
    assert count_received(external) == 0
    assert sum(int(o.split("screened ")[1].split()[0]) for o in outputs) == 400
    # The work was shared: more than one process stored verdicts.
    assert len([o for o in outputs if not o.startswith("screened 0 ")]) >= 2, outputs
    assert who  # every claim names its worker


def test_a_worker_killed_mid_batch_has_its_batch_screened_by_another(
    external, tmp_path
):
    ids = seed_received(external, 12)
    marker = tmp_path / "holding"
    doomed = start_worker(
        external, tmp_path, "--stall", str(marker), "--lease", "2", "--batch-size", "5"
    )
    try:
        wait_for(marker.exists, 60, "the worker to hold a batch")
    finally:
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(10)
    held_by_the_dead = {
        comment_id for comment_id, in_batch in _claims(external).items() if in_batch
    }
    assert len(held_by_the_dead) == 5
    rescuer = start_worker(external, tmp_path, "--drain", "--lease", "30")
    output = rescuer.communicate(timeout=120)[0]
    assert rescuer.returncode == 0, output
    assert screen_decisions(external) == {comment_id: 1 for comment_id in ids}
    with external.app_context():
        attempts = dict(
            db.session.execute(sa.select(Comment.id, Comment.screen_attempts)).all()
        )
    assert {attempts[i] for i in held_by_the_dead} == {2}


def _claims(app) -> dict[int, bool]:
    """comment id -> whether it is claimed now."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Comment.id, Comment.claim_token.is_not(None))
        ).all()
        return dict(rows)


def test_posts_during_a_workers_death_are_none_lost(external, demo, tmp_path):
    client = external.test_client()
    marker = tmp_path / "holding"
    accepted = 0

    def post(n: int) -> None:
        nonlocal accepted
        response = client.post(
            demo.api, json={"handle": f"reader{n}", "body": f"Posted while dying {n}"}
        )
        assert response.status_code in (200, 201, 202), response.text
        accepted += 1

    for n in range(10):
        post(n)
    doomed = start_worker(
        external, tmp_path, "--stall", str(marker), "--lease", "2", "--batch-size", "4"
    )
    try:
        wait_for(marker.exists, 60, "the worker to hold a batch")
        for n in range(10, 20):
            post(n)
    finally:
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(10)
    for n in range(20, 30):
        post(n)
    rescuer = start_worker(external, tmp_path, "--drain")
    output = rescuer.communicate(timeout=120)[0]
    assert rescuer.returncode == 0, output
    with external.app_context():
        stored = db.session.scalars(
            sa.select(Comment.id).where(Comment.body.like("Posted while dying %"))
        ).all()
    assert accepted == len(stored) == 30
    decisions = screen_decisions(external)
    assert all(decisions.get(comment_id) == 1 for comment_id in stored)
    assert count_received(external) == 0


# `make run` after a crash: the service drains what waits, with no reader posting --

LEFT_RECEIVED = """
import sys
import sqlalchemy as sa
from moderation import create_app
from moderation.extensions import db
from moderation.models import Comment, CommentStatus, Thread
from moderation.services.comments import fingerprint

app = create_app({"IN_PROCESS_WORKER": False, "CLASSIFIER_PRELOAD": False})
with app.app_context():
    thread = db.session.scalar(sa.select(Thread).filter_by(key="seed-article"))
    body = sys.argv[1]
    db.session.add(Comment(thread=thread, handle="Left", body=body, html=body,
                           fingerprint=fingerprint(body),
                           status=CommentStatus.RECEIVED))
    db.session.commit()
"""


@pytest.mark.slow
def test_a_started_service_screens_comments_left_received_without_a_post(tmp_path):
    import json
    import urllib.request

    from live_server import PROJECT_ROOT, live_server, service_environment

    body = "Left behind by a crash, and a fair point."
    with live_server(tmp_path) as server:
        env = service_environment(tmp_path, server.url)
        subprocess.run(
            [sys.executable, "-c", LEFT_RECEIVED, body],
            cwd=PROJECT_ROOT,
            env=env,
            check=True,
            timeout=120,
        )
        api = f"{server.url}/api/v1/sites/demo/threads/seed-article/comments?limit=200"
        deadline = time.monotonic() + 60
        shown = []
        while time.monotonic() < deadline:
            # Reads only: nothing here wakes a worker the way a post would.
            with urllib.request.urlopen(api, timeout=5) as response:
                shown = [c["handle"] for c in json.load(response)["comments"]]
            if "Left" in shown:
                break
            time.sleep(0.5)
    assert "Left" in shown, (server.log.read_text())[-2000:]
