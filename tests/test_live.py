"""Live threads: the open page is told of comments published since it was rendered."""

from __future__ import annotations

import html
import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from moderation.config import PROJECT_ROOT
from moderation.extensions import babel, db
from moderation.models import Comment, CommentStatus
from moderation.services.comments import fingerprint
from moderation.services.revisions import bump_threads

from helpers import post_from_iframe

_LIVE = re.compile(
    r'id="live" class="live" aria-live="polite"\s+data-live-url="([^"]+)"\s+'
    r'data-since="(\d+)" data-seen="(\d+)"\s+data-show-url="([^"]+)"'
)
# What a threaded server (gunicorn's gthread) says; the test client is not one.
THREADED = {"wsgi.multithread": True}
JSON = {"Accept": "application/json"}


@pytest.fixture
def live_app(make_app):
    """Short waits: a test waits a fraction of a second, not 25 s."""
    return make_app(
        LIVE_WAIT_SECONDS=0.4,
        LIVE_CHECK_SECONDS=0.02,
        LIVE_POLL_SECONDS=17,
        LIVE_MAX_WAITERS=2,
    )


@pytest.fixture
def live_client(live_app, demo):
    return live_app.test_client()


def _region(page_html: str) -> tuple[str, int, int, str]:
    match = _LIVE.search(page_html)
    assert match, "the thread page has no live region"
    url, since, seen, show = match.groups()
    return html.unescape(url), int(since), int(seen), html.unescape(show)


def _published(app, thread_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count(Comment.id)).where(
                Comment.thread_id == thread_id,
                Comment.status == CommentStatus.PUBLISHED,
            )
        )


def _insert(app, thread_id: int, *statuses: str) -> None:
    """Comments in these statuses, and the revision bump a real change makes."""
    now = datetime.now(UTC)
    with app.app_context():
        for n, status in enumerate(statuses):
            body = f"Inserted comment {n} ({status})."
            db.session.add(
                Comment(
                    thread_id=thread_id,
                    handle=f"inserted{n}",
                    body=body,
                    html=f"<p>{body}</p>",
                    status=CommentStatus(status),
                    created_at=now,
                    fingerprint=fingerprint(body),
                )
            )
        bump_threads([thread_id])
        db.session.commit()


def _ask(client, url: str, since: int, seen: int, **kwargs):
    joiner = "&" if "?" in url else "?"
    return client.get(f"{url}{joiner}since={since}&seen={seen}", headers=JSON, **kwargs)


def test_page_says_the_revision_and_published_count_it_shows(
    live_client, live_app, demo
):
    page = live_client.get(demo.embed)
    url, _, seen, show = _region(page.text)
    assert url == f"{demo.embed}/live"
    assert seen == _published(live_app, demo.id) == 5
    assert "sort=newest" in show
    # The same bytes for every reader: the page is still a cache hit.
    again = live_client.get(demo.embed)
    assert again.headers["X-Read-Cache"] == "hit"
    assert again.data == page.data
    # The page's language goes to the answers; origin and theme to the reload.
    framed = live_client.get(f"{demo.embed}?lang=fr&theme=dark")
    url, _, _, show = _region(framed.text)
    assert url == f"{demo.embed}/live?lang=fr"
    assert "lang=fr" in show and "theme=dark" in show and "sort=newest" in show


def test_answers_at_once_when_the_revision_moved(live_client, live_app, demo):
    url, since, seen, _ = _region(live_client.get(demo.embed).text)
    assert post_from_iframe(live_client, demo.embed).status_code == 201
    started = time.monotonic()
    answer = _ask(live_client, url, since, seen, environ_overrides=THREADED)
    assert time.monotonic() - started < 0.3
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["revision"] > since
    assert body["published"] == seen + 1
    assert body["new"] == 1
    assert body["text"] == "1 new comment — show"
    assert body["retry"] == 0 and body["waited"] is False
    assert answer.headers["Cache-Control"] == "no-store"


def test_plural_text_counts_every_new_comment(live_client, live_app, demo):
    url, since, seen, _ = _region(live_client.get(demo.embed).text)
    _insert(live_app, demo.id, "published", "published", "published")
    body = _ask(live_client, url, since, seen).get_json()
    assert body["new"] == 3
    assert body["text"] == "3 new comments — show"


def test_waits_then_answers_unchanged(live_client, demo):
    url, since, seen, _ = _region(live_client.get(demo.embed).text)
    started = time.monotonic()
    answer = _ask(live_client, url, since, seen, environ_overrides=THREADED)
    waited = time.monotonic() - started
    assert 0.4 <= waited < 2.0
    body = answer.get_json()
    assert body == {
        "revision": since,
        "published": seen,
        "new": 0,
        "text": "",
        "retry": 0.0,
        "waited": True,
    }


def test_a_wait_ends_when_a_comment_is_published(make_app, demo):
    app = make_app(LIVE_WAIT_SECONDS=10, LIVE_CHECK_SECONDS=0.02)
    client = app.test_client()
    url, since, seen, _ = _region(client.get(demo.embed).text)
    answers: list[dict[str, object]] = []
    waiting = threading.Thread(
        target=lambda: answers.append(
            _ask(
                app.test_client(), url, since, seen, environ_overrides=THREADED
            ).get_json()
        )
    )
    started = time.monotonic()
    waiting.start()
    time.sleep(0.2)
    assert post_from_iframe(client, demo.embed).status_code == 201
    waiting.join(10)
    assert time.monotonic() - started < 5
    assert answers and answers[0]["new"] == 1 and answers[0]["waited"] is True


