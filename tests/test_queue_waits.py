"""Time in queue: from when a comment entered the queue it is in (held by the
screen or a moderator, reported, held by reports past the threshold), not from
when it was posted; the dashboard's figures count the same way."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from moderation import create_app
from moderation.extensions import db
from moderation.models import (
    Comment,
    CommentStatus,
    Decision,
    Moderator,
    ReportReason,
    Site,
    utcnow,
)
from moderation.services import figures
from moderation.services.comments import decide, keep
from moderation.services.reports import report_comment

from helpers import post_from_iframe
from staff_helpers import add_comment, add_moderator, add_site, login

PUBLISHED, HELD, REJECTED = (
    CommentStatus.PUBLISHED,
    CommentStatus.HELD,
    CommentStatus.REJECTED,
)
OLD = timedelta(days=1122)


@pytest.fixture
def site(app) -> str:
    add_site(app, "news")
    add_moderator(app, "mod@example.com", sites=["news"])
    with app.app_context():
        db.session.execute(
            sa.update(Site).where(Site.slug == "news").values(report_threshold=3)
        )
        db.session.commit()
    return "news"


def _report_at(app, monkeypatch, comment_id: int, reader: str, ago: timedelta):
    """A reader's report, made through reports.py with its clock set `ago`."""
    with monkeypatch.context() as patch, app.app_context():
        patch.setattr("moderation.services.reports.utcnow", lambda: utcnow() - ago)
        report_comment(
            db.session.get(Comment, comment_id), ReportReason.ABUSE, "", reader
        )


def _waiting(page: str, comment_id: int) -> str:
    """The "waiting …" an item shows in a queue list."""
    item = page[page.index(f'id="item-{comment_id}"') :]
    found = re.search(r'waiting <time datetime="[^"]+" class="waiting">([^<]+)<', item)
    assert found, item[:2000]
    return found.group(1)


def _mod(app) -> Moderator:
    return db.session.scalar(sa.select(Moderator).filter_by(email="mod@example.com"))


def test_a_comment_the_screen_holds_waits_from_its_verdict(
    app, client, demo, classifier
):
    classifier.by_text["Held by the screen."] = {"toxicity": 0.95}
    response = post_from_iframe(client, demo.embed, body="Held by the screen.")
    assert response.status_code == 202
    with app.app_context():
        comment = db.session.scalar(
            sa.select(Comment).filter_by(body="Held by the screen.")
        )
        assert comment.status is HELD
        assert comment.queued_at == comment.screened_at


def test_an_old_comment_reported_waits_from_its_reports_not_its_age(
    app, site, monkeypatch
):
    comment_id = add_comment(
        app, site, "Posted long ago.", PUBLISHED, created_at=utcnow() - OLD
    )
    mod = login(app, "mod@example.com")
    _report_at(app, monkeypatch, comment_id, "net:a", timedelta(minutes=30))
    _report_at(app, monkeypatch, comment_id, "net:b", timedelta(minutes=20))
    reported = mod.get("/mod/?queue=reported").text
    assert _waiting(reported, comment_id) == "30 min"
    assert "1122 days" not in reported
    item = mod.get(f"/mod/comments/{comment_id}?queue=reported").text
    assert re.search(r'waiting <time datetime="[^"]+" class="waiting">30 min<', item)
    # The third report crosses the threshold: held, waiting from that report.
    _report_at(app, monkeypatch, comment_id, "net:c", timedelta(minutes=10))
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.status is HELD
        crossing = max(report.created_at for report in comment.reports)
        assert comment.queued_at == crossing
    assert _waiting(mod.get("/mod/").text, comment_id) == "10 min"
    # An approved comment is in no queue: it shows when it was posted.
    approved = mod.get("/mod/?queue=approved").text
    other = add_comment(app, site, "Never reported.", PUBLISHED)
    approved = mod.get("/mod/?queue=approved").text
    assert 'class="waiting"' not in approved[approved.index(f'id="item-{other}"') :]


def test_a_moderator_hold_waits_from_the_move_and_a_decision_ends_the_wait(app, site):
    comment_id = add_comment(
        app, site, "Published, then held.", PUBLISHED, created_at=utcnow() - OLD
    )
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        before = utcnow()
        decide(comment, _mod(app), HELD, "second look")
        assert before <= comment.queued_at <= utcnow()
        decide(comment, _mod(app), REJECTED, "abuse")
        assert comment.queued_at is None
        last = comment.decisions[-1]
        assert last.queued_at is not None and last.queued_at >= before
        decide(comment, _mod(app), HELD, "reopened")  # rejected -> held
        assert comment.queued_at >= last.created_at
    mod = login(app, "mod@example.com")
    assert _waiting(mod.get("/mod/").text, comment_id) == "just now"


