"""Calibration: preview a hold threshold, apply it (admins, audited), undo it; and
the demo's decided history that gives a fresh demo something to calibrate on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from moderation.demo.history import ARTICLES, KEY_PREFIX
from moderation.extensions import db
from moderation.insights import calibration
from moderation.insights.calibration import Decided, Row
from moderation.models import (
    AuditEntry,
    Comment,
    CommentStatus,
    Decision,
    Moderator,
    Role,
    Score,
    Site,
    Thread,
)
from moderation.services import sites

from staff_helpers import add_moderator, login

HELD, PUBLISHED, REJECTED = (
    CommentStatus.HELD,
    CommentStatus.PUBLISHED,
    CommentStatus.REJECTED,
)
# (toxicity score, moderator rejected it, text)
DECIDED = [
    (0.10, False, "A calm note about the bus timetable."),
    (0.20, False, "Thanks for the chart."),
    (0.30, False, "I disagree with the fare rise."),
    (0.55, False, "This plan is daft."),
    (0.62, False, "The board is hopeless."),
    (0.70, False, "What a farce of a meeting."),
    (0.85, False, "<b>Loud</b> but fair criticism & more."),
    (0.15, True, "Buy cheap watches here."),
    (0.60, True, "You lot are clowns."),
    (0.75, True, "Nobody wants your opinion, loser."),
    (0.90, True, "You are an idiot."),
    (0.95, True, "Shut up, moron."),
]


def _calibration_site(app, reject_threshold=None) -> None:
    """Site `calib` (toxicity holds at 0.5), an admin, a moderator, DECIDED."""
    with app.app_context():
        site = Site(
            slug="calib",
            name="Calib News",
            hold_thresholds={"toxicity": 0.5, "insult": 0.6},
            reject_threshold=reject_threshold,
        )
        thread = Thread(site=site, key="article", title="An article")
        db.session.add(thread)
        db.session.commit()
    add_moderator(app, "admin@example.com", Role.ADMIN)
    moderator_id = add_moderator(app, "mod@example.com", sites=["calib"])
    with app.app_context():
        thread = db.session.scalar(sa.select(Thread).filter_by(key="article"))
        for score, rejected, body in DECIDED:
            comment = Comment(
                thread=thread,
                handle="Reader",
                body=body,
                html=body,
                status=REJECTED if rejected else PUBLISHED,
                fingerprint=body,
            )
            db.session.add(comment)
            db.session.flush()
            comment.scores.append(
                Score(classifier="fixed", version="1", label="toxicity", value=score)
            )
            for actor, moderator, before, after in (
                ("screen", None, CommentStatus.RECEIVED, HELD),
                ("mod@example.com", moderator_id, HELD, comment.status),
            ):
                db.session.add(
                    Decision(
                        comment_id=comment.id,
                        actor=actor,
                        moderator_id=moderator,
                        from_status=before,
                        to_status=after,
                    )
                )
        db.session.commit()


def _thresholds(app) -> dict[str, float]:
    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="calib"))
        return dict(site.hold_thresholds)


def _audit(app) -> list[AuditEntry]:
    with app.app_context():
        entries = list(
            db.session.scalars(
                sa.select(AuditEntry)
                .where(AuditEntry.action == "site.settings")
                .order_by(AuditEntry.id)
            )
        )
        db.session.expunge_all()
        return entries


def _csrf(client, path: str) -> str:
    match = re.search(
        r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', client.get(path).text
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def _apply(client, threshold="0.8", expected="0.5", **extra):
    return client.post(
        "/mod/calibration/calib/apply",
        data={
            "label": "toxicity",
            "threshold": threshold,
            "expected": expected,
            **extra,
        },
    )


def _entry_on_page(page: str) -> str:
    match = re.search(r'name="entry" value="(\d+)"', page)
    assert match, "no Undo on the page"
    return match.group(1)


# The preview


def test_preview_says_what_the_threshold_would_have_done(app):
    _calibration_site(app)
    page = login(app, "admin@example.com").get(
        "/mod/calibration?site=calib&label=toxicity&threshold=0.8"
    )
    assert page.status_code == 200
    html = page.text
    # 7 published, 5 rejected by moderators; at 0.8 one published comment (0.85)
    # is held (4 at 0.5), and three rejected ones pass (0.15, 0.60, 0.75; 1 at 0.5).
    assert "(7 published, 5 rejected)" in html
    assert '<span id="preview-stopped">1</span>' in html
    assert "(at 0.5: 4)" in html
    assert '<span id="preview-passing">3</span>' in html
    assert "(at 0.5: 1)" in html
    # Examples, escaped: the comments the change moves first.
    assert "&lt;b&gt;Loud&lt;/b&gt; but fair criticism &amp; more." in html
    assert "<b>Loud</b>" not in html
    passing = html[html.index("Rejected by moderators, passed at this threshold") :]
    order = [passing.index(text) for text in ("clowns", "loser", "cheap watches")]
    assert order == sorted(order)
    # An admin gets the form that applies it, naming both values.
    assert 'action="/mod/calibration/calib/apply"' in html
    assert "Apply: hold at toxicity 0.8 (now 0.5)" in html


def test_moderators_see_the_preview_but_not_the_apply_form(app):
    _calibration_site(app)
    html = (
        login(app, "mod@example.com")
        .get("/mod/calibration?site=calib&threshold=0.8")
        .text
    )
    assert '<span id="preview-stopped">1</span>' in html
    assert "/mod/calibration/calib/apply" not in html
    assert "Only an admin can apply a threshold." in html


def test_the_page_suggests_the_best_threshold_and_fills_it_in(app, monkeypatch):
    monkeypatch.setattr(calibration, "MIN_DECISIONS", 10)
    _calibration_site(app)
    html = login(app, "mod@example.com").get("/mod/calibration?site=calib").text
    rows = calibration.calibrate(
        [calibration.Sample(s, r) for s, r, _ in DECIDED], current=0.5
    )
    best = calibration.suggest(rows)
    assert best is not None
    assert f'id="suggested-threshold">{best.threshold:.2f}<' in html
    assert f'value="{best.threshold:.2f}"' in html  # the threshold field


def test_suggestion_is_the_best_f1_and_the_higher_threshold_of_equals():
    rows = [
        Row(0.5, held=4, held_rejected=2, rejected=3),
        Row(0.6, held=3, held_rejected=2, rejected=3),
        Row(0.7, held=3, held_rejected=2, rejected=3),
        Row(0.8, held=0, held_rejected=0, rejected=3),
    ]
    best = calibration.suggest(rows)
    assert best is not None and best.threshold == 0.7
    assert calibration.suggest([Row(0.5, held=0, held_rejected=0, rejected=0)]) is None


def test_preview_counts_rejections_at_the_reject_threshold():
    decided = [
        Decided(1, 0.85, rejected=False),
        Decided(2, 0.65, rejected=False),
        Decided(3, 0.40, rejected=True),
    ]
    figures, stopped, passing = calibration.preview(
        decided, "toxicity", 0.9, current=0.5, reject_threshold=0.8
    )
    # 0.85 is under the new hold threshold but at the reject threshold.
    assert (figures.approved_stopped, figures.approved_rejected) == (1, 1)
    assert figures.approved_stopped_now == 2
    assert (figures.rejected_passing, figures.rejected_passing_now) == (1, 1)
    assert stopped == [1] and passing == [3]
    # The reject threshold is on toxicity only.
    other, _, _ = calibration.preview(
        decided, "insult", 0.9, current=0.5, reject_threshold=0.8
    )
    assert other.reject_threshold is None and other.approved_stopped == 0


# Apply and undo


def test_admin_applies_a_threshold_audited_and_undoes_it(app):
    _calibration_site(app)
    client = login(app, "admin@example.com")
    app.config["WTF_CSRF_ENABLED"] = True
    preview = "/mod/calibration?site=calib&label=toxicity&threshold=0.8"
    token = _csrf(client, preview)
    response = _apply(client, csrf_token=token, reason="fewer false holds")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        "/mod/calibration?site=calib&label=toxicity"
    )
    assert _thresholds(app) == {"toxicity": 0.8, "insult": 0.6}
    [entry] = _audit(app)
    assert entry.before == {"hold_thresholds": {"toxicity": 0.5, "insult": 0.6}}
    assert entry.after == {"hold_thresholds": {"toxicity": 0.8, "insult": 0.6}}
    assert entry.actor == "admin@example.com"
    assert entry.reason.startswith("calibration: toxicity hold threshold 0.5 → 0.8")
    assert "fewer false holds" in entry.reason

    page = client.get("/mod/calibration?site=calib&label=toxicity").text
    assert "now holds comments at toxicity 0.8 (was 0.5)" in page
    assert 'id="current-threshold">0.8<' in page
    assert "changed the toxicity threshold from 0.5 to 0.8" in page
    assert "Undo: back to 0.5" in page
    entry_id = _entry_on_page(page)
    assert entry_id == str(entry.id)

    undo = {"label": "toxicity", "entry": entry_id, "csrf_token": token}
    response = client.post("/mod/calibration/calib/undo", data=undo)
    assert response.status_code == 303
    assert _thresholds(app) == {"toxicity": 0.5, "insult": 0.6}
    first, second = _audit(app)
    assert second.before == {"hold_thresholds": {"toxicity": 0.8, "insult": 0.6}}
    assert second.after == {"hold_thresholds": {"toxicity": 0.5, "insult": 0.6}}
    assert second.reason.startswith(f"undo of change #{first.id}")
    page = client.get("/mod/calibration?site=calib&label=toxicity").text
    assert "holds comments at toxicity 0.5 again" in page

    # The same Undo again: the threshold was changed (by the undo) since.
    again = client.post("/mod/calibration/calib/undo", data=undo)
    assert again.status_code == 409
    assert "changed again since" in again.text
    assert _thresholds(app) == {"toxicity": 0.5, "insult": 0.6}
    assert len(_audit(app)) == 2


def test_undo_is_refused_once_the_threshold_was_changed_again(app):
    _calibration_site(app)
    client = login(app, "admin@example.com")
    assert _apply(client).status_code == 303
    page = client.get("/mod/calibration?site=calib&label=toxicity").text
    stale_entry = _entry_on_page(page)
    # Another admin sets it in Sites → Settings meanwhile.
    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="calib"))
        admin = db.session.scalar(sa.select(Moderator).filter_by(role=Role.ADMIN))
        sites.update_settings(
            site,
            {"hold_thresholds": {"toxicity": 0.7, "insult": 0.6}},
            moderator=admin,
        )
    response = client.post(
        "/mod/calibration/calib/undo", data={"label": "toxicity", "entry": stale_entry}
    )
    assert response.status_code == 409
    assert "was changed again since, to 0.7 by admin@example.com" in response.text
    assert _thresholds(app)["toxicity"] == 0.7
    # The page offers to undo the latest change only.
    page = client.get("/mod/calibration?site=calib&label=toxicity").text
    assert _entry_on_page(page) != stale_entry
    assert "Undo: back to 0.8" in page


def test_apply_is_refused_when_the_threshold_moved_since_the_preview(app):
    _calibration_site(app)
    client = login(app, "admin@example.com")
    response = _apply(client, threshold="0.8", expected="0.6")
    assert response.status_code == 409
    assert "Preview again" in response.text
    assert _thresholds(app)["toxicity"] == 0.5
    assert _audit(app) == []


def test_applying_the_current_value_changes_nothing(app):
    _calibration_site(app)
    client = login(app, "admin@example.com")
    response = _apply(client, threshold="0.5", expected="0.5")
    assert response.status_code == 303
    assert "already: nothing changed" in client.get(response.headers["Location"]).text
    assert _audit(app) == []


def test_moderators_who_are_not_admins_cannot_apply_or_undo(app):
    _calibration_site(app)
    admin = login(app, "admin@example.com")
    assert _apply(admin).status_code == 303
    entry = _audit(app)[0].id
    moderator = login(app, "mod@example.com")
    assert _apply(moderator, threshold="0.9", expected="0.8").status_code == 403
    undo = moderator.post(
        "/mod/calibration/calib/undo", data={"label": "toxicity", "entry": str(entry)}
    )
    assert undo.status_code == 403
    assert _thresholds(app)["toxicity"] == 0.8
    assert len(_audit(app)) == 1


def test_apply_needs_the_csrf_token(app):
    _calibration_site(app)
    client = login(app, "admin@example.com")
    app.config["WTF_CSRF_ENABLED"] = True
    assert _apply(client).status_code == 400
    assert _thresholds(app)["toxicity"] == 0.5


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("abc", "is not a number"),
        ("1.5", "outside 0 to 1"),
        ("-0.1", "outside 0 to 1"),
        ("nan", "outside 0 to 1"),
        ("inf", "outside 0 to 1"),
        ("", "Enter a threshold"),
    ],
)
def test_a_threshold_that_is_not_a_number_from_0_to_1_is_a_400(app, raw, says):
    _calibration_site(app)
    client = login(app, "admin@example.com")
    preview = client.get(f"/mod/calibration?site=calib&threshold={raw}")
    assert preview.status_code == 400
    assert says in preview.text
    applied = _apply(client, threshold=raw)
    assert applied.status_code == 400
    assert says in applied.text
    assert _thresholds(app)["toxicity"] == 0.5
    assert _audit(app) == []


def test_bad_label_or_change_id_is_a_400_and_unknown_change_a_404(app):
    _calibration_site(app)
    client = login(app, "admin@example.com")
    assert _apply(client, label="Tox!city").status_code == 400
    bad = client.post("/mod/calibration/calib/undo", data={"label": "toxicity"})
    assert bad.status_code == 400
    unknown = client.post(
        "/mod/calibration/calib/undo", data={"label": "toxicity", "entry": "999"}
    )
    assert unknown.status_code == 404
    assert _thresholds(app)["toxicity"] == 0.5


# The demo's history


def _history_count(app) -> tuple[int, int]:
    with app.app_context():
        comments = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Comment)
            .where(Comment.idempotency_key.startswith(KEY_PREFIX))
        )
        decisions = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Decision)
            .where(Decision.moderator_id.is_not(None))
        )
        return comments, decisions


def _load_demo(app) -> None:
    result = app.test_cli_runner().invoke(
        args=["load-demo", "--public-url", "http://localhost"]
    )
    assert result.exit_code == 0, result.output


def _demo_login(app):
    password = (Path(app.instance_path) / "demo-moderator.txt").read_text().split()[-1]
    return login(app, "moderator@example.com", password)


def test_demo_history_loads_once_and_calibration_shows_figures(app):
    _load_demo(app)
    entries = sum(len(article.comments) for article in ARTICLES)
    comments, decisions = _history_count(app)
    assert comments == entries > calibration.MIN_DECISIONS
    assert decisions == entries  # each decided once, by the demo moderator
    _load_demo(app)
    assert _history_count(app) == (comments, decisions)
    with app.app_context():
        # Stored as the worker stores them: the screen's decision, then the
        # moderator's, and the classifier's scores.
        comment = db.session.scalar(
            sa.select(Comment).where(Comment.idempotency_key == f"{KEY_PREFIX}1")
        )
        assert [(d.actor, d.to_status) for d in comment.decisions] == [
            ("screen", HELD),
            ("moderator@example.com", PUBLISHED),
        ]
        assert {s.label for s in comment.scores} >= {"toxicity"}
        # The seed thread is untouched: the history is on other articles.
        seed = db.session.scalar(sa.select(Thread).filter_by(key="seed-article"))
        assert len(seed.comments) == 5

    page = _demo_login(app).get("/mod/calibration?site=demo").text
    assert "Too few decisions" not in page
    assert f"{entries:,} comments on BBN" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in page


def test_demo_history_is_scored_by_the_real_classifier(make_app, screen_classifier):
    app = make_app(CLASSIFIER_OBJECT=screen_classifier)
    _load_demo(app)
    with app.app_context():
        rows = db.session.execute(
            sa.select(Comment.status, Score.classifier, Score.value)
            .join(Score, Score.comment_id == Comment.id)
            .where(
                Comment.idempotency_key.startswith(KEY_PREFIX),
                Score.label == "toxicity",
            )
        ).all()
    assert {classifier for _, classifier, _ in rows} == {screen_classifier.name}
    rejected = [value for status, _, value in rows if status is REJECTED]
    published = [value for status, _, value in rows if status is PUBLISHED]
    # Spread enough for calibration to say something: the rejected mostly score
    # high, the published mostly low, with mistakes either way.
    assert sum(rejected) / len(rejected) > sum(published) / len(published) + 0.2
    assert any(value < 0.5 for value in rejected)
    assert any(value >= 0.5 for value in published)
    samples = [
        calibration.Sample(value, status is REJECTED) for status, _, value in rows
    ]
    best = calibration.suggest(calibration.calibrate(samples))
    assert best is not None and best.f1 is not None and best.f1 > 0.6
