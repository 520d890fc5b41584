"""The surge guard: a flooded thread switches itself to pre-moderation, once."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import (
    AuditEntry,
    Comment,
    CommentStatus,
    Moderator,
    Site,
    Thread,
    utcnow,
)
from moderation.services.comments import fingerprint
from moderation.services.sites import surge_guard


def _demo_site() -> Site:
    return db.session.scalar(sa.select(Site).filter_by(slug="demo"))


def _configure(app, **settings) -> None:
    with app.app_context():
        site = _demo_site()
        for name, value in settings.items():
            setattr(site, name, value)
        db.session.commit()


def _surges(app) -> list[AuditEntry]:
    with app.app_context():
        return db.session.scalars(
            sa.select(AuditEntry).filter_by(action="thread.surge")
        ).all()


def _wait_for_surge(app) -> list[AuditEntry]:
    """The guard runs just after the batch's verdicts are committed: allow for it."""
    deadline = time.monotonic() + 5
    while not (found := _surges(app)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


def _add(thread_id: int, status: CommentStatus, n: int, age: timedelta = timedelta()):
    """n comments stored straight into a thread, `age` old."""
    for i in range(n):
        body = f"{status.value} {i} {age}"
        db.session.add(
            Comment(
                thread_id=thread_id,
                handle=f"h{i}",
                body=body,
                html=body,
                status=status,
                fingerprint=fingerprint(body),
                created_at=utcnow() - age,
            )
        )
    db.session.commit()


def _baseline(thread_id: int) -> int:
    """Comments already in the thread (the demo's seed comments are old)."""
    return db.session.scalar(
        sa.select(sa.func.count()).where(Comment.thread_id == thread_id)
    )


def test_surge_trips_once_at_the_bound_and_a_moderator_switches_it_back(
    app, client, demo, moderator, moderator_client, caplog, monkeypatch
):
    with app.app_context():
        # The seed comments are from 2023: outside any window.
        assert _baseline(demo.id) == 5
        row = db.session.get(Moderator, moderator)
        row.sites.append(_demo_site())
        db.session.commit()
    _configure(app, surge_max_comments=3, surge_window_minutes=10)
    for n in range(3):
        response = client.post(demo.api, json={"handle": f"r{n}", "body": f"Hi {n}."})
        assert response.status_code == 201
    assert _surges(app) == []  # 3 in the window: at the bound, not above it
    # Alembic's logging setup (migrations/env.py) disables loggers made before it.
    monkeypatch.setattr(
        logging.getLogger("moderation.services.sites"), "disabled", False
    )
    caplog.set_level(logging.WARNING, logger="moderation.services.sites")
    fourth = client.post(demo.api, json={"handle": "r3", "body": "Hi 3."})
    assert fourth.status_code == 201  # screened before the guard looked
    (entry,) = _wait_for_surge(app)
    assert entry.actor == "surge guard" and entry.moderator_id is None
    assert entry.before == {"premoderate": False, "surge_at": None}
    assert entry.after["premoderate"] is True
    assert "4 comments in 10 min (limit 3)" in entry.reason
    assert any("surge guard" in r.getMessage() for r in caplog.records)
    held = client.post(demo.api, json={"handle": "r4", "body": "Hi 4."})
    assert held.json["status"] == "held"
    with app.app_context():
        reasons = [d.reason for d in db.session.get(Comment, held.json["id"]).decisions]
        assert reasons == ["surge: this thread is pre-moderated for now"]
        # Once: not again while the surge stands.
        assert surge_guard([demo.id]) == []
    assert len(_surges(app)) == 1

    page = moderator_client.get("/mod/")
    assert "switched to pre-moderation" in page.text
    assert f"/mod/manage/threads/{demo.id}/end-surge" in page.text
    # Switching back turns pre-moderation off: asked first, without script too.
    asked = moderator_client.post(
        f"/mod/manage/threads/{demo.id}/end-surge", data={"next": "/mod/"}
    )
    assert asked.status_code == 200 and "Stop pre-moderating" in asked.text
    assert 'name="confirm" value="yes"' in asked.text
    with app.app_context():
        assert db.session.get(Thread, demo.id).premoderate
    back = moderator_client.post(
        f"/mod/manage/threads/{demo.id}/end-surge",
        data={"next": "/mod/", "confirm": "yes"},
    )
    assert back.status_code == 303 and back.headers["Location"] == "/mod/"
    with app.app_context():
        thread = db.session.get(Thread, demo.id)
        assert not thread.premoderate and thread.surge_at is None
        cleared = db.session.scalar(
            sa.select(AuditEntry).filter_by(action="thread.surge_cleared")
        )
        assert cleared.moderator_id == moderator
        assert cleared.before["premoderate"] is True
        assert cleared.after == {
            "is_open": True,
            "premoderate": False,
            "surge_at": None,
        }
    assert "switched to pre-moderation" not in moderator_client.get("/mod/").text


def test_a_high_held_share_trips_only_over_ten_comments(app, demo):
    _configure(app, surge_held_rate=0.6)
    with app.app_context():
        _add(demo.id, CommentStatus.HELD, 6)
        _add(demo.id, CommentStatus.PUBLISHED, 3)
        _add(demo.id, CommentStatus.RECEIVED, 5)  # not screened: not in the share
        assert surge_guard([demo.id]) == []  # 6 of 9 screened: too few to judge
        _add(demo.id, CommentStatus.PUBLISHED, 1)
        assert surge_guard([demo.id]) == []  # 6 of 10 = 60%: not above
        _add(demo.id, CommentStatus.HELD, 1)
        assert surge_guard([demo.id]) == [demo.id]  # 7 of 11
    (entry,) = _surges(app)
    assert "7 of 11 comments held" in entry.reason


def test_comments_outside_the_window_do_not_count(app, demo):
    _configure(app, surge_max_comments=5, surge_window_minutes=10)
    with app.app_context():
        _add(demo.id, CommentStatus.PUBLISHED, 20, age=timedelta(minutes=11))
        _add(demo.id, CommentStatus.PUBLISHED, 5)
        assert surge_guard([demo.id]) == []


def test_a_thread_a_moderator_premoderates_is_left_alone(app, demo):
    _configure(app, surge_max_comments=1)
    with app.app_context():
        db.session.get(Thread, demo.id).premoderate = True
        db.session.commit()
        _add(demo.id, CommentStatus.HELD, 5)
        assert surge_guard([demo.id]) == []
    assert _surges(app) == []


def test_the_guard_costs_two_queries_however_many_threads(app, demo):
    with app.app_context():
        site = _demo_site()
        threads = [Thread(site=site, key=f"t{n}") for n in range(8)]
        db.session.add_all(threads)
        db.session.commit()
        ids = [t.id for t in threads]
        for thread_id in ids:
            _add(thread_id, CommentStatus.PUBLISHED, 2)
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert surge_guard(ids) == []
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2


def test_switching_back_needs_the_site(app, demo, moderator, moderator_client):
    with app.app_context():
        thread = db.session.get(Thread, demo.id)
        thread.premoderate, thread.surge_at = True, utcnow()
        db.session.commit()
    # This moderator works no site: no banner, and no switching back.
    assert "switched to pre-moderation" not in moderator_client.get("/mod/").text
    response = moderator_client.post(f"/mod/manage/threads/{demo.id}/end-surge")
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Thread, demo.id).surge_at is not None
