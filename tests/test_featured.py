"""Featured comments (editors' picks) and staff replies: moderators and readers."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from moderation.extensions import db
from moderation.models import (
    AuditEntry,
    Comment,
    CommentStatus,
    Decision,
    Moderator,
    Site,
    Thread,
)
from moderation.services.api_tokens import create_token

from helpers import post_from_iframe
from staff_helpers import add_comment, add_moderator, add_site, login

EMBED = "/embed/north/article"
API = "/api/v1/moderation"
FEATURED_BADGE = 'class="badge badge-featured"'
STAFF_BADGE = 'class="badge badge-staff"'


@pytest.fixture
def north(app: Flask) -> FlaskClient:
    """Logged in as "north", who moderates site north only; south exists too."""
    add_site(app, "north")
    add_site(app, "south")
    add_moderator(app, "north@example.com", sites=["north"])
    return login(app, "north@example.com")


def _token(app: Flask, email: str) -> dict[str, str]:
    with app.app_context():
        moderator = db.session.scalar(sa.select(Moderator).filter_by(email=email))
        return {"Authorization": f"Bearer {create_token(moderator, 'test')[1]}"}


def _published(app: Flask, body: str = "A published remark.", **fields) -> int:
    return add_comment(app, "north", body, status=CommentStatus.PUBLISHED, **fields)


def _feature(client: FlaskClient, comment_id: int, action: str = "feature"):
    return client.post(
        f"/mod/comments/{comment_id}/feature",
        data={"action": action, "next": "/mod/?queue=approved"},
    )


def _block(page: str) -> str:
    """The featured block of a reader's page ('' when there is none)."""
    match = re.search(r'<section class="featured".*?</section>', page, re.S)
    return match.group(0) if match else ""


def _audit(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEntry).filter_by(action=action)))


def _revision(app: Flask) -> int:
    """The revision of north's thread (south has a thread keyed "article" too)."""
    with app.app_context():
        return db.session.scalar(
            sa.select(Thread.revision)
            .join(Site, Site.id == Thread.site_id)
            .where(Site.slug == "north", Thread.key == "article")
        )


def test_featuring_from_the_queue_shows_the_block_and_badge_to_readers(
    app, client, north
):
    picked = _published(app, "Worth reading first.")
    _published(app, "An ordinary remark.")
    before = client.get(EMBED)
    assert before.status_code == 200
    assert _block(before.text) == "" and FEATURED_BADGE not in before.text
    revision = _revision(app)

    response = _feature(north, picked)
    assert response.status_code == 303
    assert response.headers["Location"] == "/mod/?queue=approved"

    # The cached page is not served again: the thread's revision moved on.
    assert _revision(app) == revision + 1
    page = client.get(EMBED).text
    block = _block(page)
    assert "Worth reading first." in block and "An ordinary remark." not in block
    assert FEATURED_BADGE in block
    assert f"?comment={picked}" in block and f"#comment-{picked}" in block
    assert page.count(FEATURED_BADGE) == 2  # in the block and in the thread
    # Above the sort menu and the list.
    assert page.index('class="featured"') < page.index('class="sort-nav"')
    (entry,) = _audit(app, "comment.featured")
    assert entry.target_id == str(picked)
    assert entry.actor == "north@example.com"
    assert entry.after == {"featured": True}
    with app.app_context():
        comment = db.session.get(Comment, picked)
        assert comment.featured_at is not None
        assert comment.featured_by.email == "north@example.com"


def test_unfeaturing_removes_the_block(app, client, north):
    picked = _published(app)
    _feature(north, picked)
    assert _block(client.get(EMBED).text)
    assert _feature(north, picked, "unfeature").status_code == 303
    page = client.get(EMBED).text
    assert _block(page) == "" and FEATURED_BADGE not in page
    assert len(_audit(app, "comment.unfeatured")) == 1
    # Unfeaturing again changes nothing and logs nothing.
    assert _feature(north, picked, "unfeature").status_code == 303
    assert len(_audit(app, "comment.unfeatured")) == 1


