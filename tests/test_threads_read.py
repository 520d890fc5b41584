"""Reading threads: sort orders, "Load more" pages, and the cached read path."""

from __future__ import annotations

import html
import os
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, CommentStatus, Moderator, Site, Thread
from moderation.services.comments import decide, fingerprint
from moderation.services.revisions import bump_site, bump_threads
from moderation.services.threads import MAX_DEPTH

from helpers import form_token, post_from_iframe

BASE = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
FIRST_ID = 100_000  # explicit ids, far above what the demo and posts use
_IDS = re.compile(r'<li class="comment" id="comment-(\d+)"')
_LOAD_MORE = re.compile(r'class="load-more" rel="next"\s+href="([^"]+)"')
_FRAGMENT = re.compile(r'data-fragment-url="([^"]+)"')


def _new_thread(app, key: str) -> int:
    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
        thread = Thread(site=site, key=key, title=key)
        db.session.add(thread)
        db.session.commit()
        return thread.id


def _insert(app, thread_id: int, specs: list[tuple[int | None, int, str]]) -> list[int]:
    """Bulk-insert comments: (parent index in specs or None, seconds after BASE,
    status). Returns their ids, in the order given."""
    ids = [FIRST_ID + thread_id * 10_000 + n for n in range(len(specs))]
    rows = []
    for n, (parent, seconds, status) in enumerate(specs):
        moment = BASE + timedelta(seconds=seconds)
        body = f"Comment number {n}."
        rows.append(
            {
                "id": ids[n],
                "thread_id": thread_id,
                "parent_id": None if parent is None else ids[parent],
                "handle": f"reader{n}",
                "body": body,
                "html": f"<p>{body}</p>",
                "status": CommentStatus(status),
                "created_at": moment,
                "updated_at": moment,
                "fingerprint": fingerprint(body),
            }
        )
    with app.app_context():
        for start in range(0, len(rows), 1000):
            db.session.execute(sa.insert(Comment), rows[start : start + 1000])
        bump_threads([thread_id])
        db.session.commit()
    return ids


def _shown(page_html: str) -> list[int]:
    return [int(n) for n in _IDS.findall(page_html)]


def _link(pattern: re.Pattern[str], page_html: str) -> str | None:
    match = pattern.search(page_html)
    return html.unescape(match.group(1)) if match else None


@pytest.fixture
def small(app, demo):
    """Three top-level comments: A (1 reply), B (3 replies, one nested, plus a
    held one that must not count), C (none)."""
    thread_id = _new_thread(app, "small")
    ids = _insert(
        app,
        thread_id,
        [
            (None, 0, "published"),  # 0 A
            (None, 10, "published"),  # 1 B
            (None, 20, "published"),  # 2 C
            (0, 30, "published"),  # 3 reply to A
            (1, 40, "published"),  # 4 reply to B
            (4, 50, "published"),  # 5 reply to that reply
            (1, 60, "published"),  # 6 reply to B
            (1, 70, "held"),  # 7 held: not shown, not counted
            (7, 80, "published"),  # 8 under a held reply: not shown either
        ],
    )
    return thread_id, ids


def _api(thread_key: str) -> str:
    return f"/api/v1/sites/demo/threads/{thread_key}/comments"


@pytest.mark.parametrize(
    ("sort", "order"),
    [("oldest", [0, 1, 2]), ("newest", [2, 1, 0]), ("replies", [1, 0, 2])],
)
def test_sort_orders_top_level_comments(client, small, sort, order):
    _, ids = small
    body = client.get(f"{_api('small')}?sort={sort}").get_json()
    roots = [c["id"] for c in body["comments"] if c["parent_id"] is None]
    assert roots == [ids[n] for n in order]
    page = client.get(f"/embed/demo/small?sort={sort}").text
    shown_roots = [i for i in _shown(page) if i in {ids[0], ids[1], ids[2]}]
    assert shown_roots == [ids[n] for n in order]
    assert 'aria-current="true" class="current"' in page


