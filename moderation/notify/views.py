"""The pages readers' mail links open: confirm, unsubscribe, stop all mail.

No login and no session: the signed token in the link is the proof (tokens.py).
A GET only shows a page with a button, because mail scanners and link previews
fetch every link in a mail; the POST of that button (or a mail client's RFC 8058
one-click POST, body "List-Unsubscribe=One-Click") makes the change. A bad or
expired link is a 400 page saying so. Pages follow the reader's language
(`?lang=`, which the mail's links carry, or the browser's).
"""

from __future__ import annotations

from http import HTTPStatus

from flask import Blueprint, Response, current_app, make_response, render_template
from flask_babel import get_locale

from ..extensions import db, limiter
from ..models import AddressState, MailAddress
from . import (
    replies,  # noqa: F401  (registers the readers' mail composers)
    subscriptions,
    tokens,
)

bp = Blueprint("notify", __name__, url_prefix="/mail")

_TARGET = {
    tokens.CONFIRM: AddressState.CONFIRMED,
    tokens.UNSUBSCRIBE: AddressState.UNSUBSCRIBED,
    tokens.STOP: AddressState.STOPPED,
}


def _lang() -> str:
    languages = current_app.config["LANGUAGES"]
    language = str(get_locale() or "")
    return language if language in languages else str(languages[0])


def _page(template: str, status: int = HTTPStatus.OK, **context: object) -> Response:
    response = make_response(
        render_template(f"notify/{template}.html", lang=_lang(), **context), status
    )
    # Each page is about one address: never kept by a shared cache.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


def _address(purpose: str, token: str) -> MailAddress | Response:
    """The address a link names, or the 400 page."""
    try:
        address_id = tokens.read(token, purpose)
    except tokens.BadLink as error:
        return _page("invalid", HTTPStatus.BAD_REQUEST, expired=error.expired)
    address = db.session.get(MailAddress, address_id)
    if address is None:
        return _page("invalid", HTTPStatus.BAD_REQUEST, expired=False)
    return address


def _show(purpose: str, token: str) -> Response:
    found = _address(purpose, token)
    if isinstance(found, Response):
        return found
    return _page("ask", purpose=purpose, token=token)


def _act(purpose: str, token: str) -> Response:
    found = _address(purpose, token)
    if isinstance(found, Response):
        return found
    subscriptions.change(found, _TARGET[purpose], actor="reader")
    db.session.commit()
    # What the page says depends on the address's state now: only the holder
    # of the link (its owner) sees it.
    return _page("done", purpose=purpose, state=found.state.value)


@bp.get("/confirm/<token>")
@limiter.exempt  # a page with a button: nothing changes
def confirm(token: str) -> Response:
    """Ask the reader to confirm that they want reply mails."""
    return _show(tokens.CONFIRM, token)


@bp.post("/confirm/<token>")
def confirm_post(token: str) -> Response:
    """Confirm the address: it may get reply mails from now on."""
    return _act(tokens.CONFIRM, token)


@bp.get("/unsubscribe/<token>")
@limiter.exempt
def unsubscribe(token: str) -> Response:
    """Ask the reader to confirm that they want no more reply mails."""
    return _show(tokens.UNSUBSCRIBE, token)


@bp.post("/unsubscribe/<token>")
def unsubscribe_post(token: str) -> Response:
    """Unsubscribe: the button, or a mail client's one-click POST (RFC 8058)."""
    return _act(tokens.UNSUBSCRIBE, token)


@bp.get("/stop/<token>")
@limiter.exempt
def stop(token: str) -> Response:
    """Ask the reader to confirm that this address gets no mail at all."""
    return _show(tokens.STOP, token)


@bp.post("/stop/<token>")
def stop_post(token: str) -> Response:
    """Stop all mail to this address, for good."""
    return _act(tokens.STOP, token)
