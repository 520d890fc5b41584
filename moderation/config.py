"""Configuration: defaults, then instance/config.py, then MODERATION_* variables."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any, ClassVar

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    """Settings the embedded default runs with: SQLite, offline classifier fallback."""

    SQLALCHEMY_DATABASE_URI: str | None = None  # set from instance_path in create_app
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_pre_ping": True}
    SECRET_KEY: str | None = None  # from the environment or instance/secret_key

    # Where this service is reached; the demo site's allowed origins derive from it.
    PUBLIC_URL = "http://127.0.0.1:8000"

    # Classifier: "auto" uses detoxify when its weights are present, else the fallback.
    CLASSIFIER = "auto"
    DETOXIFY_MODEL = "original"
    DETOXIFY_CHECKPOINT: str | None = None
    DETOXIFY_CONFIG_DIR: str | None = None
    DETOXIFY_DEVICE = "cpu"
    DETOXIFY_THREADS: int | None = None  # torch threads; None keeps torch's default
    MODEL_DIR: str | None = None  # default: instance/models
    # Start loading the classifier in a background thread at start-up.
    CLASSIFIER_PRELOAD = True
    # Seconds one screening may take before the comment is held as "screening failed".
    SCREEN_TIMEOUT = 20.0

    # Reader form: how long a form token stays valid, and the shape limits.
    FORM_TOKEN_MAX_AGE = 6 * 3600
    BODY_MAX_LENGTH = 5000
    HANDLE_MAX_LENGTH = 40

    # Rate limits (Flask-Limiter); memory storage in the embedded default.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_POST = "10 per minute;100 per hour"
    RATELIMIT_LOGIN = "10 per minute"

    # Moderator session cookie: first-party only.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = 8 * 3600


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Read MODERATION_* variables, parsing JSON values where they parse."""
    environ = dict(os.environ if environ is None else environ)
    settings: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith("MODERATION_") or key.startswith("MODERATION_TEST_"):
            continue
        name = key.removeprefix("MODERATION_")
        try:
            settings[name] = json.loads(raw)
        except ValueError:
            settings[name] = raw
    if "DATABASE_URL" in settings:
        settings["SQLALCHEMY_DATABASE_URI"] = settings.pop("DATABASE_URL")
    return settings


def load_secret_key(instance_path: Path) -> str:
    """The instance's secret key, generated once and kept outside git."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    # Written aside then linked into place: two gunicorn workers starting at once
    # must agree on one key, and neither may read a half-written file.
    temporary = instance_path / f".secret_key.{os.getpid()}"
    temporary.write_text(secrets.token_urlsafe(48))
    temporary.chmod(0o600)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text().strip()
