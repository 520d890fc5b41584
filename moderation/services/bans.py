"""People: bans (handle, email, hashed network) and each handle's standing on a site.

A ban's value is normalised once, here: handles and emails stripped and lower-cased,
a network ban holds the HMAC key `clients.network_key()` gave the comment it came
from. Moderators never see or type an address.

A handle's standing decides pre-moderation beyond the screen (see `standings`):
"always pre-moderate" holds even clean comments; a trusted handle's clean comments
skip the site's and the thread's pre-moderation; `auto` trust is earned with
`site.trust_after` published comments on that site (published by the screen or by
a moderator: a comment that was later rejected no longer counts), counted under
the handle as typed, so that an index serves the count.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask_babel import gettext as _

from ..errors import Banned, Forbidden, InvalidInput, InvalidTransition, NotFound
from ..extensions import db
from ..models import (
    Ban,
    BanKind,
    Comment,
    CommentStatus,
    Handle,
    Moderator,
    Site,
    Thread,
    Trust,
    utcnow,
)
from .access import can_moderate, require_site
from .audit import record

logger = logging.getLogger(__name__)

# What the ban form offers; None: until lifted.
DURATIONS: dict[str, timedelta | None] = {
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "permanent": None,
}
DURATION_LABELS = {
    "1d": "1 day",
    "7d": "7 days",
    "30d": "30 days",
    "permanent": "Permanently",
}


def normalise(kind: BanKind, value: str) -> str:
    """A ban value as stored and matched: handles and emails lower-cased."""
    value = value.strip()
    return value if kind is BanKind.NETWORK else value.lower()


def stored_handle(handle: str) -> str:
    """A handle as Handle rows and bans store it."""
    return handle.strip().lower()


def _ban_json(ban: Ban) -> dict[str, object]:
    """A ban for the audit log (a network ban's value is a keyed hash, no address)."""
    return {
        "site_id": ban.site_id,
        "kind": ban.kind.value,
        "value": ban.value,
        "expires_at": ban.expires_at.isoformat() if ban.expires_at else None,
        "lifted_at": ban.lifted_at.isoformat() if ban.lifted_at else None,
    }


def _require_scope(moderator: Moderator, site_id: int | None) -> None:
    """Site bans need the site; bans on every site need an admin."""
    if site_id is None:
        if not moderator.is_admin:
            raise Forbidden("Only admins may ban on every site.")
    else:
        require_site(moderator, site_id)


def ban(
    site: Site | None,
    kind: BanKind,
    value: str,
    *,
    moderator: Moderator,
    reason: str,
    duration: timedelta | None,
) -> Ban:
    """Ban a handle, email or network key on one site (None: every site); commits."""
    site_id = site.id if site is not None else None
    _require_scope(moderator, site_id)
    try:
        kind = BanKind(kind)
    except ValueError as error:
        raise InvalidInput(
            "A ban is on a handle, an email or a network.",
            {"kind": ["Choose handle, email or network."]},
        ) from error
    value = normalise(kind, value)
    if not value:
        raise InvalidInput(
            f"Give the {kind.value} to ban.", {"value": ["This field is required."]}
        )
    if len(value) > 254:
        raise InvalidInput(
            "A ban value has at most 254 characters.",
            {"value": ["At most 254 characters."]},
        )
    if duration is not None and duration <= timedelta(0):
        raise InvalidInput("A ban lasts a positive time, or until lifted.")
    now = utcnow()
    entry = Ban(
        site_id=site_id,
        kind=kind,
        value=value,
        reason=reason.strip(),
        created_by_id=moderator.id,
        created_at=now,
        expires_at=now + duration if duration is not None else None,
    )
    db.session.add(entry)
    db.session.flush()
    record(
        "ban.created",
        "ban",
        entry.id,
        moderator=moderator,
        site_id=site_id,
        before=None,
        after=_ban_json(entry),
        reason=entry.reason,
    )
    db.session.commit()
    logger.info(
        "ban %s: %s on site %s by moderator %s",
        entry.id,
        kind.value,
        site_id,
        moderator.id,
    )
    return entry


def lift_ban(ban: Ban, *, moderator: Moderator, reason: str = "") -> Ban:
    """Lift a ban now (kept, never deleted); commits."""
    _require_scope(moderator, ban.site_id)
    if ban.lifted_at is not None:
        raise InvalidTransition(f"Ban {ban.id} was already lifted.")
    before = _ban_json(ban)
    ban.lifted_at = utcnow()
    ban.lifted_by_id = moderator.id
    record(
        "ban.lifted",
        "ban",
        ban.id,
        moderator=moderator,
        site_id=ban.site_id,
        before=before,
        after=_ban_json(ban),
        reason=reason.strip(),
    )
    db.session.commit()
    logger.info("ban %s lifted by moderator %s", ban.id, moderator.id)
    return ban


def is_active(ban: Ban, now: datetime | None = None) -> bool:
    """True while the ban neither expired nor was lifted."""
    now = now or utcnow()
    return ban.lifted_at is None and (ban.expires_at is None or ban.expires_at > now)


def _active_clause(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        Ban.lifted_at.is_(None),
        sa.or_(Ban.expires_at.is_(None), Ban.expires_at > now),
    )


def active_ban(
    site: Site, handle: str, email: str | None, network_key: str | None
) -> Ban | None:
    """The ban that keeps this poster from this site now (the longest), or None."""
    matches = [
        sa.and_(
            Ban.kind == BanKind.HANDLE, Ban.value == normalise(BanKind.HANDLE, handle)
        )
    ]
    if email:
        matches.append(
            sa.and_(
                Ban.kind == BanKind.EMAIL, Ban.value == normalise(BanKind.EMAIL, email)
            )
        )
    if network_key:
        matches.append(sa.and_(Ban.kind == BanKind.NETWORK, Ban.value == network_key))
    now = utcnow()
    bans = db.session.scalars(
        sa.select(Ban).where(
            _active_clause(now),
            sa.or_(Ban.site_id.is_(None), Ban.site_id == site.id),
            sa.or_(*matches),
        )
    ).all()
    if not bans:
        return None
    # A permanent ban outlasts any other; else the one that ends last.
    return max(bans, key=lambda b: (b.expires_at is None, b.expires_at or now))


def ban_message(ban: Ban, timezone: str = "UTC") -> str:
    """What a banned reader is told (no reason, no kind: nothing to work around)."""
    if ban.expires_at is None:
        return _("You can't comment here permanently.")
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    until = ban.expires_at.astimezone(zone)
    date = f"{until:%B} {until.day}, {until:%Y %H:%M} {until.tzname()}"
    return _("You can't comment here until %(date)s.", date=date)


def check_not_banned(
    site: Site, handle: str, email: str | None, network_key: str | None
) -> None:
    """Banned (403) when an active ban covers this poster on this site."""
    found = active_ban(site, handle, email, network_key)
    if found is not None:
        logger.info("post refused on site %s: ban %s", site.id, found.id)
        raise Banned(ban_message(found, site.timezone))


def get_ban(ban_id: int) -> Ban:
    """The ban with this id, or NotFound."""
    found = db.session.get(Ban, ban_id)
    if found is None:
        raise NotFound(f"No ban {ban_id}.")
    return found


def list_bans(moderator: Moderator, *, active_only: bool = True) -> list[Ban]:
    """The bans a moderator may see (their sites and every-site bans), newest first."""
    statement = sa.select(Ban).order_by(Ban.created_at.desc(), Ban.id.desc())
    if active_only:
        statement = statement.where(_active_clause(utcnow()))
    if not moderator.is_admin:
        sites = {site.id for site in moderator.sites} or {-1}
        statement = statement.where(
            sa.or_(Ban.site_id.is_(None), Ban.site_id.in_(sites))
        )
    return list(db.session.scalars(statement.limit(500)))


def may_lift(moderator: Moderator, ban: Ban) -> bool:
    """True when the moderator may lift this ban."""
    if ban.site_id is None:
        return moderator.is_admin
    return can_moderate(moderator, ban.site_id)


# Handles -------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """How one handle's comments are treated on one site beyond the screen."""

    premoderate: bool = False
    trust: Trust = Trust.AUTO
    published: int = 0  # published comments on the site (counted when needed)
    trusted: bool = False  # trusted now, by setting or by count


def get_handle(site: Site, handle: str) -> Handle | None:
    """The stored settings of a handle on a site, or None (defaults)."""
    return db.session.scalar(
        sa.select(Handle).filter_by(site_id=site.id, handle=stored_handle(handle))
    )


def _published_counts(
    wanted: dict[int, set[str]], spellings: set[str]
) -> dict[tuple[int, str], int]:
    """Published comments per (site, lower-cased handle), in one grouped query.

    Matched on the handles as typed (`spellings`), so that the (handle,
    created_at) index serves it: lower(handle) would read every comment of
    the site, once per batch. A reader who changes the case of their handle
    starts counting afresh; trust comes later, never sooner.
    """
    if not wanted:
        return {}
    # Only the handle in the WHERE: a condition on the status or the site leads
    # SQLite to those indexes (every published comment, every thread of the
    # site) instead of the handle's. Status is counted, sites filtered below.
    published = sa.func.sum(
        sa.case((Comment.status == CommentStatus.PUBLISHED, 1), else_=0)
    )
    rows = db.session.execute(
        sa.select(Thread.site_id, Comment.handle, published)
        .join(Comment.thread)
        .where(Comment.handle.in_(spellings))
        .group_by(Thread.site_id, Comment.handle)
    )
    counts: dict[tuple[int, str], int] = {}
    for site_id, spelled, count in rows:
        key = stored_handle(spelled)
        if key in wanted.get(site_id, ()):
            counts[(site_id, key)] = counts.get((site_id, key), 0) + int(count or 0)
    return counts


def standings(
    pairs: Iterable[tuple[Site, str]], *, count_for: Iterable[int] = ()
) -> dict[tuple[int, str], Standing]:
    """Standing of each (site, handle), keyed (site id, lower-cased handle).

    One query for the Handle rows; published comments are counted (one more
    grouped query) only on the sites in `count_for`, where auto trust matters
    because pre-moderation is on: elsewhere it changes nothing.
    """
    sites: dict[int, Site] = {}
    keys: set[tuple[int, str]] = set()
    spellings: set[str] = set()
    for site, handle in pairs:
        sites[site.id] = site
        keys.add((site.id, stored_handle(handle)))
        spellings.add(handle.strip())
    if not keys:
        return {}
    rows = {
        (row.site_id, row.handle): row
        for row in db.session.scalars(
            sa.select(Handle).where(
                Handle.site_id.in_(sites), Handle.handle.in_({h for _, h in keys})
            )
        )
    }
    count_sites = set(count_for)
    wanted: dict[int, set[str]] = {}
    for site_id, handle in keys:
        row = rows.get((site_id, handle))
        trust = row.trust if row is not None else Trust.AUTO
        if (
            site_id in count_sites
            and trust is Trust.AUTO
            and sites[site_id].trust_after > 0
        ):
            wanted.setdefault(site_id, set()).add(handle)
    counts = _published_counts(wanted, spellings)
    result = {}
    for site_id, handle in keys:
        row = rows.get((site_id, handle))
        trust = row.trust if row is not None else Trust.AUTO
        published = counts.get((site_id, handle), 0)
        after = sites[site_id].trust_after
        result[(site_id, handle)] = Standing(
            premoderate=bool(row and row.premoderate),
            trust=trust,
            published=published,
            trusted=trust is Trust.TRUSTED
            or (trust is Trust.AUTO and after > 0 and published >= after),
        )
    return result


def standing(site: Site, handle: str) -> Standing:
    """One handle's standing on one site, its published comments counted."""
    return standings([(site, handle)], count_for=[site.id])[
        (site.id, stored_handle(handle))
    ]


def set_handle(
    site: Site,
    handle: str,
    *,
    moderator: Moderator,
    premoderate: bool,
    trust: Trust,
    reason: str = "",
) -> Handle:
    """Set a handle's pre-moderation and trust on a site (audited); commits."""
    require_site(moderator, site.id)
    key = stored_handle(handle)
    if not key or len(key) > 40:
        raise InvalidInput("A handle has 1 to 40 characters.")
    row = get_handle(site, key)
    before = (
        {"premoderate": row.premoderate, "trust": row.trust.value}
        if row is not None
        else {"premoderate": False, "trust": Trust.AUTO.value}
    )
    if row is None:
        row = Handle(site_id=site.id, handle=key)
        db.session.add(row)
    row.premoderate = premoderate
    row.trust = Trust(trust)
    after = {"premoderate": row.premoderate, "trust": row.trust.value}
    if after != before:
        record(
            "handle.standing",
            "handle",
            key,
            moderator=moderator,
            site_id=site.id,
            before=before,
            after=after,
            reason=reason.strip(),
        )
    db.session.commit()
    logger.info(
        "handle standing on site %s changed by moderator %s", site.id, moderator.id
    )
    return row


def recent_comments(site: Site, handle: str, limit: int = 50) -> list[Comment]:
    """A handle's latest comments on a site, newest first."""
    return list(
        db.session.scalars(
            sa.select(Comment)
            .join(Comment.thread)
            .where(
                Thread.site_id == site.id,
                sa.or_(
                    sa.func.lower(Comment.handle) == stored_handle(handle),
                    Comment.handle == handle.strip(),  # SQLite folds ASCII only
                ),
            )
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .limit(limit)
        )
    )


def handle_bans(site: Site, handle: str) -> list[Ban]:
    """Active bans of this handle on the site (or on every site)."""
    return list(
        db.session.scalars(
            sa.select(Ban).where(
                _active_clause(utcnow()),
                Ban.kind == BanKind.HANDLE,
                Ban.value == stored_handle(handle),
                sa.or_(Ban.site_id.is_(None), Ban.site_id == site.id),
            )
        )
    )


def premoderation(comments: Iterable[Comment]) -> dict[int, tuple[bool | None, str]]:
    """Per comment id: (premoderate, reason) for the screen's Draft.

    None leaves it to the site's policy. An always-pre-moderated handle is held
    even when clean; a trusted handle's clean comments skip the site's and the
    thread's pre-moderation; a pre-moderated thread holds the rest. Needs each
    comment's thread and site loaded; two queries for the whole batch at most.
    """
    batch = list(comments)
    count_for = {
        c.thread.site_id
        for c in batch
        if c.thread.premoderate or c.thread.site.premoderate
    }
    found = standings(((c.thread.site, c.handle) for c in batch), count_for=count_for)
    result: dict[int, tuple[bool | None, str]] = {}
    for comment in batch:
        thread = comment.thread
        standing = found[(thread.site_id, stored_handle(comment.handle))]
        if standing.premoderate:
            result[comment.id] = (
                True,
                "pre-moderated handle: every comment is reviewed",
            )
        elif standing.trusted:
            result[comment.id] = (False, "")
        elif thread.premoderate:
            result[comment.id] = (
                True,
                "surge: this thread is pre-moderated for now"
                if thread.surge_at is not None
                else "pre-moderated thread: every comment is reviewed",
            )
        else:
            result[comment.id] = (None, "")
    return result
