"""Moderators' alerts by mail: held comments, reports, surges, a daily summary.

Each moderator chooses (settings_views.py): a mail when a comment is held on
their sites ("immediate", batched per moderator over HELD_BATCH_SECONDS, or a
"digest" every alert_digest_minutes), when reports take a comment past its
site's threshold, when the surge guard switches a thread, and a summary of each
day. Admins work every site, so they hear about every site.

`on_held`, `on_reports` and `on_surge` only add outbox rows, in the caller's
transaction (events.py). Digests and summaries are due by the clock: `tick` is
called by the workers when idle. It costs two small queries when nothing is due,
and claims each digest or summary by a guarded UPDATE (WHERE the old value
still stands), committed with the mail's row, so two workers never both send it.

The mails are composed when they are sent (outbox.py): a comment decided since
it was held is left out, and a mail with nothing left to say is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import current_app, render_template

from ..extensions import db
from ..models import (
    Comment,
    CommentStatus,
    Decision,
    Moderator,
    OutboxMessage,
    Role,
    Site,
    Thread,
    moderator_sites,
    utcnow,
)
from ..services import figures
from . import outbox

logger = logging.getLogger(__name__)

HELD_BATCH_SECONDS = 60  # a burst of holds is one mail per moderator
DIGEST_LIMIT = 50  # comments listed in one digest; the rest are counted
EXCERPT = 300  # characters of a comment's text in a mail
HELD_CHOICES = ("off", "immediate", "digest")


# Links -------------------------------------------------------------------------


def absolute_url(endpoint: str, **values: Any) -> str:
    """An absolute link to one of our pages, from PUBLIC_URL (no request needed:
    the workers send these mails)."""
    base = urlsplit(str(current_app.config["PUBLIC_URL"]))
    adapter = current_app.url_map.bind(
        base.netloc or "localhost",
        script_name=base.path or "/",
        url_scheme=base.scheme or "http",
    )
    return adapter.build(endpoint, values, force_external=True)


def _item_url(comment_id: int) -> str:
    return absolute_url("queue.comment", comment_id=comment_id)


# Who hears about a site --------------------------------------------------------


def _works_site(site_id: int) -> sa.ColumnElement[bool]:
    """A condition on Moderator: an admin, or assigned to this site (the queue's
    rule, services/access.py)."""
    assigned = sa.select(moderator_sites.c.moderator_id).where(
        moderator_sites.c.site_id == site_id
    )
    return sa.or_(Moderator.role == Role.ADMIN, Moderator.id.in_(assigned))


def _listeners(site_id: int, wants: sa.ColumnElement[bool]) -> list[Moderator]:
    return list(
        db.session.scalars(
            sa.select(Moderator)
            .where(Moderator.active.is_(True), wants, _works_site(site_id))
            .order_by(Moderator.id)
        )
    )


def on_held(comment: Comment) -> int:
    """A comment was held: queue a mail to each moderator of its site who wants
    one at once (batched per moderator); how many rows were added."""
    site_id = comment.thread.site_id
    count = 0
    for moderator in _listeners(site_id, Moderator.alert_held == "immediate"):
        outbox.enqueue_mail(
            topic="held",
            recipient=moderator.email,
            payload={"moderator_id": moderator.id, "comment_id": comment.id},
            batch_key=f"held:{moderator.id}",
            delay=HELD_BATCH_SECONDS,
        )
        count += 1
    return count


def on_reports(comment: Comment) -> int:
    """Reports took a comment past its site's threshold: tell who asked."""
    site_id = comment.thread.site_id
    count = 0
    for moderator in _listeners(site_id, Moderator.alert_reports.is_(True)):
        outbox.enqueue_mail(
            topic="reports",
            recipient=moderator.email,
            payload={
                "moderator_id": moderator.id,
                "comment_id": comment.id,
                "reports": comment.report_count,
            },
            batch_key=f"reports:{moderator.id}",
        )
        count += 1
    return count


