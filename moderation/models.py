"""Database models: sites, threads, comments, their scores, rule hits and decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .screening.base import DEFAULT_THRESHOLDS, Policy


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no zone, PostgreSQL is told."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store times with a zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class CommentStatus(StrEnum):
    """Where a comment stands. Only `published` comments are shown to readers."""

    RECEIVED = "received"  # stored, not yet screened
    HELD = "held"  # waiting for a moderator
    PUBLISHED = "published"
    REJECTED = "rejected"


def _enum(enum: type[StrEnum], name: str) -> sa.Enum:
    return sa.Enum(
        enum,
        name=name,
        native_enum=False,
        length=16,
        create_constraint=True,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Site(db.Model):  # type: ignore[name-defined,misc]
    """A publisher: where its pages live and how strictly its comments are screened."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # Origins (scheme://host[:port]) allowed to frame the thread and post to it.
    allowed_origins: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    hold_thresholds: Mapped[dict[str, float]] = mapped_column(
        sa.JSON, default=lambda: dict(DEFAULT_THRESHOLDS)
    )
    reject_threshold: Mapped[float | None] = mapped_column(sa.Float)
    link_limit: Mapped[int] = mapped_column(default=1)
    banned_words: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    suspect_words: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    premoderate: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    threads: Mapped[list[Thread]] = relationship(back_populates="site")

    def policy(self) -> Policy:
        """The screening settings of this site."""
        return Policy(
            hold_thresholds=dict(self.hold_thresholds or DEFAULT_THRESHOLDS),
            reject_threshold=self.reject_threshold,
            link_limit=self.link_limit,
            banned_words=tuple(self.banned_words or ()),
            suspect_words=tuple(self.suspect_words or ()),
            premoderate=self.premoderate,
        )


class Thread(db.Model):  # type: ignore[name-defined,misc]
    """The comments under one article, keyed by the site's own identifier."""

    __tablename__ = "threads"
    __table_args__ = (sa.UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    key: Mapped[str] = mapped_column(sa.String(200))
    url: Mapped[str] = mapped_column(sa.String(2000), default="")
    title: Mapped[str] = mapped_column(sa.String(300), default="")
    is_open: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship(back_populates="threads")
    comments: Mapped[list[Comment]] = relationship(back_populates="thread")


class Comment(db.Model):  # type: ignore[name-defined,misc]
    """A reader's comment: the body as entered, its rendering, and where it stands."""

    __tablename__ = "comments"
    __table_args__ = (
        # A double submit of one form stores one comment.
        sa.UniqueConstraint("thread_id", "idempotency_key"),
        sa.Index(
            "ix_comments_thread_status_created", "thread_id", "status", "created_at"
        ),
        sa.Index("ix_comments_status_created", "status", "created_at"),
        sa.Index("ix_comments_thread_fingerprint", "thread_id", "fingerprint"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("threads.id"))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("comments.id"))
    handle: Mapped[str] = mapped_column(sa.String(40))
    # Never shown to readers; used by moderators only.
    email: Mapped[str | None] = mapped_column(sa.String(254))
    body: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[CommentStatus] = mapped_column(
        _enum(CommentStatus, "comment_status"), default=CommentStatus.RECEIVED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )
    screened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64))
    # Hash of the normalised body: finds repeats in a thread without a text index.
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    # The classifier that scored it, or None when it was never scored.
    classifier: Mapped[str | None] = mapped_column(sa.String(200))
    # The screening job is the row itself: a worker claims it with a token and a
    # lease; a verdict is stored only under the token that claimed it.
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    claimed_by: Mapped[str | None] = mapped_column(sa.String(120))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    screen_attempts: Mapped[int] = mapped_column(default=0, server_default="0")

    thread: Mapped[Thread] = relationship(back_populates="comments")
    parent: Mapped[Comment | None] = relationship(remote_side=[id])
    scores: Mapped[list[Score]] = relationship(
        back_populates="comment", order_by="Score.id", cascade="all, delete-orphan"
    )
    rule_hits: Mapped[list[RuleHit]] = relationship(
        back_populates="comment", order_by="RuleHit.id", cascade="all, delete-orphan"
    )
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="comment", order_by="Decision.id", cascade="all, delete-orphan"
    )

    @property
    def published(self) -> bool:
        return self.status is CommentStatus.PUBLISHED


class Score(db.Model):  # type: ignore[name-defined,misc]
    """One label's score from one classifier for one comment."""

    __tablename__ = "scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id"), index=True)
    classifier: Mapped[str] = mapped_column(sa.String(200))
    version: Mapped[str] = mapped_column(sa.String(200))
    label: Mapped[str] = mapped_column(sa.String(40))
    value: Mapped[float] = mapped_column(sa.Float)

    comment: Mapped[Comment] = relationship(back_populates="scores")


class RuleHit(db.Model):  # type: ignore[name-defined,misc]
    """A rule that fired on a comment, with the matched spans for highlighting."""

    __tablename__ = "rule_hits"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id"), index=True)
    rule: Mapped[str] = mapped_column(sa.String(40))
    action: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.String(500))
    # [[start, end, text], ...] offsets into Comment.body.
    spans: Mapped[list[list[Any]]] = mapped_column(sa.JSON, default=list)

    comment: Mapped[Comment] = relationship(back_populates="rule_hits")


class Moderator(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    """A person who works the queue."""

    __tablename__ = "moderators"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive moderators cannot log in
        return self.active

    def set_password(self, password: str) -> None:
        """Store a salted scrypt hash (werkzeug's default), never the password."""
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        """True when the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)


class Decision(db.Model):  # type: ignore[name-defined,misc]
    """An audit row for every status change: who, from, to, why, when."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id"), index=True)
    # None when the screen decided; the moderator otherwise.
    moderator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("moderators.id"))
    actor: Mapped[str] = mapped_column(sa.String(254))
    from_status: Mapped[CommentStatus] = mapped_column(
        _enum(CommentStatus, "decision_from_status")
    )
    to_status: Mapped[CommentStatus] = mapped_column(
        _enum(CommentStatus, "decision_to_status")
    )
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    comment: Mapped[Comment] = relationship(back_populates="decisions")
    moderator: Mapped[Moderator | None] = relationship()
