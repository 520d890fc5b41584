"""The JSON API: list, describe, post; 201 / 202 / 4xx with a message."""

from __future__ import annotations

import json
import re

import pytest
from support import BROWSER_POST


def test_lists_published_comments_with_public_fields_only(client, demo):
    response = client.get(demo.api)
    assert response.status_code == 200
    comments = response.get_json()["comments"]
    assert [c["handle"] for c in comments][:2] == ["Gary1990", "Mike Randal"]
    first = comments[0]
    assert set(first) == {
        "id",
        "parent_id",
        "handle",
        "created_at",
        "display_time",
        "html",
        "like_count",
        "featured",
        "staff",
    }
    assert first["created_at"] == "2023-11-06T05:41:00+00:00"
    assert first["display_time"] == "November 6, 2023 - 12:41 am"


def test_describes_a_thread_with_its_embed_url(client, demo):
    body = client.get(f"/api/v1/sites/{demo.site}/threads/{demo.key}").get_json()
    assert body["embed_url"] == f"http://localhost/embed/{demo.site}/{demo.key}"
    assert body["open"] is True
    assert body["title"].startswith("Diplomatic Efforts")


def test_post_published_is_201_with_status_and_id(client, demo):
    response = client.post(demo.api, json={"handle": "Ann", "body": "Good piece."})
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "published"
    assert isinstance(body["id"], int)
    assert body["comment"]["html"] == "<p>Good piece.</p>"
    listed = client.get(demo.api).get_json()["comments"]
    assert listed[-1]["id"] == body["id"]


def test_an_emoji_after_a_brace_is_not_held_as_a_repeat(client, demo):
    first = client.post(demo.api, json={"handle": "Ann", "body": "}"})
    second = client.post(demo.api, json={"handle": "Bo", "body": "😍"})
    assert (first.status_code, second.status_code) == (201, 201)
    again = client.post(demo.api, json={"handle": "Cy", "body": "😍"})
    assert again.get_json()["status"] == "held"  # the same emoji twice is a repeat


def test_post_held_is_202(client, demo, classifier):
    classifier.scores = {"toxicity": 0.8}
    response = client.post(demo.api, json={"handle": "Ann", "body": "Rude words."})
    assert response.status_code == 202
    assert response.get_json()["status"] == "held"
    assert "comment" not in response.get_json()


def test_reply_through_the_api(client, demo):
    parent = client.get(demo.api).get_json()["comments"][0]["id"]
    response = client.post(
        demo.api, json={"handle": "Ann", "body": "Agreed.", "parent_id": parent}
    )
    assert response.status_code == 201
    assert response.get_json()["comment"]["parent_id"] == parent


