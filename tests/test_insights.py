"""The shift dashboard and threshold calibration, on data built by hand."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from support import MODERATOR_PASSWORD
from werkzeug.security import generate_password_hash

from moderation.extensions import db
from moderation.insights import calibration
from moderation.insights.calibration import Sample, calibrate
from moderation.models import (
    Comment,
    CommentStatus,
    Decision,
    Moderator,
    Role,
    Score,
    Site,
    Thread,
)
from moderation.services import figures

NOW = datetime(2026, 11, 26, 12, 20, tzinfo=UTC)
HELD, PUBLISHED, REJECTED = (
    CommentStatus.HELD,
    CommentStatus.PUBLISHED,
    CommentStatus.REJECTED,
)


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    """The dashboard's clock: 12:20 UTC, so the last hourly bar is 12:00-13:00."""
    monkeypatch.setattr("moderation.insights.views.utcnow", lambda: NOW)


def _thread(slug: str, name: str | None = None, **site_fields) -> Thread:
    site = Site(slug=slug, name=name or slug.title(), **site_fields)
    thread = Thread(site=site, key=f"{slug}-article", title="An article")
    db.session.add(thread)
    db.session.flush()
    return thread


def _comment(
    thread: Thread,
    at: datetime,
    status: CommentStatus = PUBLISHED,
    *,
    held_by_screen: bool = False,
    scores: dict[str, float] | None = None,
) -> Comment:
    comment = Comment(
        thread=thread,
        handle="Reader",
        body="A comment.",
        html="<p>A comment.</p>",
        status=status,
        created_at=at,
        updated_at=at,
        screened_at=at,
        fingerprint="f",
    )
    db.session.add(comment)
    db.session.flush()
    first = HELD if held_by_screen else status
    if status is not CommentStatus.RECEIVED:
        db.session.add(
            Decision(
                comment_id=comment.id,
                actor="screen",
                from_status=CommentStatus.RECEIVED,
                to_status=first,
                created_at=at,
            )
        )
    for label, value in (scores or {}).items():
        db.session.add(
            Score(
                comment_id=comment.id,
                classifier="fixed",
                version="1",
                label=label,
                value=value,
            )
        )
    return comment


def _decide(
    comment: Comment,
    moderator: Moderator,
    to_status: CommentStatus,
    at: datetime,
    from_status: CommentStatus = HELD,
) -> None:
    db.session.add(
        Decision(
            comment_id=comment.id,
            moderator_id=moderator.id,
            actor=moderator.email,
            from_status=from_status,
            to_status=to_status,
            created_at=at,
        )
    )
    comment.status = to_status


def _moderator(email: str, role: Role = Role.MODERATOR, sites=()) -> Moderator:
    moderator = Moderator(email=email, name=email, role=role)
    # A cheap hash: scrypt's cost is tested in test_queue, not needed here.
    moderator.password_hash = generate_password_hash(
        MODERATOR_PASSWORD, method="pbkdf2:sha256:1000"
    )
    moderator.sites.extend(sites)
    db.session.add(moderator)
    db.session.flush()
    return moderator


def _login(app, email):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    response = client.post(
        "/mod/login", data={"email": email, "password": MODERATOR_PASSWORD}
    )
    assert response.status_code == 302
    return client


def _figure(page: str, name: str) -> str:
    start = page.index(f'id="fig-{name}">') + len(f'id="fig-{name}">')
    return page[start : page.index("</dd>", start)].split("<")[0].strip()


# Dashboard


def test_dashboard_needs_a_login(client):
    response = client.get("/mod/dashboard")
    assert response.status_code == 302
    assert "/mod/login" in response.headers["Location"]


