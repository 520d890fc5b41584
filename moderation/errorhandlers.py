"""One place that turns refusals into HTML pages or JSON bodies."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .errors import InvalidInput, ModerationError

logger = logging.getLogger(__name__)


def wants_json() -> bool:
    """API paths always answer JSON; other clients get JSON when they ask for it."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _respond(
    status: int, code: str, message: str, **extra: object
) -> ResponseReturnValue:
    if wants_json():
        return jsonify(error=code, message=message, **extra), status
    return render_template("errors/error.html", status=status, message=message), status


def register(app: Flask) -> None:
    """Install the handlers."""

    @app.errorhandler(ModerationError)
    def moderation_error(error: ModerationError) -> ResponseReturnValue:
        extra = {"fields": error.fields} if isinstance(error, InvalidInput) else {}
        return _respond(int(error.status), error.code, error.message, **extra)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> ResponseReturnValue:
        return _respond(
            400,
            "csrf",
            "This form has expired or was not sent from our page; "
            "reload the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        code = (error.name or "error").lower().replace(" ", "_")
        return _respond(error.code or 500, code, error.description or error.name)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> ResponseReturnValue:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, "internal", "Something went wrong on our side.")