def on_surge(thread: Thread) -> int:
    """The surge guard switched a thread to pre-moderation: tell who asked."""
    count = 0
    for moderator in _listeners(thread.site_id, Moderator.alert_surge.is_(True)):
        outbox.enqueue_mail(
            topic="surge",
            recipient=moderator.email,
            payload={"moderator_id": moderator.id, "thread_id": thread.id},
            batch_key=f"surge:{moderator.id}",
        )
        count += 1
    return count


# The clock: digests and daily summaries ---------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass
class _Sites:
    """Every site's time zone, and which moderators work which sites."""

    zones: dict[int, str] = field(default_factory=dict)
    assigned: dict[int, set[int]] = field(default_factory=dict)

    def of(self, moderator_id: int, role: Role) -> list[int]:
        if role is Role.ADMIN:
            return sorted(self.zones)
        return sorted(self.assigned.get(moderator_id, set()) & set(self.zones))


def _sites() -> _Sites:
    found = _Sites()
    statement = sa.select(
        Site.id, Site.timezone, moderator_sites.c.moderator_id
    ).outerjoin(moderator_sites, moderator_sites.c.site_id == Site.id)
    for site_id, zone, moderator_id in db.session.execute(statement):
        found.zones[site_id] = zone
        if moderator_id is not None:
            found.assigned.setdefault(moderator_id, set()).add(site_id)
    return found


def tick(now: datetime | None = None) -> int:
    """Queue the digests and daily summaries that are due; how many mails.

    Call in an app context, with no transaction of the caller's pending (each
    mail is committed with its claim)."""
    now = now or utcnow()
    wanting = db.session.execute(
        sa.select(
            Moderator.id,
            Moderator.role,
            Moderator.email,
            Moderator.alert_held,
            Moderator.alert_digest_minutes,
            Moderator.digest_sent_until,
            Moderator.daily_summary,
            Moderator.summary_sent_on,
        ).where(
            Moderator.active.is_(True),
            sa.or_(Moderator.alert_held == "digest", Moderator.daily_summary.is_(True)),
        )
    ).all()
    if not wanting:
        db.session.commit()
        return 0
    sites = _sites()
    db.session.commit()  # no read snapshot held into the writes below
    queued = 0
    for row in wanting:
        site_ids = sites.of(row.id, row.role)
        minutes = max(1, int(row.alert_digest_minutes or 60))
        last = row.digest_sent_until
        if row.alert_held == "digest" and (
            last is None or last <= now - timedelta(minutes=minutes)
        ):
            queued += _digest(row.id, row.email, last, minutes, site_ids, now)
        if row.daily_summary and site_ids:
            queued += _summary(
                row.id, row.email, row.summary_sent_on, site_ids, sites.zones, now
            )
    return queued