def test_dashboard_renders_without_data(app, moderator_client, moderator):
    page = moderator_client.get("/mod/dashboard").text
    assert "You moderate no site yet" in page
    with app.app_context():
        thread = _thread("empty")
        account = db.session.get(Moderator, moderator)
        account.sites.append(thread.site)
        db.session.commit()
    response = moderator_client.get("/mod/dashboard")
    assert response.status_code == 200
    page = response.text
    assert "No comments and no decisions in this range" in page
    assert _figure(page, "total") == "0"
    assert _figure(page, "median") == "–"
    assert page.count("<svg") == 4
    assert "No comments in this range" in page  # drawn inside the empty chart
    assert "<details" in page and "Data table" in page


def test_dashboard_counts_comments_per_hour_by_status(app):
    with app.app_context():
        thread = _thread("daily", hold_thresholds={"toxicity": 0.8})
        admin = _moderator("admin@example.com", Role.ADMIN)
        at_11 = NOW.replace(hour=11, minute=10)
        for status in (PUBLISHED, PUBLISHED, REJECTED):
            _comment(thread, at_11, status, scores={"toxicity": 0.1})
        held = _comment(
            thread, at_11, HELD, held_by_screen=True, scores={"toxicity": 0.85}
        )
        moved = _comment(thread, NOW.replace(minute=5), HELD, held_by_screen=True)
        _decide(moved, admin, PUBLISHED, NOW.replace(minute=15))
        _comment(thread, NOW - timedelta(hours=30))  # before the window
        db.session.commit()
        assert held.id
    client = _login(app, "admin@example.com")
    page = client.get("/mod/dashboard?site=daily").text
    assert _figure(page, "total") == "5"
    assert _figure(page, "held") == "2"
    assert _figure(page, "waiting") == "1"
    assert _figure(page, "decisions") == "1"
    assert _figure(page, "median") == "10 min"
    # The data table under the volume chart: the 11:00 row, by status now.
    assert (
        '<tr><th scope="row">11:00</th><td>2</td><td>1</td><td>1</td>'
        "<td>0</td><td>0</td><td>4</td></tr>"
    ) in page
    # Held rate row for 12:00: one received, held by the screen.
    assert (
        '<tr><th scope="row">12:00</th><td>1</td><td>1</td><td>100%</td></tr>'
    ) in page
    # The histogram has the 0.85 comment in bin 0.85-0.90 and a threshold line.
    assert '<tr><th scope="row">0.85</th><td>0.90</td><td>1</td></tr>' in page
    assert "holds at 0.80" in page
    assert 'class="marker"' in page


def test_week_range_uses_six_hour_bars_and_bad_range_is_refused(app, moderator):
    with app.app_context():
        thread = _thread("weekly")
        _comment(thread, NOW - timedelta(days=3))
        _comment(thread, NOW - timedelta(days=8))
        account = db.session.get(Moderator, moderator)
        account.sites.append(thread.site)
        db.session.commit()
    client = _login(app, "mod@example.com")
    page = client.get("/mod/dashboard?range=7d").text
    assert _figure(page, "total") == "1"
    assert "Comments per 6 hours" in page
    assert page.count('<th scope="row">', page.index("chart-volume-heading")) >= 28
    assert client.get("/mod/dashboard?range=1y").status_code == 422
    assert client.get("/mod/dashboard?label=Robert');").status_code == 422


def test_moderators_see_only_their_sites(app):
    with app.app_context():
        mine = _thread("mine")
        theirs = _thread("theirs")
        for _ in range(3):
            _comment(mine, NOW - timedelta(hours=2))
        for _ in range(5):
            _comment(theirs, NOW - timedelta(hours=2), HELD, held_by_screen=True)
        _moderator("mine@example.com", sites=[mine.site])
        _moderator("admin@example.com", Role.ADMIN)
        db.session.commit()
    client = _login(app, "mine@example.com")
    page = client.get("/mod/dashboard").text
    assert _figure(page, "total") == "3"
    assert _figure(page, "held") == "0"
    assert _figure(page, "waiting") == "0"
    assert "Theirs" not in page  # not offered in the site list either
    assert client.get("/mod/dashboard?site=theirs").status_code == 403
    assert client.get("/mod/dashboard?site=nowhere").status_code == 404
    assert client.get("/mod/calibration?site=theirs").status_code == 403
    admin = _login(app, "admin@example.com")
    assert _figure(admin.get("/mod/dashboard").text, "total") == "8"
    assert _figure(admin.get("/mod/dashboard?site=theirs").text, "total") == "5"


