"""Moderator accounts: create, change role and sites, deactivate; all audited."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from ..errors import InvalidInput, InvalidTransition, NotFound
from ..extensions import db
from ..models import Moderator, Role, Site
from ..services.audit import record

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12


def normal_email(email: str) -> str:
    """The email as accounts store it (validated, lower-cased); InvalidInput if bad."""
    try:
        return validate_email(
            email.strip(), check_deliverability=False
        ).normalized.lower()
    except EmailNotValidError as error:
        raise InvalidInput(str(error), {"email": [str(error)]}) from error


def check_password_strength(password: str) -> None:
    """Refuse passwords shorter than MIN_PASSWORD_LENGTH."""
    if len(password) < MIN_PASSWORD_LENGTH:
        message = f"Use a password of at least {MIN_PASSWORD_LENGTH} characters."
        raise InvalidInput(message, {"password": [message]})


def generate_password() -> str:
    """A random password to hand over once (16 URL-safe characters)."""
    return secrets.token_urlsafe(12)


def get_moderator(moderator_id: int) -> Moderator:
    """One moderator, or NotFound."""
    moderator = db.session.get(Moderator, moderator_id)
    if moderator is None:
        raise NotFound(f"No moderator {moderator_id}.")
    return moderator


def moderator_by_email(email: str) -> Moderator | None:
    """The moderator with this email (any case), or None."""
    return db.session.scalar(
        sa.select(Moderator).where(Moderator.email == email.strip().lower())
    )


def all_moderators() -> list[Moderator]:
    """Every moderator, admins first, then by email."""
    return list(
        db.session.scalars(
            sa.select(Moderator).order_by(Moderator.role, Moderator.email)
        )
    )


def sites_by_slug(slugs: Iterable[str]) -> list[Site]:
    """The sites named; InvalidInput naming any that do not exist."""
    wanted = sorted({slug.strip() for slug in slugs if slug.strip()})
    if not wanted:
        return []
    found = list(
        db.session.scalars(
            sa.select(Site).where(Site.slug.in_(wanted)).order_by(Site.slug)
        )
    )
    missing = set(wanted) - {site.slug for site in found}
    if missing:
        message = f"No site called {', '.join(sorted(missing))}."
        raise InvalidInput(message, {"sites": [message]})
    return found


def _slugs(moderator: Moderator) -> list[str]:
    return sorted(site.slug for site in moderator.sites)


def create_moderator(
    email: str,
    *,
    name: str = "",
    role: Role = Role.MODERATOR,
    sites: Iterable[Site] = (),
    password: str,
    by: Moderator | None = None,
    actor: str | None = None,
) -> Moderator:
    """Create an account (audited as "moderator.created"); 409 if the email exists."""
    email = normal_email(email)
    check_password_strength(password)
    if moderator_by_email(email) is not None:
        raise InvalidTransition(f"A moderator {email} already exists.")
    moderator = Moderator(
        email=email, name=name.strip() or email.split("@")[0], role=role
    )
    moderator.sites = list(sites)
    moderator.set_password(password)
    db.session.add(moderator)
    db.session.flush()
    record(
        "moderator.created",
        "moderator",
        moderator.id,
        moderator=by,
        actor=actor,
        after={
            "email": email,
            "name": moderator.name,
            "role": role.value,
            "sites": _slugs(moderator),
            "active": True,
        },
    )
    db.session.commit()
    logger.info("moderator %s created (%s)", moderator.id, role.value)
    return moderator


def _lock_admins() -> list[int]:
    """The active admins' ids, locked until commit where the database can lock rows.

    Two admins demoting each other at the same moment must not both succeed and
    leave no admin: on PostgreSQL the rows are locked FOR UPDATE; SQLite writes
    one transaction at a time and refuses a write whose read another overtook.
    """
    statement = sa.select(Moderator.id).where(
        Moderator.role == Role.ADMIN, Moderator.active.is_(True)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        statement = statement.order_by(Moderator.id).with_for_update()
    return list(db.session.scalars(statement))


def _keep_an_admin(moderator: Moderator) -> None:
    """409 when `moderator` is the last active admin (who would leave none)."""
    if moderator.is_admin and moderator.active and _lock_admins() == [moderator.id]:
        raise InvalidTransition(
            f"{moderator.email} is the last active admin; make another admin first."
        )


def check_may_deactivate(moderator: Moderator) -> None:
    """409 when deactivating `moderator` would leave no active admin (asked before
    the confirmation, so that nobody confirms what cannot be done)."""
    _keep_an_admin(moderator)


def set_role(
    moderator: Moderator, role: Role, *, by: Moderator | None, actor: str | None = None
) -> bool:
    """Change a moderator's role (audited); False when it was already that."""
    if moderator.role is role:
        return False
    if role is not Role.ADMIN:
        _keep_an_admin(moderator)
    before = moderator.role.value
    moderator.role = role
    record(
        "moderator.role",
        "moderator",
        moderator.id,
        moderator=by,
        actor=actor,
        before={"role": before},
        after={"role": role.value},
    )
    db.session.commit()
    logger.info("moderator %s role %s -> %s", moderator.id, before, role.value)
    return True


def set_sites(
    moderator: Moderator,
    sites: Iterable[Site],
    *,
    by: Moderator | None,
    actor: str | None = None,
) -> bool:
    """Set the sites a moderator works (audited); False when unchanged."""
    before = _slugs(moderator)
    moderator.sites = sorted(set(sites), key=lambda site: site.slug)
    after = _slugs(moderator)
    if before == after:
        return False
    record(
        "moderator.sites",
        "moderator",
        moderator.id,
        moderator=by,
        actor=actor,
        before={"sites": before},
        after={"sites": after},
    )
    db.session.commit()
    logger.info("moderator %s now works %d sites", moderator.id, len(after))
    return True


def set_active(
    moderator: Moderator,
    active: bool,
    *,
    by: Moderator | None,
    actor: str | None = None,
) -> bool:
    """Deactivate or reactivate an account (audited); a deactivated one is logged
    out everywhere and its API tokens stop working. False when unchanged."""
    if moderator.active is active:
        return False
    if not active:
        _keep_an_admin(moderator)
        moderator.end_sessions()
    moderator.active = active
    record(
        "moderator.active",
        "moderator",
        moderator.id,
        moderator=by,
        actor=actor,
        before={"active": not active},
        after={"active": active},
    )
    db.session.commit()
    logger.info("moderator %s active=%s", moderator.id, active)
    return True


def change_password(
    moderator: Moderator,
    current: str,
    new: str,
    *,
    check_current: bool = True,
    actor: str | None = None,
) -> None:
    """Set a new password and end every session signed with the old token.

    `actor` names who set it when it is not the moderator (the CLI).
    """
    if check_current and not moderator.check_password(current):
        message = "The current password is not right."
        raise InvalidInput(message, {"current": [message]})
    check_password_strength(new)
    moderator.set_password(new)
    moderator.end_sessions()
    record(
        "moderator.password",
        "moderator",
        moderator.id,
        moderator=None if actor else moderator,
        actor=actor,
    )
    db.session.commit()
    logger.info("moderator %s changed their password", moderator.id)
