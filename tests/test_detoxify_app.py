"""The service with the real detoxify classifier, on a tiny offline checkpoint."""

from __future__ import annotations

import sqlalchemy as sa

from moderation.demo.loader import load_demo
from moderation.extensions import db
from moderation.models import Comment

from helpers import post_from_iframe
from tiny_detoxify import ORIGINAL_LABELS


def test_auto_uses_detoxify_when_weights_are_given_and_scores_every_label(
    make_app, tiny_detoxify, tmp_path
):
    checkpoint, config_dir = tiny_detoxify
    app = make_app(
        CLASSIFIER_OBJECT=None,
        CLASSIFIER="auto",
        DETOXIFY_CHECKPOINT=str(checkpoint),
        DETOXIFY_CONFIG_DIR=str(config_dir),
    )
    screener = app.extensions["screener"]
    assert screener.choice.kind == "detoxify"
    assert str(checkpoint) in screener.description
    with app.app_context():
        load_demo("http://localhost", tmp_path)
    client = app.test_client()
    response = post_from_iframe(
        client, "/embed/demo/seed-article", body="A calm and reasonable remark."
    )
    assert response.status_code in (201, 202)
    with app.app_context():
        comment = db.session.scalar(
            sa.select(Comment).filter_by(body="A calm and reasonable remark.")
        )
        # Detoxify averaged with the screen: the same six labels.
        assert comment.classifier == "detoxify-original+screen"
        assert {s.label for s in comment.scores} == set(ORIGINAL_LABELS)
        assert all(0.0 <= s.value <= 1.0 for s in comment.scores)


def test_auto_falls_back_to_the_screen_without_weights(make_app):
    app = make_app(CLASSIFIER_OBJECT=None, CLASSIFIER="auto")
    screener = app.extensions["screener"]
    assert screener.choice.kind == "screen"
    assert "offline default" in screener.description
    classifier = screener.classifier()
    assert "implicit hate" in classifier.limitations
    hostile, threat, calm = classifier.score(
        [
            "you are a fucking idiot",
            "I know where you live and I will hurt you",
            "thanks for the article",
        ]
    )
    assert hostile["toxicity"] > 0.5 > calm["toxicity"]
    assert threat["threat"] > 0.5 > calm["threat"]


def test_moderators_are_told_what_the_fallback_cannot_see(
    make_app, tmp_path, moderator
):
    app = make_app(CLASSIFIER_OBJECT=None, CLASSIFIER="auto")
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    from support import MODERATOR_PASSWORD

    client.post(
        "/mod/login", data={"email": "mod@example.com", "password": MODERATOR_PASSWORD}
    )
    page = client.get("/mod/").text
    assert "the screen, the offline default" in page  # in plain words (no paths)
    assert "implicit hate without telling words" in page