def test_replies_follow_their_comment_depth_first_and_held_ones_stay_hidden(
    client, small
):
    _, ids = small
    body = client.get(_api("small")).get_json()
    assert [c["id"] for c in body["comments"]] == [
        ids[n] for n in (0, 3, 1, 4, 5, 6, 2)
    ]
    assert body["total_top_level"] == 3
    assert body["total"] == 7
    assert body["next"] is None
    page = client.get("/embed/demo/small").text
    assert ids[7] not in _shown(page) and ids[8] not in _shown(page)
    # The nested reply sits inside its parent's list of replies.
    block = page[page.index(f'id="comment-{ids[4]}"') :]
    assert block.index(f'id="comment-{ids[5]}"') < block.index("</li>")


def test_bad_read_parameters_are_400_in_the_api_and_ignored_in_the_iframe(
    client, small
):
    for query, word in [
        ("sort=best", "sort"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("after=not-a-cursor", "after"),
        ("after=0.999999999999999999.1", "after"),  # past year 9999
        ("limit=%C2%B2", "limit"),  # "²" is a digit to str.isdigit()
    ]:
        response = client.get(f"{_api('small')}?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["error"] == "invalid_parameter"
        assert word in response.get_json()["message"]
    page = client.get("/embed/demo/small?sort=best&after=junk&comment=%C2%B2")
    assert page.status_code == 200
    assert page.text.index("Comment number 0.") < page.text.index("Comment number 2.")


def test_a_cursor_past_the_end_offers_the_first_page(client, small):
    _, ids = small
    page = client.get(f"/embed/demo/small?after=0.4102444800000000.{ids[2]}")
    assert page.status_code == 200
    assert _shown(page.text) == []
    assert "No comments yet" not in page.text
    assert "Back to the first comments" in page.text


@pytest.mark.parametrize("sort", ["oldest", "newest", "replies"])
def test_pages_cover_every_comment_once(client, app, demo, sort):
    thread_id = _new_thread(app, "paged")
    specs: list[tuple[int | None, int, str]] = [
        (None, n * 10, "published") for n in range(23)
    ]
    specs += [(n % 23 * 2 % 23, 1000 + n, "published") for n in range(30)]
    ids = _insert(app, thread_id, specs)
    seen: list[int] = []
    url: str | None = f"{_api('paged')}?sort={sort}&limit=5"
    pages = 0
    while url:
        body = client.get(url).get_json()
        seen += [c["id"] for c in body["comments"]]
        url = body["next"]
        pages += 1
    assert pages == 5
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))


def test_a_comment_published_between_pages_neither_repeats_nor_skips_one(
    client, app, demo
):
    thread_id = _new_thread(app, "live")
    ids = _insert(app, thread_id, [(None, n, "published") for n in range(10)])
    first = client.get(f"{_api('live')}?sort=newest&limit=4").get_json()
    with app.app_context():  # a newer comment arrives while the reader reads
        db.session.execute(
            sa.insert(Comment),
            [
                {
                    "id": ids[-1] + 1,
                    "thread_id": thread_id,
                    "handle": "late",
                    "body": "late",
                    "html": "<p>late</p>",
                    "status": CommentStatus.PUBLISHED,
                    "created_at": BASE + timedelta(hours=1),
                    "updated_at": BASE + timedelta(hours=1),
                    "fingerprint": fingerprint("late"),
                }
            ],
        )
        bump_threads([thread_id])
        db.session.commit()
    second = client.get(first["next"]).get_json()
    assert [c["id"] for c in first["comments"]] == ids[::-1][:4]
    assert [c["id"] for c in second["comments"]] == ids[::-1][4:8]


