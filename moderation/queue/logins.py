"""Moderator logins: a per-account brake on password guessing, and server-side sessions.

The per-network limit (RATELIMIT_LOGIN, Flask-Limiter) stops one client hammering
the form; the per-account brake stops many clients sharing the guesses for one
account. Its failures are rows in the database, so every web process counts them
(each gunicorn process has its own memory). Only failures count, keyed on a keyed
hash of the email: no address is stored.

Each login is a ModeratorSession row; the session cookie carries its token. A
plain logout deletes the row, so a copy of the cookie taken before it opens
nothing after it; "log out everywhere" deletes them all.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, request, session
from limits import parse

from ..clients import keyed_digest
from ..extensions import db
from ..models import LoginFailure, Moderator, ModeratorSession, utcnow

# MODERATION_RATELIMIT_LOGIN_ACCOUNT sets the limit ("3 per 15 minutes").
TOO_MANY_FAILURES = "Too many failed logins for this account"
_SESSION_KEY = "moderator_session"


def login_email() -> str:
    """The email this login attempt names, as accounts store it ('' if none)."""
    return (request.form.get("email") or "").strip().lower()[:254]


def account_key(email: str) -> str:
    """The key failures of one account are counted by: an HMAC, never the email."""
    return keyed_digest("login", email)


def _window() -> tuple[int, timedelta]:
    limit = parse(current_app.config["RATELIMIT_LOGIN_ACCOUNT"])
    return limit.amount, timedelta(seconds=limit.get_expiry())


def seconds_blocked(email: str) -> int:
    """0 while the account may try; else the seconds until its oldest counted
    failure leaves the window and it may try again."""
    if not email or not current_app.config["RATELIMIT_ENABLED"]:
        return 0
    amount, window = _window()
    now = utcnow()
    failures = db.session.scalars(
        sa.select(LoginFailure.failed_at)
        .where(
            LoginFailure.account_key == account_key(email),
            LoginFailure.failed_at > now - window,
        )
        .order_by(LoginFailure.failed_at.desc())
        .limit(amount)
    ).all()
    if len(failures) < amount:
        return 0
    return max(1, int((failures[-1] + window - now).total_seconds()) + 1)


def record_failure(email: str) -> None:
    """Count one failed login for the account, and forget those out of the window."""
    if not email:
        return
    _, window = _window()
    key = account_key(email)
    db.session.execute(
        sa.delete(LoginFailure).where(
            LoginFailure.account_key == key, LoginFailure.failed_at <= utcnow() - window
        )
    )
    db.session.add(LoginFailure(account_key=key))
    db.session.commit()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(moderator: Moderator) -> None:
    """Start a server-side session for this login; its token goes in the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(ModeratorSession(moderator_id=moderator.id, token_hash=_hash(token)))
    db.session.commit()
    session[_SESSION_KEY] = token


def session_is_open(moderator: Moderator) -> bool:
    """True while this request's session row exists for this moderator."""
    token = session.get(_SESSION_KEY)
    if not isinstance(token, str) or not token:
        return False
    found = db.session.scalar(
        sa.select(ModeratorSession.moderator_id).where(
            ModeratorSession.token_hash == _hash(token)
        )
    )
    return found == moderator.id


def close_session(everywhere: bool = False, moderator: Moderator | None = None) -> None:
    """End this session on the server; with `everywhere`, every session of the
    moderator."""
    token = session.pop(_SESSION_KEY, None)
    statement = sa.delete(ModeratorSession)
    if everywhere and moderator is not None:
        statement = statement.where(ModeratorSession.moderator_id == moderator.id)
    elif isinstance(token, str):
        statement = statement.where(ModeratorSession.token_hash == _hash(token))
    else:
        return
    db.session.execute(statement)
    db.session.commit()
