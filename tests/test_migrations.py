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
