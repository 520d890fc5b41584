"""Site heads: fitting and validation (adapt.py), training, versions, rollback, the
schedule, the CLI, the calibration page and the migration."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade

from moderation import create_app
from moderation.commands.site_heads import train_screen_site
from moderation.errors import InvalidTransition
from moderation.extensions import db
from moderation.models import (
    AuditEntry,
    Comment,
    CommentStatus,
    Decision,
    HeadStatus,
    Moderator,
    Role,
    ScreenHead,
    Thread,
)
from moderation.rendering import render_body
from moderation.screening import adapt
from moderation.screening.base import Policy
from moderation.services import site_heads, worker
from moderation.services.comments import fingerprint, get_site

from fakes import FixedClassifier
from staff_helpers import add_moderator, add_site, login

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PUBLISHED, REJECTED, HELD = (
    CommentStatus.PUBLISHED,
    CommentStatus.REJECTED,
    CommentStatus.HELD,
)


# adapt.py: no app ----------------------------------------------------------------


def separable(n: int, seed: int = 0, d: int = 8):
    """Features whose first column tells the labels apart; a default that cannot
    (toxicity 0.3 for everything: it holds nothing at 0.5)."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 3 == 0).astype(int)  # a third rejected
    X = rng.normal(size=(n, d))
    X[:, 0] += 3.0 * (2 * y - 1)
    return X, np.full(n, 0.3), y


def test_head_learns_what_the_default_misses():
    X, base, y = separable(450)
    head = adapt.fit_site_head(X[:300], base[:300], y[:300])
    p = head.predict(X[300:], base[300:])
    assert ((p > 0) & (p < 1)).all()
    assert p[y[300:] == 1].mean() > 0.8
    assert p[y[300:] == 0].mean() < 0.2
    check = adapt.validate(head, None, X[300:], base[300:], y[300:], 0.5)
    assert check.accept, check.reason
    assert check.current.recall == 0.0 and check.current.precision is None
    assert check.candidate.recall > 0.9


def test_calibrated_probabilities_match_observed_rates():
    # Noisy labels: a calibrated 0.8 should be right about 80% of the time.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(4000, 4))
    y = (rng.random(4000) < 1 / (1 + np.exp(-2 * X[:, 0]))).astype(int)
    head = adapt.fit_site_head(X[:3000], np.full(3000, 0.5), y[:3000])
    p = head.predict(X[3000:], np.full(1000, 0.5))
    for low, high in ((0.0, 0.3), (0.3, 0.7), (0.7, 1.0)):
        band = (p >= low) & (p < high)
        assert band.sum() > 50
        assert abs(y[3000:][band].mean() - p[band].mean()) < 0.08


def test_few_decisions_move_the_head_little():
    # A default that is right, decisions that agree with it, features that are
    # noise: the penalty keeps the head near the default where a loose fit chases
    # the noise.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1200, 64))
    base = rng.uniform(0.05, 0.95, 1200)
    y = (rng.random(1200) < base).astype(int)

    def moved(strength: float) -> float:
        head = adapt.fit_site_head(X[:200], base[:200], y[:200], strength=strength)
        return float(np.abs(head.predict(X[200:], base[200:]) - base[200:]).mean())

    assert moved(adapt.PRIOR_STRENGTH) < 0.1
    assert moved(adapt.PRIOR_STRENGTH) < moved(0.001) / 2


def test_fewer_than_the_minimum_decisions_fit_nothing():
    X, base, y = separable(199)
    with pytest.raises(adapt.TooFewExamples, match="199 decisions, 200 needed"):
        adapt.fit_site_head(X, base, y)
    X, base, _ = separable(400)
    y = np.zeros(400, dtype=int)
    y[:20] = 1
    with pytest.raises(adapt.TooFewExamples, match="30 of each needed"):
        adapt.fit_site_head(X, base, y)


def test_a_head_that_adds_nothing_is_not_accepted():
    X, _, y = separable(120)
    base = np.where(y == 1, 0.7, 0.2)
    same = adapt.SiteHead(weights=np.zeros(X.shape[1]), bias=0.0, base_weight=1.0)
    assert np.allclose(same.predict(X, base), base, atol=1e-3)
    check = adapt.validate(same, None, X, base, y, 0.5)
    assert not check.accept
    assert check.reason.startswith("no better")


