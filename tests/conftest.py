"""Fixtures: an app on the real migrations, the demo, a moderator, browsers' headers.

The suite runs on SQLite by default and on PostgreSQL when
MODERATION_TEST_DATABASE_URL is set (.ci/run sets it). Either way the schema comes
from the migrations: migrated once a session, then emptied between tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from support import MODERATOR_PASSWORD, DemoThread, app_settings

from moderation import create_app
from moderation.extensions import db
from moderation.models import Moderator

from fakes import FixedClassifier

TEST_DATABASE_URL = os.environ.get("MODERATION_TEST_DATABASE_URL")
@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database at the migrations' head, made once a session."""
    if TEST_DATABASE_URL:
        engine = sa.create_engine(TEST_DATABASE_URL)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        url = TEST_DATABASE_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'template.db'}"
    app = create_app(app_settings(tmp_path_factory.mktemp("migrate"), url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def _empty_tables(url: str) -> None:
    engine = sa.create_engine(url)
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with engine.begin() as connection:
        connection.execute(
            sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        )
    engine.dispose()


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> str:
    """An empty, migrated database of this test's own (PostgreSQL: the one
    database, emptied before each test, whichever app the test builds first)."""
    if TEST_DATABASE_URL:
        _empty_tables(migrated_database)
        return migrated_database
    template = Path(migrated_database.removeprefix("sqlite:///"))
    copy = tmp_path / "test.db"
    shutil.copyfile(template, copy)
    return f"sqlite:///{copy}"


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One MODEL_DIR a session: the screen's encoder is exported into it once."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def screen_classifier(model_dir: Path):  # -> ScreenClassifier
    """The real offline default classifier (packaged encoder + committed heads)."""
    from moderation.screening.screen_model import ScreenClassifier

    return ScreenClassifier(model_dir, threads=2)


@pytest.fixture
def app_config(
    tmp_path: Path, database_url: str, model_dir: Path
) -> dict[str, object]:
    """The configuration `app` is built with; tests may change it first."""
    return app_settings(tmp_path, database_url, MODEL_DIR=str(model_dir))


@pytest.fixture
def app(app_config: dict[str, object]) -> Iterator[Flask]:
    """The app on a migrated, empty database, with a FixedClassifier."""
    app = create_app(app_config)
    yield app
    stop_app(app)


def stop_app(app: Flask) -> None:
    """Stop the app's in-process worker and sender, close its connections."""
    for name in ("worker", "sender"):
        thread = app.extensions.get(name)
        if thread is not None:
            thread.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def make_app(app_config: dict[str, object]) -> Iterator[Callable[..., Flask]]:
    """Build apps from app_config with overrides; each is stopped after the test."""
    made: list[Flask] = []

    def make(**overrides: object) -> Flask:
        app = create_app({**app_config, **overrides})
        made.append(app)
        return app

    yield make
    for app in made:
        stop_app(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def classifier(app: Flask) -> FixedClassifier:
    """The classifier the app screens with; set its scores in a test."""
    return app.config["CLASSIFIER_OBJECT"]


@pytest.fixture
def demo(app: Flask) -> DemoThread:
    """The demo site, thread and five seed comments, loaded as `make run` does
    (without its decided history, demo/history.py, which tests load via the CLI)."""
    from moderation.demo.loader import load_demo

    with app.app_context():
        thread, _ = load_demo(
            app.config["PUBLIC_URL"], Path(app.instance_path), history=False
        )
        return DemoThread(thread.id)


@pytest.fixture
def moderator(app: Flask) -> int:
    """A moderator's id; the password is MODERATOR_PASSWORD."""
    with app.app_context():
        moderator = Moderator(email="mod@example.com", name="Mod")
        moderator.set_password(MODERATOR_PASSWORD)
        db.session.add(moderator)
        db.session.commit()
        return moderator.id


@pytest.fixture
def moderator_client(app: Flask, moderator: int) -> FlaskClient:
    """A test client logged in as a moderator (CSRF off for brevity)."""
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    response = client.post(
        "/mod/login", data={"email": "mod@example.com", "password": MODERATOR_PASSWORD}
    )
    assert response.status_code == 302, response.text
    return client


@pytest.fixture(scope="session")
def tiny_detoxify(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny detoxify checkpoint and its local config dir, built once a session."""
    # As the service does: before transformers is first imported.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from tiny_detoxify import build_tiny_checkpoint

    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-detoxify"))
