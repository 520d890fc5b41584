"""Readers' "respect": one per network and comment, toggled, counted, cached, sorted."""

from __future__ import annotations

import re
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from support import BROWSER_POST

from moderation.extensions import db
from moderation.models import Comment, CommentStatus, Reaction, Thread

from helpers import form_token

JSON_POST = {**BROWSER_POST, "Accept": "application/json"}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def _published(app) -> list[int]:
    """The demo's published comments, oldest first (all five are top-level)."""
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Comment.id)
                .where(Comment.status == CommentStatus.PUBLISHED)
                .order_by(Comment.created_at, Comment.id)
            )
        )


def _path(demo, comment_id: int, query: str = "") -> str:
    return f"{demo.embed}/comments/{comment_id}/respect{query}"


def _press(client, demo, comment_id, address="192.0.2.1", *, token=None, **kwargs):
    """Press Respect as reactions.js does (JSON), from `address`."""
    client.environ_base["REMOTE_ADDR"] = address
    if token is None:
        token = form_token(client, demo.embed)
    headers = kwargs.pop("headers", JSON_POST)
    return client.post(
        _path(demo, comment_id, kwargs.pop("query", "")),
        data={"token": token},
        headers=headers,
    )


def _stored(app, comment_id: int) -> tuple[int, int]:
    """(like_count, reaction rows) of a comment."""
    with app.app_context():
        count = db.session.scalar(
            sa.select(Comment.like_count).where(Comment.id == comment_id)
        )
        rows = db.session.scalar(
            sa.select(sa.func.count()).where(Reaction.comment_id == comment_id)
        )
        return count, rows


def _order(html: str) -> list[int]:
    """The ids of the comments a page shows, in its order."""
    return [int(n) for n in re.findall(r'<li class="comment" id="comment-(\d+)"', html)]


def _set_likes(app, likes: dict[int, int]) -> None:
    with app.app_context():
        for comment_id, count in likes.items():
            db.session.execute(
                sa.update(Comment)
                .where(Comment.id == comment_id)
                .values(like_count=count)
            )
        db.session.execute(sa.update(Thread).values(revision=Thread.revision + 1))
        db.session.commit()


def test_each_comment_shows_a_respect_button_with_its_count(client, demo, app):
    first = _published(app)[0]
    page = client.get(demo.embed)
    assert page.text.count('class="respect"') == 5
    assert f'action="/embed/demo/seed-article/comments/{first}/respect' in page.text
    assert "Respect the comment by Gary1990 (0)" in _text(page.text)
    # The shared page never says whether this reader pressed.
    assert "aria-pressed" not in page.text
    assert "js/reactions.js" in page.text


def test_respect_toggles_on_and_off(client, demo, app):
    first = _published(app)[0]
    pressed = _press(client, demo, first)
    assert pressed.status_code == 200
    assert pressed.json == {"id": first, "count": 1, "pressed": True}
    assert _stored(app, first) == (1, 1)
    withdrawn = _press(client, demo, first)
    assert withdrawn.json == {"id": first, "count": 0, "pressed": False}
    assert _stored(app, first) == (0, 0)


def test_one_respect_per_network(client, demo, app):
    first = _published(app)[0]
    assert _press(client, demo, first, "192.0.2.1").json["count"] == 1
    assert _press(client, demo, first, "198.51.100.7").json["count"] == 2
    # Another address of the same IPv6 /64 is the same reader network.
    assert _press(client, demo, first, "2001:db8::1").json["count"] == 3
    again = _press(client, demo, first, "2001:db8::2")
    assert again.json == {"id": first, "count": 2, "pressed": False}
    assert _stored(app, first) == (2, 2)
    with app.app_context():
        keys = db.session.scalars(sa.select(Reaction.network_key)).all()
    assert all(key.startswith("net:") and "192.0.2" not in key for key in keys)


def test_press_without_script_goes_back_to_the_comment(client, demo, app):
    first = _published(app)[0]
    query = "?origin=http://localhost&lang=fr&theme=dark&sort=liked"
    token = form_token(client, demo.embed)
    pressed = client.post(
        _path(demo, first, query), data={"token": token}, headers=BROWSER_POST
    )
    assert pressed.status_code == 303
    location = urlsplit(pressed.headers["Location"])
    assert location.path == demo.embed
    assert location.fragment == f"comment-{first}"
    assert parse_qs(location.query) == {
        "origin": ["http://localhost"],
        "lang": ["fr"],
        "theme": ["dark"],
        "sort": ["liked"],
        "comment": [str(first)],
    }
    page = client.get(pressed.headers["Location"])
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert "Gary1990 (1)" in _text(page.text)


def test_only_published_comments_of_the_thread_can_be_respected(client, demo, app):
    first, second, third = _published(app)[:3]
    with app.app_context():
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id == second)
            .values(status=CommentStatus.HELD)
        )
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id == third)
            .values(status=CommentStatus.REJECTED)
        )
        db.session.commit()
    token = form_token(client, demo.embed)
    for comment_id in (second, third, 999_999):
        refused = _press(client, demo, comment_id, token=token)
        assert refused.status_code == 404
        assert refused.json["error"] == "not_found"
    assert _stored(app, second) == (0, 0)
    # An unknown thread, and a comment of the thread named through another.
    assert client.post(
        f"/embed/demo/no-such-article/comments/{first}/respect",
        data={"token": token},
        headers=JSON_POST,
    ).status_code == 404


