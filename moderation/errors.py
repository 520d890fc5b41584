"""Exceptions the services raise; one handler turns them into HTML or JSON."""

from __future__ import annotations

from http import HTTPStatus


class ModerationError(Exception):
    """A request the service refuses, with a message a reader or client can act on."""

    status: HTTPStatus = HTTPStatus.BAD_REQUEST
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ModerationError):
    status = HTTPStatus.NOT_FOUND
    code = "not_found"


class ThreadClosed(ModerationError):
    status = HTTPStatus.CONFLICT
    code = "thread_closed"


class InvalidInput(ModerationError):
    """The request's shape is wrong: lengths, handle, JSON. Nothing was stored."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "invalid"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.fields = fields or {}


class FormExpired(ModerationError):
    status = HTTPStatus.BAD_REQUEST
    code = "form_expired"


class ForbiddenOrigin(ModerationError):
    status = HTTPStatus.FORBIDDEN
    code = "forbidden_origin"


class InvalidTransition(ModerationError):
    """A decision that does not apply to the comment as it stands now."""

    status = HTTPStatus.CONFLICT
    code = "invalid_transition"


class Forbidden(ModerationError):
    """The moderator's role or sites do not cover this."""

    status = HTTPStatus.FORBIDDEN
    code = "forbidden"


class Unauthorized(ModerationError):
    """No valid credentials (an API token missing, unknown or revoked)."""

    status = HTTPStatus.UNAUTHORIZED
    code = "unauthorized"


class Banned(ModerationError):
    """The reader is banned from posting here; the message says until when."""

    status = HTTPStatus.FORBIDDEN
    code = "banned"
