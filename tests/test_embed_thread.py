"""The reader's thread without a browser: the box at the top under its count,
replies opened under their comment, refusals inside the frame, a reader's own
comments, previews, and the check embed.js makes for a silent frame."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from support import BROWSER_POST

from moderation.extensions import db
from moderation.models import Comment, CommentStatus, Thread, utcnow
from moderation.signing import issue_receipt

from helpers import form_token, post_from_iframe

ORIGIN = "http://localhost"


@pytest.fixture
def demo_app(make_app) -> Callable[..., Flask]:
    """Apps with settings of a test's own, the demo site loaded."""
    from moderation.demo.loader import load_demo

    def build(**overrides: object) -> Flask:
        app = make_app(**overrides)
        with app.app_context():
            load_demo(app.config["PUBLIC_URL"], Path(app.instance_path))
        return app

    return build


def _client_at(app: Flask, address: str):
    """A client from its own network: the limiter's counters are per network and
    shared by every app in the test process."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _comment(thread_id: int, handle: str, body: str, **fields: object) -> Comment:
    """A comment as the database keeps it, held unless the test says otherwise."""
    fields.setdefault("status", CommentStatus.HELD)
    return Comment(
        thread_id=thread_id,
        handle=handle,
        body=body,
        html=f"<p>{body}</p>",
        fingerprint=f"fp-{handle}-{body}",
        **fields,
    )


def _seed_comment(app, demo, handle: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(Comment.id).filter_by(thread_id=demo.id, handle=handle)
        )


def test_the_box_is_at_the_top_under_the_count(client, demo):
    page = client.get(demo.embed)
    assert page.status_code == 200
    html = page.text
    assert re.search(r'<h2 id="comments-heading"[^>]*>5 comments</h2>', html)
    assert html.index('id="leave-comment"') < html.index('id="comments"')
    # The form is not under every comment: once, at the top.
    assert html.count('class="comment-form"') == 1


def test_reply_to_opens_the_form_under_its_comment_naming_the_handle(client, app, demo):
    gary = _seed_comment(app, demo, "Gary1990")
    page = client.get(f"{demo.embed}?reply_to={gary}&origin={ORIGIN}")
    html = page.text
    item = html.index(f'id="comment-{gary}"')
    form = html.index('id="reply-form"')
    next_item = html.find('<li class="comment"', item + 1)
    assert item < form < next_item, "the reply form sits inside the comment's item"
    assert "Replying to Gary1990." in _text(html)
    assert "comment #" not in html
    assert f'name="parent_id" value="{gary}"' in html
    # Ids stay unique: the top form keeps its own, the reply form is prefixed.
    assert 'id="reply-body"' in html and 'id="body"' in html
    assert len(re.findall(r'\bid="body"', html)) == 1


def test_reply_to_a_comment_that_is_not_shown_is_ignored(client, app, demo):
    with app.app_context():
        held = _comment(demo.id, "Held", "wait")
        db.session.add(held)
        db.session.commit()
        held_id = held.id
    for raw in (str(held_id), "999999999", "abc", "99999999999999999999"):
        page = client.get(f"{demo.embed}?reply_to={raw}")
        assert page.status_code == 200
        assert 'name="parent_id"' not in page.text
        assert 'class="replying"' not in page.text


def test_a_post_over_the_limit_keeps_the_text_inside_the_frame(demo_app):
    app = demo_app(RATELIMIT_ENABLED=True, RATELIMIT_POST="1 per minute")
    client = _client_at(app, "10.212.0.1")
    path = "/embed/demo/seed-article?lang=fr"
    first = post_from_iframe(client, path, body="Premier commentaire, réfléchi.")
    assert first.status_code in (201, 202)
    second = post_from_iframe(
        client,
        path,
        body="Mon second texte, à ne pas perdre.",
        email="a@example.org",
        origin=ORIGIN,
    )
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) >= 1
    text = _text(second.text)
    assert "Vous publiez trop vite ; réessayez dans" in text
    # The thread and its form, styled, with the reader's text and origin kept.
    assert "Mon second texte, à ne pas perdre." in second.text
    assert 'value="a@example.org"' in second.text
    assert "css/embed.css" in second.text and "js/frame.js" in second.text
    assert 'data-parent-origin="http://localhost"' in second.text
    assert "frame-ancestors 'none'" not in second.headers["Content-Security-Policy"]


def test_a_reply_over_the_limit_reopens_under_its_comment(demo_app):
    app = demo_app(RATELIMIT_ENABLED=True, RATELIMIT_POST="1 per minute")
    client = _client_at(app, "10.212.0.2")
    with app.app_context():
        gary = db.session.scalar(sa.select(Comment.id).filter_by(handle="Gary1990"))
    post_from_iframe(client, "/embed/demo/seed-article", body="A first one.")
    second = post_from_iframe(
        client,
        "/embed/demo/seed-article",
        body="My reply to Gary.",
        parent_id=str(gary),
    )
    assert second.status_code == 429
    html = second.text
    assert html.index(f'id="comment-{gary}"') < html.index('id="reply-form"')
    assert "My reply to Gary." in html
    assert "You are posting too fast; try again in" in _text(html)


def test_refusals_in_the_frame_are_styled_translated_and_keep_the_origin(client, demo):
    # A comment that does not exist: the edit page's 404, inside the frame.
    response = client.get(
        f"{demo.embed}/comments/999999/report?origin={ORIGIN}&lang=fr&theme=dark"
    )
    assert response.status_code == 404
    html = response.text
    assert "css/embed.css" in html and "js/frame.js" in html
    assert 'data-parent-origin="http://localhost"' in html
    assert "theme-dark" in html
    back = re.search(r'<a class="back" href="([^"]+)"', html).group(1)
    assert "origin=http" in back and "lang=fr" in back and "theme=dark" in back
    assert "Retour aux commentaires" in html
    assert "frame-ancestors 'none'" not in response.headers["Content-Security-Policy"]


def test_a_refusal_for_an_unknown_thread_is_not_framed_and_has_no_way_back(
    client, demo
):
    response = client.get("/embed/demo/no-such-thread/comments/1/report")
    assert response.status_code == 404
    assert 'class="back"' not in response.text


def test_a_published_post_in_a_long_thread_opens_the_page_that_holds_it(demo_app):
    app = demo_app(THREAD_PAGE_SIZE=10)
    client = app.test_client()
    with app.app_context():
        start = utcnow() - timedelta(days=1)
        thread = db.session.scalar(sa.select(Thread.id).filter_by(key="seed-article"))
        db.session.add_all(
            _comment(
                thread,
                f"reader{n}",
                f"Comment {n}",
                status=CommentStatus.PUBLISHED,
                created_at=start + timedelta(minutes=n),
            )
            for n in range(40)
        )
        db.session.commit()
    posted = post_from_iframe(client, "/embed/demo/seed-article", body="Mine, at last.")
    assert posted.status_code == 201
    with app.app_context():
        mine = db.session.scalar(sa.select(sa.func.max(Comment.id)))
    assert f'id="comment-{mine}"' in posted.text
    assert "your comment is published" in posted.text
    assert f'href="#comment-{mine}"' in posted.text


def test_preview_renders_like_a_published_comment(client, demo):
    response = client.post(
        f"{demo.embed}/preview",
        data={"body": "**bold** <script>alert(1)</script> https://example.org"},
    )
    assert response.status_code == 200
    assert "<strong>bold</strong>" in response.text
    assert "<script" not in response.text
    assert response.headers["Cache-Control"] == "no-store"
    too_long = client.post(f"{demo.embed}/preview", data={"body": "x" * 20000})
    assert too_long.status_code == 422
    assert (
        client.post("/embed/demo/nope/preview", data={"body": "x"}).status_code == 404
    )


def test_mine_shows_a_readers_own_held_comment_only_with_its_receipt(client, app, demo):
    with app.app_context():
        held = _comment(demo.id, "Ann", "Mine, held.")
        db.session.add(held)
        db.session.commit()
        receipt = issue_receipt(held)
        published = db.session.scalar(
            sa.select(Comment).filter_by(status=CommentStatus.PUBLISHED)
        )
        published_receipt = issue_receipt(published)
        other = Thread(site_id=db.session.get(Thread, demo.id).site_id, key="other")
        db.session.add(other)
        db.session.flush()
        elsewhere = _comment(other.id, "Ann", "Elsewhere.")
        db.session.add(elsewhere)
        db.session.commit()
        elsewhere_receipt = issue_receipt(elsewhere)
    response = client.get(
        f"{demo.embed}/mine",
        query_string=[
            ("receipt", receipt),
            ("receipt", published_receipt),
            ("receipt", elsewhere_receipt),
            ("receipt", "forged"),
        ],
    )
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert "Mine, held." in response.text and "Awaiting review" in response.text
    assert "Elsewhere." not in response.text
    assert response.text.count('class="comment own-comment-item') == 1
    # Without a receipt nobody sees it, and the shared page never shows it.
    assert "Mine, held." not in client.get(f"{demo.embed}/mine").text
    assert "Mine, held." not in client.get(demo.embed).text


def test_allowed_tells_embed_js_which_origin_to_add(client, demo):
    refused = client.get(f"{demo.embed}/allowed?origin=https://news.example.net")
    assert refused.status_code == 200
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert refused.json["allowed"] is False
    assert "https://news.example.net" in refused.json["message"]
    assert "allowed origins" in refused.json["message"]
    fine = client.get(f"{demo.embed}/allowed?origin={ORIGIN}")
    assert fine.json["allowed"] is True
    unknown = client.get("/embed/nosuchsite/x/allowed?origin=https://a.example")
    assert unknown.json["allowed"] is False
    assert "nosuchsite" in unknown.json["message"]


def test_the_form_token_still_travels_with_the_top_form(client, demo):
    token = form_token(client, demo.embed)
    response = client.post(
        demo.embed,
        data={"handle": "Top", "body": "From the top box.", "token": token},
        headers=BROWSER_POST,
    )
    assert response.status_code in (201, 202)
