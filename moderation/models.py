"""Database models: sites, threads, comments, their scores, rule hits and decisions."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .screening.base import DEFAULT_THRESHOLDS, Policy
from .screening.handles import KEY_MAX, handle_key


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


# Column sizes that checks on input and imports clip to: one place for each.
THREAD_KEY_MAX = 200
THREAD_URL_MAX = 2000
THREAD_TITLE_MAX = 300
HANDLE_MAX = 40
EMAIL_MAX = 254


class CommentStatus(StrEnum):
    """Where a comment stands. Only `published` comments are shown to readers."""

    RECEIVED = "received"  # stored, not yet screened
    HELD = "held"  # waiting for a moderator
    PUBLISHED = "published"
    REJECTED = "rejected"
    DELETED = "deleted"  # removed by its author within the edit window; kept for audit


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


class Site(db.Model):  # type: ignore[name-defined]
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
    # Reader reports that move a published comment back to the queue.
    report_threshold: Mapped[int] = mapped_column(default=3, server_default="3")
    # Approved comments after which a handle is trusted (0: never by count).
    trust_after: Mapped[int] = mapped_column(default=5, server_default="5")
    # Minutes a reader may edit or delete their own comment, proven by its receipt.
    edit_window_minutes: Mapped[int] = mapped_column(default=15, server_default="15")
    # A reader's erasure request: "redact" keeps their comments in place as
    # "[removed]" (replies keep their context), "delete" removes them from view.
    erasure_mode: Mapped[str] = mapped_column(
        sa.String(16), default="redact", server_default="redact"
    )
    # Surge guard: a thread with more than surge_max_comments new comments, or a
    # held share above surge_held_rate (of at least 10), in surge_window_minutes
    # switches itself to pre-moderation until a moderator switches it back.
    # Tell a reader before storing a comment the screen would hold or reject for
    # toxicity, once per draft (the authorship nudge).
    nudge: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    surge_window_minutes: Mapped[int] = mapped_column(default=10, server_default="10")
    surge_max_comments: Mapped[int] = mapped_column(default=200, server_default="200")
    surge_held_rate: Mapped[float] = mapped_column(
        sa.Float, default=0.6, server_default="0.6"
    )
    # Mail the author of a held comment when a moderator approves or rejects it
    # (only to a confirmed address that asked for replies).
    notify_outcomes: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )
    # Bumped on every change that alters how the site's threads render (time zone).
    revision: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    threads: Mapped[list[Thread]] = relationship(back_populates="site")

    def policy(self) -> Policy:
        """The screening settings of this site (its own head, if any, is added by
        site_heads.site_policy)."""
        return Policy(
            hold_thresholds=dict(self.hold_thresholds or DEFAULT_THRESHOLDS),
            reject_threshold=self.reject_threshold,
            link_limit=self.link_limit,
            banned_words=tuple(self.banned_words or ()),
            suspect_words=tuple(self.suspect_words or ()),
            premoderate=self.premoderate,
        )


class Thread(db.Model):  # type: ignore[name-defined]
    """The comments under one article, keyed by the site's own identifier."""

    __tablename__ = "threads"
    __table_args__ = (sa.UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    key: Mapped[str] = mapped_column(sa.String(THREAD_KEY_MAX))
    url: Mapped[str] = mapped_column(sa.String(THREAD_URL_MAX), default="")
    title: Mapped[str] = mapped_column(sa.String(THREAD_TITLE_MAX), default="")
    is_open: Mapped[bool] = mapped_column(default=True)
    premoderate: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # When the surge guard switched the thread to pre-moderation (None: it has not).
    surge_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped in the same transaction as every change readers could see: the read
    # path's cache keys and ETags carry it, so a change is never served stale.
    revision: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship(back_populates="threads")
    comments: Mapped[list[Comment]] = relationship(back_populates="thread")


class Comment(db.Model):  # type: ignore[name-defined]
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
        # Author history and bans: a handle's or an email's comments, newest first.
        sa.Index("ix_comments_handle_created", "handle", "created_at"),
        sa.Index("ix_comments_email_created", "email", "created_at"),
        sa.Index("ix_comments_network_created", "network_key", "created_at"),
        sa.Index("ix_comments_handle_key_created", "handle_key", "created_at"),
        sa.Index("ix_comments_thread_featured", "thread_id", "featured_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("threads.id"))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("comments.id"))
    handle: Mapped[str] = mapped_column(sa.String(HANDLE_MAX))
    # The handle's identity for bans, trust and history: case, spacing,
    # punctuation and look-alike characters folded (screening.handles). Set
    # whenever the handle is (see `_key_handle`): no path that stores a comment
    # can forget it.
    handle_key: Mapped[str | None] = mapped_column(sa.String(KEY_MAX))
    # Never shown to readers; used by moderators only.
    email: Mapped[str | None] = mapped_column(sa.String(EMAIL_MAX))
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
    # When it entered the review queue it is in now (held by the screen or a
    # moderator, reported, or held by reports past the threshold); None when it
    # is in none. A queue's "waiting" counts from here, not from created_at.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
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
    # HMAC of the poster's network (clients.network_key): bans and history,
    # never the address itself.
    network_key: Mapped[str | None] = mapped_column(sa.String(40))
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    report_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # A moderator who opened the comment holds it for a few minutes; the queue
    # skips it for everyone else until then.
    review_moderator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("moderators.id")
    )
    review_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An editors' pick, shown first; who picked it.
    featured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    featured_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("moderators.id"))
    # Posted by a moderator as staff: shown with a badge.
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("moderators.id"))
    # Readers' "respect" reactions (one per network, rows in reactions).
    like_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # The authorship nudge: None (not nudged), "edited" or "unchanged" after it.
    nudge: Mapped[str | None] = mapped_column(sa.String(16))
    # The author asked for a mail when a reply to this comment is published
    # (sent only once the address is confirmed: notify/subscriptions.py).
    notify_replies: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )

    thread: Mapped[Thread] = relationship(back_populates="comments")
    review_moderator: Mapped[Moderator | None] = relationship(
        foreign_keys=[review_moderator_id]
    )
    featured_by: Mapped[Moderator | None] = relationship(
        foreign_keys=[featured_by_id]
    )
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
    reports: Mapped[list[Report]] = relationship(
        back_populates="comment", order_by="Report.id", cascade="all, delete-orphan"
    )

    @property
    def published(self) -> bool:
        return self.status is CommentStatus.PUBLISHED

    @validates("handle")
    def _key_handle(self, _name: str, handle: str) -> str:
        """Keep handle_key in step with the handle, however a comment is made."""
        self.handle_key = handle_key(handle)
        return handle