def test_validation_refuses_a_head_worse_on_either_measure():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    X = np.zeros((8, 1))
    # The default holds 3 of 4 rejected comments and one approved one.
    base = np.array([0.9, 0.9, 0.9, 0.1, 0.9, 0.1, 0.1, 0.1])
    inverted = adapt.SiteHead(weights=np.zeros(1), bias=0.0, base_weight=-1.0)
    check = adapt.validate(inverted, None, X, base, y, 0.5)
    assert not check.accept and check.reason.startswith("worse")
    # Same recall, better precision: the approved comment is no longer held.
    X = np.array([[0], [0], [0], [0], [1], [0], [0], [0]], dtype=float)
    sharper = adapt.SiteHead(weights=np.array([-10.0]), bias=0.0, base_weight=1.0)
    check = adapt.validate(sharper, None, X, base, y, 0.5)
    assert check.accept, check.reason
    assert check.candidate.recall == check.current.recall == 0.75
    assert check.candidate.precision == 1.0 and check.current.precision == 0.75
    # Against a current head that already does as well: no better, not accepted.
    assert not adapt.validate(sharper, sharper, X, base, y, 0.5).accept


def test_head_survives_json_and_adjusts_only_toxicity():
    X, base, y = separable(300)
    head = adapt.fit_site_head(X, base, y)
    again = adapt.SiteHead.from_json(head.to_json(), "v7")
    assert again.version == "v7"
    assert np.array_equal(again.predict(X, base), head.predict(X, base))
    scores = [{"toxicity": 0.3, "insult": 0.2}, {"insult": 0.9}]
    adjusted = head.adjust(scores, X[:2])
    assert adjusted[0]["insult"] == 0.2
    assert adjusted[0]["toxicity"] == pytest.approx(head.predict(X[:1], [0.3])[0])
    assert adjusted[1] == {"insult": 0.9}
    # No features (a classifier without them), or other features: unchanged.
    assert head.adjust(scores, None) == scores
    assert head.adjust(scores, np.zeros((2, 3))) == scores
    assert scores[0] == {"toxicity": 0.3, "insult": 0.2}  # never changed in place


def test_a_policy_with_a_head_still_compares():
    X, base, y = separable(300)
    head = adapt.fit_site_head(X, base, y)
    assert Policy(adapter=head) == Policy()


# The service, on the app -----------------------------------------------------------


class WordClassifier:
    """A classifier with features: counts of a few words. Its own toxicity
    ignores them (0.3 for everything), so only a site head can learn them."""

    name = "words"
    version = "words 1"
    labels = ("toxicity", "insult")
    limitations = "a test double"
    WORDS = ("idiot", "awful", "thanks", "lovely")

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.error: Exception | None = None

    def features(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(len(texts))
        if self.error is not None:
            raise self.error
        return np.asarray(
            [[t.lower().count(w) for w in self.WORDS] for t in texts],
            dtype=np.float32,
        )

    def score_features(self, X: np.ndarray) -> list[dict[str, float]]:
        return [{"toxicity": 0.3, "insult": 0.1} for _ in X]

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        return self.score_features(self.features(texts))


def body(label: int, i: int) -> str:
    return f"You idiot, awful take {i}" if label else f"Thanks, a lovely piece {i}"


def decide_many(
    app: Flask,
    slug: str,
    moderator_id: int,
    labels: Sequence[int],
    start: datetime,
    text=body,
) -> list[int]:
    """One comment per label, held by the screen then rejected (1) or published
    (0) by the moderator, a minute apart from `start`; their ids."""
    with app.app_context():
        thread = db.session.scalar(
            sa.select(Thread).join(Thread.site).where(Thread.site.has(slug=slug))
        )
        moderator = db.session.get(Moderator, moderator_id)
        ids = []
        for i, label in enumerate(labels):
            at = start + timedelta(minutes=i)
            words = text(label, i)
            comment = Comment(
                thread=thread,
                handle="Reader",
                body=words,
                html=render_body(words),
                status=REJECTED if label else PUBLISHED,
                fingerprint=fingerprint(words),
                created_at=at,
            )
            db.session.add(comment)
            db.session.flush()
            db.session.add(
                Decision(
                    comment_id=comment.id,
                    actor="screen",
                    from_status=CommentStatus.RECEIVED,
                    to_status=HELD,
                    created_at=at,
                )
            )
            db.session.add(
                Decision(
                    comment_id=comment.id,
                    moderator_id=moderator.id,
                    actor=moderator.email,
                    from_status=HELD,
                    to_status=REJECTED if label else PUBLISHED,
                    created_at=at + timedelta(seconds=30),
                )
            )
            ids.append(comment.id)
        db.session.commit()
        return ids


def labels(n: int) -> list[int]:
    return [int(i % 3 == 0) for i in range(n)]  # a third rejected


@pytest.fixture
def news(app: Flask) -> int:
    """Site `news` with 300 decided comments (a third rejected); the moderator's id."""
    add_site(app, "news")
    moderator = add_moderator(app, "mod@news.example", sites=["news"])
    decide_many(app, "news", moderator, labels(300), NOW - timedelta(days=2))
    return moderator


def _heads(app: Flask) -> list[ScreenHead]:
    with app.app_context():
        return list(db.session.scalars(sa.select(ScreenHead).order_by(ScreenHead.id)))


def _audit(app: Flask, prefix: str = "screen_head.") -> list[AuditEntry]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEntry)
                .where(AuditEntry.action.startswith(prefix))
                .order_by(AuditEntry.id)
            )
        )


