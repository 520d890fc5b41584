"""Signed links in readers' mail: confirm, unsubscribe, stop all mail.

A link names a MailAddress by its id, signed with the app's SECRET_KEY under a
salt of its own (not the comment form's or the receipts'), together with what it
is for: an unsubscribe link cannot confirm. Never the address itself. Confirm
links expire after CONFIRM_MAX_AGE; unsubscribe and stop links never do, so a
years-old mail can still stop the next one (RFC 8058 asks for that much).
Links are absolute, built from PUBLIC_URL: mail is composed by the workers,
outside any request.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_SALT = "moderation.mail-links"
CONFIRM = "confirm"
UNSUBSCRIBE = "unsubscribe"
STOP = "stop"
PURPOSES = (CONFIRM, UNSUBSCRIBE, STOP)
CONFIRM_MAX_AGE = 7 * 24 * 3600


class BadLink(Exception):
    """A link that is not ours, is for something else, or has expired."""

    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue(address_id: int, purpose: str) -> str:
    """A signed token naming `address_id` for `purpose`."""
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    return _serializer().dumps({"a": address_id, "p": purpose})


def read(raw: str, purpose: str) -> int:
    """The address id a token names for `purpose`, or BadLink."""
    max_age = CONFIRM_MAX_AGE if purpose == CONFIRM else None
    try:
        data: Any = _serializer().loads(raw, max_age=max_age)
    except SignatureExpired as error:
        raise BadLink("expired", expired=True) from error
    except BadSignature as error:
        raise BadLink("bad signature") from error
    if not isinstance(data, dict) or data.get("p") != purpose:
        raise BadLink("wrong purpose")
    address_id = data.get("a")
    if not isinstance(address_id, int) or isinstance(address_id, bool):
        raise BadLink("no address")
    return address_id


def absolute_url(endpoint: str, **values: Any) -> str:
    """`url_for(endpoint, **values)` as an absolute URL under PUBLIC_URL, in any
    context (the workers have no request to take a host from)."""
    public = urlsplit(str(current_app.config["PUBLIC_URL"]))
    adapter = current_app.url_map.bind(
        public.netloc or "localhost",
        script_name=public.path.rstrip("/") or "/",
        url_scheme=public.scheme or "http",
    )
    return adapter.build(endpoint, values, force_external=True)


def link(address_id: int, purpose: str, lang: str | None = None) -> str:
    """The absolute URL of the page a mail's `purpose` link opens."""
    values: dict[str, Any] = {"token": issue(address_id, purpose)}
    if lang and lang != current_app.config["LANGUAGES"][0]:
        values["lang"] = lang
    return absolute_url(f"notify.{purpose}", **values)
