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
from ..models import Comment, CommentStatus, Decision, Moderator, Role, Site, Thread
from ..origins import origin_of
from ..rendering import render_body
from ..services.comments import fingerprint
from .article import load_article

logger = logging.getLogger(__name__)

SITE = "demo"
THREAD = "seed-article"
TIMEZONE = "America/New_York"  # the seed's newsroom is in the US East
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


def load_demo(public_url: str, instance_path: Path) -> tuple[Thread, DemoLogin]:
    """Create (or refresh) the demo site, thread, comments and moderator."""
    site = db.session.scalar(sa.select(Site).filter_by(slug=SITE))
    if site is None:
        site = Site(slug=SITE, name="BBN – Big Big News (demo)", timezone=TIMEZONE)
        db.session.add(site)
    # The demo page is served by this app, so its origin follows PUBLIC_URL.
    site.allowed_origins = demo_origins(public_url) + extra_origins()
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
    return thread, login


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
