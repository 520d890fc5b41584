"""Threads created on their first view by a page of the site's own."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Site, Thread
from moderation.reader.first_view import create_thread

PAGE = "https://news.example"
FRAMED = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"}


@pytest.fixture
def site(app) -> str:
    with app.app_context():
        db.session.add(
            Site(
                slug="news",
                name="News",
                allowed_origins=[PAGE, "https://m.news.example"],
            )
        )
        db.session.commit()
    return "news"


def _threads(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [
            (t.key, t.url, t.title)
            for t in db.session.scalars(sa.select(Thread).order_by(Thread.id))
        ]


def _first_view(client, key="story-1", headers=FRAMED, **params):
    query = {
        "origin": PAGE,
        "url": f"{PAGE}/2026/story-1",
        "title": "A story",
        **params,
    }
    return client.get(f"/embed/news/{key}", query_string=query, headers=headers)


def test_first_view_from_an_allowed_page_creates_the_thread(
    client, app, site, caplog, monkeypatch
):
    # Alembic's logging setup (migrations/env.py) disables loggers made before it.
    monkeypatch.setattr(
        logging.getLogger("moderation.reader.first_view"), "disabled", False
    )
    caplog.set_level(logging.INFO, logger="moderation.reader.first_view")
    response = _first_view(
        client, headers={**FRAMED, "Referer": f"{PAGE}/2026/story-1"}
    )
    assert response.status_code == 200
    assert "No comments yet" in response.text
    assert (
        "frame-ancestors https://news.example"
        in (response.headers["Content-Security-Policy"])
    )
    assert _threads(app) == [("story-1", f"{PAGE}/2026/story-1", "A story")]
    (line,) = [r.getMessage() for r in caplog.records if "created" in r.getMessage()]
    assert "story" not in line and "news.example" not in line  # ids only
    # The second view finds it: still one thread.
    assert _first_view(client).status_code == 200
    assert len(_threads(app)) == 1


def test_first_view_without_browser_headers_creates_on_an_allowed_url(
    client, app, site
):
    response = _first_view(client, headers={}, url="https://m.news.example/a")
    assert response.status_code == 200
    assert _threads(app)[0][1] == "https://m.news.example/a"


def test_disallowed_origin_is_refused_and_nothing_created(client, app, site):
    response = _first_view(client, origin="https://evil.example")
    assert response.status_code == 403
    assert "allowed origins" in response.text
    assert _threads(app) == []


def test_page_url_on_another_origin_is_refused(client, app, site):
    response = _first_view(client, url="https://evil.example/news")
    assert response.status_code == 403
    assert _threads(app) == []


@pytest.mark.parametrize(
    "headers",
    [
        {**FRAMED, "Referer": "https://evil.example/page"},
        {"Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "none"},
    ],
    ids=["referer-elsewhere", "not-framed"],
)
def test_browser_headers_that_contradict_the_origin_are_refused(
    client, app, site, headers
):
    response = _first_view(client, headers=headers)
    assert response.status_code == 403
    assert _threads(app) == []


def test_unknown_site_is_404_with_a_clear_message(client, app, site):
    response = client.get(
        "/embed/nosuch/story", query_string={"origin": PAGE}, headers=FRAMED
    )
    assert response.status_code == 404
    assert "No site called" in response.text
    assert _threads(app) == []


def test_unknown_thread_without_an_origin_stays_404(client, app, site):
    assert client.get("/embed/news/story-1").status_code == 404
    assert _threads(app) == []


@pytest.mark.parametrize(
    ("key", "params", "field"),
    [
        ("k" * 201, {}, "key"),
        ("story", {"url": PAGE + "/" + "a" * 2000}, "url"),
        ("story", {"url": "javascript:alert(1)"}, "url"),
        ("story", {"url": "http:no-host"}, "url"),
        ("story", {"url": "https://news.example/a\tb"}, "url"),
        ("story", {"title": "t" * 301}, "title"),
    ],
    ids=["key", "url-length", "url-scheme", "url-no-host", "url-control", "title"],
)
def test_overlong_or_bad_parameters_are_refused(client, app, site, key, params, field):
    response = client.get(
        f"/embed/news/{key}",
        query_string={"origin": PAGE, **params},
        headers={**FRAMED, "Accept": "application/json"},
    )
    assert response.status_code == 422
    assert field in response.get_json()["fields"]
    assert _threads(app) == []


def test_lengths_at_the_limit_are_accepted(client, app, site):
    url = PAGE + "/" + "a" * (2000 - len(PAGE) - 1)
    response = _first_view(client, key="k" * 200, url=url, title="t" * 300)
    assert response.status_code == 200
    assert len(_threads(app)) == 1


def test_concurrent_first_views_create_one_thread(app, site):
    # The loser of the race inserts too, hits the unique (site_id, key) and
    # gets the winner's thread back rather than an error.
    with app.app_context():
        news = db.session.scalar(sa.select(Site).filter_by(slug="news"))
        first = create_thread(news, "race", f"{PAGE}/race", "Race")
        first_id = first.id
        news = db.session.scalar(sa.select(Site).filter_by(slug="news"))
        second = create_thread(news, "race", f"{PAGE}/race", "Race")
        assert second.id == first_id
    assert [key for key, *_ in _threads(app)] == ["race"]


def test_thread_api_describes_a_thread_created_by_its_first_view(client, app, site):
    assert _first_view(client).status_code == 200
    described = client.get("/api/v1/sites/news/threads/story-1").get_json()
    assert described["url"] == f"{PAGE}/2026/story-1"
    assert described["title"] == "A story"
