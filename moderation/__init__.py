"""Comment moderation and discussion service for news sites."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import PROJECT_ROOT, Defaults, from_environment, load_secret_key
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .reader import cache as readcache

logger = logging.getLogger(__name__)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, commands."""
    instance_path = (
        (test_config or {}).get("INSTANCE_PATH")
        or os.environ.get("MODERATION_INSTANCE_PATH")
        or str(PROJECT_ROOT / "instance")
    )
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(from_environment())
    if test_config:
        app.config.update(test_config)
    _fill_defaults(app)
    if app.config["PROXY_FIX_X_FOR"]:
        # The client address (rate limits) comes from X-Forwarded-For only then.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=int(app.config["PROXY_FIX_X_FOR"])
        )

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    readcache.init_app(app)
    with app.app_context():
        _tune_sqlite(db.engine, app)

    from . import commands, errorhandlers, links, security
    from .admin.views import account as account_bp
    from .admin.views import bp as admin_bp
    from .api.moderation import bp as modapi_bp
    from .api.views import bp as api_bp
    from .demo.views import bp as demo_bp
    from .embed import bp as embed_bp
    from .embed.feeds import bp as feeds_bp
    from .insights.views import bp as insights_bp
    from .manage.views import bp as people_bp
    from .manage.views import manage as manage_bp
    from .notify.admin_views import bp as webhooks_bp
    from .notify.settings_views import bp as alerts_bp
    from .notify.views import bp as notify_bp
    from .queue.views import bp as queue_bp

    app.register_blueprint(demo_bp)
    app.register_blueprint(embed_bp)
    app.register_blueprint(queue_bp)
    app.register_blueprint(insights_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(modapi_bp)
    app.register_blueprint(people_bp)
    app.register_blueprint(manage_bp)
    app.register_blueprint(notify_bp)  # readers' mail links (notify/views.py)
    app.register_blueprint(webhooks_bp)  # admins: sites' webhooks
    app.register_blueprint(alerts_bp)  # moderators' alerts by mail
    # The reader path carries no cookie, so no session CSRF token: it is guarded
    # by signed form tokens and origin checks instead (signing.py, origins.py).
    csrf.exempt(embed_bp)
    csrf.exempt(api_bp)
    csrf.exempt(modapi_bp)  # bearer tokens only: no cookie is read or set
    # Mail links carry no session: the signed token in the URL is the proof, and
    # mail clients' one-click unsubscribe (RFC 8058) POSTs with no form token.
    csrf.exempt(notify_bp)
    errorhandlers.register(app)
    security.register(app)
    links.register(app)
    commands.register(app)
    _install_screener(app)
    from . import notify

    notify.init_app(app)
    from .reader import fastpath

    fastpath.install(app)  # outermost: a repeated shared page never enters Flask
    if app.config["IN_PROCESS_WORKER"]:
        from .services.worker import InProcessWorker

        app.extensions["worker"] = InProcessWorker(app)
    return app


def _fill_defaults(app: Flask) -> None:
    instance = Path(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        instance.mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            f"sqlite:///{instance / 'moderation.db'}"
        )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A SQLite file never drops a connection: a ping on every checkout would
        # only double the read path's one query.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
            "pool_pre_ping": False,
        }
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(instance)
    if not app.config.get("MODEL_DIR"):
        app.config["MODEL_DIR"] = str(instance / "models")
    https = str(app.config["PUBLIC_URL"]).lower().startswith("https://")
    for prefix, name in (("SESSION", "session"), ("REMEMBER", "remember_token")):
        if app.config[f"{prefix}_COOKIE_SECURE"] is None:
            app.config[f"{prefix}_COOKIE_SECURE"] = https
            if https:
                # Secure, Path=/ and no Domain: the browser keeps it to this host.
                app.config[f"{prefix}_COOKIE_NAME"] = f"__Host-{name}"


def _select_locale() -> str:
    """The embed's `lang` parameter, else the browser's preference, else English."""
    from flask import current_app, has_request_context, request

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the CLI, the worker: gettext() must not raise
        return languages[0]
    asked = request.args.get("lang", "")
    if asked in languages:
        return asked
    return request.accept_languages.best_match(languages) or languages[0]


def _tune_sqlite(engine: sa.Engine, app: Flask) -> None:
    """WAL and a busy timeout let several processes share one SQLite file."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Read at each new connection, so a changed setting reaches new ones.
        timeout = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])
        cursor.execute(f"PRAGMA busy_timeout={timeout}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _install_screener(app: Flask) -> None:
    from .screening.classifiers import choose
    from .screening.pipeline import Screener

    if "screener" in app.extensions:
        return
    if app.config.get("CLASSIFIER_OBJECT") is not None:  # tests, embedders
        app.extensions["screener"] = Screener(
            classifier=app.config["CLASSIFIER_OBJECT"]
        )
        return
    choice = choose(
        app.config["CLASSIFIER"],
        app.config["DETOXIFY_MODEL"],
        app.config["DETOXIFY_CHECKPOINT"],
        app.config["DETOXIFY_CONFIG_DIR"],
        Path(app.config["MODEL_DIR"]),
        app.config["ONNX_DIR"],
        app.config["ONNX_VARIANT"],
    )
    logger.info("classifier: %s", choice.reason)
    screener = Screener(
        choice,
        device=app.config["DETOXIFY_DEVICE"],
        threads=app.config["DETOXIFY_THREADS"],
    )
    app.extensions["screener"] = screener