def test_examples_are_latest_moderator_decisions_in_decision_order(app):
    add_site(app, "news")
    add_site(app, "other")
    mod = add_moderator(app, "mod@news.example", sites=["news", "other"])
    start = NOW - timedelta(days=1)
    late, early = decide_many(app, "news", mod, [1, 0], start)
    with app.app_context():
        # `late` was decided again, after `early`'s decision: it sorts last.
        db.session.add_all(
            [
                Decision(
                    comment_id=early,
                    moderator_id=mod,
                    actor="mod@news.example",
                    from_status=PUBLISHED,
                    to_status=REJECTED,
                    created_at=start - timedelta(hours=1),
                ),
            ]
        )
        db.session.commit()
    # Published then rejected: rejected counts.
    flipped = decide_many(app, "news", mod, [0], start + timedelta(hours=1))[0]
    # Rejected, then put back in the queue: no verdict to learn from.
    undone = decide_many(app, "news", mod, [1], start + timedelta(hours=2))[0]
    deleted = decide_many(app, "news", mod, [1], start + timedelta(hours=3))[0]
    edited = decide_many(app, "news", mod, [0], start + timedelta(hours=4))[0]
    decide_many(app, "other", mod, [1], start)
    # The screen's own verdict on a comment nobody reviewed: not a label.
    screened = decide_many(app, "news", mod, [0], start)[0]
    with app.app_context():
        for comment_id, from_status, to_status in (
            (flipped, PUBLISHED, REJECTED),
            (undone, REJECTED, HELD),
        ):
            db.session.add(
                Decision(
                    comment_id=comment_id,
                    moderator_id=mod,
                    actor="mod@news.example",
                    from_status=from_status,
                    to_status=to_status,
                    created_at=start + timedelta(hours=5),
                )
            )
        db.session.get(Comment, deleted).status = CommentStatus.DELETED
        db.session.get(Comment, edited).edited_at = start + timedelta(hours=6)
        db.session.execute(
            sa.delete(Decision).where(
                Decision.comment_id == screened, Decision.moderator_id.is_not(None)
            )
        )
        db.session.commit()
        examples = site_heads.labelled_examples(get_site("news"))
        assert [(e.comment_id, e.label) for e in examples] == [
            (early, 1),  # its moderator decision came an hour before the others'
            (late, 1),
            (flipped, 1),
        ]
        assert site_heads.count_labelled(get_site("news")) == 3
        assert site_heads.count_labelled(get_site("news"), since=start) == 2
    assert site_heads.SCREEN_ACTOR == worker.SCREEN_ACTOR


def test_too_few_decisions_train_nothing(app):
    add_site(app, "news")
    mod = add_moderator(app, "mod@news.example", sites=["news"])
    decide_many(app, "news", mod, labels(240), NOW - timedelta(days=1))
    with app.app_context():
        outcome = site_heads.train_site(get_site("news"), WordClassifier(), NOW)
    assert outcome.status == "too-few"
    assert outcome.message == (
        "not enough decisions to train on: 192 decisions, 200 needed to fit on, "
        "after the newest 20% of the 240 are set aside to validate"
    )
    assert _heads(app) == [] and _audit(app) == []