def test_closed_thread_keeps_its_counts_but_takes_no_more(client, demo, app):
    first = _published(app)[0]
    token = form_token(client, demo.embed)
    assert _press(client, demo, first, token=token).json["count"] == 1
    with app.app_context():
        db.session.execute(
            sa.update(Thread).values(is_open=False, revision=Thread.revision + 1)
        )
        db.session.commit()
    refused = _press(client, demo, first, token=token)
    assert refused.status_code == 409
    assert refused.json["error"] == "thread_closed"
    page = client.get(demo.embed)
    assert 'class="respect"' not in page.text
    assert page.text.count("respect-closed") == 1  # only the respected comment
    assert _stored(app, first) == (1, 1)


def test_a_respect_needs_the_form_token_and_our_origin(client, demo, app):
    first = _published(app)[0]
    missing = _press(client, demo, first, token="")
    assert missing.status_code == 422
    forged = _press(client, demo, first, token="not-a-token")
    assert forged.status_code == 422
    elsewhere = _press(
        client,
        demo,
        first,
        headers={"Origin": "https://evil.example", "Accept": "application/json"},
    )
    assert elsewhere.status_code == 403
    assert _stored(app, first) == (0, 0)
    # Without script the refusal is a page the site may frame, with a way back.
    page = client.post(_path(demo, first), data={"token": "x"}, headers=BROWSER_POST)
    assert page.status_code == 422
    assert "frame-ancestors http://localhost" in page.headers["Content-Security-Policy"]
    assert f"comment={first}" in page.text


def test_respect_is_rate_limited_per_network(make_app, demo):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_RESPECT="2 per minute")
    client = app.test_client()
    first, second, third = _published(app)[:3]
    token = form_token(client, demo.embed)
    address = "203.0.113.77"
    assert _press(client, demo, first, address, token=token).status_code == 200
    assert _press(client, demo, second, address, token=token).status_code == 200
    refused = _press(client, demo, third, address, token=token)
    assert refused.status_code == 429
    assert refused.json["error"] == "too_many_requests"
    assert "too fast" in refused.json["message"]
    assert int(refused.headers["Retry-After"]) > 0
    page = _press(client, demo, third, address, token=token, headers=BROWSER_POST)
    assert page.status_code == 429
    assert "frame-ancestors http://localhost" in page.headers["Content-Security-Policy"]
    assert _stored(app, third) == (0, 0)
    # Another network is not held back.
    assert _press(client, demo, third, "203.0.113.78", token=token).status_code == 200


def test_the_cached_page_shows_the_new_count(client, demo, app):
    first = _published(app)[0]
    assert client.get(demo.embed).headers["X-Read-Cache"] == "miss"
    cached = client.get(demo.embed)
    assert cached.headers["X-Read-Cache"] == "hit"
    with app.app_context():
        before = db.session.get(Thread, demo.id).revision
    _press(client, demo, first)
    with app.app_context():
        assert db.session.get(Thread, demo.id).revision == before + 1
    fresh = client.get(demo.embed)
    assert fresh.headers["X-Read-Cache"] == "miss"
    assert fresh.headers["ETag"] != cached.headers["ETag"]
    assert "Respect the comment by Gary1990 (1)" in _text(fresh.text)
    api = client.get(demo.api).json
    assert [c["like_count"] for c in api["comments"]][:2] == [1, 0]


def test_sort_by_most_respected_orders_and_pages(client, demo, app):
    ids = _published(app)
    # Ties keep the oldest first.
    _set_likes(app, {ids[0]: 1, ids[1]: 5, ids[2]: 0, ids[3]: 5, ids[4]: 2})
    expected = [ids[1], ids[3], ids[4], ids[0], ids[2]]
    whole = client.get(f"{demo.api}?sort=liked").json
    assert whole["sort"] == "liked"
    assert [c["id"] for c in whole["comments"]] == expected
    seen: list[int] = []
    url = f"{demo.api}?sort=liked&limit=2"
    while url:
        page = client.get(url).json
        seen.extend(c["id"] for c in page["comments"])
        url = page["next"]
    assert seen == expected
    embed = client.get(f"{demo.embed}?sort=liked").text
    assert _order(embed) == expected
    assert 'aria-current="true" class="current">Most respected</a>' in embed


def test_sort_by_most_respected_pages_inside_the_iframe(make_app, demo):
    app = make_app(THREAD_PAGE_SIZE=2)
    client = app.test_client()
    ids = _published(app)
    _set_likes(app, {ids[0]: 1, ids[1]: 5, ids[2]: 0, ids[3]: 5, ids[4]: 2})
    expected = [ids[1], ids[3], ids[4], ids[0], ids[2]]
    seen: list[int] = []
    url = f"{demo.embed}?sort=liked"
    while url:
        page = client.get(url).text
        seen.extend(_order(page))
        more = re.search(r'rel="next"\s+href="([^"]+)"', page)
        url = more.group(1).replace("&amp;", "&") if more else ""
    assert seen == expected


@pytest.mark.parametrize("networks", [1, 8])
def test_concurrent_presses_never_count_twice(app, demo, networks):
    """Presses racing each other: the count always equals the stored rows, and
    one network's double press never counts two."""
    first = _published(app)[0]
    client = app.test_client()
    token = form_token(client, demo.embed)
    addresses = [f"192.0.2.{n % networks + 1}" for n in range(8)]
    answers: list[int] = []
    start = threading.Barrier(len(addresses))

    def press(address: str) -> None:
        own = app.test_client()
        own.environ_base["REMOTE_ADDR"] = address
        start.wait()
        response = own.post(
            _path(demo, first), data={"token": token}, headers=JSON_POST
        )
        answers.append(response.status_code)

    workers = [threading.Thread(target=press, args=(a,)) for a in addresses]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert set(answers) == {200}
    count, rows = _stored(app, first)
    assert count == rows
    assert rows <= networks
    if networks == 8:
        assert rows == 8
