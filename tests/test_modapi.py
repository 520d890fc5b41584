"""The moderation API: bearer tokens, the queue, decisions, bans, limits, the spec."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from moderation.extensions import db
from moderation.models import (
    ApiToken,
    AuditEntry,
    Ban,
    Comment,
    CommentStatus,
    Decision,
    Moderator,
    Role,
    utcnow,
)
from moderation.services.api_tokens import create_token, revoke_token

from staff_helpers import add_comment, add_moderator, add_site, login

API = "/api/v1/moderation"


@pytest.fixture
def sites(app: Flask) -> dict[str, int]:
    return {"north": add_site(app, "north"), "south": add_site(app, "south")}


def _token(app: Flask, email: str) -> str:
    with app.app_context():
        moderator = db.session.scalar(sa.select(Moderator).filter_by(email=email))
        return create_token(moderator, "test")[1]


@pytest.fixture
def north(app: Flask, sites) -> str:
    """A token of a moderator who works site north only."""
    add_moderator(app, "north@example.com", sites=["north"])
    return _token(app, "north@example.com")


@pytest.fixture
def admin(app: Flask, sites) -> str:
    add_moderator(app, "admin@example.com", Role.ADMIN)
    return _token(app, "admin@example.com")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _comment(app: Flask, comment_id: int) -> Comment:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        db.session.expunge(comment)
        return comment


# Tokens ----------------------------------------------------------------------------


def test_no_token_is_401_with_a_bearer_challenge(client, sites):
    response = client.get(f"{API}/queue")
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="moderation"'
    assert "Set-Cookie" not in response.headers


BAD_HEADERS = [
    "Basic bm9ib2R5OnNlY3JldA==",
    "Bearer",
    "Bearer mod_short",
    "Bearer " + "mod_" + "x" * 42 + "!",
    "Bearer mod_" + "A" * 43,  # well formed, never issued
    "Token mod_" + "A" * 43,
]


def test_malformed_and_unknown_tokens_are_401(client, north):
    for header in BAD_HEADERS:
        response = client.get(f"{API}/queue", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.is_json and response.json["message"]
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_revoked_tokens_and_deactivated_moderators_are_refused(app, client, north):
    assert client.get(f"{API}/queue", headers=auth(north)).status_code == 200
    with app.app_context():
        moderator = db.session.scalar(
            sa.select(Moderator).filter_by(email="north@example.com")
        )
        moderator.active = False
        db.session.commit()
    assert client.get(f"{API}/queue", headers=auth(north)).status_code == 401
    with app.app_context():
        db.session.scalar(sa.select(Moderator)).active = True
        db.session.commit()
        revoke_token(db.session.scalar(sa.select(ApiToken)))
    assert client.get(f"{API}/queue", headers=auth(north)).status_code == 401


def test_a_session_cookie_does_not_open_the_api(app, sites, north):
    browser = login(app, "north@example.com")
    assert browser.get(f"{API}/queue").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(app, client, north):
    client.get(f"{API}/queue", headers=auth(north))
    with app.app_context():
        first = db.session.scalar(sa.select(ApiToken)).last_used_at
    assert first is not None and utcnow() - first < timedelta(seconds=30)
    client.get(f"{API}/queue", headers=auth(north))
    with app.app_context():
        assert db.session.scalar(sa.select(ApiToken)).last_used_at == first
        row = db.session.scalar(sa.select(ApiToken))
        row.last_used_at = first - timedelta(minutes=2)
        db.session.commit()
    client.get(f"{API}/queue", headers=auth(north))
    with app.app_context():
        assert db.session.scalar(sa.select(ApiToken)).last_used_at > first


# The queue -------------------------------------------------------------------------


def test_queue_shows_the_moderators_sites_with_the_evidence(app, client, north, admin):
    mine = add_comment(
        app, "north", "Mine to review.", email="r@example.com", report_count=2
    )
    add_comment(app, "south", "Not mine.")
    add_comment(app, "north", "Already out.", status=CommentStatus.PUBLISHED)
    response = client.get(f"{API}/queue", headers=auth(north))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    (item,) = response.json["comments"]
    assert item["id"] == mine
    assert item["site"] == "north"
    assert item["thread"]["key"] == "article"
    assert item["status"] == "held"
    assert item["body"] == "Mine to review."
    assert "<p>" in item["html"]
    assert item["email"] == "r@example.com"
    assert item["handle"] == "Reader"
    assert item["scores"] == {"toxicity": 0.8}
    assert item["rule_hits"] == [
        {
            "rule": "suspect-word",
            "action": "hold",
            "reason": "suspect word",
            "spans": [{"start": 0, "end": 1, "text": "M"}],
        }
    ]
    assert item["report_count"] == 2
    assert item["created_at"].endswith("+00:00")
    assert response.json["next_cursor"] is None
    everything = client.get(f"{API}/queue", headers=auth(admin)).json["comments"]
    assert len(everything) == 2


def test_queue_pages_with_a_cursor(app, client, north):
    ids = [add_comment(app, "north", f"Held number {n}.") for n in range(5)]
    seen, cursor = [], None
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        page = client.get(f"{API}/queue{query}", headers=auth(north)).json
        seen += [item["id"] for item in page["comments"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids  # held: oldest first, each once


def test_queue_statuses(app, client, north):
    held = add_comment(app, "north", "Held.")
    first = add_comment(app, "north", "Out 1.", status=CommentStatus.PUBLISHED)
    second = add_comment(app, "north", "Out 2.", status=CommentStatus.PUBLISHED)
    reported = add_comment(
        app, "north", "Reported.", status=CommentStatus.PUBLISHED, report_count=1
    )
    rejected = add_comment(app, "north", "No.", status=CommentStatus.REJECTED)

    def ids(status: str) -> list[int]:
        response = client.get(f"{API}/queue?status={status}", headers=auth(north))
        assert response.status_code == 200
        return [item["id"] for item in response.json["comments"]]

    assert ids("held") == [held]
    assert ids("published") == [reported, second, first]  # newest first
    assert ids("rejected") == [rejected]
    assert ids("reported") == [reported]


BAD_QUERIES = [
    ("status=deleted", 422),
    ("status=", 200),
    ("limit=0", 422),
    ("limit=201", 422),
    ("limit=ten", 422),
    ("cursor=garbage", 400),
    ("site=south", 403),
    ("site=nowhere", 404),
    ("site=north", 200),
]


def test_queue_refuses_bad_queries(client, north):
    for query, status in BAD_QUERIES:
        response = client.get(f"{API}/queue?{query}", headers=auth(north))
        assert response.status_code == status, query
        assert response.is_json
        if status >= 400:
            assert response.json["error"] and response.json["message"]


# Decisions -------------------------------------------------------------------------


def test_decision_is_recorded_like_the_ui(app, client, north):
    comment_id = add_comment(app, "north")
    response = client.post(
        f"{API}/comments/{comment_id}/decision",
        json={"action": "approve", "reason": "fine by me"},
        headers=auth(north),
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == "published"
    with app.app_context():
        decision = db.session.scalar(sa.select(Decision))
        assert decision.actor == "north@example.com"
        assert decision.reason == "fine by me"
        assert decision.to_status is CommentStatus.PUBLISHED
        entry = db.session.scalar(
            sa.select(AuditEntry).filter_by(
                target_type="comment", target_id=str(comment_id)
            )
        )
        assert entry.action == "comment.published"
        assert entry.actor == "north@example.com"
    again = client.post(
        f"{API}/comments/{comment_id}/decision",
        json={"action": "approve"},
        headers=auth(north),
    )
    assert again.status_code == 409
    assert again.json["error"] == "invalid_transition"


def test_stale_expected_status_is_409(app, client, north):
    comment_id = add_comment(app, "north")
    response = client.post(
        f"{API}/comments/{comment_id}/decision",
        json={"action": "reject", "expected": "published"},
        headers=auth(north),
    )
    assert response.status_code == 409
    assert _comment(app, comment_id).status is CommentStatus.HELD


def test_moderator_of_one_site_cannot_decide_anothers(app, client, north, sites):
    theirs = add_comment(app, "south")
    response = client.post(
        f"{API}/comments/{theirs}/decision",
        json={"action": "reject"},
        headers=auth(north),
    )
    assert response.status_code == 403
    assert _comment(app, theirs).status is CommentStatus.HELD
    # Nor through the UI.
    browser = login(app, "north@example.com")
    page = browser.post(
        f"/mod/comments/{theirs}/decision",
        data={"action": "reject", "reason_code": "spam"},
    )
    assert page.status_code in (403, 404)
    assert _comment(app, theirs).status is CommentStatus.HELD


BAD_DECISIONS = [
    ("999999", {"json": {"action": "approve"}}, 404),
    ("abc", {"json": {"action": "approve"}}, 404),
    ("{id}", {"json": {"action": "publish"}}, 422),
    ("{id}", {"json": {}}, 422),
    ("{id}", {"json": {"action": "approve", "reason": 5}}, 422),
    ("{id}", {"json": {"action": "approve", "reason": "x" * 1001}}, 422),
    ("{id}", {"json": {"action": "approve", "expected": "maybe"}}, 422),
    ("{id}", {"json": ["approve"]}, 400),
    ("{id}", {"data": "{not json", "content_type": "application/json"}, 400),
    ("{id}", {"data": "action=approve"}, 400),
]


def test_bad_decisions_are_4xx(app, client, north):
    comment_id = add_comment(app, "north")
    for path, kwargs, status in BAD_DECISIONS:
        response = client.post(
            f"{API}/comments/{path.format(id=comment_id)}/decision",
            headers=auth(north),
            **kwargs,
        )
        assert response.status_code == status, (path, kwargs)
        assert response.is_json and response.json["message"]
    assert _comment(app, comment_id).status is CommentStatus.HELD


def test_api_posts_need_no_csrf_token(app, client, north):
    app.config["WTF_CSRF_ENABLED"] = True
    comment_id = add_comment(app, "north")
    response = client.post(
        f"{API}/comments/{comment_id}/decision",
        json={"action": "reject"},
        headers=auth(north),
    )
    assert response.status_code == 200


# Bans ------------------------------------------------------------------------------


def _ban(client: FlaskClient, token: str, **payload: object):
    return client.post(f"{API}/bans", json=payload, headers=auth(token))


def test_ban_a_handle_on_a_site_for_a_week(app, client, north):
    response = _ban(
        client,
        north,
        kind="handle",
        value="  Troll ",
        site="north",
        reason="abuse",
        duration_days=7,
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["kind"], body["value"], body["site"]) == ("handle", "troll", "north")
    with app.app_context():
        ban = db.session.get(Ban, body["id"])
        assert ban.expires_at - ban.created_at == timedelta(days=7)
        entry = db.session.scalar(sa.select(AuditEntry).filter_by(action="ban.created"))
        assert entry.actor == "north@example.com" and entry.reason == "abuse"


def test_ban_the_network_of_a_comment(app, client, north):
    comment_id = add_comment(app, "north", network_key="net:0123456789abcdef")
    response = _ban(client, north, kind="network", comment_id=comment_id)
    assert response.status_code == 201, response.json
    assert response.json["value"] == "net:0123456789abcdef"
    assert response.json["site"] == "north"  # the comment's site by default
    assert response.json["expires_at"] is None


def test_only_admins_ban_on_every_site(app, client, north, admin):
    assert (
        _ban(client, north, kind="email", value="x@example.com", site="*").status_code
        == 403
    )
    response = _ban(client, admin, kind="email", value="X@Example.com", site="*")
    assert response.status_code == 201
    assert response.json["site"] is None and response.json["value"] == "x@example.com"


BAD_BANS = [
    ({"kind": "ip", "value": "x", "site": "north"}, 422),
    ({"value": "x", "site": "north"}, 422),
    ({"kind": "handle", "site": "north"}, 422),
    ({"kind": "handle", "value": "  ", "site": "north"}, 422),
    ({"kind": "handle", "value": "x"}, 422),
    ({"kind": "handle", "value": "x", "site": 5}, 422),
    ({"kind": "handle", "value": "x", "site": "nowhere"}, 404),
    ({"kind": "handle", "value": "x", "site": "south"}, 403),
    ({"kind": "handle", "value": "x", "site": "north", "duration_days": 0}, 422),
    ({"kind": "handle", "value": "x", "site": "north", "duration_days": "7"}, 422),
    ({"kind": "handle", "value": "x", "site": "north", "duration_days": True}, 422),
    ({"kind": "handle", "value": "x", "site": "north", "duration_days": 1e9}, 422),
    ({"kind": "handle", "value": "x" * 300, "site": "north"}, 422),
    ({"kind": "email", "comment_id": "{id}"}, 422),  # the comment has no email
    ({"kind": "handle", "comment_id": 999999}, 404),
    ({"kind": "handle", "comment_id": "{south}"}, 403),
    ({"kind": "handle", "comment_id": "12"}, 422),
]


def test_bad_bans_are_4xx(app, client, north):
    ids = {"{id}": add_comment(app, "north"), "{south}": add_comment(app, "south")}
    for payload, status in BAD_BANS:
        if payload.get("comment_id") in ids:
            payload = {**payload, "comment_id": ids[payload["comment_id"]]}
        response = _ban(client, north, **payload)
        assert response.status_code == status, (payload, response.json)
        assert response.json["message"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Ban.id))) == 0


def test_lift_a_ban(app, client, north):
    ban_id = _ban(client, north, kind="handle", value="troll", site="north").json["id"]
    response = client.delete(
        f"{API}/bans/{ban_id}", json={"reason": "appealed"}, headers=auth(north)
    )
    assert response.status_code == 200
    assert response.json["lifted_at"] is not None
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).filter_by(action="ban.lifted"))
        assert entry.reason == "appealed"
    again = client.delete(f"{API}/bans/{ban_id}", headers=auth(north))
    assert again.status_code == 409
    assert client.delete(f"{API}/bans/999999", headers=auth(north)).status_code == 404
    assert client.delete(f"{API}/bans/x1", headers=auth(north)).status_code == 404


def test_a_moderator_cannot_lift_another_sites_ban(app, client, north, admin):
    ban_id = _ban(client, admin, kind="handle", value="troll", site="south").json["id"]
    response = client.delete(f"{API}/bans/{ban_id}", headers=auth(north))
    assert response.status_code == 403
    everywhere = _ban(client, admin, kind="handle", value="t2", site="*").json["id"]
    assert (
        client.delete(f"{API}/bans/{everywhere}", headers=auth(north)).status_code
        == 403
    )


def test_lift_with_a_bad_body_is_400(app, client, north):
    ban_id = _ban(client, north, kind="handle", value="troll", site="north").json["id"]
    response = client.delete(
        f"{API}/bans/{ban_id}",
        data="{oops",
        content_type="application/json",
        headers=auth(north),
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Ban, ban_id).lifted_at is None


# Limits and the description -----------------------------------------------------


def test_each_token_has_its_own_rate_limit(make_app, sites):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_MODERATION_API="2 per minute",
    )
    add_moderator(app, "one@example.com", sites=["north"])
    add_moderator(app, "two@example.com", sites=["north"])
    one, two = _token(app, "one@example.com"), _token(app, "two@example.com")
    client = app.test_client()
    assert client.get(f"{API}/queue", headers=auth(one)).status_code == 200
    comment_id = add_comment(app, "north")
    decided = client.post(
        f"{API}/comments/{comment_id}/decision",
        json={"action": "approve"},
        headers=auth(one),
    )
    assert decided.status_code == 200
    refused = client.get(f"{API}/queue", headers=auth(one))
    assert refused.status_code == 429
    assert refused.json["error"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) >= 1
    assert client.get(f"{API}/queue", headers=auth(two)).status_code == 200


def test_every_route_is_documented_with_bearer_auth(client):
    spec = json.loads(client.get("/api/v1/openapi.json").data)
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearerAuth"][
            "description"
        ],
    }
    operations = [
        ("/moderation/queue", "get"),
        ("/moderation/comments/{comment_id}/decision", "post"),
        ("/moderation/bans", "post"),
        ("/moderation/bans/{ban_id}", "delete"),
    ]
    for path, method in operations:
        operation = spec["paths"][path][method]
        assert operation["security"] == [{"bearerAuth": []}]
        assert "401" in operation["responses"]


@pytest.mark.parametrize("comment_id", [2**70, -(2**70), 0])
def test_a_comment_id_out_of_range_is_refused_not_a_500(client, north, comment_id):
    response = client.post(
        f"{API}/bans",
        json={"kind": "handle", "comment_id": comment_id},
        headers=auth(north),
    )
    assert response.status_code in (404, 422), response.get_data(as_text=True)