def test_past_the_waiter_cap_answers_at_once_with_when_to_ask_again(make_app, demo):
    app = make_app(
        LIVE_WAIT_SECONDS=10,
        LIVE_CHECK_SECONDS=0.02,
        LIVE_MAX_WAITERS=2,
        LIVE_POLL_SECONDS=17,
    )
    client = app.test_client()
    url, since, seen, _ = _region(client.get(demo.embed).text)
    answers: list[dict[str, object]] = []

    def wait() -> None:
        answer = _ask(app.test_client(), url, since, seen, environ_overrides=THREADED)
        answers.append(answer.get_json())

    held = [threading.Thread(target=wait) for _ in range(2)]
    for thread in held:
        thread.start()
    deadline = time.monotonic() + 5
    while app.extensions.get("live_waiters") is None or (
        app.extensions["live_waiters"].count < 2 and time.monotonic() < deadline
    ):
        time.sleep(0.01)
    assert app.extensions["live_waiters"].count == 2

    started = time.monotonic()
    third = _ask(client, url, since, seen, environ_overrides=THREADED).get_json()
    assert time.monotonic() - started < 1
    assert third == {
        "revision": since,
        "published": seen,
        "new": 0,
        "text": "",
        "retry": 17.0,
        "waited": False,
    }
    # A publish ends both waits, and their places are free again.
    assert post_from_iframe(client, demo.embed).status_code == 201
    for thread in held:
        thread.join(10)
    assert [a["new"] for a in answers] == [1, 1]
    assert app.extensions["live_waiters"].count == 0


def test_a_server_without_threads_never_waits(live_client, demo):
    # gunicorn's sync worker: one wait would stop the whole process.
    url, since, seen, _ = _region(live_client.get(demo.embed).text)
    started = time.monotonic()
    body = _ask(live_client, url, since, seen).get_json()
    assert time.monotonic() - started < 0.3
    assert body["retry"] == 17.0 and body["waited"] is False and body["new"] == 0


def test_counts_exclude_held_rejected_and_received_comments(
    live_client, live_app, demo
):
    url, since, seen, _ = _region(live_client.get(demo.embed).text)
    _insert(live_app, demo.id, "held", "rejected", "received", "deleted")
    body = _ask(live_client, url, since, seen, environ_overrides=THREADED).get_json()
    assert body["revision"] > since
    assert body["published"] == seen
    assert body["new"] == 0 and body["text"] == ""
    _insert(live_app, demo.id, "published")
    body = _ask(live_client, url, body["revision"], seen).get_json()
    assert body["new"] == 1 and body["published"] == seen + 1


def test_the_readers_own_published_comment_is_not_new(live_client, demo):
    posted = post_from_iframe(live_client, demo.embed, body="My own view.")
    assert posted.status_code == 201
    # The page after the post shows the comment, and counts it.
    url, since, seen, _ = _region(posted.text)
    assert "My own view." in posted.text
    body = _ask(live_client, url, since, seen).get_json()
    assert body["new"] == 0 and body["text"] == "", (since, seen, body)


def test_a_count_is_made_once_per_revision(live_client, live_app, demo):
    url, since, seen, _ = _region(live_client.get(demo.embed).text)
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with live_app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(3):
            assert _ask(live_client, url, since, seen).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    # The page already counted this revision: three answers, no COUNT, and no
    # rendering (one lookup each, with READ_LOOKUP_TTL 0 as in every test).
    assert not [s for s in statements if "count(" in s.lower()], statements
    assert len(statements) == 3, statements


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("since=abc&seen=5", "since"),
        ("since=&seen=5", "since"),
        ("seen=5", "since"),
        ("since=-1&seen=5", "since"),
        ("since=1.5&seen=5", "since"),
        ("since=%C2%B2&seen=5", "since"),
        ("since=" + "9" * 40 + "&seen=5", "since"),
        ("since=1&seen=x", "seen"),
        ("since=1", "seen"),
    ],
)
def test_bad_parameters_are_400_with_a_message(live_client, demo, query, name):
    answer = live_client.get(f"{demo.embed}/live?{query}", headers=JSON)
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["error"] == "invalid_parameter"
    assert f"'{name}' must be the whole number" in body["message"]


def test_unknown_threads_and_sites_are_404_and_not_created(live_client, live_app, demo):
    for path in ("/embed/demo/no-such-article", "/embed/no-such-site/seed-article"):
        answer = live_client.get(f"{path}/live?since=0&seen=0", headers=JSON)
        assert answer.status_code == 404
        assert answer.get_json()["error"] == "not_found"
    with live_app.app_context():
        assert (
            db.session.scalar(
                sa.text("SELECT count(*) FROM threads WHERE key = 'no-such-article'")
            )
            == 0
        )


def test_the_answer_speaks_the_pages_language(make_app, demo, tmp_path: Path):
    po = PROJECT_ROOT / "moderation" / "translations" / "fr" / "LC_MESSAGES"
    with (po / "messages.po").open("rb") as source:
        catalog = read_po(source, locale="fr")
    target = tmp_path / "translations" / "fr" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as output:
        write_mo(output, catalog)
    app = make_app(BABEL_TRANSLATION_DIRECTORIES=str(tmp_path / "translations"))
    client = app.test_client()
    # Flask-Babel keeps loaded catalogues process-wide, whichever app loaded them.
    babel.domain_instance.cache.clear()
    try:
        url, since, seen, _ = _region(client.get(f"{demo.embed}?lang=fr").text)
        _insert(app, demo.id, "published")
        assert _ask(client, url, since, seen).get_json()["text"] == (
            "1 nouveau commentaire — afficher"
        )
        _insert(app, demo.id, "published", "published")
        assert _ask(client, url, since, seen).get_json()["text"] == (
            "3 nouveaux commentaires — afficher"
        )
    finally:
        babel.domain_instance.cache.clear()
