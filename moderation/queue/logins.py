"""Moderator logins: a per-account brake on password guessing.

The per-network limit (RATELIMIT_LOGIN) stops one client hammering the form; this
one stops many clients sharing the guesses for one account. Only failures count,
and the counter is keyed on a keyed hash of the email, so the limiter's storage
(Redis) never holds an address.
"""

from __future__ import annotations

from flask import Response, current_app, request

from ..clients import keyed_digest
from ..extensions import limiter

# MODERATION_RATELIMIT_LOGIN_ACCOUNT overrides it.
TOO_MANY_FAILURES = "Too many failed logins for this account"


def login_email() -> str:
    """The email this login attempt names, as accounts store it ('' if none)."""
    return (request.form.get("email") or "").strip().lower()[:254]


def account_key() -> str:
    """Rate-limit key of the account a login names: an HMAC, never the email."""
    return keyed_digest("login", login_email())


def _failed(response: Response) -> bool:
    return response.status_code == 401


account_limit = limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"],
    key_func=account_key,
    scope="login:account",
    methods=["POST"],
    exempt_when=lambda: not login_email(),
    deduct_when=_failed,
    error_message=TOO_MANY_FAILURES,
)