def test_dashboard_time_in_queue_counts_from_entering_the_queue(app, site, monkeypatch):
    old = utcnow() - OLD
    rejected = add_comment(app, site, "Reported, rejected.", PUBLISHED, created_at=old)
    kept = add_comment(app, site, "Reported, kept.", PUBLISHED, created_at=old)
    held = add_comment(app, site, "Re-held, approved.", PUBLISHED, created_at=old)
    _report_at(app, monkeypatch, rejected, "net:a", timedelta(minutes=30))
    _report_at(app, monkeypatch, kept, "net:a", timedelta(minutes=20))
    with app.app_context():
        moderator = _mod(app)
        decide(db.session.get(Comment, rejected), moderator, REJECTED, "abuse")
        keep(db.session.get(Comment, kept), moderator)
        comment = db.session.get(Comment, held)
        decide(comment, moderator, HELD, "second look")
        # Held ten minutes ago, decided now.
        comment.queued_at = utcnow() - timedelta(minutes=10)
        db.session.commit()
        decide(comment, moderator, PUBLISHED, "fine")
        window = figures.Window.ending(
            utcnow(), timedelta(hours=24), timedelta(hours=1)
        )
        waits = sorted(minutes for _, minutes in figures.queue_waits(window, None))
        # The re-hold itself was a move from published (not queued): not a wait.
    assert waits == pytest.approx([10, 20, 30], abs=1)


def test_migration_0009_backfills_when_each_comment_entered_its_queue(
    tmp_path, app_config
):
    if not str(app_config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        pytest.skip("runs on a fresh SQLite file; PostgreSQL runs the same SQL above")
    app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app(app_config)
    day = "2024-01-0{} 10:00:00.000000"
    with app.app_context():
        upgrade(revision="0008")
        run = db.session.execute
        run(
            sa.text(
                "INSERT INTO sites (id, slug, name, allowed_origins, timezone,"
                " hold_thresholds, link_limit, banned_words, suspect_words,"
                " premoderate, created_at) VALUES (1, 's', 'S', '[]', 'UTC', '{}',"
                " 2, '[]', '[]', 0, :at)"
            ),
            {"at": day.format(1)},
        )
        run(
            sa.text(
                "INSERT INTO threads (id, site_id, key, url, title, is_open,"
                " created_at) VALUES (1, 1, 't', '', '', 1, :at)"
            ),
            {"at": day.format(1)},
        )
        rows = [
            # id, status, created, screened
            (1, "held", day.format(1), day.format(2)),  # held by the screen
            (2, "held", day.format(1), day.format(1)),  # held by reports (day 5)
            (3, "published", day.format(1), day.format(1)),  # reported day 6
            (4, "published", day.format(1), day.format(1)),  # in no queue
            (5, "held", day.format(1), None),  # imported: never screened
        ]
        for number, status, created, screened in rows:
            run(
                sa.text(
                    "INSERT INTO comments (id, thread_id, handle, body, html, status,"
                    " created_at, updated_at, screened_at, fingerprint)"
                    " VALUES (:id, 1, 'R', 'b', 'b', :status, :created, :created,"
                    " :screened, 'f')"
                ),
                {
                    "id": number,
                    "status": status,
                    "created": created,
                    "screened": screened,
                },
            )
        decisions = [
            (1, "received", "held", day.format(2), None),
            (2, "published", "held", day.format(5), None),  # the reports' hold
            (4, "held", "published", day.format(7), 1),  # a moderator, from held
        ]
        run(
            sa.text(
                "INSERT INTO moderators (id, email, name, password_hash, active,"
                " created_at) VALUES (1, 'm@x', 'M', 'x', 1, :at)"
            ),
            {"at": day.format(1)},
        )
        for comment, source, target, at, moderator in decisions:
            run(
                sa.text(
                    "INSERT INTO decisions (comment_id, moderator_id, actor,"
                    " from_status, to_status, reason, created_at) VALUES"
                    " (:c, :m, 'a', :f, :t, '', :at)"
                ),
                {"c": comment, "m": moderator, "f": source, "t": target, "at": at},
            )
        run(
            sa.text(
                "INSERT INTO reports (comment_id, reason, text, reporter_key,"
                " created_at, resolved_at) VALUES"
                " (2, 'abuse', '', 'k1', :d5, NULL),"
                " (3, 'abuse', '', 'k1', :d6, NULL),"
                " (3, 'abuse', '', 'k2', :d8, NULL),"
                " (4, 'abuse', '', 'k1', :d3, :d4)"
            ),
            {
                "d3": day.format(3),
                "d4": day.format(4),
                "d5": day.format(5),
                "d6": day.format(6),
                "d8": day.format(8),
            },
        )
        db.session.commit()
        upgrade(revision="0009")
        queued = dict(
            db.session.execute(sa.select(Comment.id, Comment.queued_at)).all()
        )
        assert {k: v and v.day for k, v in queued.items()} == {
            1: 2,
            2: 5,
            3: 6,
            4: None,
            5: 1,
        }
        decided = db.session.scalar(
            sa.select(Decision.queued_at).where(Decision.moderator_id == 1)
        )
        assert decided.day == 1  # the screen never held it: its screening
        db.engine.dispose()