def test_training_switches_on_a_head_that_beats_the_default(app, news):
    classifier = WordClassifier()
    with app.app_context():
        site = get_site("news")
        assert site_heads.site_policy(site).adapter is None
        outcome = site_heads.train_site(site, classifier, NOW, actor="cli")
        assert outcome.status == "activated" and outcome.version == 1
        assert max(classifier.batches) == site_heads.FEATURE_BATCH
        assert sum(classifier.batches) == 300
        adapter = site_heads.site_policy(site).adapter
        assert adapter is not None and adapter.version == "v1"
        # Cached by (site, version).
        assert site_heads.site_policy(site).adapter is adapter
        texts = ["You idiot", "Thanks, lovely"]
        scores = adapter.adjust(classifier.score(texts), classifier.features(texts))
        assert scores[0]["toxicity"] > 0.5 > scores[1]["toxicity"]
        assert scores[0]["insult"] == 0.1
    (head,) = _heads(app)
    assert head.status is HeadStatus.ACTIVE
    assert (head.examples, head.positives, head.created_by) == (300, 100, "cli")
    assert head.created_at == NOW
    metrics = head.metrics
    assert metrics["threshold"] == 0.5 and metrics["against"] == "the default model"
    assert metrics["candidate"]["recall"] == 1.0
    assert metrics["current"]["recall"] == 0.0
    assert metrics["validation_examples"] == 60 and metrics["fit_examples"] == 240
    (entry,) = _audit(app)
    assert entry.action == "screen_head.activated" and entry.actor == "cli"
    assert entry.after == {"active": 1, "version": 1}


def test_a_head_no_better_than_the_active_one_is_stored_but_not_used(app, news):
    with app.app_context():
        site_heads.train_site(get_site("news"), WordClassifier(), NOW)
        outcome = site_heads.train_site(
            get_site("news"), WordClassifier(), NOW + timedelta(days=7)
        )
        assert outcome.status == "rejected" and outcome.version == 2
        assert "against v1" in outcome.message
        assert site_heads.site_policy(get_site("news")).adapter.version == "v1"
    first, second = _heads(app)
    assert (first.status, second.status) == (HeadStatus.ACTIVE, HeadStatus.REJECTED)
    assert second.metrics["against"] == "v1" and second.head is not None
    assert [e.action for e in _audit(app)] == [
        "screen_head.activated",
        "screen_head.rejected",
    ]


def test_rollback_goes_back_version_by_version_then_to_the_default(
    app, news, monkeypatch
):
    real = adapt.validate

    def always_accept(*args, **kwargs):
        check = real(*args, **kwargs)
        return adapt.Validation(
            check.threshold, check.candidate, check.current, True, "forced"
        )

    with app.app_context():
        site_heads.train_site(get_site("news"), WordClassifier(), NOW)
        monkeypatch.setattr(site_heads.adapt, "validate", always_accept)
        site_heads.train_site(get_site("news"), WordClassifier(), NOW)
        assert site_heads.site_policy(get_site("news")).adapter.version == "v2"
        admin = db.session.get(
            Moderator, add_moderator(app, "boss@news.example", Role.ADMIN)
        )
        back = site_heads.rollback(get_site("news"), moderator=admin, reason="odd")
        assert back.version == 1
        assert site_heads.site_policy(get_site("news")).adapter.version == "v1"
        assert site_heads.rollback(get_site("news"), actor="cli") is None
        assert site_heads.site_policy(get_site("news")).adapter is None
        with pytest.raises(InvalidTransition, match="No site head is active"):
            site_heads.rollback(get_site("news"), actor="cli")
    first, second = _heads(app)
    assert first.status is second.status is HeadStatus.RETIRED
    assert second.metrics["replaced"] == 1
    assert second.metrics["rolled_back"]["by"] == "boss@news.example"
    rollbacks = _audit(app, "screen_head.rollback")
    assert [(e.before, e.after) for e in rollbacks] == [
        ({"active": 2}, {"active": 1}),
        ({"active": 1}, {"active": None}),
    ]
    assert rollbacks[0].actor == "boss@news.example" and rollbacks[0].reason == "odd"
    assert rollbacks[1].actor == "cli"