def test_long_thread_first_page_has_50_conversations_and_a_load_more_link(
    client, app, demo
):
    thread_id = _new_thread(app, "long")
    roots = 2000
    specs: list[tuple[int | None, int, str]] = [
        (None, n, "published") for n in range(roots)
    ]
    for n in range(3000):  # replies: most to a top-level comment, some nested
        parent = roots + n - 1 if n % 3 == 2 else n % roots
        specs.append((parent, roots + n, "published"))
    ids = _insert(app, thread_id, specs)
    assert len(ids) == 5000

    first = client.get("/embed/demo/long?origin=http://localhost")
    assert first.status_code == 200
    top = set(ids[:roots])
    first_roots = [i for i in _shown(first.text) if i in top]
    assert first_roots == ids[:50]
    assert "50 of 2,000 conversations" in first.text
    more = _link(_LOAD_MORE, first.text)
    assert more is not None and "after=" in more and "origin=" in more

    # Without script: the link opens the next page inside the frame.
    second = client.get(more)
    assert second.status_code == 200
    assert [i for i in _shown(second.text) if i in top] == ids[50:100]
    assert 'class="comment-form"' in second.text  # still a whole page, with the form
    assert "Back to the first comments" in second.text

    # With script: frame.js fetches only the comments and the next link.
    fragment = client.get(_link(_FRAGMENT, first.text))
    assert fragment.status_code == 200
    assert [i for i in _shown(fragment.text) if i in top] == ids[50:100]
    assert 'class="comment-form"' not in fragment.text  # no comment form
    assert (
        "frame-ancestors http://localhost"
        in fragment.headers["Content-Security-Policy"]
    )
    following = _link(_FRAGMENT, fragment.text)
    assert following is not None and "fragment=1" in following
    third = client.get(following)
    assert [i for i in _shown(third.text) if i in top] == ids[100:150]
    # A top-level comment's replies come with it, nested ones included.
    assert ids[roots + 2] in _shown(first.text)  # reply to reply 1, under root 1


def test_a_deep_chain_of_replies_renders(client, app, demo):
    thread_id = _new_thread(app, "chain")
    specs: list[tuple[int | None, int, str]] = [(None, 0, "published")]
    specs += [(n, n + 1, "published") for n in range(1200)]  # past the stack limit
    ids = _insert(app, thread_id, specs)
    body = client.get(_api("chain")).get_json()
    assert [c["id"] for c in body["comments"]] == ids  # conversation order

    short = _new_thread(app, "short-chain")
    ids = _insert(
        app,
        short,
        [(None, 0, "published")] + [(n, n + 1, "published") for n in range(20)],
    )
    page = client.get("/embed/demo/short-chain")
    assert _shown(page.text) == ids
    # Nesting stops at MAX_DEPTH; deeper replies line up in conversation order.
    assert page.text.count('<ol class="replies') == MAX_DEPTH


# The read cache ---------------------------------------------------------------


def test_second_view_is_a_cache_hit_after_one_small_query(client, app, small):
    first = client.get("/embed/demo/small")
    assert first.headers["X-Read-Cache"] == "miss"
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        second = client.get("/embed/demo/small")
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert second.headers["X-Read-Cache"] == "hit"
    assert second.data == first.data
    assert len(statements) == 1, statements
    assert "revision" in statements[0]


def test_json_is_cached_too_and_keyed_by_its_parameters(client, small):
    assert client.get(_api("small")).headers["X-Read-Cache"] == "miss"
    assert client.get(_api("small")).headers["X-Read-Cache"] == "hit"
    assert client.get(f"{_api('small')}?sort=newest").headers["X-Read-Cache"] == "miss"
    assert client.get(f"{_api('small')}?limit=2").headers["X-Read-Cache"] == "miss"


def test_every_reader_gets_the_same_cached_form_and_posts_do_not_collide(
    client, app, demo
):
    token = form_token(client, demo.embed)
    assert form_token(client, demo.embed) == token
    one = post_from_iframe(client, demo.embed, token=token, handle="Ann", body="Yes.")
    two = post_from_iframe(client, demo.embed, token=token, handle="Bob", body="Yes.")
    again = post_from_iframe(client, demo.embed, token=token, handle="Ann", body="Yes.")
    # Bob's may be held as a repeat of Ann's: what matters is that it is stored.
    assert one.status_code == again.status_code == 201
    assert two.status_code in (201, 202)
    with app.app_context():
        handles = db.session.scalars(
            sa.select(Comment.handle).where(Comment.body == "Yes.")
        ).all()
    assert sorted(handles) == ["Ann", "Bob"]  # the double submit stored one


@pytest.fixture
def mod(app, moderator):
    def get() -> Moderator:
        return db.session.get(Moderator, moderator)

    return get