def test_time_in_queue_runs_from_the_latest_hold_to_the_decision(app):
    with app.app_context():
        thread = _thread("waits")
        admin = _moderator("admin@example.com", Role.ADMIN)
        start = NOW - timedelta(hours=3)
        for minutes in range(1, 11):  # waits of 1, 2, ... 10 minutes
            comment = _comment(thread, start, HELD, held_by_screen=True)
            _decide(comment, admin, REJECTED, start + timedelta(minutes=minutes))
        # Published, reported back into the queue an hour later, then decided
        # 20 minutes after that: it waited 20 minutes, not 80.
        reported = _comment(thread, start, PUBLISHED)
        db.session.add(
            Decision(
                comment_id=reported.id,
                actor="reports",
                from_status=PUBLISHED,
                to_status=HELD,
                created_at=start + timedelta(hours=1),
            )
        )
        _decide(reported, admin, REJECTED, start + timedelta(minutes=80))
        # A moderator unpublishing a published comment is not a queue wait.
        other = _comment(thread, start, PUBLISHED)
        _decide(other, admin, REJECTED, start + timedelta(minutes=5), PUBLISHED)
        db.session.commit()
        window = figures.Window.ending(NOW, timedelta(hours=24), timedelta(hours=1))
        waits = sorted(minutes for _, minutes in figures.queue_waits(window, None))
    assert waits == pytest.approx([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20])
    assert figures.percentile(waits, 50) == pytest.approx(6)
    assert figures.percentile(waits, 90) == pytest.approx(10)
    page = _login(app, "admin@example.com").get("/mod/dashboard").text
    assert _figure(page, "median") == "6 min"
    assert _figure(page, "p90") == "10 min"
    # Per hour of decision: ten decisions in the 09:00 hour, one at 10:00.
    assert (
        '<tr><th scope="row">09:00</th><td>10</td><td>6 min</td><td>9 min</td></tr>'
    ) in page
    assert (
        '<tr><th scope="row">10:00</th><td>1</td><td>20 min</td><td>20 min</td></tr>'
    ) in page


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 50, None),
        ([7], 90, 7),
        ([1, 2, 3, 4], 50, 2.5),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9.1),
        ([10, 1, 5], 0, 1),
        ([10, 1, 5], 100, 10),
    ],
)
def test_percentile_interpolates_between_ranks(values, q, expected):
    assert figures.percentile(values, q) == (
        expected if expected is None else pytest.approx(expected)
    )


def test_site_names_are_escaped_in_charts_and_pages(app):
    with app.app_context():
        thread = _thread("xss", name="<script>alert(1)</script>")
        _comment(thread, NOW - timedelta(hours=1), scores={"toxicity": 0.2})
        _moderator("admin@example.com", Role.ADMIN)
        db.session.commit()
    client = _login(app, "admin@example.com")
    for path in ("/mod/dashboard?site=xss", "/mod/calibration?site=xss"):
        page = client.get(path).text
        assert "<script>alert(1)" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    svg = client.get("/mod/dashboard?site=xss").text
    assert '<title id="chart-volume-title">Comments per hour by status, ' in svg
    assert "style=" not in svg and "<style" not in svg


def test_dashboard_and_calibration_are_linked_from_the_queue(moderator_client):
    page = moderator_client.get("/mod/").text
    assert 'href="/mod/dashboard"' in page
    assert 'href="/mod/calibration"' in page


# Calibration

# Ten decided comments with known scores: r = moderator rejected, p = published.
KNOWN = [
    (0.97, True),
    (0.92, True),
    (0.90, False),
    (0.81, True),
    (0.74, False),
    (0.66, True),
    (0.58, False),
    (0.52, False),
    (0.31, True),
    (0.10, False),
]