def _claimed(moderator_id: int, column: Any, old: object, new: object) -> bool:
    """Move a moderator's column from `old` to `new` unless another worker did
    first (in the session's transaction; the caller commits)."""
    result = db.session.execute(
        sa.update(Moderator)
        .where(
            Moderator.id == moderator_id,
            column.is_(None) if old is None else column == old,
        )
        .values({column: new})
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def _held_between(
    site_ids: Sequence[int], since: datetime, until: datetime
) -> tuple[list[int], int]:
    """Comments held on these sites in (since, until] and still held: the first
    DIGEST_LIMIT ids, oldest first, and how many in all."""
    if not site_ids:
        return [], 0
    statement = (
        sa.select(Decision.comment_id, sa.func.min(Decision.created_at))
        .join(Comment, Comment.id == Decision.comment_id)
        .join(Thread, Thread.id == Comment.thread_id)
        .where(
            Decision.to_status == CommentStatus.HELD,
            Decision.created_at > since,
            Decision.created_at <= until,
            Comment.status == CommentStatus.HELD,
            Thread.site_id.in_(site_ids),
        )
        .group_by(Decision.comment_id)
        .order_by(sa.func.min(Decision.created_at), Decision.comment_id)
    )
    ids = [comment_id for comment_id, _ in db.session.execute(statement)]
    return ids[:DIGEST_LIMIT], len(ids)


def _digest(
    moderator_id: int,
    email: str,
    last: datetime | None,
    minutes: int,
    site_ids: Sequence[int],
    now: datetime,
) -> int:
    since = last or now - timedelta(minutes=minutes)
    try:
        if not _claimed(moderator_id, Moderator.digest_sent_until, last, now):
            db.session.rollback()
            return 0
        ids, total = _held_between(site_ids, since, now)
        if ids:
            outbox.enqueue_mail(
                topic="digest",
                recipient=email,
                payload={
                    "moderator_id": moderator_id,
                    "since": since.isoformat(),
                    "until": now.isoformat(),
                    "comment_ids": ids,
                    "total": total,
                },
            )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    logger.info("alerts: digest for moderator %s: %s held", moderator_id, total)
    return 1 if ids else 0


def summary_day(zones: Sequence[str], now: datetime) -> date:
    """The day every one of these time zones has finished, and no later one: the
    day before the earliest of their todays."""
    todays = [now.astimezone(_zone(zone)).date() for zone in zones] or [now.date()]
    return min(todays) - timedelta(days=1)


def _day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """A site's local day as UTC instants (23 or 25 hours on a change of clocks)."""
    tz = _zone(zone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def site_day(site: Site, day: date) -> dict[str, Any]:
    """What happened on a site in one of its local days: held, published,
    rejected (comments that got there that day), the median wait in the queue
    (minutes), and how many wait now."""
    start, end = _day_bounds(day, site.timezone)
    counts = dict(
        db.session.execute(
            sa.select(
                Decision.to_status, sa.func.count(sa.distinct(Decision.comment_id))
            )
            .join(Comment, Comment.id == Decision.comment_id)
            .join(Thread, Thread.id == Comment.thread_id)
            .where(
                Thread.site_id == site.id,
                Decision.created_at >= start,
                Decision.created_at < end,
                Decision.to_status.in_(
                    [
                        CommentStatus.HELD,
                        CommentStatus.PUBLISHED,
                        CommentStatus.REJECTED,
                    ]
                ),
            )
            .group_by(Decision.to_status)
        ).all()
    )
    window = figures.Window(start, end, end - start)
    waits = [minutes for _, minutes in figures.queue_waits(window, {site.id})]
    median = figures.percentile(waits, 50)
    return {
        "id": site.id,
        "slug": site.slug,
        "name": site.name,
        "timezone": site.timezone,
        "held": int(counts.get(CommentStatus.HELD, 0)),
        "published": int(counts.get(CommentStatus.PUBLISHED, 0)),
        "rejected": int(counts.get(CommentStatus.REJECTED, 0)),
        "decided": len(waits),
        "median_minutes": None if median is None else round(median, 1),
        "waiting_now": figures.waiting_now({site.id}),
    }


def _summary(
    moderator_id: int,
    email: str,
    sent_on: str | None,
    site_ids: Sequence[int],
    zones: dict[int, str],
    now: datetime,
) -> int:
    day = summary_day([zones[site_id] for site_id in site_ids], now)
    # summary_sent_on is the day the last summary was *sent on* (the day after
    # the one it reports), in the time zone of the moderator's latest site.
    key = (day + timedelta(days=1)).isoformat()
    if sent_on is not None and sent_on >= key:
        return 0
    try:
        if not _claimed(moderator_id, Moderator.summary_sent_on, sent_on, key):
            db.session.rollback()
            return 0
        found = db.session.scalars(
            sa.select(Site).where(Site.id.in_(site_ids)).order_by(Site.name, Site.id)
        )
        sections = [site_day(site, day) for site in found]
        outbox.enqueue_mail(
            topic="summary",
            recipient=email,
            payload={
                "moderator_id": moderator_id,
                "day": day.isoformat(),
                "sites": sections,
            },
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    logger.info("alerts: summary of %s for moderator %s", day, moderator_id)
    return 1


# Composers: the mails, built when they are sent --------------------------------


def _moderator(rows: Sequence[OutboxMessage]) -> Moderator:
    moderator = db.session.get(Moderator, rows[0].payload.get("moderator_id") or 0)
    if moderator is None or not moderator.active:
        raise outbox.Dropped("moderator gone or deactivated")
    return moderator


def _may_see(moderator: Moderator, site_id: int) -> bool:
    return moderator.is_admin or any(site.id == site_id for site in moderator.sites)


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def _item(comment: Comment) -> dict[str, Any]:
    thread = comment.thread
    return {
        "id": comment.id,
        "site": thread.site.slug,
        "thread": thread.title or thread.key,
        "handle": comment.handle,
        "excerpt": _excerpt(comment.body),
        "reports": comment.report_count,
        "status": comment.status.value,
        "url": _item_url(comment.id),
    }


def _comments(ids: Sequence[int]) -> list[Comment]:
    if not ids:
        return []
    found = {
        comment.id: comment
        for comment in db.session.scalars(sa.select(Comment).where(Comment.id.in_(ids)))
    }
    return [found[i] for i in dict.fromkeys(ids) if i in found]


def _mail(subject: str, template: str, **context: Any) -> EmailMessage:
    """Plain text and HTML (escaped) from templates/mail/<template>.txt/.html."""
    context.setdefault("settings_url", absolute_url("alerts.settings"))
    message = EmailMessage()
    message["Subject"] = subject
    # Tell autoresponders (vacation replies) not to answer.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_template(f"mail/{template}.txt", **context))
    message.add_alternative(
        render_template(f"mail/{template}.html", **context), subtype="html"
    )
    return message


def _sites_named(items: Sequence[dict[str, Any]]) -> str:
    return ", ".join(dict.fromkeys(item["site"] for item in items))


@outbox.composer("held", staff=True)
def compose_held(rows: Sequence[OutboxMessage]) -> EmailMessage:
    """Comments held on a moderator's sites in the last minute, still held."""
    moderator = _moderator(rows)
    if moderator.alert_held != "immediate":
        raise outbox.Dropped("held alerts switched off")
    comments = [
        comment
        for comment in _comments([row.payload["comment_id"] for row in rows])
        if comment.status is CommentStatus.HELD
        and _may_see(moderator, comment.thread.site_id)
    ]
    if not comments:
        raise outbox.Dropped("every comment was decided already")
    items = [_item(comment) for comment in comments]
    if len(items) == 1:
        subject = (
            f"[{items[0]['site']}] Held: {items[0]['handle']} on {items[0]['thread']}"
        )
    else:
        subject = f"[{_sites_named(items)}] {len(items)} comments held"
    return _mail(
        subject[:200],
        "held",
        moderator=moderator,
        items=items,
        queue_url=absolute_url("queue.index"),
    )


@outbox.composer("digest", staff=True)
def compose_digest(rows: Sequence[OutboxMessage]) -> EmailMessage:
    """The digest of comments held since the last one, those still held."""
    moderator = _moderator(rows)
    payload = rows[0].payload
    comments = [
        comment
        for comment in _comments(payload.get("comment_ids") or [])
        if comment.status is CommentStatus.HELD
        and _may_see(moderator, comment.thread.site_id)
    ]
    if not comments:
        raise outbox.Dropped("every comment was decided already")
    items = [_item(comment) for comment in comments]
    total = int(payload.get("total") or len(items))
    since = datetime.fromisoformat(payload["since"])
    until = datetime.fromisoformat(payload["until"])
    return _mail(
        f"[{_sites_named(items)}] Digest: {len(items)} comments waiting"[:200],
        "digest",
        moderator=moderator,
        items=items,
        more=max(0, total - len(payload.get("comment_ids") or [])),
        decided=max(0, len(payload.get("comment_ids") or []) - len(items)),
        since=since.strftime("%Y-%m-%d %H:%M UTC"),
        until=until.strftime("%Y-%m-%d %H:%M UTC"),
        queue_url=absolute_url("queue.index"),
    )


@outbox.composer("reports", staff=True)
def compose_reports(rows: Sequence[OutboxMessage]) -> EmailMessage:
    """Comments readers reported past their site's threshold."""
    moderator = _moderator(rows)
    if not moderator.alert_reports:
        raise outbox.Dropped("report alerts switched off")
    comments = [
        comment
        for comment in _comments([row.payload["comment_id"] for row in rows])
        if comment.status is not CommentStatus.DELETED
        and _may_see(moderator, comment.thread.site_id)
    ]
    if not comments:
        raise outbox.Dropped("the reported comments are gone")
    items = [_item(comment) for comment in comments]
    first = items[0]
    if len(items) == 1:
        subject = (
            f"[{first['site']}] Reported {first['reports']} times: "
            f"{first['handle']} on {first['thread']}"
        )
    else:
        subject = f"[{_sites_named(items)}] {len(items)} comments reported"
    return _mail(
        subject[:200], "reports", moderator=moderator, items=items, show_reports=True
    )


@outbox.composer("surge", staff=True)
def compose_surge(rows: Sequence[OutboxMessage]) -> EmailMessage:
    """Threads the surge guard switched to pre-moderation, still surging."""
    moderator = _moderator(rows)
    if not moderator.alert_surge:
        raise outbox.Dropped("surge alerts switched off")
    ids = list(dict.fromkeys(row.payload["thread_id"] for row in rows))
    threads = [
        thread
        for thread in db.session.scalars(
            sa.select(Thread).where(Thread.id.in_(ids)).order_by(Thread.id)
        )
        if thread.surge_at is not None and _may_see(moderator, thread.site_id)
    ]
    if not threads:
        raise outbox.Dropped("the surge is over already")
    items = [
        {
            "site": thread.site.slug,
            "site_name": thread.site.name,
            "thread": thread.title or thread.key,
            "key": thread.key,
            "since": thread.surge_at.strftime("%Y-%m-%d %H:%M UTC")
            if thread.surge_at
            else "",
            "url": absolute_url("manage.threads", site=thread.site.slug),
        }
        for thread in threads
    ]
    if len(items) == 1:
        subject = f"[{items[0]['site']}] Surge: {items[0]['thread']} is pre-moderated"
    else:
        subject = f"[{_sites_named(items)}] Surge on {len(items)} threads"
    return _mail(subject[:200], "surge", moderator=moderator, items=items)


@outbox.composer("summary", staff=True)
def compose_summary(rows: Sequence[OutboxMessage]) -> EmailMessage:
    """One day on a moderator's sites, a section per site."""
    moderator = _moderator(rows)
    if not moderator.daily_summary:
        raise outbox.Dropped("daily summary switched off")
    payload = rows[0].payload
    sections = list(payload.get("sites") or [])
    busy = [
        s
        for s in sections
        if s["held"] or s["published"] or s["rejected"] or s["waiting_now"]
    ]
    quiet = [s for s in sections if s not in busy]
    for section in busy:
        section["queue_url"] = absolute_url("queue.index", site=section["id"])
    totals = {
        name: sum(int(s[name]) for s in sections)
        for name in ("held", "published", "rejected", "waiting_now")
    }
    day = payload["day"]
    return _mail(
        f"Summary for {day}: {totals['held']} held, {totals['published']} published, "
        f"{totals['rejected']} rejected",
        "summary",
        moderator=moderator,
        day=day,
        sections=busy,
        quiet=quiet,
        totals=totals,
        dashboard_url=absolute_url("insights.dashboard"),
    )
