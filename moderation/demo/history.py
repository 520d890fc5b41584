"""The demo's moderation history: a few dozen comments a moderator has decided.

A fresh demo would otherwise open the calibration page on "too few decisions".
Three older articles of the demo site carry comments written for the demo (none is
taken from a data set). They go the way a reader's comment goes: stored as
`received`, screened by the worker's own code with the classifier the app runs
(scores, rule hits and the screen's decision stored as the worker stores them),
then approved or rejected by the demo moderator through the queue's `decide`.
The articles are pre-moderated, as a newsroom does for heated topics, so every
comment waits for a moderator and each verdict below becomes a decision.

Idempotent: each comment has a fixed idempotency key on its thread, so loading
the demo again adds nothing; comments a broken earlier load left undecided are
decided now.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Comment, CommentStatus, Decision, Moderator, Site, Thread, utcnow
from ..rendering import render_body
from ..services.comments import decide, fingerprint
from ..services.worker import Stats, screen_claimed

logger = logging.getLogger(__name__)

OK, REJECT = CommentStatus.PUBLISHED, CommentStatus.REJECTED
KEY_PREFIX = "history-"
CLAIMED_BY = "load-demo"


@dataclass(frozen=True)
class Entry:
    """A comment of the history and what the moderator made of it."""

    handle: str
    body: str
    verdict: CommentStatus
    reason: str = ""


@dataclass(frozen=True)
class Article:
    """An older article of the demo site and its decided comments."""

    key: str
    title: str
    days_ago: int
    comments: tuple[Entry, ...]


# Written for the demo. Verdicts are what a careful moderator would do: heated
# criticism of decisions and officials stays, attacks on people and spam go. A
# few are hard cases either way, as real queues have.
ARTICLES = (
    Article(
        "archive-bus-fares",
        "Transit board raises fares and trims the night buses",
        10,
        (
            Entry(
                "RiverCommuter",
                "The new bus timetable finally matches the train arrivals. Took "
                "them long enough, but credit where it is due.",
                OK,
            ),
            Entry(
                "NightShiftNurse",
                "Raising fares while cutting the night service is a slap in the "
                "face to shift workers.",
                OK,
            ),
            Entry(
                "Old Town Dad",
                "This is the dumbest decision the transit board has made in years.",
                OK,
            ),
            Entry(
                "ParkSideAnna",
                "Good article. The chart comparing fares across cities was "
                "especially useful.",
                OK,
            ),
            Entry(
                "CarFreeCarla",
                "You people who drive everywhere should shut up about bus lanes.",
                OK,
            ),
            Entry(
                "Lou from 5th",
                "Typical clueless bureaucrats wasting our money again.",
                OK,
            ),
            Entry(
                "truthteller88",
                "Only an idiot would believe these numbers.",
                REJECT,
                "insults other readers",
            ),
            Entry(
                "Dave_R",
                "You are a moron and everyone on this thread knows it.",
                REJECT,
                "personal attack",
            ),
            Entry(
                "xX_Commuter_Xx",
                "Go crawl back under your rock, you pathetic troll.",
                REJECT,
                "personal attack",
            ),
            Entry(
                "deals4u",
                "Cheap watches and bags, best prices, visit my profile now!!!",
                REJECT,
                "spam",
            ),
            Entry(
                "Marta G.",
                "I hope someone slaps some sense into the mayor.",
                REJECT,
                "reads as a call to violence",
            ),
            Entry(
                "Westbound",
                "These councillors are useless, every single one of them.",
                OK,
            ),
        ),
    ),
    Article(
        "archive-school-budget",
        "School budget passes after a late-night session",
        9,
        (
            Entry(
                "TeacherInTheValley",
                "The teachers I know are exhausted. Smaller classes would help "
                "more than new tablets.",
                OK,
            ),
            Entry(
                "retired_principal",
                "Honestly the superintendent is a complete joke.",
                OK,
            ),
            Entry(
                "OakStreetNeighbor",
                "I disagree with the columnist: the old building is unsafe and "
                "should be replaced.",
                OK,
            ),
            Entry(
                "Ken Lowell",
                "I am sick of these liars treating us like fools.",
                OK,
            ),
            Entry(
                "angry_parent_22",
                "The school board members are a bunch of lying hypocrites.",
                REJECT,
                "name-calling",
            ),
            Entry(
                "NoMoreTaxes",
                "Anyone who supports this plan is a brain-dead sheep.",
                REJECT,
                "insults other readers",
            ),
            Entry(
                "realtalk",
                "Shut up, you ignorant fool.",
                REJECT,
                "personal attack",
            ),
            Entry(
                "B. Hartley",
                "What a stupid take. Did you even read the article?",
                REJECT,
                "personal attack",
            ),
            Entry(
                "GradeSchoolGrad",
                "Your comment is nonsense from start to finish.",
                OK,
            ),
            Entry(
                "pta_treasurer",
                "You sound like a paid troll.",
                REJECT,
                "accuses another reader",
            ),
        ),
    ),
    Article(
        "archive-stadium-vote",
        "Council to vote on the stadium subsidy",
        8,
        (
            Entry(
                "Rosa Delgado",
                "I went to the hearing. Most speakers were against it, which the "
                "article leaves out.",
                OK,
            ),
            Entry(
                "Tom B.",
                "What a load of crap. The writer should be fired.",
                OK,
            ),
            Entry(
                "lifelong_fan",
                "Screw this city and everyone who voted yes.",
                OK,
            ),
            Entry(
                "BleacherBum",
                "These fans are the worst kind of drunk idiots.",
                REJECT,
                "insults a group of readers",
            ),
            Entry(
                "citywatch",
                "The owner is a greedy parasite and the council are his lapdogs.",
                REJECT,
                "name-calling",
            ),
            Entry(
                "no_name_given",
                "Shut your stupid mouth, nobody asked what you think.",
                REJECT,
                "personal attack",
            ),
            Entry(
                "Vic",
                "People like you are garbage and should be banned from voting.",
                REJECT,
                "personal attack",
            ),
            Entry(
                "Get lost",
                "Get lost, loser.",
                REJECT,
                "personal attack",
            ),
            Entry(
                "Harbor View",
                "Anyone defending this deal is a shill for the owner.",
                OK,
            ),
            Entry(
                "press_watcher",
                "This reporter is a hack.",
                OK,
            ),
            Entry(
                "M. Osei",
                "Nobody cares about your stupid opinion.",
                REJECT,
                "personal attack",
            ),
        ),
    ),
)


def load_history(site: Site, moderator_email: str) -> int:
    """Add the decided history to the demo site where missing; how many comments
    the moderator decided now (0 when everything was there already)."""
    moderator = db.session.scalar(sa.select(Moderator).filter_by(email=moderator_email))
    if moderator is None:
        return 0
    threads = {article.key: _thread(site, article) for article in ARTICLES}
    existing = {
        (thread_id, key): comment
        for thread_id, key, comment in db.session.execute(
            sa.select(Comment.thread_id, Comment.idempotency_key, Comment).where(
                Comment.thread_id.in_([t.id for t in threads.values()]),
                Comment.idempotency_key.startswith(KEY_PREFIX),
            )
        )
    }
    missing = [
        (threads[article.key], number, entry)
        for article in ARTICLES
        for number, entry in enumerate(article.comments, start=1)
        if (threads[article.key].id, f"{KEY_PREFIX}{number}") not in existing
    ]
    screener = current_app.extensions["screener"]
    if missing:
        try:
            # Loaded before the screen's timeout starts counting.
            screener.classifier()
        except Exception:
            logger.exception("demo history not loaded: the classifier did not load")
            db.session.rollback()
            return 0
    created = _store_received(missing)
    db.session.commit()
    if created:
        screen_claimed(
            {c.claim_token for c, _ in created if c.claim_token},
            [c.id for c, _ in created],
            screener,
            Stats(),
        )
    # What this load stored, and what an interrupted earlier one left undecided.
    to_decide = [*created, *_undecided(existing, threads)]
    decided = 0
    for comment, entry in to_decide:
        db.session.refresh(comment)
        if comment.status in (CommentStatus.RECEIVED, entry.verdict):
            continue  # still being screened, or the screen did what they would
        decide(comment, moderator, entry.verdict, entry.reason)
        decided += 1
    if decided:
        logger.info("demo history: %s comments decided by %s", decided, moderator.id)
    return decided


def _thread(site: Site, article: Article) -> Thread:
    thread = db.session.scalar(sa.select(Thread).filter_by(site=site, key=article.key))
    if thread is None:
        thread = Thread(
            site=site,
            key=article.key,
            title=article.title,
            premoderate=True,
            created_at=utcnow() - timedelta(days=article.days_ago, hours=6),
        )
        db.session.add(thread)
        db.session.flush()
    return thread


def _store_received(
    missing: list[tuple[Thread, int, Entry]],
) -> list[tuple[Comment, Entry]]:
    """The missing comments, stored as received and claimed for this load."""
    if not missing:
        return []
    now = utcnow()
    token = secrets.token_hex(16)
    lease = float(current_app.config["WORKER_LEASE"])
    by_key = {article.key: article for article in ARTICLES}
    created = []
    for thread, number, entry in missing:
        article = by_key[thread.key]
        comment = Comment(
            thread=thread,
            handle=entry.handle,
            body=entry.body,
            html=render_body(entry.body),
            status=CommentStatus.RECEIVED,
            # Over an evening more than a week ago, a day apart per article:
            # outside the dashboard's ranges, whose figures stay the site's own.
            created_at=now
            - timedelta(days=article.days_ago, hours=5)
            + timedelta(minutes=9 * number),
            idempotency_key=f"{KEY_PREFIX}{number}",
            fingerprint=fingerprint(entry.body),
            # Claimed like a worker's batch, so that a worker running beside
            # this load leaves these rows to it.
            claim_token=token,
            claimed_by=CLAIMED_BY,
            claimed_until=now + timedelta(seconds=lease),
            screen_attempts=1,
        )
        db.session.add(comment)
        created.append((comment, entry))
    db.session.flush()
    return created


def _undecided(
    existing: dict[tuple[int, str | None], Comment], threads: dict[str, Thread]
) -> list[tuple[Comment, Entry]]:
    """History comments held with no moderator decision (an interrupted load)."""
    held = {
        comment.id: comment
        for comment in existing.values()
        if comment.status is CommentStatus.HELD
    }
    if not held:
        return []
    decided = set(
        db.session.scalars(
            sa.select(Decision.comment_id).where(
                Decision.comment_id.in_(held), Decision.moderator_id.is_not(None)
            )
        )
    )
    entries: dict[tuple[int, str | None], Entry] = {
        (threads[article.key].id, f"{KEY_PREFIX}{number}"): entry
        for article in ARTICLES
        for number, entry in enumerate(article.comments, start=1)
    }
    return [
        (comment, entries[(comment.thread_id, comment.idempotency_key)])
        for comment in held.values()
        if comment.id not in decided
    ]
