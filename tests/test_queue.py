"""Moderators: log in, see the held queue, decide; every decision is kept."""

from __future__ import annotations

import re

import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, CommentStatus, Decision

from conftest import MODERATOR_PASSWORD
from helpers import post_from_iframe


def _held(client, demo, classifier, body, **scores):
    classifier.by_text[body] = {"toxicity": 0.9, "insult": 0.7, **scores}
    response = post_from_iframe(client, demo.embed, body=body)
    assert response.status_code == 202
    return body


def _id_of(app, body):
    with app.app_context():
        return db.session.scalar(sa.select(Comment.id).filter_by(body=body))


def test_queue_needs_a_login(client):
    response = client.get("/mod/")
    assert response.status_code == 302
    assert "/mod/login" in response.headers["Location"]


def test_wrong_password_is_refused(client, moderator):
    client.application.config["WTF_CSRF_ENABLED"] = False
    response = client.post(
        "/mod/login", data={"email": "mod@example.com", "password": "wrong"}
    )
    assert response.status_code == 401
    assert "do not match" in response.text


def test_login_form_is_csrf_protected(client, moderator):
    response = client.post(
        "/mod/login", data={"email": "mod@example.com", "password": MODERATOR_PASSWORD}
    )
    assert response.status_code == 400


def test_login_with_csrf_token_works(client, moderator):
    page = client.get("/mod/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/mod/login",
        data={
            "email": "mod@example.com",
            "password": MODERATOR_PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 302


def test_passwords_are_stored_as_strong_hashes(app, moderator):
    from moderation.models import Moderator

    with app.app_context():
        stored = db.session.get(Moderator, moderator).password_hash
    assert stored.startswith("scrypt:")
    assert MODERATOR_PASSWORD not in stored


def test_moderator_pages_are_never_framed(moderator_client):
    response = moderator_client.get("/mod/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_held_queue_is_oldest_first_with_thread_scores_and_classifier(
    client, moderator_client, demo, classifier
):
    first = _held(client, demo, classifier, "First held comment.")
    second = _held(client, demo, classifier, "Second held comment.")
    page = moderator_client.get("/mod/").text
    assert page.index(first) < page.index(second)
    assert "Diplomatic Efforts Intensify" in page  # the thread
    assert "toxicity" in page and "0.90" in page and "0.50" in page  # score, threshold
    assert "Classifier: fixed: set by the application" in page
    assert '<span class="count">2</span>' in page


def test_matched_words_are_highlighted(client, moderator_client, demo):
    response = post_from_iframe(
        client, demo.embed, body="What a load of bullshit, honestly."
    )
    assert response.status_code == 202
    page = moderator_client.get("/mod/").text
    assert "<mark>bullshit</mark>" in page
    assert "suspect word" in page


def test_highlighting_escapes_the_comment(client, moderator_client, demo):
    body = "<script>alert(1)</script> bullshit"
    post_from_iframe(client, demo.embed, body=body)
    page = moderator_client.get("/mod/").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>bullshit</mark>" in page


def test_approve_publishes_and_records_the_decision(
    app, client, moderator_client, demo, classifier
):
    body = _held(client, demo, classifier, "Borderline but fine.")
    comment_id = _id_of(app, body)
    response = moderator_client.post(
        f"/mod/comments/{comment_id}/decision",
        data={"action": "approve", "reason": "fair criticism", "expected": "held"},
    )
    assert response.status_code == 303
    assert body in client.get(demo.embed).text
    with app.app_context():
        decision = db.session.scalars(
            sa.select(Decision).filter_by(comment_id=comment_id).order_by(Decision.id)
        ).all()[-1]
        assert decision.actor == "mod@example.com"
        assert decision.moderator_id is not None
        assert decision.from_status is CommentStatus.HELD
        assert decision.to_status is CommentStatus.PUBLISHED
        assert decision.reason == "fair criticism"
        assert decision.created_at is not None
    page = moderator_client.get(f"/mod/comments/{comment_id}").text
    assert "fair criticism" in page and "mod@example.com" in page
    assert "screen" in page  # the screen's own decision is listed too


def test_reject_keeps_it_off_the_thread(
    app, client, moderator_client, demo, classifier
):
    body = _held(client, demo, classifier, "Nasty one.")
    comment_id = _id_of(app, body)
    response = moderator_client.post(
        f"/mod/comments/{comment_id}/decision",
        data={"action": "reject", "reason": "abuse", "expected": "held"},
    )
    assert response.status_code == 303
    assert body not in client.get(demo.embed).text
    assert body not in moderator_client.get("/mod/").text


def test_double_decision_is_a_clear_409(
    app, client, moderator_client, demo, classifier
):
    body = _held(client, demo, classifier, "Decided twice.")
    comment_id = _id_of(app, body)
    path = f"/mod/comments/{comment_id}/decision"
    data = {"action": "approve", "expected": "held"}
    assert moderator_client.post(path, data=data).status_code == 303
    again = moderator_client.post(path, data={"action": "reject", "expected": "held"})
    assert again.status_code == 409
    assert "already published" in again.text


def test_unknown_comment_and_bad_action_are_4xx(moderator_client, demo):
    assert moderator_client.get("/mod/comments/999999").status_code == 404
    response = moderator_client.post(
        "/mod/comments/999999/decision", data={"action": "approve"}
    )
    assert response.status_code == 404
    response = moderator_client.post(
        "/mod/comments/1/decision", data={"action": "burn"}
    )
    assert response.status_code == 422


def test_decision_form_is_csrf_protected(
    app, client, moderator_client, demo, classifier
):
    body = _held(client, demo, classifier, "Needs a token.")
    app.config["WTF_CSRF_ENABLED"] = True
    response = moderator_client.post(
        f"/mod/comments/{_id_of(app, body)}/decision", data={"action": "approve"}
    )
    assert response.status_code == 400


def test_logout_ends_the_session(moderator_client):
    assert moderator_client.post("/mod/logout").status_code == 302
    assert moderator_client.get("/mod/").status_code == 302


def test_screening_failure_is_visible_to_moderators(
    app, client, moderator_client, demo, classifier
):
    classifier.error = RuntimeError("weights corrupt")
    post_from_iframe(client, demo.embed, body="Unscreened text.")
    page = moderator_client.get("/mod/").text
    assert "Unscreened text." in page
    assert "weights corrupt" in page
