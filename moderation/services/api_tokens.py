"""Moderation API tokens: made once, shown once, stored as a SHA-256 only.

A token acts as its moderator: the moderator's role and sites apply, and a
deactivated moderator's tokens stop working with their account.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import timedelta

import sqlalchemy as sa

from ..errors import InvalidTransition, NotFound, Unauthorized
from ..extensions import db
from ..models import ApiToken, Moderator, utcnow
from .audit import record

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "mod_"
# mod_ + 32 random bytes, URL-safe base64 without padding (43 characters).
TOKEN_SHAPE = re.compile(r"^mod_[A-Za-z0-9_-]{43}$")
DISPLAY_LENGTH = 12  # "mod_" and 8 characters: enough to tell tokens apart
# last_used_at is a hint for people, not a log: one write a minute per token at most.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest stored for a token (the token itself never is)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    moderator: Moderator, name: str = "", *, by: Moderator | None = None
) -> tuple[ApiToken, str]:
    """Make a token for `moderator`; returns the row and the token, shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        moderator_id=moderator.id,
        name=name.strip()[:100],
        token_hash=token_hash(token),
        prefix=token[:DISPLAY_LENGTH],
    )
    db.session.add(row)
    db.session.flush()
    record(
        "token.created",
        "api_token",
        row.id,
        moderator=by,
        actor=None if by is not None else "cli",
        after={"moderator": moderator.email, "name": row.name, "prefix": row.prefix},
    )
    db.session.commit()
    logger.info("API token %s made for moderator %s", row.id, moderator.id)
    return row, token


def get_token(token_id: int) -> ApiToken:
    """One token row, or NotFound."""
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"No API token {token_id}.")
    return row


def revoke_token(row: ApiToken, *, by: Moderator | None = None) -> ApiToken:
    """Revoke a token for good (audited); revoking twice is refused."""
    if row.revoked_at is not None:
        raise InvalidTransition(f"API token {row.prefix}… is already revoked.")
    row.revoked_at = utcnow()
    record(
        "token.revoked",
        "api_token",
        row.id,
        moderator=by,
        actor=None if by is not None else "cli",
        before={"revoked": False},
        after={"revoked": True, "prefix": row.prefix, "moderator": row.moderator.email},
    )
    db.session.commit()
    logger.info("API token %s revoked", row.id)
    return row


def tokens_of(moderator_id: int | None = None) -> list[ApiToken]:
    """Tokens, newest first; one moderator's when `moderator_id` is given."""
    statement = sa.select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id)
    if moderator_id is not None:
        statement = statement.where(ApiToken.moderator_id == moderator_id)
    return list(db.session.scalars(statement))


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization: Bearer ...` header; Unauthorized otherwise."""
    if not header:
        raise Unauthorized("Send an API token as 'Authorization: Bearer TOKEN'.")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not TOKEN_SHAPE.match(token):
        raise Unauthorized(
            "The Authorization header must be 'Bearer' and a token (mod_...)."
        )
    return token


def authenticate(header: str | None) -> Moderator:
    """The active moderator a bearer token acts as; Unauthorized when it cannot."""
    token = bearer_token(header)
    row = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == token_hash(token))
    )
    if row is None or row.revoked_at is not None or not row.moderator.active:
        raise Unauthorized("This API token is unknown or revoked.")
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        # A conditional update: concurrent requests write once, never fight.
        db.session.execute(
            sa.update(ApiToken)
            .where(
                ApiToken.id == row.id,
                sa.or_(
                    ApiToken.last_used_at.is_(None),
                    ApiToken.last_used_at <= now - LAST_USED_RESOLUTION,
                ),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return row.moderator