def test_a_site_being_trained_is_not_trained_twice(app, news):
    with app.app_context():
        db.session.add(
            ScreenHead(
                site_id=get_site("news").id,
                version=1,
                created_at=NOW - timedelta(minutes=5),
                status=HeadStatus.CANDIDATE,
            )
        )
        db.session.commit()
        outcome = site_heads.train_site(get_site("news"), WordClassifier(), NOW)
        assert outcome.status == "busy"
        # Two hours later the candidate is a dead run's: training goes ahead.
        later = site_heads.train_site(
            get_site("news"), WordClassifier(), NOW + timedelta(hours=2)
        )
        assert later.status == "activated" and later.version == 2


def test_a_failed_training_leaves_a_rejected_version_saying_why(app, news):
    classifier = WordClassifier()
    classifier.error = RuntimeError("encoder went away")
    with app.app_context(), pytest.raises(RuntimeError):
        site_heads.train_site(get_site("news"), classifier, NOW)
    (head,) = _heads(app)
    assert head.status is HeadStatus.REJECTED
    assert head.metrics == {"error": "RuntimeError: encoder went away"}


def test_a_classifier_without_features_cannot_have_site_heads(app, news):
    with app.app_context():
        outcome = site_heads.train_site(get_site("news"), FixedClassifier(), NOW)
    assert outcome.status == "unsupported"
    assert _heads(app) == []


def test_schedule_trains_weekly_once_enough_new_decisions(app, news):
    words = WordClassifier()
    outcomes = site_heads.maybe_retrain(app, NOW, words)
    assert [(o.site, o.status, o.version) for o in outcomes] == [
        ("news", "activated", 1)
    ]
    # Just trained: not due. Nothing due is looked at again within the hour.
    assert site_heads.maybe_retrain(app, NOW, words) == []
    week = NOW + timedelta(days=8)
    assert site_heads.maybe_retrain(app, week, words, force_check=True) == []
    mod = news
    decide_many(app, "news", mod, labels(199), NOW + timedelta(days=1))
    assert site_heads.maybe_retrain(app, week, words, force_check=True) == []
    decide_many(app, "news", mod, [0], NOW + timedelta(days=2))
    # Due now, but the last look was under an hour ago.
    assert site_heads.maybe_retrain(app, week, words) == []
    (outcome,) = site_heads.maybe_retrain(app, week, words, force_check=True)
    assert outcome.version == 2
    assert _heads(app)[-1].created_by == "schedule"


def test_schedule_never_raises(app, news):
    words = WordClassifier()
    words.error = RuntimeError("boom")
    assert site_heads.maybe_retrain(app, NOW, words) == []
    (head,) = _heads(app)
    assert head.metrics == {"error": "RuntimeError: boom"}


def test_cli_trains_lists_and_rolls_back(make_app):
    app = make_app(CLASSIFIER_OBJECT=WordClassifier())
    add_site(app, "news")
    mod = add_moderator(app, "mod@news.example", sites=["news"])
    decide_many(app, "news", mod, labels(300), NOW - timedelta(days=2))
    runner = app.test_cli_runner()
    result = runner.invoke(train_screen_site, ["--site", "news"])
    assert result.exit_code == 0, result.output
    assert "site news: v1 activated against the default model" in result.output
    result = runner.invoke(train_screen_site, ["--site", "news", "--list"])
    assert result.exit_code == 0
    assert "site news: v1 active; 300 decisions to learn from" in result.output
    assert "v1   active" in result.output and "recall 1.000 vs 0.000" in result.output
    result = runner.invoke(
        train_screen_site, ["--site", "news", "--rollback", "--reason", "bad week"]
    )
    assert result.exit_code == 0
    assert "rolled back; the default model screens it now" in result.output
    assert _audit(app, "screen_head.rollback")[0].reason == "bad week"
    result = runner.invoke(train_screen_site, ["--site", "news", "--rollback"])
    assert result.exit_code == 1 and "No site head is active" in result.output
    result = runner.invoke(train_screen_site, ["--site", "nowhere", "--list"])
    assert result.exit_code == 1 and "No site called 'nowhere'" in result.output