def test_idempotency_key_stores_one_comment(client, demo):
    headers = {"Idempotency-Key": "abc-123"}
    payload = {"handle": "Ann", "body": "Once."}
    first = client.post(demo.api, json=payload, headers=headers).get_json()
    second = client.post(demo.api, json=payload, headers=headers).get_json()
    assert first["id"] == second["id"]


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        ("{broken", 422, "invalid"),
        ("[1, 2]", 422, "invalid"),
        ('{"handle": "Ann"}', 422, "invalid"),
        ('{"handle": "Ann", "body": 12}', 422, "invalid"),
        ('{"handle": "", "body": "x"}', 422, "invalid"),
        ('{"handle": "Ann", "body": "x", "parent_id": "nope"}', 422, "invalid"),
        (
            '{"handle": "Ann", "body": "x", "parent_id": 99999999999999999999}',
            422,
            "invalid",
        ),
        ('{"handle": "Ann", "body": "x", "parent_id": true}', 422, "invalid"),
    ],
)
def test_bad_json_gets_4xx_with_error_and_message(client, demo, payload, status, error):
    response = client.post(
        demo.api, data=payload, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status
    body = response.get_json()
    assert body["error"] == error
    assert body["message"]


def test_body_that_is_not_json_is_refused(client, demo):
    response = client.post(demo.api, data={"handle": "a", "body": "b"})
    assert response.status_code == 422
    assert "JSON" in response.get_json()["message"]


def test_unknown_thread_is_404_json(client, demo):
    response = client.get("/api/v1/sites/demo/threads/missing/comments")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    response = client.post("/api/v1/sites/x/threads/y/comments", json={})
    assert response.status_code == 404


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_closed_thread_is_409(client, demo, app):
    from moderation.extensions import db
    from moderation.models import Thread

    with app.app_context():
        db.session.get(Thread, demo.id).is_open = False
        db.session.commit()
    response = client.post(demo.api, json={"handle": "Ann", "body": "Late."})
    assert response.status_code == 409
    assert response.get_json()["error"] == "thread_closed"


def test_browser_from_a_foreign_origin_is_refused(client, demo):
    response = client.post(
        demo.api,
        json={"handle": "Ann", "body": "Hi."},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden_origin"


def test_browser_needs_a_form_token(client, demo):
    response = client.post(
        demo.api, json={"handle": "Ann", "body": "Hi."}, headers=BROWSER_POST
    )
    assert response.status_code == 422
    token = client.get(f"/api/v1/sites/{demo.site}/threads/{demo.key}").get_json()[
        "form_token"
    ]
    response = client.post(
        demo.api,
        json={"handle": "Ann", "body": "Hi.", "token": token},
        headers=BROWSER_POST,
    )
    assert response.status_code == 201


def test_openapi_document_describes_every_route(client, app):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = json.loads(response.data)
    assert spec["openapi"].startswith("3.1")
    documented = {
        "/api/v1" + re.sub(r"\{(\w+)\}", r"<\1>", path).replace("<thread>", "<key>")
        for path in spec["paths"]
    }
    served = {
        re.sub(r"<\w+:(\w+)>", r"<\1>", rule.rule)  # <int:id> is {id}
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi"
    }
    assert served == documented
    post = spec["paths"]["/sites/{site}/threads/{thread}/comments"]["post"]
    assert {"201", "202", "422"} <= set(post["responses"])


# Hostile input at the edge: a 4xx with a message, never a 500 --------------------


def _raw_post(client, url: str, text: str):
    return client.post(url, data=text, content_type="application/json")


def test_deeply_nested_json_is_refused(client, demo):
    response = _raw_post(client, demo.api, "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 422
    assert "JSON" in response.get_json()["message"]


@pytest.mark.parametrize(
    "parent", ["1e400", "-1e400", "-Infinity", "Infinity", "NaN", "{id}.9", "{id}.0"]
)
def test_parent_id_must_be_a_whole_comment_id(client, demo, parent):
    first = client.get(demo.api).get_json()["comments"][0]["id"]
    parent = parent.format(id=first)  # 608.9 was stored as a reply to 608
    text = f'{{"handle": "Ann", "body": "Hello.", "parent_id": {parent}}}'
    response = _raw_post(client, demo.api, text)
    assert response.status_code == 422, response.get_data(as_text=True)
    answer = response.get_json()
    # Not a finite JSON number at all, or not a whole one.
    assert "JSON" in answer["message"] or answer["fields"]["parent_id"]


@pytest.mark.parametrize("field", ["body", "handle"])
def test_a_lone_surrogate_is_refused(client, demo, field):
    fields = {"handle": "Ann", "body": "Hello."}
    fields[field] = "bad \\ud800 x"
    text = "{" + ", ".join(f'"{k}": "{v}"' for k, v in fields.items()) + "}"
    response = _raw_post(client, demo.api, text)
    assert response.status_code == 422
    assert "Unicode" in response.get_json()["message"]


def test_a_body_over_the_request_limit_is_413_at_once(client, demo, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = _raw_post(client, demo.api, '{"body": "' + "x" * limit + '"}')
    assert response.status_code == 413
    assert "too large" in response.get_json()["message"].lower()


# A busy or unreachable database: 503 with Retry-After, never a 500 ----------------


@pytest.fixture
def sqlite_lock(app):
    """Take SQLite's write lock from another connection, as a long write would;
    returns a function that releases it."""
    import sqlite3

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite:///"):
        pytest.skip("SQLite's write lock; PostgreSQL waits on row locks instead")
    app.config["SQLITE_BUSY_TIMEOUT_MS"] = 100
    with app.app_context():
        from moderation.extensions import db

        db.engine.dispose()  # new connections take the short timeout
    holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")

    def release() -> None:
        if holder.in_transaction:
            holder.execute("ROLLBACK")

    yield release
    release()
    holder.close()


def _stored(app) -> int:
    import sqlalchemy as sa

    from moderation.extensions import db
    from moderation.models import Comment

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Comment))


def test_a_locked_database_answers_503_and_stores_nothing(
    app, client, demo, sqlite_lock
):
    before = _stored(app)
    response = client.post(demo.api, json={"handle": "Ann", "body": "Busy?"})
    assert response.status_code == 503, response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 30
    assert "try again" in response.get_json()["message"]
    page = client.get(demo.embed)
    token = page.text.split('name="token" value="')[1].split('"')[0]
    framed = client.post(
        demo.embed,
        data={"handle": "Ann", "body": "Busy here?", "token": token},
        headers=BROWSER_POST,
    )
    assert framed.status_code == 503
    assert "try again" in framed.text
    assert "frame-ancestors 'none'" not in framed.headers["Content-Security-Policy"]
    sqlite_lock()
    assert _stored(app) == before
    again = client.post(demo.api, json={"handle": "Ann", "body": "Busy?"})
    assert again.status_code == 201


def test_an_unreachable_database_answers_503(make_app):
    app = make_app(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none",
        IN_PROCESS_WORKER=False,
    )
    response = app.test_client().get("/api/v1/sites/demo/threads/x/comments")
    assert response.status_code == 503
    assert "Retry-After" in response.headers


def test_405_keeps_its_allow_header(client, demo):
    response = client.delete(demo.api)
    assert response.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}
    assert response.get_json()["error"] == "method_not_allowed"


def test_an_api_post_may_ask_for_replies_by_mail(app, client, demo):
    import sqlalchemy as sa

    from moderation.extensions import db
    from moderation.models import Comment, OutboxMessage

    asked = client.post(
        demo.api,
        json={
            "handle": "Ann",
            "body": "Tell me when someone answers.",
            "email": "ann@example.org",
            "notify_replies": True,
        },
    )
    assert asked.status_code == 201
    with app.app_context():
        comment = db.session.get(Comment, asked.get_json()["id"])
        assert comment.notify_replies is True
        topics = db.session.scalars(sa.select(OutboxMessage.topic)).all()
        assert "confirm" in topics  # the address is confirmed first
    no_email = client.post(
        demo.api, json={"handle": "Bo", "body": "No address.", "notify_replies": True}
    )
    assert no_email.status_code == 422
    assert "email" in no_email.get_json()["fields"]
    not_bool = client.post(
        demo.api,
        json={
            "handle": "Cy",
            "body": "Yes please.",
            "email": "c@example.org",
            "notify_replies": "yes",
        },
    )
    assert not_bool.status_code == 422
