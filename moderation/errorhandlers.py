"""One place that turns refusals into HTML pages or JSON bodies."""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import (
    Flask,
    Response,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .embed.reports import reader_args
from .errors import InvalidInput, ModerationError
from .extensions import db, limiter
from .origins import framed_by_site, parent_origin
from .reader.limits import retry_message, seconds_until
from .services.comments import get_thread

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


def rate_limited(error: RateLimitExceeded) -> ResponseReturnValue:
    """429 with Retry-After: JSON, or a page the site may frame inside the iframe.

    A limit whose page answers its own breach (its `on_breach`, such as the
    report form's) hands that response over; it gets the Retry-After too.
    """
    seconds = _retry_after()
    if error.response is not None:
        response = make_response(error.response)
        response.headers["Retry-After"] = str(seconds)
        return response
    reason = error.description if error.limit.error_message else "Too many requests"
    return too_many_requests(reason, seconds)


def too_many_requests(reason: str, seconds: int) -> Response:
    """429 saying `reason` and when to try again, with Retry-After."""
    message = retry_message(reason, seconds)
    return _refusal(HTTPStatus.TOO_MANY_REQUESTS, "too_many_requests", message, seconds)


def _refusal(status: HTTPStatus, code: str, message: str, seconds: int) -> Response:
    """A refusal to retry later: JSON with `retry_after`, or a page with a way back
    to the thread that the site may frame inside the iframe; Retry-After either way."""
    if _in_frame():
        response = embed_refusal(status, message)
    else:
        response = make_response(_respond(status, code, message, retry_after=seconds))
    response.headers["Retry-After"] = str(seconds)
    return response


def register(app: Flask) -> None:
    """Install the handlers."""

    @app.errorhandler(ModerationError)
    def moderation_error(error: ModerationError) -> ResponseReturnValue:
        if _in_frame():
            # A refusal inside the publisher's iframe must show there, not blank.
            return embed_refusal(int(error.status), error.message)
        extra = {"fields": error.fields} if isinstance(error, InvalidInput) else {}
        return _respond(int(error.status), error.code, error.message, **extra)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> ResponseReturnValue:
        return _respond(
            HTTPStatus.BAD_REQUEST,
            "csrf",
            "This form has expired or was not sent from our page; "
            "reload the page and try again.",
        )

    app.register_error_handler(RateLimitExceeded, rate_limited)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
        # Werkzeug refuses before reading the body (MAX_CONTENT_LENGTH).
        limit = int(current_app.config["MAX_CONTENT_LENGTH"])
        return _respond(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "too_large",
            f"The request is too large: at most {limit // 1024:,} KB.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        code = (error.name or "error").lower().replace(" ", "_")
        response = make_response(
            _respond(
                error.code or HTTPStatus.INTERNAL_SERVER_ERROR,
                code,
                error.description or error.name,
            )
        )
        # The exception's own headers: Allow on a 405, WWW-Authenticate on a 401.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> ResponseReturnValue:
        if database_unavailable(error):
            return _database_busy(error)
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side.",
        )


# SQLite's words for another writer holding the file, or the file out of reach.
_SQLITE_BUSY = ("database is locked", "database table is locked", "unable to open")


def database_unavailable(error: BaseException) -> bool:
    """True for a database that is busy or out of reach: a retry may succeed.

    SQLite past its busy timeout says "database is locked"; PostgreSQL's
    connection failures, lock and statement timeouts are psycopg's
    OperationalError. Other errors (a missing table, a bad query) are bugs, not
    busy databases, and stay 500s.
    """
    if isinstance(error, (sa_exc.TimeoutError, sa_exc.DisconnectionError)):
        return True
    if not isinstance(error, sa_exc.OperationalError):
        return False
    if error.connection_invalidated:
        return True
    if type(error.orig).__module__.startswith("psycopg"):
        return True
    return any(words in str(error.orig).lower() for words in _SQLITE_BUSY)


def _database_busy(error: BaseException) -> Response:
    """503 with Retry-After; inside the iframe, a page the site may frame.

    Nothing half-done stays: the session is rolled back. A post that was
    committed before the failure is not stored twice when the reader sends it
    again: its idempotency key finds it.
    """
    logger.warning(
        "database busy or unreachable on %s %s: %s", request.method, request.path, error
    )
    db.session.rollback()
    seconds = int(current_app.config["DATABASE_RETRY_AFTER"])
    message = _("The comments are busy right now; please try again in a few seconds.")
    return _refusal(HTTPStatus.SERVICE_UNAVAILABLE, "database_busy", message, seconds)


def _retry_after() -> int:
    """Whole seconds until the breached limit's window resets (at least 1)."""
    try:
        current = limiter.current_limit
        reset_at = current.reset_at if current is not None else None
    except Exception:  # the storage went away between the check and now
        logger.warning("could not read the rate-limit window", exc_info=True)
        reset_at = None
    return seconds_until(reset_at)


def _in_frame() -> bool:
    """True for a reader's page inside the publisher's iframe (not its JSON)."""
    return (request.blueprint or "").startswith("embed") and not wants_json()


def embed_refusal(status: int, message: str) -> Response:
    """The refusal as a page of the iframe: styled like the thread, sized by
    frame.js, with a way back that keeps the frame's parameters.

    Only the thread's own site may frame it; for no such thread (or a database
    out of reach) the page stands alone, unframed, without a way back.
    """
    args = request.view_args or {}
    thread = None
    try:
        thread = get_thread(str(args.get("site", "")), str(args.get("key", "")))
    except ModerationError:
        pass  # no such thread
    except sa_exc.SQLAlchemyError:
        db.session.rollback()  # the database is out of reach
    origin = parent_origin(thread.site.allowed_origins or ()) if thread else ""
    back_url = ""
    if thread is not None:
        back_url = url_for(
            "embed.thread_page",
            site=thread.site.slug,
            key=thread.key,
            origin=origin or None,
            **reader_args(),
        )
    html = render_template(
        "embed/refused.html",
        status=status,
        message=message,
        parent_origin=origin,
        back_url=back_url,
    )
    response = make_response(html, status)
    if thread is not None:
        framed_by_site(response, thread.site)
    return response