class Score(db.Model):  # type: ignore[name-defined]
    """One label's score from one classifier for one comment."""

    __tablename__ = "scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id"), index=True)
    classifier: Mapped[str] = mapped_column(sa.String(200))
    version: Mapped[str] = mapped_column(sa.String(200))
    label: Mapped[str] = mapped_column(sa.String(40))
    value: Mapped[float] = mapped_column(sa.Float)

    comment: Mapped[Comment] = relationship(back_populates="scores")


class RuleHit(db.Model):  # type: ignore[name-defined]
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


class Role(StrEnum):
    """Admins run settings, moderators and every site; moderators work their sites."""

    ADMIN = "admin"
    MODERATOR = "moderator"


moderator_sites = sa.Table(
    "moderator_sites",
    db.metadata,
    sa.Column("moderator_id", sa.ForeignKey("moderators.id"), primary_key=True),
    sa.Column("site_id", sa.ForeignKey("sites.id"), primary_key=True),
)


class Moderator(UserMixin, db.Model):  # type: ignore[name-defined]
    """A person who works the queue."""

    __tablename__ = "moderators"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(EMAIL_MAX), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    role: Mapped[Role] = mapped_column(
        _enum(Role, "moderator_role"),
        default=Role.MODERATOR,
        server_default="moderator",
    )
    # Part of the session's user id: a new one (logout, password change) ends
    # every session signed with the old.
    session_token: Mapped[str] = mapped_column(
        sa.String(32), default=lambda: secrets.token_hex(16), server_default=""
    )
    # Alerts by mail (notify/alerts.py): held comments on their sites ("off",
    # "immediate" or "digest" every alert_digest_minutes), surges, reports past
    # the threshold, and a daily summary per site.
    alert_held: Mapped[str] = mapped_column(
        sa.String(16), default="off", server_default="off"
    )
    alert_digest_minutes: Mapped[int] = mapped_column(default=60, server_default="60")
    alert_surge: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    alert_reports: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )
    daily_summary: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )
    # The last digest's end, and the last day a summary went out (site's day).
    digest_sent_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary_sent_on: Mapped[str | None] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sites: Mapped[list[Site]] = relationship(secondary=moderator_sites)

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive moderators cannot log in
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def get_id(self) -> str:
        """Flask-Login: the id and the session token, checked on every request."""
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Invalidate every session this moderator has open, everywhere."""
        self.session_token = secrets.token_hex(16)

    def set_password(self, password: str) -> None:
        """Store a salted scrypt hash (werkzeug's default), never the password."""
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        """True when the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)


class Decision(db.Model):  # type: ignore[name-defined]
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
    # A moderator's decision on a queued comment: when it entered the queue it
    # was decided from (the dashboard's time in queue is created_at minus this).
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    comment: Mapped[Comment] = relationship(back_populates="decisions")
    moderator: Mapped[Moderator | None] = relationship()


class ReportReason(StrEnum):
    """Why a reader reports a published comment."""

    ABUSE = "abuse"
    SPAM = "spam"
    OFF_TOPIC = "off-topic"
    OTHER = "other"


class Report(db.Model):  # type: ignore[name-defined]
    """A reader's report of a published comment; one per reader and comment."""

    __tablename__ = "reports"
    __table_args__ = (
        sa.UniqueConstraint("comment_id", "reporter_key"),
        sa.Index("ix_reports_open", "resolved_at", "comment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id"), index=True)
    reason: Mapped[ReportReason] = mapped_column(_enum(ReportReason, "report_reason"))
    text: Mapped[str] = mapped_column(sa.String(500), default="")
    # HMAC of the reporter's network: counts one reader once, names no one.
    reporter_key: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when a moderator decides the comment: the report has been looked at.
    # Open reports fill the Reported queue and count toward the site's threshold.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    comment: Mapped[Comment] = relationship(back_populates="reports")


class BanKind(StrEnum):
    """What a ban matches: a handle, an email, or a hashed network."""

    HANDLE = "handle"
    EMAIL = "email"
    NETWORK = "network"


class Ban(db.Model):  # type: ignore[name-defined]
    """A reader kept from posting, for a while or for good; lifted, never deleted."""

    __tablename__ = "bans"
    __table_args__ = (sa.Index("ix_bans_kind_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: every site.
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id"))
    kind: Mapped[BanKind] = mapped_column(_enum(BanKind, "ban_kind"))
    # A lower-cased handle or email, or a network key (never a raw address).
    value: Mapped[str] = mapped_column(sa.String(254))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("moderators.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None: until lifted.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("moderators.id"))

    site: Mapped[Site | None] = relationship()
    created_by: Mapped[Moderator | None] = relationship(foreign_keys=[created_by_id])
    lifted_by: Mapped[Moderator | None] = relationship(foreign_keys=[lifted_by_id])


class Reaction(db.Model):  # type: ignore[name-defined]
    """One reader network's "respect" on one comment (no account needed)."""

    __tablename__ = "reactions"
    __table_args__ = (
        sa.UniqueConstraint("comment_id", "network_key"),
        sa.Index("ix_reactions_network_created", "network_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id"))
    # clients.network_key: an HMAC, never the address.
    network_key: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Trust(StrEnum):
    """How a handle's comments are treated beyond the screen."""

    AUTO = "auto"  # trusted after the site's trust_after approved comments
    TRUSTED = "trusted"  # clean comments skip the queue
    UNTRUSTED = "untrusted"  # never trusted by count


class Handle(db.Model):  # type: ignore[name-defined]
    """A moderator's standing settings for one handle on one site."""

    __tablename__ = "handles"
    __table_args__ = (sa.UniqueConstraint("site_id", "handle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    # The handle's key, as screening.handles.handle_key() makes it.
    handle: Mapped[str] = mapped_column(sa.String(KEY_MAX))
    premoderate: Mapped[bool] = mapped_column(default=False)
    trust: Mapped[Trust] = mapped_column(
        _enum(Trust, "handle_trust"), default=Trust.AUTO
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    site: Mapped[Site] = relationship()


class ModeratorSession(db.Model):  # type: ignore[name-defined]
    """One login of a moderator. The session cookie carries its token; logging
    out deletes the row, so a copy of the cookie opens nothing afterwards."""

    __tablename__ = "moderator_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    moderator_id: Mapped[int] = mapped_column(
        sa.ForeignKey("moderators.id"), index=True
    )
    # SHA-256 of the token: the database never holds a usable cookie.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginFailure(db.Model):  # type: ignore[name-defined]
    """A failed login for one account, where every web process counts it."""

    __tablename__ = "login_failures"
    __table_args__ = (
        sa.Index("ix_login_failures_account_failed", "account_key", "failed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A keyed hash of the email (clients.keyed_digest): no address is stored.
    account_key: Mapped[str] = mapped_column(sa.String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(db.Model):  # type: ignore[name-defined]
    """Who did what, when, with the state before and after: decisions, bans,
    settings, roles. Append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_created", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None for the system (the screen, the surge guard, a reader's own edit).
    moderator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("moderators.id"), index=True
    )
    actor: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id"), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(20))
    target_id: Mapped[str] = mapped_column(sa.String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    reason: Mapped[str] = mapped_column(sa.Text, default="")

    moderator: Mapped[Moderator | None] = relationship()


class ApiToken(db.Model):  # type: ignore[name-defined]
    """A moderation API token: shown once when made, only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    moderator_id: Mapped[int] = mapped_column(sa.ForeignKey("moderators.id"))
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The first characters, so a person can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    moderator: Mapped[Moderator] = relationship()


class HeadStatus(StrEnum):
    """Where a site's adapted head stands."""

    CANDIDATE = "candidate"  # being trained: the row reserves its version
    ACTIVE = "active"  # screening the site's comments; one per site at most
    REJECTED = "rejected"  # lost its validation, or its training failed
    RETIRED = "retired"  # was active; replaced by a newer head or rolled back


class ScreenHead(db.Model):  # type: ignore[name-defined]
    """One version of a site's toxicity head, learnt from its moderators'
    decisions (screening/adapt.py), with the validation that let it in or not."""

    __tablename__ = "screen_heads"
    __table_args__ = (sa.UniqueConstraint("site_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    # 1, 2, 3, ... per site.
    version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Decisions it was fitted and validated on, and how many were rejections.
    examples: Mapped[int] = mapped_column(default=0)
    positives: Mapped[int] = mapped_column(default=0)
    # Validation precision and recall of the head and of what it was measured
    # against, the threshold, the classifier it builds on.
    metrics: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # SiteHead.to_json(); None while a candidate is being trained.
    head: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[HeadStatus] = mapped_column(
        _enum(HeadStatus, "screen_head_status"), default=HeadStatus.CANDIDATE
    )
    # A moderator's email, "cli" or "schedule".
    created_by: Mapped[str] = mapped_column(sa.String(254), default="system")

    site: Mapped[Site] = relationship()


class AddressState(StrEnum):
    """Where a reader's mail address stands (double opt-in)."""

    PENDING = "pending"  # asked for replies; the confirmation mail is out
    CONFIRMED = "confirmed"  # clicked the confirmation link: may be mailed
    UNSUBSCRIBED = "unsubscribed"  # one-click unsubscribe: never mailed again
    STOPPED = "stopped"  # "stop all mail to this address"
    BOUNCED = "bounced"  # the server refused it for good


class MailAddress(db.Model):  # type: ignore[name-defined]
    """A reader's address that asked for mail, and whether it may get any.

    Links in mails carry this row's id, signed (notify/tokens.py), never the
    address. An address that unsubscribed, stopped or bounced is never mailed
    again; asking for replies anew does not change that.
    """

    __tablename__ = "mail_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lower-cased; unique, so one address has one state everywhere.
    email: Mapped[str] = mapped_column(sa.String(EMAIL_MAX), unique=True)
    state: Mapped[AddressState] = mapped_column(
        _enum(AddressState, "mail_address_state"), default=AddressState.PENDING
    )
    # The language its owner wrote in when they last asked for replies: their
    # mails are in it (they are sent by the worker, or someone else's request).
    language: Mapped[str | None] = mapped_column(sa.String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxStatus(StrEnum):
    """Where a message in the outbox stands."""

    PENDING = "pending"  # to send at due_at (again, after a failure)
    SENT = "sent"  # the server took it
    FAILED = "failed"  # refused for good, or out of attempts
    DROPPED = "dropped"  # not sent on purpose: address stopped, limit, gone


class OutboxMessage(db.Model):  # type: ignore[name-defined]
    """A mail or a webhook call, written in the transaction of the change that
    causes it and sent by the workers under a lease (notify/outbox.py)."""

    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_due", "status", "due_at"),
        sa.Index("ix_outbox_batch", "batch_key", "status"),
        sa.Index("ix_outbox_recipient", "recipient", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # "mail" or "webhook"
    # What it is: "confirm", "reply", "outcome", "held", ..., or a webhook event.
    topic: Mapped[str] = mapped_column(sa.String(40))
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id"))
    webhook_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("webhooks.id"), index=True
    )
    # A mail's address (lower-cased); None for a webhook call.
    recipient: Mapped[str | None] = mapped_column(sa.String(EMAIL_MAX))
    # Messages with one key that are due together go out as one (reply batches).
    batch_key: Mapped[str | None] = mapped_column(sa.String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    status: Mapped[OutboxStatus] = mapped_column(
        _enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Fixed when the row is written: a retry after a crash mid-send carries the
    # same Message-ID (mail) or delivery id (webhook), so receivers can drop it.
    message_id: Mapped[str] = mapped_column(sa.String(200))
    # The last attempt: the HTTP status or SMTP code, and what went wrong.
    response_status: Mapped[int | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(sa.Text, default="")


class Webhook(db.Model):  # type: ignore[name-defined]
    """A site's endpoint for events, signed with its own secret."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    # HMAC-SHA256 key: shown to the admin once when made, needed to sign.
    secret: Mapped[str] = mapped_column(sa.String(64))
    events: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    # Failed deliveries in a row; past WEBHOOK_DISABLE_AFTER the hook is disabled.
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(254), default="")

    site: Mapped[Site] = relationship()
