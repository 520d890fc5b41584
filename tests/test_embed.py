"""The reader's side: the thread inside the iframe, posting, replying."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from support import BROWSER_POST

from moderation.extensions import db
from moderation.models import Comment, CommentStatus, Decision, Thread
from moderation.services.revisions import bump_threads

from helpers import form_token, post_from_iframe


def _comments(app, status=None):
    with app.app_context():
        query = sa.select(Comment).order_by(Comment.id)
        if status is not None:
            query = query.where(Comment.status == status)
        return [(c.id, c.handle, c.body, c.status) for c in db.session.scalars(query)]


def test_thread_shows_seed_comments_with_handles_and_site_times(client, demo):
    page = client.get(demo.embed)
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert "Gary1990 November 6, 2023 - 12:41 am" in text
    assert "JessieK November 6, 2023 - 8:46 pm" in text
    assert '<time datetime="2023-11-06T05:41:00+00:00">' in page.text
    assert "Leave a Comment" in page.text
    assert page.text.index("Gary1990") < page.text.index("JessieK")


def test_embed_page_sets_no_cookie_and_only_site_origins_may_frame_it(client, demo):
    page = client.get(demo.embed)
    assert "Set-Cookie" not in page.headers
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors http://localhost" in csp
    assert "X-Frame-Options" not in page.headers


def test_clean_comment_is_published_and_shown(client, demo, app):
    response = post_from_iframe(
        client, demo.embed, handle="Nora", body="Thanks for the clear *summary*."
    )
    assert response.status_code == 201
    assert "your comment is published" in response.text
    assert "Set-Cookie" not in response.headers
    assert "<em>summary</em>" in client.get(demo.embed).text
    assert _comments(app, CommentStatus.PUBLISHED)[-1][1] == "Nora"


def test_toxic_comment_is_held_and_not_shown_to_other_readers(
    client, demo, classifier, app
):
    classifier.scores = {"toxicity": 0.93, "insult": 0.88, "threat": 0.02}
    response = post_from_iframe(client, demo.embed, body="You are all fools.")
    assert response.status_code == 202
    assert "awaiting moderation" in response.text
    assert "You are all fools" not in client.get(demo.embed).text
    (held,) = _comments(app, CommentStatus.HELD)
    assert held[2] == "You are all fools."


def test_rejected_comment_gets_a_neutral_message(client, demo, app):
    response = post_from_iframe(client, demo.embed, body="Get out, you nigger.")
    assert response.status_code == 200
    assert "will not be published" in response.text
    assert _comments(app, CommentStatus.REJECTED)


def test_comment_is_stored_before_it_is_screened(client, demo, classifier, app):
    seen = []

    def look(texts):
        with app.app_context():
            seen.extend(
                db.session.scalars(
                    sa.select(Comment.status).where(Comment.body == texts[0])
                )
            )

    classifier.hook = look
    post_from_iframe(client, demo.embed, body="Stored first, then screened.")
    assert seen == [CommentStatus.RECEIVED]


def test_classifier_that_raises_leaves_comment_held_with_reason(
    client, demo, classifier, app
):
    classifier.error = RuntimeError("model exploded")
    response = post_from_iframe(client, demo.embed, body="Nothing wrong here.")
    assert response.status_code == 202
    with app.app_context():
        comment = db.session.scalar(
            sa.select(Comment).filter_by(body="Nothing wrong here.")
        )
        assert comment.status is CommentStatus.HELD
        assert comment.decisions[-1].reason == "screening failed"
        assert "model exploded" in comment.rule_hits[0].reason


def test_classifier_that_times_out_leaves_comment_held(make_app, tmp_path):
    import threading

    from moderation.demo.loader import load_demo

    from fakes import FixedClassifier

    stalled = FixedClassifier()
    stalled.stall = threading.Event()
    app = make_app(CLASSIFIER_OBJECT=stalled, SCREEN_TIMEOUT=0.2)
    with app.app_context():
        load_demo("http://localhost", tmp_path)
    client = app.test_client()
    try:
        response = post_from_iframe(
            client, "/embed/demo/seed-article", body="Slow to score."
        )
    finally:
        stalled.stall.set()
    assert response.status_code == 202
    with app.app_context():
        comment = db.session.scalar(sa.select(Comment).filter_by(body="Slow to score."))
        assert comment.status is CommentStatus.HELD
        assert comment.decisions[-1].reason == "screening failed"


def test_double_submit_of_one_form_stores_one_comment(client, demo, app):
    token = form_token(client, demo.embed)
    first = post_from_iframe(client, demo.embed, token=token, body="Only once.")
    second = post_from_iframe(client, demo.embed, token=token, body="Only once.")
    assert first.status_code == second.status_code == 201
    assert [c[2] for c in _comments(app)].count("Only once.") == 1


def test_reply_is_nested_under_its_parent(client, demo, app):
    (parent_id, *_), *_ = _comments(app)
    response = post_from_iframe(
        client, demo.embed, body="Replying to Gary.", parent_id=str(parent_id)
    )
    assert response.status_code == 201
    page = client.get(demo.embed).text
    parent_block = page[page.index(f'id="comment-{parent_id}"') :]
    parent_block = parent_block[: parent_block.index('id="comment-2"')]
    assert 'class="replies' in parent_block
    assert "Replying to Gary." in parent_block


def test_reply_form_names_the_comment_it_answers(client, demo):
    page = client.get(f"{demo.embed}?reply_to=1")
    assert 'name="parent_id" value="1"' in page.text


def test_reply_to_unknown_comment_is_refused(client, demo, app):
    response = post_from_iframe(client, demo.embed, parent_id="999999")
    assert response.status_code == 422
    assert "not in this thread" in response.text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"body": ""}, "Please write a comment."),
        ({"body": "   \n "}, "Please write a comment."),
        ({"body": "x" * 5001}, "at most 5,000 characters"),
        ({"handle": ""}, "Please give a name"),
        ({"handle": "<b>boss</b>"}, "Names may use letters"),
        ({"handle": "n" * 41}, "at most 40 characters"),
        ({"email": "not-an-email"}, "does not look like an email"),
        ({"parent_id": "abc"}, "Must be a comment id"),
    ],
)
def test_bad_input_gets_a_clear_message_and_nothing_is_stored(
    client, demo, app, fields, message
):
    before = len(_comments(app))
    response = post_from_iframe(client, demo.embed, **fields)
    assert response.status_code == 422
    assert message in response.text
    assert len(_comments(app)) == before


def test_bad_input_keeps_what_the_reader_wrote(client, demo):
    response = post_from_iframe(client, demo.embed, handle="", body="Keep my words.")
    assert "Keep my words." in response.text


def test_script_in_a_comment_shows_as_text(client, demo):
    body = "<script>alert(1)</script> <img src=x onerror=alert(2)>"
    response = post_from_iframe(client, demo.embed, body=body)
    assert response.status_code == 201
    page = client.get(demo.embed).text
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "onerror=alert(2)" in page  # as text, inside an escaped tag


def test_unknown_thread_is_404(client, demo):
    assert client.get("/embed/demo/no-such-article").status_code == 404
    assert post_from_iframe(client, "/embed/nosite/x", token="t").status_code == 404


def test_closed_thread_refuses_comments(client, demo, app):
    token = form_token(client, demo.embed)
    with app.app_context():
        db.session.get(Thread, demo.id).is_open = False
        # As every change readers see does (sites.close_thread): the cached page
        # is keyed by the revision, so the bump is what shows "closed".
        bump_threads([demo.id])
        db.session.commit()
    assert "Comments are closed" in client.get(demo.embed).text
    response = post_from_iframe(client, demo.embed, token=token)
    assert response.status_code == 409
    assert "closed" in response.text


def test_forged_cross_site_post_is_refused(client, demo, app):
    token = form_token(client, demo.embed)
    response = client.post(
        demo.embed,
        data={"token": token, "handle": "Mallory", "body": "forged"},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert all(c[1] != "Mallory" for c in _comments(app))


def test_form_token_for_another_thread_is_refused(client, demo, app):
    with app.app_context():
        thread = db.session.get(Thread, demo.id)
        db.session.add(Thread(site=thread.site, key="other", title="Other"))
        db.session.commit()
    token = form_token(client, "/embed/demo/other")
    response = post_from_iframe(client, demo.embed, token=token)
    assert response.status_code == 422
    assert "another thread" in response.text


def test_forged_token_is_refused(client, demo):
    response = post_from_iframe(client, demo.embed, token="forged.token.value")
    assert response.status_code == 422
    assert "not valid" in response.text


def test_expired_form_keeps_the_text_and_offers_a_fresh_token(client, demo, app):
    token = form_token(client, demo.embed)
    app.config["FORM_TOKEN_MAX_AGE"] = -1
    response = post_from_iframe(client, demo.embed, token=token, body="Long thought.")
    assert response.status_code == 400
    assert "expired" in response.text
    assert "Long thought." in response.text
    app.config["FORM_TOKEN_MAX_AGE"] = 3600
    fresh = re.search(r'name="token" value="([^"]+)"', response.text).group(1)
    again = post_from_iframe(client, demo.embed, token=fresh, body="Long thought.")
    assert again.status_code == 201


def test_every_screen_decision_is_recorded(client, demo, app):
    post_from_iframe(client, demo.embed, body="Recorded.")
    with app.app_context():
        comment = db.session.scalar(sa.select(Comment).filter_by(body="Recorded."))
        (decision,) = db.session.scalars(
            sa.select(Decision).filter_by(comment_id=comment.id)
        )
        assert decision.actor == "screen"
        assert decision.from_status is CommentStatus.RECEIVED
        assert decision.to_status is CommentStatus.PUBLISHED
        assert {s.label for s in comment.scores} == {"toxicity", "insult", "threat"}


def test_post_rate_limit_answers_429(make_app, tmp_path):
    from moderation.demo.loader import load_demo

    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_POST="2 per minute")
    with app.app_context():
        load_demo("http://localhost", tmp_path)
    client = app.test_client()
    codes = [
        post_from_iframe(client, "/embed/demo/seed-article", body=f"n {n}").status_code
        for n in range(3)
    ]
    assert codes == [201, 201, 429]


def test_browser_post_without_origin_but_same_origin_fetch_is_accepted(client, demo):
    token = form_token(client, demo.embed)
    response = client.post(
        demo.embed,
        data={"token": token, "handle": "Old Browser", "body": "Hello."},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 201


def test_headers_of_browser_post_are_what_the_suite_assumes():
    assert BROWSER_POST["Sec-Fetch-Site"] == "same-origin"
