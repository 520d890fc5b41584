"""Comment counts for publishers' article lists, read cross-origin by count.js."""

from __future__ import annotations

import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, CommentStatus, Site, Thread

COUNTS = "/api/v1/sites/demo/counts"


def _add_thread(app, key: str, statuses: list[CommentStatus]) -> None:
    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
        thread = Thread(site=site, key=key, title=key)
        for n, status in enumerate(statuses):
            body = f"comment {n}"
            thread.comments.append(
                Comment(
                    handle="Reader",
                    body=body,
                    html=f"<p>{body}</p>",
                    status=status,
                    fingerprint=f"{key}-{n}",
                )
            )
        db.session.add(thread)
        db.session.commit()


def test_counts_published_comments_only_and_unknown_keys_are_zero(client, demo, app):
    _add_thread(
        app,
        "other",
        [
            CommentStatus.PUBLISHED,
            CommentStatus.HELD,
            CommentStatus.REJECTED,
            CommentStatus.DELETED,
            CommentStatus.RECEIVED,
            CommentStatus.PUBLISHED,
        ],
    )
    response = client.get(
        f"{COUNTS}?thread=seed-article&thread=other&thread=nope&thread=other"
    )
    assert response.status_code == 200
    assert response.json == {"counts": {"seed-article": 5, "other": 2, "nope": 0}}
    assert "public" in response.headers["Cache-Control"]


def test_a_new_comment_counts_at_once_and_unchanged_counts_are_304(client, demo, app):
    """A browser must not keep "0 comments" for a minute above a thread with two:
    it asks every time, and an unchanged answer is a 304 without a body."""
    url = f"{COUNTS}?thread=fresh"
    first = client.get(url)
    assert first.json == {"counts": {"fresh": 0}}
    assert "no-cache" in first.headers["Cache-Control"]
    assert "max-age=60" not in first.headers["Cache-Control"]
    etag = first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    _add_thread(app, "fresh", [CommentStatus.PUBLISHED, CommentStatus.PUBLISHED])
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json == {"counts": {"fresh": 2}}


def test_counts_never_mix_sites(client, demo, app):
    with app.app_context():
        other = Site(slug="other-site", name="Other", allowed_origins=[])
        db.session.add(other)
        db.session.commit()
    response = client.get("/api/v1/sites/other-site/counts?thread=seed-article")
    assert response.json == {"counts": {"seed-article": 0}}


def test_allowed_origin_gets_cors_headers(client, demo):
    response = client.get(
        f"{COUNTS}?thread=seed-article", headers={"Origin": "http://localhost"}
    )
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost"
    assert "Origin" in response.headers["Vary"]
    assert "Set-Cookie" not in response.headers


def test_other_origin_gets_no_cors_headers(client, demo):
    response = client.get(
        f"{COUNTS}?thread=seed-article", headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Origin" in response.headers["Vary"]


def test_more_than_100_keys_are_refused(client, demo):
    keys = "&".join(f"thread=k{n}" for n in range(101))
    response = client.get(f"{COUNTS}?{keys}")
    assert response.status_code == 422
    assert "At most 100 threads" in response.json["message"]
    exactly = "&".join(f"thread=k{n}" for n in range(100))
    assert client.get(f"{COUNTS}?{exactly}").status_code == 200


def test_no_keys_or_unknown_site_are_clear_4xx(client, demo):
    none = client.get(COUNTS)
    assert none.status_code == 422
    assert "thread" in none.json["fields"]
    assert client.get(f"{COUNTS}?thread={'x' * 201}").status_code == 422
    assert client.get("/api/v1/sites/nope/counts?thread=a").status_code == 404


def test_counts_use_one_query(client, demo, app):
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            keys = "&".join(f"thread=k{n}" for n in range(50))
            assert client.get(f"{COUNTS}?{keys}").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
    counting = [s for s in statements if "count(" in s.lower()]
    assert len(counting) == 1
    # The site lookup and the grouped count: never one query per key.
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 2
