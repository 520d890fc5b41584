"""`flask --app moderation backup FILE`: an online, consistent copy of SQLite."""

from __future__ import annotations

import os
import sqlite3
import threading

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("MODERATION_TEST_DATABASE_URL")),
    reason="backup copies the embedded SQLite; on PostgreSQL it prints pg_dump advice",
)


def _count(path) -> int:
    with sqlite3.connect(path) as copy:
        return copy.execute("SELECT count(*) FROM comments").fetchone()[0]


def test_backup_copies_every_comment_while_the_service_writes(app, demo, tmp_path):
    with app.app_context():
        stored = db.session.scalar(sa.select(sa.func.count()).select_from(Comment))
    target = tmp_path / "copy.db"
    # A writer holding the database open (WAL) does not stop the copy.
    with app.app_context():
        db.session.execute(sa.text("SELECT 1"))
        result = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "backed up" in result.output and "secret_key" in result.output
    assert _count(target) == stored
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone()


def test_backup_during_concurrent_writes_is_consistent(app, demo, tmp_path):
    from moderation.models import CommentStatus, Thread

    stop = threading.Event()

    def write() -> None:
        with app.app_context():
            thread = db.session.get(Thread, demo.id)
            while not stop.is_set():
                db.session.add(
                    Comment(
                        thread=thread,
                        handle="Writer",
                        body="During the backup.",
                        html="<p>During the backup.</p>",
                        fingerprint="f" * 64,
                        status=CommentStatus.PUBLISHED,
                    )
                )
                db.session.commit()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "c.db")])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "c.db") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _count(tmp_path / "c.db") >= 5


def test_backup_refuses_to_overwrite_without_force(app, tmp_path):
    target = tmp_path / "exists.db"
    target.write_text("keep me")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code != 0 and "--force" in result.output
    assert target.read_text() == "keep me"
    result = runner.invoke(args=["backup", str(target), "--force"])
    assert result.exit_code == 0, result.output
    assert _count(target) >= 0


def test_backup_of_postgresql_says_to_use_pg_dump(make_app, tmp_path):
    app = make_app(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none",
        IN_PROCESS_WORKER=False,
    )
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "x")])
    assert result.exit_code != 0
    assert "pg_dump" in result.output