def test_rejecting_a_featured_comment_drops_it_from_the_block(app, client, north):
    picked = _published(app, "Featured, then rejected.")
    _feature(north, picked)
    assert "Featured, then rejected." in _block(client.get(EMBED).text)
    response = north.post(
        f"/mod/comments/{picked}/decision",
        data={"action": "reject", "reason_code": "spam", "expected": "published"},
    )
    assert response.status_code == 303
    page = client.get(EMBED).text
    assert _block(page) == "" and "Featured, then rejected." not in page
    # The moderator still sees that it is featured, and may unfeature it.
    item = north.get(f"/mod/comments/{picked}").text
    assert "not shown while it is rejected" in item
    assert 'value="unfeature"' in item


def test_block_lists_the_latest_picks_first_five_at_most(app, client, north):
    ids = [_published(app, f"Remark number {n}.") for n in range(7)]
    for comment_id in ids:
        _feature(north, comment_id)
    block = _block(client.get(EMBED).text)
    shown = [int(n) for n in re.findall(r"\?comment=(\d+)", block)]
    assert shown == ids[::-1][:5]


def test_the_blocks_link_opens_the_page_that_holds_the_comment(app, client, north):
    app.config["THREAD_PAGE_SIZE"] = 2
    ids = [_published(app, f"Top-level remark {n}.") for n in range(5)]
    _feature(north, ids[-1])
    page = client.get(EMBED).text
    assert f'id="comment-{ids[-1]}"' not in page  # not on the first page
    link = re.search(r'href="([^"]*\?comment=\d+[^"]*)"', _block(page)).group(1)
    opened = client.get(link.replace("&amp;", "&").split("#")[0]).text
    assert f'id="comment-{ids[-1]}"' in opened


def test_only_published_comments_can_be_featured(app, client, north):
    held = add_comment(app, "north", "Still held.")
    response = _feature(north, held)
    assert response.status_code == 409
    assert "Only published comments can be featured" in response.text
    token = _token(app, "north@example.com")
    answer = client.post(f"{API}/comments/{held}/feature", headers=token)
    assert answer.status_code == 409
    assert answer.json["error"] == "invalid_transition"
    with app.app_context():
        assert db.session.get(Comment, held).featured_at is None
    assert _audit(app, "comment.featured") == []


def test_moderators_of_another_site_cannot_feature(app, client, north):
    theirs = add_comment(app, "south", "South's.", status=CommentStatus.PUBLISHED)
    assert _feature(north, theirs).status_code == 403
    token = _token(app, "north@example.com")
    assert (
        client.post(f"{API}/comments/{theirs}/feature", headers=token).status_code
        == 403
    )
    assert (
        client.delete(f"{API}/comments/{theirs}/feature", headers=token).status_code
        == 403
    )
    assert (
        client.post(f"{API}/comments/999999/feature", headers=token).status_code == 404
    )
    assert client.post(f"{API}/comments/{theirs}/feature").status_code == 401
    with app.app_context():
        assert db.session.get(Comment, theirs).featured_at is None


def test_the_api_features_and_unfeatures(app, client, north):
    picked = _published(app)
    token = _token(app, "north@example.com")
    reader_api = "/api/v1/sites/north/threads/article/comments"
    assert client.get(reader_api).json["comments"][0]["featured"] is False

    answer = client.post(f"{API}/comments/{picked}/feature", headers=token)
    assert answer.status_code == 200
    assert answer.json["id"] == picked and answer.json["featured_at"]
    assert answer.json["staff"] is False
    (shown,) = client.get(reader_api).json["comments"]
    assert shown["featured"] is True and shown["staff"] is False
    assert _block(client.get(EMBED).text)

    # Featuring twice changes nothing and logs nothing.
    assert (
        client.post(f"{API}/comments/{picked}/feature", headers=token).json[
            "featured_at"
        ]
        == answer.json["featured_at"]
    )
    assert len(_audit(app, "comment.featured")) == 1

    gone = client.delete(f"{API}/comments/{picked}/feature", headers=token)
    assert gone.status_code == 200 and gone.json["featured_at"] is None
    assert client.get(reader_api).json["comments"][0]["featured"] is False
    assert len(_audit(app, "comment.unfeatured")) == 1


