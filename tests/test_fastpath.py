"""The read cache's fast path: a repeated shared thread page answered before
Flask, byte for byte and header for header what the full stack answered, and
never once the thread, its site or the request has changed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Site, Thread
from moderation.reader.fastpath import ReadFastPath

from helpers import post_from_iframe


def _fast(app) -> ReadFastPath:
    assert isinstance(app.wsgi_app, ReadFastPath)
    return app.wsgi_app


def _views(app, monkeypatch) -> list[str]:
    """Counts each time the thread page's view function really runs."""
    from moderation.embed import views

    calls: list[str] = []
    original = views._shared_page

    def counting(site, key):
        calls.append(key)
        return original(site, key)

    monkeypatch.setattr(views, "_shared_page", counting)
    return calls


def test_a_repeated_page_is_the_same_bytes_and_headers_without_the_view(
    app, client, demo, monkeypatch
):
    calls = _views(app, monkeypatch)
    first = client.get(demo.embed)
    second = client.get(demo.embed)
    assert calls == ["seed-article"]  # the second never reached Flask's view
    assert second.data == first.data
    for name in ("Content-Security-Policy", "ETag", "Cache-Control", "Vary"):
        assert second.headers[name] == first.headers[name]
    assert second.headers["X-Read-Cache"] == "hit"
    # A browser that holds it gets a 304 from the fast path too.
    kept = client.get(demo.embed, headers={"If-None-Match": first.headers["ETag"]})
    assert kept.status_code == 304 and kept.data == b""
    assert kept.headers["Content-Security-Policy"] == first.headers[
        "Content-Security-Policy"
    ]
    assert calls == ["seed-article"]


def test_a_new_comment_is_seen_at_once(app, client, demo):
    client.get(demo.embed)
    client.get(demo.embed)
    post_from_iframe(client, demo.embed, body="Fresh from the press.")
    page = client.get(demo.embed)
    assert "Fresh from the press." in page.text
    assert page.headers["X-Read-Cache"] == "miss"


def test_a_site_change_is_seen_at_once(app, client, demo):
    before = client.get(demo.embed)
    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
        site.allowed_origins = ["https://news.example"]
        site.revision += 1
        db.session.commit()
    after = client.get(demo.embed)
    assert after.headers["X-Read-Cache"] == "miss"
    assert "https://news.example" in after.headers["Content-Security-Policy"]
    assert before.headers["Content-Security-Policy"] != after.headers[
        "Content-Security-Policy"
    ]


def test_what_the_page_is_rendered_from_keeps_answers_apart(
    app, client, demo, monkeypatch
):
    calls = _views(app, monkeypatch)
    english = client.get(demo.embed)
    client.get(demo.embed)
    assert len(calls) == 1
    # Each of these reaches the view (and the read cache behind it) once.
    french = client.get(demo.embed, headers={"Accept-Language": "fr"})
    assert len(calls) == 2 and french.data != english.data
    client.get(f"{demo.embed}?sort=newest")
    assert len(calls) == 3
    client.get(demo.embed, base_url="http://comments.example")
    assert len(calls) == 4
    client.get(demo.embed, headers={"Accept-Language": "fr"})
    assert len(calls) == 4  # and then from memory


def test_a_readers_own_page_is_never_kept(app, client, demo, monkeypatch):
    from moderation.embed import views

    post = post_from_iframe(client, demo.embed, body="Mine, all mine.")
    receipt_url = f"{demo.embed}?receipt=none"
    calls: list[int] = []
    original = views.thread_for_view

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(views, "thread_for_view", counting)
    client.get(receipt_url)
    client.get(receipt_url)
    assert len(calls) == 2  # both went through the view
    assert post.status_code in (201, 202)


def test_an_entry_lives_no_longer_than_the_read_cache(app, client, demo, monkeypatch):
    import time

    from moderation.reader import fastpath

    client.get(demo.embed)
    assert client.get(demo.embed).headers["X-Read-Cache"] == "hit"
    later = time.monotonic() + 24 * 3600
    monkeypatch.setattr(fastpath.time, "monotonic", lambda: later)
    assert _fast(app)._get(next(iter(_fast(app)._entries))) is None


def test_memory_is_bounded(make_app, demo):
    app = make_app(READ_FASTPATH_BYTES=10_000_000)
    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
        for number in range(12):
            db.session.add(Thread(site=site, key=f"story-{number}", title="A story"))
        db.session.commit()
    client = app.test_client()
    size = len(client.get("/embed/demo/story-0").data) + 512
    fast = _fast(app)
    fast.max_bytes = size * 5  # room for five pages
    for number in range(12):
        assert client.get(f"/embed/demo/story-{number}").status_code == 200
    assert 0 < fast._bytes <= fast.max_bytes
    assert 3 <= len(fast._entries) <= 5  # page sizes differ by a few bytes
    # The most recent stay; the oldest went first.
    assert [signature[0] for signature in fast._entries][-1] == "/embed/demo/story-11"


@pytest.mark.filterwarnings("ignore:Flask-Caching")  # NullCache says it caches nothing
def test_switched_off_it_is_not_there(make_app):
    assert not isinstance(make_app(READ_FASTPATH_BYTES=0).wsgi_app, ReadFastPath)
    assert not isinstance(make_app(CACHE_TYPE="NullCache").wsgi_app, ReadFastPath)


def test_the_apis_comments_take_the_fast_path_too(app, client, demo, monkeypatch):
    from moderation.api import views

    calls: list[int] = []
    original = views.read_view

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(views, "read_view", counting)
    first = client.get(f"{demo.api}?sort=newest")
    second = client.get(f"{demo.api}?sort=newest")
    assert len(calls) == 1 and second.data == first.data
    assert second.headers["Content-Type"] == "application/json"
    client.post(demo.api, json={"handle": "Ann", "body": "A new one."})
    third = client.get(f"{demo.api}?sort=newest")
    assert len(calls) == 2 and b"A new one." in third.data
    # A bad request is never kept: each is refused by the view.
    for _ in range(2):
        assert client.get(f"{demo.api}?sort=sideways").status_code == 400
    assert len(calls) == 4
