"""The schema comes from the migrations, and they match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from moderation import create_app
from moderation.extensions import db


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        assert compare_metadata(context, db.metadata) == []


def test_upgrade_and_downgrade_run_on_an_empty_database(tmp_path, app_config):
    if not app_config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return  # PostgreSQL: the session fixture already ran the upgrade there
    app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = create_app(app_config)
    with app.app_context():
        upgrade()
        assert "comments" in db.inspect(db.engine).get_table_names()
        downgrade(revision="base")
        assert "comments" not in db.inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_an_install_with_comments_upgrades_to_the_head_and_back(tmp_path, app_config):
    """SQLite alters tables by copying them: a table other rows point at (comments,
    sites) must be copied with its rows and their references intact."""
    if not app_config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return  # PostgreSQL alters in place
    app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app(app_config)
    with app.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as connection:
            for statement in (
                "INSERT INTO sites (id, slug, name, allowed_origins, timezone,"
                " hold_thresholds, link_limit, banned_words, suspect_words,"
                " premoderate, created_at, report_threshold, trust_after,"
                " edit_window_minutes, erasure_mode, surge_window_minutes,"
                " surge_max_comments, surge_held_rate, revision) VALUES (1, 's',"
                " 'S', '[]', 'UTC', '{}', 1, '[]', '[]', 0, '2020-01-01', 3, 5, 15,"
                " 'redact', 10, 200, 0.6, 0)",
                "INSERT INTO threads (id, site_id, key, url, title, is_open,"
                " premoderate, revision, created_at) VALUES (1, 1, 'k', '', '', 1, 0,"
                " 0, '2020-01-01')",
                "INSERT INTO comments (id, thread_id, handle, body, html, status,"
                " created_at, updated_at, fingerprint, screen_attempts, report_count)"
                " VALUES (1, 1, 'a', 'b', 'b', 'held', '2020-01-01', '2020-01-01',"
                " 'f', 0, 0)",
                "INSERT INTO comments (id, thread_id, parent_id, handle, body, html,"
                " status, created_at, updated_at, fingerprint, screen_attempts,"
                " report_count) VALUES (2, 1, 1, 'c', 'd', 'd', 'published',"
                " '2020-01-02', '2020-01-02', 'g', 0, 0)",
                "INSERT INTO decisions (comment_id, actor, from_status, to_status,"
                " reason, created_at) VALUES (1, 'screen', 'received', 'held', '',"
                " '2020-01-01')",
            ):
                connection.exec_driver_sql(statement)
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT id, parent_id, notify_replies FROM comments ORDER BY id"
            ).fetchall()
            assert [tuple(row) for row in rows] == [(1, None, 0), (2, 1, 0)]
            checked = connection.exec_driver_sql("PRAGMA foreign_key_check")
            assert checked.fetchall() == []
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        downgrade(revision="0007")
        with db.engine.connect() as connection:
            count = connection.exec_driver_sql("SELECT count(*) FROM comments").scalar()
            assert count == 2
        db.engine.dispose()