def test_the_queue_offers_feature_on_published_comments_only(app, north):
    published = _published(app, "Out already.")
    held = add_comment(app, "north", "Waiting.")
    approved = north.get("/mod/?queue=approved").text
    assert f'action="/mod/comments/{published}/feature"' in approved
    assert "<kbd>f</kbd>" in approved
    waiting = north.get("/mod/").text
    assert f'action="/mod/comments/{held}/feature"' not in waiting
    _feature(north, published)
    approved = north.get("/mod/?queue=approved").text
    assert 'value="unfeature"' in approved and "badge-featured" in approved
    item = north.get(f"/mod/comments/{published}").text
    assert "Featured by north" in item and "<kbd>f</kbd>" in item


def test_a_staff_reply_is_published_with_a_badge(app, client, north):
    parent = _published(app, "Is this figure right?")
    client.get(EMBED)  # cached before the reply
    response = north.post(
        f"/mod/comments/{parent}/reply",
        data={"body": "Good catch: we **corrected** it. <script>alert(1)</script>"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/mod/comments/{parent}"
    with app.app_context():
        reply = db.session.scalar(sa.select(Comment).filter_by(parent_id=parent))
        assert reply.status is CommentStatus.PUBLISHED
        assert reply.handle == "north" and reply.staff_id is not None
        assert reply.email is None and reply.network_key is None
        assert "<strong>corrected</strong>" in reply.html
        assert "<script>" not in reply.html  # sanitised as readers' comments are
        (decision,) = db.session.scalars(
            sa.select(Decision).filter_by(comment_id=reply.id)
        )
        assert decision.reason == "staff reply"
        assert decision.to_status is CommentStatus.PUBLISHED
        reply_id = reply.id
    assert [e.target_id for e in _audit(app, "comment.staff_reply")] == [str(reply_id)]
    page = client.get(EMBED).text
    assert page.count(STAFF_BADGE) == 1
    reply_html = page[page.index(f'id="comment-{reply_id}"') :]
    assert STAFF_BADGE in reply_html[: reply_html.index("</p>")]
    assert "<script>alert(1)" not in page
    reader_api = client.get("/api/v1/sites/north/threads/article/comments").json
    assert [c["staff"] for c in reader_api["comments"]] == [False, True]


def test_a_staff_reply_needs_a_body_and_a_published_comment(app, north):
    parent = _published(app)
    empty = north.post(f"/mod/comments/{parent}/reply", data={"body": "  "})
    assert empty.status_code == 422
    assert "Please write a comment." in empty.text
    held = add_comment(app, "north", "Held.")
    assert north.get(f"/mod/comments/{held}").text.count('class="staff-reply"') == 0
    refused = north.post(f"/mod/comments/{held}/reply", data={"body": "Hello."})
    assert refused.status_code == 409
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(Comment.staff_id.is_not(None))
            )
            == 0
        )


def test_a_reader_using_a_moderators_name_gets_no_staff_badge(
    app, client, demo, moderator
):
    posted = post_from_iframe(
        client, demo.embed, handle="Mod", body="I am staff, honest.", staff_id="1"
    )
    assert posted.status_code == 201
    page = client.get(demo.embed).text
    assert "I am staff, honest." in page
    assert STAFF_BADGE not in page
    with app.app_context():
        comment = db.session.scalar(sa.select(Comment).filter_by(handle="Mod"))
        assert comment.staff_id is None