def test_publishing_and_rejecting_change_the_cached_page(
    client, app, demo, classifier, mod
):
    classifier.scores = {"toxicity": 0.95, "insult": 0.9, "threat": 0.0}
    post_from_iframe(client, demo.embed, handle="Hal", body="Held for review.")
    assert "Held for review." not in client.get(demo.embed).text
    assert client.get(demo.embed).headers["X-Read-Cache"] == "hit"
    with app.app_context():
        held = db.session.scalar(sa.select(Comment).filter_by(handle="Hal"))
        decide(held, mod(), CommentStatus.PUBLISHED)
    page = client.get(demo.embed)
    assert page.headers["X-Read-Cache"] == "miss"
    assert "Held for review." in page.text
    with app.app_context():
        shown = db.session.scalar(sa.select(Comment).filter_by(handle="Hal"))
        decide(shown, mod(), CommentStatus.REJECTED, reason="abuse")
    assert "Held for review." not in client.get(demo.embed).text


def test_a_comment_the_worker_publishes_shows_at_once(client, demo):
    before = client.get(demo.api).get_json()["total"]
    response = client.post(demo.api, json={"handle": "Wes", "body": "Screened."})
    assert response.status_code == 201
    body = client.get(demo.api).get_json()
    assert body["total"] == before + 1
    assert "Screened." in client.get(demo.embed).text


def test_closing_the_thread_shows_at_once(client, app, demo, mod):
    from moderation.services.sites import close_thread

    assert "Post Comment" in client.get(demo.embed).text
    with app.app_context():
        close_thread(db.session.get(Thread, demo.id), moderator=mod())
    page = client.get(demo.embed).text
    assert "Comments are closed" in page
    assert "Post Comment" not in page


def test_a_site_time_zone_change_shows_at_once(client, app, demo):
    assert "12:41 am" in client.get(demo.embed).text
    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
        site.timezone = "UTC"
        bump_site(site.id)
        db.session.commit()
    assert "5:41 am" in client.get(demo.embed).text