def test_calibration_matches_hand_computed_values():
    rows = {row.threshold: row for row in calibrate(Sample(s, r) for s, r in KNOWN)}
    assert sorted(rows) == list(calibration.THRESHOLDS)
    # t = 0.50 holds 8 (all but 0.31 and 0.10), of which 4 rejected; 5 rejected in all.
    assert (rows[0.5].held, rows[0.5].held_rejected, rows[0.5].rejected) == (8, 4, 5)
    assert rows[0.5].precision == pytest.approx(0.5)
    assert rows[0.5].recall == pytest.approx(0.8)
    assert rows[0.5].f1 == pytest.approx(2 * 0.5 * 0.8 / 1.3)
    # t = 0.80 holds 0.97, 0.92, 0.90, 0.81: 3 rejected.
    assert (rows[0.8].held, rows[0.8].held_rejected) == (4, 3)
    assert rows[0.8].precision == pytest.approx(0.75)
    assert rows[0.8].recall == pytest.approx(0.6)
    # t = 0.90: a score equal to the threshold is held (>=), as in the pipeline.
    assert (rows[0.9].held, rows[0.9].held_rejected) == (3, 2)
    # t = 0.95 holds only 0.97.
    assert rows[0.95].precision == 1.0 and rows[0.95].recall == pytest.approx(0.2)


def test_calibration_edge_cases():
    nothing = calibrate([Sample(0.2, False), Sample(0.3, True)])
    assert nothing[0].held == 0 and nothing[0].precision is None
    assert nothing[0].recall == 0 and nothing[0].f1 is None
    no_rejections = calibrate([Sample(0.9, False)])
    assert no_rejections[-1].recall is None
    with_current = calibrate([Sample(0.9, True)], current=0.3)
    assert with_current[0].threshold == 0.3 and with_current[0].current
    assert sum(row.current for row in with_current) == 1
    on_grid = calibrate([], current=0.8)
    assert len(on_grid) == 10 and [r.threshold for r in on_grid if r.current] == [0.8]


def test_calibration_agrees_with_counting_one_by_one():
    import random

    rng = random.Random(5)
    # Scores on a coarse grid, so that many sit exactly on a threshold.
    samples = [
        Sample(rng.randrange(0, 21) / 20, rng.random() < 0.4) for _ in range(500)
    ]
    for row in calibrate(samples, current=0.33):
        held = [s for s in samples if s.score >= row.threshold]
        assert row.held == len(held)
        assert row.held_rejected == sum(s.rejected for s in held)
        assert row.rejected == sum(s.rejected for s in samples)


def _decided_site(app, known=KNOWN, slug="calib"):
    """The KNOWN set as comments that the screen held and moderators decided."""
    with app.app_context():
        thread = _thread(slug, hold_thresholds={"toxicity": 0.8, "insult": 0.5})
        moderator = _moderator("mod2@example.com", sites=[thread.site])
        at = NOW - timedelta(days=2)
        for score, rejected in known:
            comment = _comment(
                thread,
                at,
                HELD,
                held_by_screen=True,
                scores={"toxicity": score, "insult": 1 - score},
            )
            # A first decision the moderator then reversed: only the last counts.
            _decide(comment, moderator, PUBLISHED if rejected else REJECTED, at)
            _decide(
                comment,
                moderator,
                REJECTED if rejected else PUBLISHED,
                at + timedelta(minutes=1),
                from_status=PUBLISHED if rejected else REJECTED,
            )
        # Decided only by the screen: not ground truth.
        _comment(thread, at, REJECTED, scores={"toxicity": 0.99})
        # Decided by a moderator, then sent back to the queue: not final.
        pending = _comment(
            thread, at, HELD, held_by_screen=True, scores={"toxicity": 0.6}
        )
        _decide(pending, moderator, PUBLISHED, at)
        _decide(pending, moderator, HELD, at, from_status=PUBLISHED)
        # Decided but never scored (the classifier was down).
        unscored = _comment(thread, at, HELD, held_by_screen=True)
        _decide(unscored, moderator, REJECTED, at)
        db.session.commit()
        return thread.site_id


