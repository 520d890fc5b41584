"""Trust for the cookieless reader path: signed form tokens and origin checks.

Browsers block third-party cookies inside iframes, so readers carry no session.
Instead each form carries a signed, expiring token naming its site, thread and an
idempotency key, and a browser's POST must come from our own pages or from one of
the site's allowed origins (Sec-Fetch-Site, then Origin).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Request, current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .errors import ForbiddenOrigin, FormExpired, InvalidInput
from .models import Comment, Site, Thread

_SALT = "moderation.comment-form"


@dataclass(frozen=True)
class FormToken:
    site: str
    thread: str
    idempotency_key: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue_token(thread: Thread) -> str:
    """A fresh token for one comment form on this thread."""
    key = secrets.token_urlsafe(18)
    return _serializer().dumps({"s": thread.site.slug, "t": thread.key, "k": key})


def read_token(raw: str | None, thread: Thread) -> FormToken:
    """Check a form token: signed by us, not expired, for this very thread."""
    if not raw:
        raise InvalidInput("The form is missing its token; reload the page.")
    try:
        data = _serializer().loads(
            raw, max_age=current_app.config["FORM_TOKEN_MAX_AGE"]
        )
    except SignatureExpired as error:
        raise FormExpired(
            "This form has expired. Your text is kept: press Post again."
        ) from error
    except BadSignature as error:
        raise InvalidInput("The form's token is not valid; reload the page.") from error
    if data.get("s") != thread.site.slug or data.get("t") != thread.key:
        raise InvalidInput("This form belongs to another thread; reload the page.")
    return FormToken(data["s"], data["t"], data["k"])


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
        raise InvalidInput("This receipt is not valid or has expired.") from error


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased; '' when it has none."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_browser(request: Request) -> bool:
    """Browsers send Origin on POST and Sec-Fetch-Site on every request."""
    return "Origin" in request.headers or "Sec-Fetch-Site" in request.headers


def check_origin(request: Request, site: Site) -> None:
    """Refuse a browser POST that comes from a page neither ours nor the site's."""
    fetch_site = request.headers.get("Sec-Fetch-Site", "").lower()
    origin = request.headers.get("Origin", "").lower()
    if not is_browser(request):
        return
    own = origin_of(request.host_url)
    allowed = {own, *(origin_of(o) or o.lower() for o in site.allowed_origins or ())}
    if origin and origin != "null":
        if origin in allowed:
            return
    elif fetch_site in ("same-origin", "none"):
        # Old browsers may omit Origin; Sec-Fetch-Site alone still speaks for it.
        return
    raise ForbiddenOrigin(
        "This form can only be sent from the page that shows the comments."
    )


def frame_ancestors(site: Site) -> str:
    """The CSP frame-ancestors value: exactly the site's origins."""
    origins = [origin_of(o) or o for o in site.allowed_origins or ()]
    return " ".join(origins) if origins else "'none'"
