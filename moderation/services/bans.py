"""People: bans (handle, email, hashed network) and each handle's standing on a site.

A ban's value is normalised once, here: a handle to its key (`stored_handle`:
case, spacing, punctuation and look-alike characters folded, so that a ban on
"SneakyS" holds "Sneaky S" and "Snеaky-S" too), an email stripped and lower-cased,
a network ban holds the HMAC key `clients.network_key()` gave the comment it came
from. Moderators never see or type an address.

A handle's standing decides pre-moderation beyond the screen (see `standings`):
"always pre-moderate" holds even clean comments, in every spelling; a trusted
handle's clean comments skip the site's and the thread's pre-moderation; `auto`
trust is earned with `site.trust_after` published comments on that site
(published by the screen or by a moderator: a comment that was later rejected no
longer counts). Trust is the reader's, not the name's: only comments from the
network or with the email of that handle's published comments are trusted."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _

from ..errors import Banned, Forbidden, InvalidInput, InvalidTransition, NotFound
from ..extensions import db
from ..models import (
    HANDLE_MAX,
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
from ..rendering import display_time
from ..screening.handles import handle_key
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
    """A ban value as stored and matched: a handle's key, an email lower-cased."""
    if kind is BanKind.HANDLE:
        return stored_handle(value)
    value = value.strip()
    return value if kind is BanKind.NETWORK else value.lower()


def stored_handle(handle: str) -> str:
    """A handle's key, as Handle rows, handle bans and Comment.handle_key hold it."""
    return handle_key(handle)


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


def check_ban(
    site: Site | None,
    kind: BanKind,
    value: str,
    *,
    moderator: Moderator,
    duration: timedelta | None,
) -> tuple[BanKind, str]:
    """What `ban` would refuse, refused before anything is stored or confirmed:
    Forbidden or InvalidInput; else the kind and the value as stored."""
    _require_scope(moderator, site.id if site is not None else None)
    try:
        kind = BanKind(kind)
    except ValueError as error:
        raise InvalidInput(
            "A ban is on a handle, an email or a network.",
            {"kind": ["Choose handle, email or network."]},
        ) from error
    typed = value.strip()
    value = normalise(kind, value)
    if not value:
        raise InvalidInput(
            f"Give the {kind.value} to ban.", {"value": ["This field is required."]}
        )
    # The value as typed: a handle's key is cut to 64 characters.
    if len(typed) > 254:
        raise InvalidInput(
            "A ban value has at most 254 characters.",
            {"value": ["At most 254 characters."]},
        )
    if duration is not None and duration <= timedelta(0):
        raise InvalidInput("A ban lasts a positive time, or until lifted.")
    return kind, value


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
    kind, value = check_ban(site, kind, value, moderator=moderator, duration=duration)
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
    """What a banned reader is told (no reason, no kind: nothing to work around).

    The end of the ban is written as the thread writes its comments' times: the
    site's time zone, the reader's language (rendering.display_time).
    """
    if ban.expires_at is None:
        return _("You can't comment here permanently.")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        timezone = "UTC"
    locale = get_locale() if has_request_context() else None
    date = display_time(ban.expires_at, timezone, str(locale or "en"))
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
class Poster:
    """Who wrote a comment, as far as trust can tell: hashed network and email."""

    network_key: str | None = None
    email: str | None = None

    def wrote(self, network_key: str | None, email: str | None) -> bool:
        """True when a comment from this network or with this email is theirs."""
        if self.network_key and network_key == self.network_key:
            return True
        mine = _email(self.email)
        return bool(mine) and _email(email) == mine


def _email(email: str | None) -> str:
    return (email or "").strip().lower()


@dataclass(frozen=True)
class Standing:
    """How one handle's comments are treated on one site beyond the screen."""

    premoderate: bool = False
    trust: Trust = Trust.AUTO
    # Published comments on the site under the handle's key (counted when
    # needed): the poster's own when one is asked about, else everyone's.
    published: int = 0
    # Trusted now: for a poster, when they earned it; else, for whoever did.
    trusted: bool = False


def get_handle(site: Site, handle: str) -> Handle | None:
    """The stored settings of a handle on a site, or None (defaults)."""
    return db.session.scalar(
        sa.select(Handle).filter_by(site_id=site.id, handle=stored_handle(handle))
    )


