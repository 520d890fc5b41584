"""Sites, moderators of each role, comments and logged-in clients, made directly."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from moderation.extensions import db
from moderation.models import (
    Comment,
    CommentStatus,
    Moderator,
    Report,
    ReportReason,
    Role,
    RuleHit,
    Score,
    Site,
    Thread,
)
from moderation.rendering import render_body
from moderation.services.comments import fingerprint

PASSWORD = "a long enough password"


def add_site(app: Flask, slug: str) -> int:
    """A site with one thread keyed `article`; returns the site's id."""
    with app.app_context():
        site = Site(slug=slug, name=f"Site {slug}")
        db.session.add(site)
        db.session.add(Thread(site=site, key="article", title=f"{slug} article"))
        db.session.commit()
        return site.id


def add_moderator(
    app: Flask,
    email: str,
    role: Role = Role.MODERATOR,
    sites: Sequence[str] = (),
    password: str = PASSWORD,
) -> int:
    """A moderator working the sites named (by slug); returns its id."""
    with app.app_context():
        moderator = Moderator(email=email, name=email.split("@")[0], role=role)
        # A cheap hash: scrypt's half-second per login would dominate the tests.
        moderator.password_hash = generate_password_hash(password, "pbkdf2:sha256:1000")
        moderator.sites = list(
            db.session.scalars(sa.select(Site).where(Site.slug.in_(sites)))
        )
        db.session.add(moderator)
        db.session.commit()
        return moderator.id


def add_comment(
    app: Flask,
    site: str,
    body: str = "A comment to review.",
    status: CommentStatus = CommentStatus.HELD,
    **fields: object,
) -> int:
    """A comment on the site's `article` thread (or the demo's), with evidence."""
    with app.app_context():
        thread = db.session.scalar(
            sa.select(Thread).join(Thread.site).where(Site.slug == site).limit(1)
        )
        comment = Comment(
            thread=thread,
            handle=str(fields.pop("handle", "Reader")),
            body=body,
            html=render_body(body),
            status=status,
            fingerprint=fingerprint(body),
            **fields,
        )
        comment.scores.append(
            Score(classifier="fixed", version="1", label="toxicity", value=0.8)
        )
        comment.rule_hits.append(
            RuleHit(
                rule="suspect-word",
                action="hold",
                reason="suspect word",
                spans=[[0, 1, body[:1]]],
            )
        )
        # A report count comes with its reports, as reports.report_comment makes it.
        for number in range(int(str(fields.get("report_count", 0)))):
            comment.reports.append(
                Report(
                    reason=ReportReason.ABUSE, reporter_key=f"net:test{number}"
                )
            )
        db.session.add(comment)
        db.session.commit()
        return comment.id


def login(app: Flask, email: str, password: str = PASSWORD) -> FlaskClient:
    """A client logged in as `email` (CSRF off for brevity)."""
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    response = client.post("/mod/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.status_code
    return client