def test_decided_samples_use_each_comments_final_moderator_decision(app):
    site_id = _decided_site(app)
    with app.app_context():
        samples, unscored = calibration.decided_samples(site_id, "toxicity")
        labels = calibration.decided_labels(site_id)
    assert sorted((s.score, s.rejected) for s in samples) == sorted(KNOWN)
    assert unscored == 1
    assert labels == ["insult", "toxicity"]


def test_calibration_page_shows_table_chart_and_current_threshold(app, monkeypatch):
    monkeypatch.setattr(calibration, "MIN_DECISIONS", 10)
    _decided_site(app)
    client = _login(app, "mod2@example.com")
    page = client.get("/mod/calibration").text
    assert "Too few decisions" not in page
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in page
    assert "now 0.80" in page  # the marker on the chart
    current = page[page.index('class="current"') :]
    current = current[: current.index("</tr>")]
    assert "0.80" in current and "<td>4</td><td>3</td>" in current
    assert "75.0%" in current and "60.0%" in current and "0.667" in current
    assert '<option value="insult">' in page
    assert "1 decided comments have no toxicity score" in page

    insult = client.get("/mod/calibration?label=insult").text
    assert "0.50 <span" in insult  # insult's own current threshold is marked


def test_calibration_csv_matches_the_table(app, monkeypatch):
    monkeypatch.setattr(calibration, "MIN_DECISIONS", 10)
    _decided_site(app)
    client = _login(app, "mod2@example.com")
    response = client.get("/mod/calibration.csv?site=calib&label=toxicity")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["threshold"] for row in rows] == [
        f"{t:.2f}" for t in calibration.THRESHOLDS
    ]
    at_80 = next(row for row in rows if row["threshold"] == "0.80")
    assert at_80 == {
        "site": "calib",
        "label": "toxicity",
        "threshold": "0.80",
        "would_hold": "4",
        "held_and_rejected": "3",
        "rejected_total": "5",
        "precision": "0.7500",
        "recall": "0.6000",
        "f1": "0.6667",
        "current": "yes",
    }


def test_calibration_says_when_there_are_too_few_decisions(app):
    _decided_site(app, known=KNOWN[:3])
    page = _login(app, "mod2@example.com").get("/mod/calibration").text
    assert "Too few decisions to calibrate on: 3 decided comments" in page
    assert "at least 20 are needed" in page
    assert "<svg" not in page


def test_calibration_without_sites_says_so(moderator_client):
    page = moderator_client.get("/mod/calibration").text
    assert "You moderate no site yet" in page
    assert moderator_client.get("/mod/calibration.csv").status_code == 404


def test_sql_hour_grouping_matches_python_at_bucket_edges(app):
    """The SQL bucketing matches Python's on edges: xx:00:00 starts a bucket."""
    with app.app_context():
        thread = _thread("edges")
        window = figures.Window.ending(NOW, timedelta(hours=24), timedelta(hours=1))
        moments = [
            window.start,
            window.start + timedelta(minutes=59, seconds=59, microseconds=999),
            window.start + timedelta(hours=1),
            window.end - timedelta(microseconds=1),
            window.end,  # outside
            window.start - timedelta(microseconds=1),  # outside
        ]
        for moment in moments:
            _comment(thread, moment)
        db.session.commit()
        counts = figures.comments_by_status(window, None)[PUBLISHED]
    expected = [0] * 24
    for moment in moments:
        index = window.index(moment)
        if index is not None:
            expected[index] += 1
    assert counts == expected
    assert sum(counts) == 4


def test_site_with_no_matching_scores(app):
    with app.app_context():
        thread = _thread("quiet")
        _comment(thread, NOW - timedelta(hours=1), scores={"toxicity": 0.3})
        _moderator("admin@example.com", Role.ADMIN)
        db.session.commit()
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(Score))
    assert rows == 1
    page = _login(app, "admin@example.com").get("/mod/dashboard?label=threat").text
    assert "No scores in this range" in page