def test_etag_answers_304_with_the_framing_policy(client, app, demo):
    first = client.get(demo.embed)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get(demo.embed, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    csp = again.headers["Content-Security-Policy"]
    assert "frame-ancestors http://localhost" in csp
    assert "X-Frame-Options" not in again.headers
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    with app.app_context():
        bump_threads([demo.id])
        db.session.commit()
    changed = client.get(demo.embed, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_api_etag_answers_304(client, demo):
    etag = client.get(demo.api).headers["ETag"]
    assert client.get(demo.api, headers={"If-None-Match": etag}).status_code == 304


def test_shared_pages_may_be_kept_by_a_cdn_and_per_reader_pages_never(client, demo):
    shared = client.get(demo.embed).headers
    assert shared["Cache-Control"] == (
        "public, max-age=0, s-maxage=10, stale-while-revalidate=30"
    )
    assert "Accept-Language" in shared["Vary"]
    # The same for every reader: a CDN must not keep one copy per cookie.
    assert "cookie" not in shared["Vary"].lower()
    assert client.get(demo.api).headers["Cache-Control"].startswith("public")
    reply = client.get(f"{demo.embed}?reply_to=1")
    assert reply.headers["Cache-Control"] == "no-store"
    assert "X-Read-Cache" not in reply.headers
    posted = post_from_iframe(client, demo.embed, body="Per reader.")
    assert posted.headers["Cache-Control"] == "no-store"
    error = post_from_iframe(client, demo.embed, body="")
    assert error.status_code == 422
    assert error.headers["Cache-Control"] == "no-store"


def test_locale_theme_and_parent_origin_get_their_own_entries(client, demo):
    assert client.get(demo.embed).headers["X-Read-Cache"] == "miss"
    for query in ("lang=fr", "theme=dark", "origin=http://localhost"):
        assert client.get(f"{demo.embed}?{query}").headers["X-Read-Cache"] == "miss"
        assert client.get(f"{demo.embed}?{query}").headers["X-Read-Cache"] == "hit"
    # French by Accept-Language: links must not carry lang=fr, so its own entry.
    french = client.get(demo.embed, headers={"Accept-Language": "fr"})
    assert french.headers["X-Read-Cache"] == "miss"
    assert "lang=fr" not in french.text
    # An origin the site does not allow is dropped: the plain page's entry.
    foreign = client.get(f"{demo.embed}?origin=https://evil.example")
    assert foreign.headers["X-Read-Cache"] == "hit"
    assert 'data-parent-origin=""' in foreign.text


def test_cache_ttl_stays_well_under_the_form_tokens_life(app):
    from moderation.reader.cache import ttl

    with app.app_context():
        assert ttl() <= app.config["FORM_TOKEN_MAX_AGE"] // 10
        app.config["FORM_TOKEN_MAX_AGE"] = 600
        assert ttl() == 60


def test_unreachable_redis_only_costs_the_cache(make_app, tmp_path):
    from moderation.demo.loader import load_demo

    app = make_app(REDIS_URL="redis://127.0.0.1:9/0")  # nothing listens there
    with app.app_context():
        load_demo("http://localhost", tmp_path)
    client = app.test_client()
    page = client.get("/embed/demo/seed-article")
    assert page.status_code == 200
    assert page.headers["X-Read-Cache"] == "miss"
    # The web process's own fast path (reader/fastpath.py) needs no Redis.
    again = client.get("/embed/demo/seed-article")
    assert again.status_code == 200 and again.data == page.data


def test_a_process_reuses_its_lookup_for_read_lookup_ttl_only(make_app, small):
    """READ_LOOKUP_TTL > 0: a hit costs no query, and a change shows once the
    remembered lookup expires (here: when the test makes it expire)."""
    app = make_app(READ_LOOKUP_TTL=60)
    client = app.test_client()
    assert client.get("/embed/demo/small").headers["X-Read-Cache"] == "miss"
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        second = client.get("/embed/demo/small")
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert second.headers["X-Read-Cache"] == "hit"
    assert statements == []
    with app.app_context():
        thread_id = db.session.scalar(sa.select(Thread.id).filter_by(key="small"))
        db.session.execute(
            sa.update(Thread).where(Thread.id == thread_id).values(is_open=False)
        )
        bump_threads([thread_id])
        db.session.commit()
    # Still the remembered revision: the old page, at most READ_LOOKUP_TTL late.
    assert "Post Comment" in client.get("/embed/demo/small").text
    app.extensions["readcache_lookups"].clear()  # as if the 60 s had passed
    assert "Post Comment" not in client.get("/embed/demo/small").text


@pytest.mark.skipif(
    not os.environ.get("MODERATION_TEST_REDIS_URL"),
    reason="set MODERATION_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run",
)
def test_two_web_processes_share_the_redis_cache(make_app, small):
    """With REDIS_URL, one process renders and the other serves that rendering."""
    prefix = f"moderation-test-read-{uuid.uuid4().hex[:8]}:"
    settings = {
        "REDIS_URL": os.environ["MODERATION_TEST_REDIS_URL"],
        "READ_CACHE_PREFIX": prefix,
    }
    first, second = make_app(**settings), make_app(**settings)
    page = first.test_client().get("/embed/demo/small")
    assert page.headers["X-Read-Cache"] == "miss"
    again = second.test_client().get("/embed/demo/small")
    assert again.headers["X-Read-Cache"] == "hit"
    assert again.data == page.data
    assert again.headers["ETag"] == page.headers["ETag"]


def test_a_permalink_past_the_first_page_opens_its_conversation(client, app, demo):
    thread_id = _new_thread(app, "permalink")
    specs: list[tuple[int | None, int, str]] = [
        (None, n, "published") for n in range(120)
    ]
    specs.append((100, 500, "published"))  # a reply in the 101st conversation
    ids = _insert(app, thread_id, specs)
    page = client.get(f"/embed/demo/permalink?comment={ids[-1]}")
    assert _shown(page.text)[:2] == [ids[100], ids[-1]]
    assert "Back to the first comments" in page.text
    early = client.get(f"/embed/demo/permalink?comment={ids[3]}")
    assert _shown(early.text)[0] == ids[0]  # on page one: page one as usual
    # The API pages on its own: `comment` is not one of its parameters.
    body = client.get(f"{_api('permalink')}?comment={ids[-1]}").get_json()
    assert body["comments"][0]["id"] == ids[0]