def test_cli_says_when_the_classifier_has_no_features(app, news):
    result = app.test_cli_runner().invoke(train_screen_site, ["--site", "news"])
    assert result.exit_code == 1
    assert "fixed gives no features" in result.output


# The calibration page ---------------------------------------------------------------


@pytest.fixture
def trained(app, news):
    with app.app_context():
        site_heads.train_site(get_site("news"), WordClassifier(), NOW, actor="cli")
        site_heads.train_site(get_site("news"), WordClassifier(), NOW)


def test_calibration_page_shows_versions_and_rollback_for_admins(app, trained):
    add_moderator(app, "boss@example.com", Role.ADMIN)
    client = login(app, "boss@example.com")
    page = client.get("/mod/calibration?site=news").text
    assert "Learnt from this site" in page
    assert "Version 1 of a toxicity model adapted to Site news" in page
    assert '<th scope="row">v1 <span class="badge-now">active</span></th>' in page
    assert "100.0% vs –" in page  # precision against a default that held nothing
    assert "100.0% vs 0.0%" in page  # recall
    assert "rejected" in page and "v2" in page
    assert "Roll back v1 to the default model" in page
    response = client.post(
        "/mod/calibration/news/rollback", data={"reason": "too strict"}
    )
    assert response.status_code == 303
    assert response.location.endswith("/mod/calibration?site=news")
    page = client.get(response.location).text
    assert "rolled back: the default model screens Site news now" in page
    assert "rolled back by boss@example.com" in page
    assert "Roll back" not in page
    (entry,) = _audit(app, "screen_head.rollback")
    assert entry.actor == "boss@example.com" and entry.reason == "too strict"


def test_moderators_see_versions_but_cannot_roll_back(app, trained):
    client = login(app, "mod@news.example")
    page = client.get("/mod/calibration?site=news").text
    assert "v1" in page and "Roll back" not in page
    response = client.post("/mod/calibration/news/rollback", data={})
    assert response.status_code == 403
    assert _audit(app, "screen_head.rollback") == []


def test_rollback_needs_the_csrf_token(app, trained):
    add_moderator(app, "boss@example.com", Role.ADMIN)
    client = login(app, "boss@example.com")
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/mod/calibration?site=news").text
    form = page[page.index('<form method="post" action="/mod/calibration/news/') :]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token, form[:300]
    response = client.post("/mod/calibration/news/rollback", data={"reason": "x"})
    assert response.status_code == 400
    assert _audit(app, "screen_head.rollback") == []
    response = client.post(
        "/mod/calibration/news/rollback",
        data={"reason": "x", "csrf_token": token.group(1)},
    )
    assert response.status_code == 303
    assert len(_audit(app, "screen_head.rollback")) == 1


def test_calibration_page_without_heads_says_the_default_screens(app, news):
    page = login(app, "mod@news.example").get("/mod/calibration?site=news").text
    assert "The default model screens Site news" in page
    assert '<table class="calibration site-heads">' not in page


# The migration ------------------------------------------------------------------------


def test_model_matches_migration_0005(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, db.metadata)
    assert [d for d in differences if "screen_heads" in str(d)] == []


def test_migration_0005_upgrades_and_downgrades(tmp_path, app_config):
    if not app_config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return  # PostgreSQL: the session fixture already ran the upgrade there
    app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = create_app(app_config)
    with app.app_context():
        upgrade(revision="0004")
        assert "screen_heads" not in db.inspect(db.engine).get_table_names()
        upgrade(revision="0005")
        inspector = db.inspect(db.engine)
        assert {c["name"] for c in inspector.get_columns("screen_heads")} == {
            "id",
            "site_id",
            "version",
            "created_at",
            "examples",
            "positives",
            "metrics",
            "head",
            "status",
            "created_by",
        }
        assert [
            u["name"] for u in inspector.get_unique_constraints("screen_heads")
        ] == ["uq_screen_heads_site_id_version"]
        assert [f["name"] for f in inspector.get_foreign_keys("screen_heads")] == [
            "fk_screen_heads_site_id_sites"
        ]
        assert [c["name"] for c in inspector.get_check_constraints("screen_heads")] == [
            "ck_screen_heads_screen_head_status"
        ]
        downgrade(revision="0004")
        assert "screen_heads" not in db.inspect(db.engine).get_table_names()
        db.engine.dispose()
