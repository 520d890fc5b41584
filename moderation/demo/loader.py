"""Load the demo: site `demo`, thread `seed-article`, the seed's five comments."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import (
    AuditEntry,
    Comment,
    CommentStatus,
    Decision,
    Moderator,
    Role,
    Site,
    Thread,
)
from ..origins import origin_of
from ..rendering import render_body
from ..services.audit import record
from ..services.comments import fingerprint
from .article import load_article
from .history import load_history

logger = logging.getLogger(__name__)

SITE = "demo"
THREAD = "seed-article"
TIMEZONE = "America/New_York"  # the seed's newsroom is in the US East
# The site's name: lists show its slug beside it, so "(demo)" is not part of it.
NAME = "BBN – Big Big News"
# What earlier versions named it: renamed once, as nobody could have chosen it.
OLD_NAME = "BBN – Big Big News (demo)"
ACTOR = "load-demo"  # who the audit log names for what the loader changes
MODERATOR_EMAIL = "moderator@example.com"


@dataclass
class DemoLogin:
    email: str
    password: str | None  # None: the moderator existed but its password file is gone


def demo_origins(public_url: str) -> list[str]:
    """The origins the demo page is served from: the public URL and its twin."""
    origin = origin_of(public_url)
    parts = urlsplit(origin)
    twins = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}
    origins = [origin]
    if parts.hostname in twins:
        port = f":{parts.port}" if parts.port else ""
        origins.append(f"{parts.scheme}://{twins[parts.hostname]}{port}")
    return origins


def extra_origins() -> list[str]:
    """DEMO_EXTRA_ORIGINS: more publisher origins for the demo site (a list, or
    comma-separated), e.g. a page on another host embedding the demo thread."""
    raw = current_app.config.get("DEMO_EXTRA_ORIGINS") or []
    values = raw.split(",") if isinstance(raw, str) else list(raw)
    return [o for o in (origin_of(str(v).strip()) for v in values) if o]


def load_demo(
    public_url: str, instance_path: Path, *, history: bool = True
) -> tuple[Thread, DemoLogin]:
    """Create the demo site, thread, comments and moderator where missing."""
    site = _demo_site(public_url)
    article = load_article()
    thread = db.session.scalar(sa.select(Thread).filter_by(site=site, key=THREAD))
    if thread is None:
        thread = Thread(site=site, key=THREAD)
        db.session.add(thread)
    thread.title = article.headline
    thread.url = public_url.rstrip("/") + "/demo"
    db.session.flush()
    zone = ZoneInfo(TIMEZONE)
    for number, seed in enumerate(article.comments, start=1):
        key = f"seed-{number}"
        if db.session.scalar(
            sa.select(Comment.id).filter_by(thread_id=thread.id, idempotency_key=key)
        ):
            continue
        comment = Comment(
            thread=thread,
            handle=seed.handle,
            body=seed.body,
            html=render_body(seed.body),
            status=CommentStatus.PUBLISHED,
            created_at=seed.local_time.replace(tzinfo=zone),
            idempotency_key=key,
            fingerprint=fingerprint(seed.body),
        )
        comment.decisions.append(
            Decision(
                actor="import",
                from_status=CommentStatus.RECEIVED,
                to_status=CommentStatus.PUBLISHED,
                reason="published on the seed page",
            )
        )
        db.session.add(comment)
    login = _demo_moderator(instance_path)
    db.session.commit()
    if history:  # decided comments on older articles: calibration has figures
        load_history(site, MODERATOR_EMAIL)
    return thread, login


def _demo_site(public_url: str) -> Site:
    """The demo site: created when missing, otherwise left as an admin saved it.

    The demo page is served by this app, so its origin (PUBLIC_URL, and
    DEMO_EXTRA_ORIGINS) must be allowed; origins missing from an existing site
    are added to what is there, never replacing it, and the addition is audited.
    An origin an admin took out in Sites → Settings stays out.
    """
    wanted = demo_origins(public_url) + extra_origins()
    site = db.session.scalar(sa.select(Site).filter_by(slug=SITE))
    if site is None:
        site = Site(slug=SITE, name=NAME, timezone=TIMEZONE, allowed_origins=wanted)
        db.session.add(site)
        db.session.flush()
        record(
            "site.created",
            "site",
            site.id,
            actor=ACTOR,
            site_id=site.id,
            after={"slug": SITE, "name": NAME, "allowed_origins": wanted},
        )
        return site
    saved = list(site.allowed_origins or [])
    removed = _removed_origins(site)
    added = [
        origin
        for origin in dict.fromkeys(wanted)
        if origin not in saved and origin not in removed
    ]
    for origin in dict.fromkeys(wanted):
        if origin not in saved and origin in removed:
            logger.warning(
                "demo site: not adding %s, which was removed in Sites → Settings",
                origin,
            )
    if added:
        site.allowed_origins = saved + added
        record(
            "site.settings",
            "site",
            site.id,
            actor=ACTOR,
            site_id=site.id,
            before={"allowed_origins": saved},
            after={"allowed_origins": saved + added},
            reason="load-demo added the origins the demo page is served from: "
            + ", ".join(added),
        )
        logger.info("demo site: added origins %s", ", ".join(added))
    if site.name == OLD_NAME:
        site.name = NAME
        record(
            "site.renamed",
            "site",
            site.id,
            actor=ACTOR,
            site_id=site.id,
            before={"name": OLD_NAME},
            after={"name": NAME},
            reason='the slug is shown beside the name: no "(demo)" twice',
        )
    return site


def _removed_origins(site: Site) -> set[str]:
    """Origins whose last recorded change took them out of the site (an admin's
    save): the loader does not put them back."""
    rows = db.session.scalars(
        sa.select(AuditEntry)
        .where(
            AuditEntry.site_id == site.id,
            AuditEntry.action.in_(("site.settings", "site.created")),
        )
        .order_by(AuditEntry.id)
    )
    removed: set[str] = set()
    for row in rows:  # oldest first: the last change of each origin wins
        before = set((row.before or {}).get("allowed_origins") or [])
        after = set((row.after or {}).get("allowed_origins") or [])
        removed = (removed | (before - after)) - after
    return removed


def _demo_moderator(instance_path: Path) -> DemoLogin:
    """The demo moderator; its password is generated once and kept under instance/."""
    password_file = instance_path / "demo-moderator.txt"
    moderator = db.session.scalar(sa.select(Moderator).filter_by(email=MODERATOR_EMAIL))
    if moderator is not None:
        password = None
        if password_file.exists():
            password = password_file.read_text().split()[-1]
        return DemoLogin(MODERATOR_EMAIL, password)
    password = secrets.token_urlsafe(12)
    # An admin, so that the demo shows every page: settings, moderators, audit.
    moderator = Moderator(email=MODERATOR_EMAIL, name="Demo moderator", role=Role.ADMIN)
    moderator.set_password(password)
    db.session.add(moderator)
    instance_path.mkdir(parents=True, exist_ok=True)
    password_file.write_text(f"{MODERATOR_EMAIL} {password}\n")
    password_file.chmod(0o600)
    logger.info("created the demo moderator %s", MODERATOR_EMAIL)
    return DemoLogin(MODERATOR_EMAIL, password)
