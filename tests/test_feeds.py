"""Atom feeds: published comments only, newest first, valid XML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from defusedxml import ElementTree

from moderation.embed.feeds import FEED_LIMIT
from moderation.extensions import db
from moderation.models import Comment, CommentStatus, Site, Thread

ATOM = "{http://www.w3.org/2005/Atom}"


def _add(app, statuses, key="seed-article", start=None):
    """Comments on a thread, one a minute from `start`, with the given statuses."""
    start = start or datetime(2024, 1, 1, tzinfo=UTC)
    ids = []
    with app.app_context():
        thread = db.session.scalar(sa.select(Thread).filter_by(key=key))
        if thread is None:
            site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
            thread = Thread(site=site, key=key, title=f"Title {key}")
            db.session.add(thread)
        for n, status in enumerate(statuses):
            body = f"{status.value} comment {n} <script>"
            comment = Comment(
                thread=thread,
                handle=f"{status.value}-{n}",
                body=body,
                html=f"<p>{status.value} comment {n} &lt;script&gt;</p>",
                status=status,
                fingerprint=f"{key}-{status.value}-{n}",
                created_at=start + timedelta(minutes=n),
            )
            db.session.add(comment)
            db.session.flush()
            ids.append(comment.id)
        db.session.commit()
    return ids


def _entries(response):
    root = ElementTree.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    return root, root.findall(f"{ATOM}entry")


def test_thread_feed_lists_published_comments_newest_first(client, demo, app):
    hidden = _add(
        app,
        [CommentStatus.HELD, CommentStatus.REJECTED, CommentStatus.DELETED],
        start=datetime(2025, 1, 1, tzinfo=UTC),
    )
    response = client.get("/feeds/demo/seed-article.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root, entries = _entries(response)
    authors = [e.find(f"{ATOM}author/{ATOM}name").text for e in entries]
    assert authors == ["JessieK", *authors[1:4], "Gary1990"]
    assert len(entries) == 5
    published = [e.find(f"{ATOM}published").text for e in entries]
    assert published == sorted(published, reverse=True)
    for entry in entries:
        link = entry.find(f"{ATOM}link").get("href")
        assert link.startswith("http://localhost/demo#comment-")
        assert entry.find(f"{ATOM}content").get("type") == "html"
    for comment_id in hidden:
        assert f"#comment-{comment_id}" not in response.text
    assert "held-0" not in response.text
    assert root.find(f"{ATOM}title").text.startswith("Comments: ")


def test_feed_content_is_the_sanitised_html(client, demo, app):
    _add(app, [CommentStatus.PUBLISHED], start=datetime(2025, 1, 1, tzinfo=UTC))
    _, entries = _entries(client.get("/feeds/demo/seed-article.atom"))
    content = entries[0].find(f"{ATOM}content").text
    assert content == "<p>published comment 0 &lt;script&gt;</p>"


def test_site_feed_spans_threads_and_is_limited(client, demo, app):
    _add(
        app,
        [CommentStatus.PUBLISHED] * (FEED_LIMIT + 5),
        key="busy",
        start=datetime(2025, 1, 1, tzinfo=UTC),
    )
    _add(app, [CommentStatus.HELD], key="quiet", start=datetime(2026, 1, 1, tzinfo=UTC))
    response = client.get("/feeds/demo.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    _, entries = _entries(response)
    assert len(entries) == FEED_LIMIT
    newest = entries[0]
    assert newest.find(f"{ATOM}author/{ATOM}name").text == f"published-{FEED_LIMIT + 4}"
    # The thread has no article URL: the link is the comment in its iframe.
    assert "/embed/demo/busy#comment-" in newest.find(f"{ATOM}link").get("href")
    assert "held-0" not in response.text


def test_a_thread_with_no_comments_is_a_valid_empty_feed(client, demo, app):
    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
        db.session.add(Thread(site=site, key="empty", title="Empty"))
        db.session.commit()
    root, entries = _entries(client.get("/feeds/demo/empty.atom"))
    assert entries == []
    assert root.find(f"{ATOM}updated").text


def test_unknown_feeds_are_404(client, demo):
    assert client.get("/feeds/nope.atom").status_code == 404
    assert client.get("/feeds/demo/nope.atom").status_code == 404


def test_demo_article_advertises_its_comment_feed(client, demo):
    html = client.get("/demo").text
    assert (
        '<link rel="alternate" type="application/atom+xml" '
        'title="Comments on this article" href="/feeds/demo/seed-article.atom">'
    ) in html