def _published_by_poster(
    wanted: set[tuple[int, str]],
) -> dict[tuple[int, str], list[tuple[str | None, str | None, int]]]:
    """Per (site, key): published comments, by network key and email, in one query.

    Only the key in the WHERE, so that its (handle_key, created_at) index serves
    it: a condition on the status or the site leads SQLite to those indexes
    (every published comment, every thread of the site) instead. Status is
    counted, sites filtered below.
    """
    if not wanted:
        return {}
    published = sa.func.sum(
        sa.case((Comment.status == CommentStatus.PUBLISHED, 1), else_=0)
    )
    rows = db.session.execute(
        sa.select(
            Thread.site_id,
            Comment.handle_key,
            Comment.network_key,
            Comment.email,
            published,
        )
        .join(Comment.thread)
        .where(Comment.handle_key.in_({key for _, key in wanted}))
        .group_by(
            Thread.site_id, Comment.handle_key, Comment.network_key, Comment.email
        )
    )
    found: dict[tuple[int, str], list[tuple[str | None, str | None, int]]] = {}
    for site_id, key, network, email, count in rows:
        if (site_id, key) in wanted and count:
            found.setdefault((site_id, key), []).append((network, email, int(count)))
    return found


def standings(
    items: Sequence[tuple[Site, str, Poster | None]], *, count_for: Iterable[int] = ()
) -> list[Standing]:
    """Standing of each (site, handle, poster), in the order given.

    Trust, set by a moderator or earned with `site.trust_after` published
    comments, belongs to the reader who earned it: it counts only the handle's
    published comments from the poster's network or with their email, and a
    trusted handle needs one of them. Anyone else typing the handle, in any
    spelling, is a new reader; pre-moderation of a handle holds every spelling.
    With no poster (a moderator's view) everyone's comments count.

    One query for the Handle rows; published comments are counted (one more
    grouped query) only on the sites in `count_for`, where trust matters
    because pre-moderation is on: elsewhere it changes nothing.
    """
    keys = {(site.id, stored_handle(handle)) for site, handle, _ in items}
    if not keys:
        return []
    rows = {
        (row.site_id, row.handle): row
        for row in db.session.scalars(
            sa.select(Handle).where(
                Handle.site_id.in_({site_id for site_id, _ in keys}),
                Handle.handle.in_({key for _, key in keys}),
            )
        )
    }
    count_sites = set(count_for)
    untrusted = {k for k, row in rows.items() if row.trust is Trust.UNTRUSTED}
    anyone = {(site.id, stored_handle(h)) for site, h, poster in items if not poster}
    counts = _published_by_poster(
        {k for k in keys if k[0] in count_sites and (k not in untrusted or k in anyone)}
    )
    result = []
    for site, handle, poster in items:
        key = (site.id, stored_handle(handle))
        row = rows.get(key)
        trust = row.trust if row is not None else Trust.AUTO
        published = sum(
            count
            for network, email, count in counts.get(key, ())
            if poster is None or poster.wrote(network, email)
        )
        if trust is Trust.TRUSTED:
            trusted = published >= 1
        else:
            after = site.trust_after
            trusted = trust is Trust.AUTO and after > 0 and published >= after
        result.append(
            Standing(
                premoderate=bool(row and row.premoderate),
                trust=trust,
                published=published,
                trusted=trusted,
            )
        )
    return result


def standing(site: Site, handle: str, poster: Poster | None = None) -> Standing:
    """One handle's standing on one site (for one poster), comments counted."""
    return standings([(site, handle, poster)], count_for=[site.id])[0]


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
    if not key or len(handle.strip()) > HANDLE_MAX:
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
    """A handle's latest comments on a site, in any spelling, newest first."""
    return list(
        db.session.scalars(
            sa.select(Comment)
            .join(Comment.thread)
            .where(
                Thread.site_id == site.id,
                Comment.handle_key == stored_handle(handle),
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
    Trust is the poster's own (see `standings`): a stranger typing a trusted
    handle is held where a new reader would be.
    """
    batch = list(comments)
    count_for = {
        c.thread.site_id
        for c in batch
        if c.thread.premoderate or c.thread.site.premoderate
    }
    found = standings(
        [(c.thread.site, c.handle, Poster(c.network_key, c.email)) for c in batch],
        count_for=count_for,
    )
    result: dict[int, tuple[bool | None, str]] = {}
    for comment, standing in zip(batch, found, strict=True):
        thread = comment.thread
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
