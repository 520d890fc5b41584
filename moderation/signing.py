"""Signed tokens for the cookieless reader path: form tokens and edit receipts.

Browsers block third-party cookies inside iframes, so readers carry no session.
Instead each form carries a signed, expiring token naming its site and thread. The
token holds nothing random, so one cached page serves every reader; a post's
idempotency key is derived from the token and what was written
(form_idempotency_key). A receipt, kept by the frame, proves who wrote a comment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .errors import FormExpired, InvalidInput
from .models import Comment, Thread

_SALT = "moderation.comment-form"


@dataclass(frozen=True)
class FormToken:
    site: str
    thread: str
    raw: str  # as submitted: part of the form's idempotency key


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue_token(thread: Thread) -> str:
    """A token for this thread's comment form, the same for every reader."""
    # Signed with its issue time and no random part: the read cache serves one
    # rendering of the page (token included) to every reader for its lifetime,
    # which stays far below FORM_TOKEN_MAX_AGE (reader/cache.py).
    return _serializer().dumps({"s": thread.site.slug, "t": thread.key})


def read_token(raw: str | None, thread: Thread) -> FormToken:
    """Check a form token: signed by us, not expired, for this very thread."""
    if not raw:
        raise InvalidInput(_("The form is missing its token; reload the page."))
    try:
        data = _serializer().loads(
            raw, max_age=current_app.config["FORM_TOKEN_MAX_AGE"]
        )
    except SignatureExpired as error:
        raise FormExpired(
            _("This form has expired. Your text is kept: press Post again.")
        ) from error
    except BadSignature as error:
        raise InvalidInput(
            _("The form's token is not valid; reload the page.")
        ) from error
    if data.get("s") != thread.site.slug or data.get("t") != thread.key:
        raise InvalidInput(_("This form belongs to another thread; reload the page."))
    return FormToken(data["s"], data["t"], raw)


def form_idempotency_key(
    token: FormToken, handle: str, body: str, parent_id: int | None
) -> str:
    """The same form sent twice stores one comment; different posts never collide.

    Readers of one cached page share a token, so the key also covers what was
    written: two readers collide only when they post the same text under the same
    name in reply to the same comment, which is a double post anyway.
    """
    digest = hashlib.sha256()
    for part in (token.raw, handle, body, str(parent_id or "")):
        digest.update(part.encode())
        digest.update(b"\0")  # no two splits of the same text hash alike
    return digest.hexdigest()  # 64 characters: Comment.idempotency_key's length


_RECEIPT_SALT = "moderation.receipt"
RECEIPT_MAX_AGE = 7 * 24 * 3600


def issue_receipt(comment: Comment) -> str:
    """A signed receipt that lets the poster (and only them) follow their comment."""
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], _RECEIPT_SALT)
    return serializer.dumps({"c": comment.id, "t": comment.thread_id})


def read_receipt(raw: str) -> tuple[int, int]:
    """(comment id, thread id) from a receipt, or InvalidInput."""
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], _RECEIPT_SALT)
    try:
        data = serializer.loads(raw, max_age=RECEIPT_MAX_AGE)
        return int(data["c"]), int(data["t"])
    except (BadSignature, KeyError, TypeError, ValueError) as error:
        raise InvalidInput(_("This receipt is not valid or has expired.")) from error
