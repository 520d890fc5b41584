"""Moderator sessions: login limits per network and per account, logout, passwords."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from moderation.extensions import db
from moderation.models import AuditEntry, Moderator

from staff_helpers import PASSWORD, add_moderator, login

NEW_PASSWORD = "another long enough password"


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    """Limits on (memory storage, fresh per app), generous unless a test says."""
    app_config.update(
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN="100 per minute",
        RATELIMIT_LOGIN_ACCOUNT="3 per 15 minutes",
        WTF_CSRF_ENABLED=False,
    )
    return app_config


@pytest.fixture
def alice(app: Flask) -> int:
    return add_moderator(app, "alice@example.com")


def _client_at(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _attempt(client: FlaskClient, email: str, password: str) -> int:
    return client.post(
        "/mod/login", data={"email": email, "password": password}
    ).status_code


def _logged_in(client: FlaskClient) -> bool:
    response = client.get("/mod/")
    if response.status_code == 302:
        assert "/mod/login" in response.headers["Location"]
        return False
    assert response.status_code == 200, response.status_code
    return True


# Login throttling ---------------------------------------------------------------


def test_failures_for_one_account_are_limited_across_networks(app, alice):
    for number in range(3):
        client = _client_at(app, f"192.0.2.{number + 1}")
        assert _attempt(client, "alice@example.com", "wrong guess") == 401
    # The fourth try is refused even from a fresh address with the right password.
    client = _client_at(app, "198.51.100.9")
    response = client.post(
        "/mod/login", data={"email": "Alice@Example.com ", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many failed logins for this account" in response.text
    assert "try again in" in response.text
    assert int(response.headers["Retry-After"]) > 60  # a 15-minute window


ANOTHER_PROCESS = """
import sys
from moderation import create_app
app = create_app({
    "SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "test secret",
    "INSTANCE_PATH": sys.argv[2], "IN_PROCESS_WORKER": False,
    "CLASSIFIER": "profanity-check", "CLASSIFIER_PRELOAD": False,
    "RATELIMIT_LOGIN_ACCOUNT": "3 per 15 minutes", "WTF_CSRF_ENABLED": False,
})
response = app.test_client().post(
    "/mod/login", data={"email": "alice@example.com", "password": sys.argv[3]}
)
print(response.status_code)
"""


def test_failures_count_in_every_process(app, alice, tmp_path):
    """Each gunicorn process has its own memory: the brake must not live there."""
    import subprocess
    import sys

    client = _client_at(app, "192.0.2.1")
    for _ in range(3):
        assert _attempt(client, "alice@example.com", "wrong guess") == 401
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            ANOTHER_PROCESS,
            app.config["SQLALCHEMY_DATABASE_URI"],
            str(tmp_path / "other"),
            PASSWORD,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "429"


def test_account_limit_leaves_other_accounts_alone(app, alice):
    add_moderator(app, "bob@example.com")
    client = _client_at(app, "192.0.2.1")
    for _ in range(3):
        assert _attempt(client, "alice@example.com", "wrong guess") == 401
    assert _attempt(client, "alice@example.com", PASSWORD) == 429
    assert _attempt(client, "bob@example.com", PASSWORD) == 302


def test_successful_logins_do_not_count_against_the_account(app, alice):
    for _ in range(5):
        assert _attempt(app.test_client(), "alice@example.com", PASSWORD) == 302


def test_429_is_json_for_json_clients(app, alice):
    client = _client_at(app, "192.0.2.1")
    for _ in range(3):
        _attempt(client, "alice@example.com", "wrong guess")
    response = client.post(
        "/mod/login",
        data={"email": "alice@example.com", "password": "x"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 429
    assert response.json["error"] == "too_many_requests"


def test_per_network_limit_still_holds(make_app):
    app = make_app(RATELIMIT_LOGIN="2 per minute")
    add_moderator(app, "carol@example.com")
    client = _client_at(app, "203.0.113.5")
    assert _attempt(client, "nobody@example.com", "x") == 401
    assert _attempt(client, "someone@example.com", "x") == 401
    assert _attempt(client, "carol@example.com", PASSWORD) == 429
    assert (
        _attempt(_client_at(app, "203.0.113.6"), "carol@example.com", PASSWORD) == 302
    )


# Logout and logout everywhere ---------------------------------------------------


def test_logout_ends_this_session_only(app, alice):
    first, second = login(app, "alice@example.com"), login(app, "alice@example.com")
    first.post("/mod/logout")
    assert not _logged_in(first)
    assert _logged_in(second)


def test_a_plain_logout_ends_the_session_on_the_server(app, alice):
    """A copy of the cookie taken before logging out opens nothing afterwards."""
    first, second = login(app, "alice@example.com"), login(app, "alice@example.com")
    stolen = first.get_cookie("session").value
    first.post("/mod/logout")
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert not _logged_in(replay)
    assert _logged_in(second)  # the other session lives on


def test_logout_everywhere_ends_every_session_and_old_cookies(app, alice):
    first, second = login(app, "alice@example.com"), login(app, "alice@example.com")
    stolen = first.get_cookie("session").value
    response = first.post("/mod/logout", data={"everywhere": "1"})
    assert response.status_code == 302
    assert not _logged_in(first)
    assert not _logged_in(second)
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert not _logged_in(replay)
    # Logging in again works and starts a fresh session.
    assert _logged_in(login(app, "alice@example.com"))


def test_logout_needs_the_csrf_token(app, alice):
    client = login(app, "alice@example.com")
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/mod/logout", data={"everywhere": "1"})
    assert response.status_code == 400
    app.config["WTF_CSRF_ENABLED"] = False
    assert _logged_in(client)


# Password change ------------------------------------------------------------------


def _change(client: FlaskClient, current: str, new: str, confirm: str | None = None):
    return client.post(
        "/mod/account/password",
        data={"current": current, "new": new, "confirm": confirm or new},
    )


def test_password_change_ends_other_sessions_and_keeps_this_one(app, alice):
    mine, other = login(app, "alice@example.com"), login(app, "alice@example.com")
    old_cookie = mine.get_cookie("session").value
    page = mine.get("/mod/account/password")
    assert page.status_code == 200 and 'name="confirm"' in page.text
    response = _change(mine, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 303
    assert _logged_in(mine)
    assert not _logged_in(other)
    replay = app.test_client()
    replay.set_cookie("session", old_cookie)
    assert not _logged_in(replay)
    assert _attempt(app.test_client(), "alice@example.com", PASSWORD) == 401
    assert _attempt(app.test_client(), "alice@example.com", NEW_PASSWORD) == 302
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry))
        assert (entry.action, entry.actor) == (
            "moderator.password",
            "alice@example.com",
        )
        assert entry.before is None and entry.after is None  # no hashes in the log


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong password here", NEW_PASSWORD, None, "current password is not right"),
        (PASSWORD, "too short", None, "12"),
        (PASSWORD, NEW_PASSWORD, "a different long password", "do not match"),
    ],
)
def test_bad_password_changes_are_refused(app, alice, current, new, confirm, message):
    client = login(app, "alice@example.com")
    with app.app_context():
        token = db.session.get(Moderator, alice).session_token
    response = _change(client, current, new, confirm)
    assert response.status_code == 422
    assert message in response.text
    with app.app_context():
        moderator = db.session.get(Moderator, alice)
        assert moderator.check_password(PASSWORD)
        assert moderator.session_token == token
    assert _logged_in(client)


def test_password_page_needs_a_login(client):
    response = client.get("/mod/account/password")
    assert response.status_code == 302
    assert "/mod/login" in response.headers["Location"]


def test_deactivated_moderator_is_logged_out_and_cannot_log_in(app, alice):
    client = login(app, "alice@example.com")
    with app.app_context():
        moderator = db.session.get(Moderator, alice)
        from moderation.admin.staff import set_active

        set_active(moderator, False, by=None, actor="test")
    assert not _logged_in(client)
    assert _attempt(app.test_client(), "alice@example.com", PASSWORD) == 401


@pytest.mark.parametrize(
    "public_url, secure",
    [("https://comments.example.com", True), ("http://127.0.0.1:8000", False)],
)
def test_moderator_cookies_are_secure_when_the_public_url_is_https(
    make_app, public_url, secure
):
    app = make_app(PUBLIC_URL=public_url)
    add_moderator(app, "carol@example.com")
    response = app.test_client().post(
        "/mod/login",
        data={"email": "carol@example.com", "password": PASSWORD, "remember": "y"},
        base_url=public_url,
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    session = [c for c in cookies if "session=" in c]
    assert session, cookies
    for cookie in session:
        assert ("; Secure" in cookie) is secure
        assert cookie.startswith("__Host-session=") is secure
        assert "; HttpOnly" in cookie and "; Path=/" in cookie
        assert "Domain=" not in cookie  # __Host- forbids it; none is wanted anyway


def test_a_secure_session_cookie_logs_in_over_https(make_app):
    app = make_app(PUBLIC_URL="https://comments.example.com")
    add_moderator(app, "dan@example.com")
    client = app.test_client()
    https = "https://comments.example.com"
    login = {"email": "dan@example.com", "password": PASSWORD}
    assert client.post("/mod/login", data=login, base_url=https).status_code == 302
    assert client.get("/mod/", base_url=https).status_code == 200
