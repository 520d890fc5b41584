"""Admins: moderators, roles, sites, activation, API tokens, the CLI; all audited."""

from __future__ import annotations

import os
import re
import threading

import pytest
import sqlalchemy as sa
from flask import Flask

from moderation.admin.staff import set_role
from moderation.errors import InvalidTransition
from moderation.extensions import db
from moderation.models import ApiToken, AuditEntry, Moderator, Role
from moderation.services.api_tokens import token_hash

from staff_helpers import PASSWORD, add_moderator, add_site, login

SECRET = re.compile(r'<code class="secret">([^<]+)</code>')
CREATE = ["moderation", "create-moderator"]
CONFIRM = {"confirm": "yes"}  # the confirmation step's field (moderation/confirm.py)


@pytest.fixture
def sites(app: Flask) -> tuple[int, int]:
    return add_site(app, "north"), add_site(app, "south")


@pytest.fixture
def admin(app: Flask, sites) -> int:
    return add_moderator(app, "admin@example.com", Role.ADMIN)


@pytest.fixture
def admin_client(app: Flask, admin: int):
    return login(app, "admin@example.com")


def _audit(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)
            )
        )


def _moderator(app: Flask, email: str) -> Moderator:
    with app.app_context():
        moderator = db.session.scalar(sa.select(Moderator).filter_by(email=email))
        assert moderator is not None
        moderator.site_slugs = sorted(site.slug for site in moderator.sites)
        db.session.expunge(moderator)
        return moderator


# Who may ---------------------------------------------------------------------------


def test_admin_pages_need_an_admin(app, client, sites, admin):
    assert client.get("/mod/admin/").status_code == 302  # to the login
    add_moderator(app, "mod@example.com", sites=["north"])
    moderator = login(app, "mod@example.com")
    assert moderator.get("/mod/admin/").status_code == 403
    assert (
        moderator.post(
            "/mod/admin/moderators", data={"email": "x@example.com"}
        ).status_code
        == 403
    )
    with app.app_context():
        admin_id = db.session.scalar(sa.select(Moderator.id).filter_by(role="admin"))
    response = moderator.post(
        f"/mod/admin/moderators/{admin_id}/active",
        data={"active": "0", "confirm": "yes"},
    )
    assert response.status_code == 403
    assert _moderator(app, "admin@example.com").active


def test_nav_shows_admin_only_to_admins(app, admin_client, sites):
    assert 'href="/mod/admin/"' in admin_client.get("/mod/admin/audit").text
    add_moderator(app, "mod@example.com", sites=["north"])
    page = login(app, "mod@example.com").get("/mod/admin/audit").text
    assert 'href="/mod/admin/"' not in page
    assert 'href="/mod/admin/audit"' in page


def test_admin_forms_are_csrf_protected(app, admin_client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = admin_client.post(
        "/mod/admin/moderators",
        data={"email": "new@example.com", "password": PASSWORD},
    )
    assert response.status_code == 400
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Moderator.id))) == 1


# Creating -------------------------------------------------------------------------


def test_admin_creates_a_moderator_with_a_generated_password_shown_once(
    app, admin_client
):
    response = admin_client.post(
        "/mod/admin/moderators",
        data={
            "email": "New@Example.com",
            "name": "New One",
            "role": "moderator",
            "sites": ["north", "south"],
        },
    )
    assert response.status_code == 201
    password = SECRET.search(response.text).group(1)
    assert len(password) >= 12
    assert 'value="New@Example.com"' not in response.text  # a blank form again
    created = _moderator(app, "new@example.com")
    assert created.role is Role.MODERATOR
    assert created.site_slugs == ["north", "south"]
    assert password not in created.password_hash
    assert password not in admin_client.get("/mod/admin/").text  # once only
    login(app, "new@example.com", password)
    (entry,) = _audit(app, "moderator.created")
    assert entry.actor == "admin@example.com"
    assert entry.before is None
    assert entry.after == {
        "email": "new@example.com",
        "name": "New One",
        "role": "moderator",
        "sites": ["north", "south"],
        "active": True,
    }


def test_admin_creates_a_moderator_with_a_chosen_password(app, admin_client):
    response = admin_client.post(
        "/mod/admin/moderators",
        data={"email": "chosen@example.com", "role": "admin", "password": PASSWORD},
    )
    assert response.status_code == 201
    assert not SECRET.search(response.text)
    assert _moderator(app, "chosen@example.com").is_admin
    login(app, "chosen@example.com", PASSWORD)


BAD_NEW_MODERATORS = [
    ({"email": "admin@example.com"}, 409, "already exists"),
    ({"email": "not-an-email"}, 422, "email"),
    ({"email": "short@example.com", "password": "short"}, 422, "12"),
    ({"email": "x@example.com", "sites": ["nowhere"]}, 422, "valid choice"),
    ({"email": "x@example.com", "role": "owner"}, 422, "valid choice"),
]


def test_bad_new_moderators_are_refused(app, admin_client):
    for data, status, message in BAD_NEW_MODERATORS:
        response = admin_client.post("/mod/admin/moderators", data=data)
        assert response.status_code == status, data
        assert message in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Moderator.id))) == 1
    assert _audit(app, "moderator.created") == []


# Changing -------------------------------------------------------------------------


def test_role_and_sites_changes_are_audited_with_before_and_after(app, admin_client):
    moderator_id = add_moderator(app, "mod@example.com", sites=["north"])
    response = admin_client.post(
        f"/mod/admin/moderators/{moderator_id}",
        data={"role": "admin", "sites": ["south"]},
    )
    assert response.status_code == 303
    changed = _moderator(app, "mod@example.com")
    assert changed.is_admin and changed.site_slugs == ["south"]
    (role,) = _audit(app, "moderator.role")
    assert (role.before, role.after) == ({"role": "moderator"}, {"role": "admin"})
    assert role.target_type == "moderator" and role.target_id == str(moderator_id)
    (sites,) = _audit(app, "moderator.sites")
    assert (sites.before, sites.after) == ({"sites": ["north"]}, {"sites": ["south"]})
    # The same values again change nothing and write nothing.
    admin_client.post(
        f"/mod/admin/moderators/{moderator_id}",
        data={"role": "admin", "sites": ["south"]},
    )
    assert len(_audit(app, "moderator.role")) == 1
    assert len(_audit(app, "moderator.sites")) == 1


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(
    app, admin, admin_client
):
    response = admin_client.post(
        f"/mod/admin/moderators/{admin}", data={"role": "moderator"}
    )
    assert response.status_code == 409
    assert "last active admin" in response.text
    response = admin_client.post(
        f"/mod/admin/moderators/{admin}/active", data={"active": "0"}
    )
    assert response.status_code == 409  # refused before any confirmation
    assert "last active admin" in response.text
    json_response = admin_client.post(
        f"/mod/admin/moderators/{admin}/active",
        data={"active": "0", "confirm": "yes"},
        headers={"Accept": "application/json"},
    )
    assert json_response.status_code == 409
    me = _moderator(app, "admin@example.com")
    assert me.is_admin and me.active
    assert _audit(app, "moderator.role") == []
    assert _audit(app, "moderator.active") == []


def test_an_admin_may_step_down_while_another_remains(app, admin, admin_client):
    second = add_moderator(app, "second@example.com", Role.ADMIN)
    response = admin_client.post(
        f"/mod/admin/moderators/{admin}", data={"role": "moderator"}
    )
    assert response.status_code == 303
    assert not _moderator(app, "admin@example.com").is_admin
    # The remaining admin is now the last one.
    other = login(app, "second@example.com")
    response = other.post(
        f"/mod/admin/moderators/{second}/active", data={"active": "0", "confirm": "yes"}
    )
    assert response.status_code == 409


def test_a_deactivated_admin_does_not_count_as_the_other_admin(
    app, admin, admin_client
):
    second = add_moderator(app, "second@example.com", Role.ADMIN)
    assert (
        admin_client.post(
            f"/mod/admin/moderators/{second}/active",
            data={"active": "0", "confirm": "yes"},
        ).status_code
        == 303
    )
    response = admin_client.post(
        f"/mod/admin/moderators/{admin}", data={"role": "moderator"}
    )
    assert response.status_code == 409


def test_deactivate_and_reactivate(app, admin_client):
    moderator_id = add_moderator(app, "mod@example.com", sites=["north"])
    session = login(app, "mod@example.com")
    response = admin_client.post(
        f"/mod/admin/moderators/{moderator_id}/active",
        data={"active": "0", "confirm": "yes"},
    )
    assert response.status_code == 303
    assert not _moderator(app, "mod@example.com").active
    assert session.get("/mod/").status_code == 302  # logged out everywhere
    refused = app.test_client().post(
        "/mod/login", data={"email": "mod@example.com", "password": PASSWORD}
    )
    assert refused.status_code == 401
    admin_client.post(
        f"/mod/admin/moderators/{moderator_id}/active", data={"active": "1"}
    )
    login(app, "mod@example.com")
    entries = _audit(app, "moderator.active")
    assert [(e.before, e.after) for e in entries] == [
        ({"active": True}, {"active": False}),
        ({"active": False}, {"active": True}),
    ]


def test_unknown_moderator_is_404(admin_client):
    assert admin_client.get("/mod/admin/moderators/999").status_code == 404
    response = admin_client.post("/mod/admin/moderators/999", data={"role": "admin"})
    assert response.status_code == 404


# API tokens -------------------------------------------------------------------------


def test_token_is_shown_once_and_only_its_hash_is_kept(app, admin_client):
    moderator_id = add_moderator(app, "bot@example.com", sites=["north"])
    response = admin_client.post(
        f"/mod/admin/moderators/{moderator_id}/tokens", data={"name": "triage"}
    )
    assert response.status_code == 201
    token = SECRET.search(response.text).group(1)
    assert re.fullmatch(r"mod_[A-Za-z0-9_-]{43}", token)
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken))
        assert row.token_hash == token_hash(token)
        assert row.prefix == token[:12]
        assert row.name == "triage"
        assert row.moderator_id == moderator_id
    page = admin_client.get(f"/mod/admin/moderators/{moderator_id}").text
    assert token not in page
    assert token[:12] in page
    (entry,) = _audit(app, "token.created")
    assert token not in str(entry.after)


def test_token_page_says_once_that_the_token_is_shown_once(app, admin_client):
    moderator_id = add_moderator(app, "bot@example.com", sites=["north"])
    response = admin_client.post(
        f"/mod/admin/moderators/{moderator_id}/tokens", data={"name": "triage"}
    )
    assert response.status_code == 201
    text = response.text.lower()
    warnings = ("shown once", "not shown again", "shown only this once")
    assert sum(text.count(phrase) for phrase in warnings) == 1


def test_revoking_a_token_is_audited_and_final(app, admin_client):
    moderator_id = add_moderator(app, "bot@example.com", sites=["north"])
    admin_client.post(f"/mod/admin/moderators/{moderator_id}/tokens", data={})
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
    response = admin_client.post(f"/mod/admin/tokens/{token_id}/revoke", data=CONFIRM)
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is not None
    (entry,) = _audit(app, "token.revoked")
    assert entry.actor == "admin@example.com"
    assert (
        admin_client.post(
            f"/mod/admin/tokens/{token_id}/revoke", data=CONFIRM
        ).status_code
        == 409
    )
    assert (
        admin_client.post("/mod/admin/tokens/999/revoke", data=CONFIRM).status_code
        == 404
    )


def test_no_tokens_for_deactivated_moderators(app, admin_client):
    moderator_id = add_moderator(app, "bot@example.com", sites=["north"])
    admin_client.post(
        f"/mod/admin/moderators/{moderator_id}/active",
        data={"active": "0", "confirm": "yes"},
    )
    response = admin_client.post(f"/mod/admin/moderators/{moderator_id}/tokens")
    assert response.status_code == 409


# The CLI ---------------------------------------------------------------------------


def test_cli_creates_an_admin_from_stdin(app, sites):
    result = app.test_cli_runner().invoke(
        args=[*CREATE, "Boss@Example.com", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    boss = _moderator(app, "boss@example.com")
    assert boss.is_admin
    login(app, "boss@example.com", PASSWORD)
    (entry,) = _audit(app, "moderator.created")
    assert entry.actor == "cli"


def test_cli_creates_a_site_moderator_after_a_prompt(app, sites):
    runner = app.test_cli_runner()
    options = ["--site", "north", "--site", "south", "--name", "Em"]
    result = runner.invoke(
        args=[*CREATE, "m@example.com", *options],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    created = _moderator(app, "m@example.com")
    assert created.site_slugs == ["north", "south"]
    assert created.name == "Em" and not created.is_admin
    # Again: the role changes (audited), the password is reset.
    result = runner.invoke(
        args=[*CREATE, "m@example.com", "--role", "admin", "--password-stdin"],
        input="a brand new long password\n",
    )
    assert result.exit_code == 0, result.output
    assert _moderator(app, "m@example.com").is_admin
    assert [e.actor for e in _audit(app, "moderator.role")] == ["cli"]
    login(app, "m@example.com", "a brand new long password")


BAD_CLI_INPUT = [
    (["nope", "--password-stdin"], PASSWORD, "email"),
    (
        ["a@example.com", "--site", "nowhere", "--password-stdin"],
        PASSWORD,
        "nowhere",
    ),
    (["a@example.com", "--password-stdin"], "short", "at least 12"),
    (["a@example.com", "--role", "owner", "--password-stdin"], PASSWORD, "owner"),
]


def test_cli_refuses_bad_input(app, sites):
    runner = app.test_cli_runner()
    for args, stdin, message in BAD_CLI_INPUT:
        result = runner.invoke(args=[*CREATE, *args], input=stdin + "\n")
        assert result.exit_code == 2, args
        assert message in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Moderator.id))) == 0


def test_cli_keeps_the_last_admin(app, sites):
    add_moderator(app, "only@example.com", Role.ADMIN)
    result = app.test_cli_runner().invoke(
        args=[*CREATE, "only@example.com", "--role", "moderator", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 1
    assert "last active admin" in result.output
    assert _moderator(app, "only@example.com").is_admin


def test_cli_makes_an_api_token_printed_once(app, sites):
    add_moderator(app, "bot@example.com", sites=["north"])
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-api-token", "bot@example.com", "--name", "nightly"]
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("mod_")
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken))
        assert row.token_hash == token_hash(token) and row.name == "nightly"
    assert runner.invoke(args=["create-api-token", "who@example.com"]).exit_code == 2


def test_demo_moderator_is_an_admin(app, demo):
    assert _moderator(app, "moderator@example.com").is_admin


@pytest.mark.skipif(
    not os.environ.get("MODERATION_TEST_DATABASE_URL"),
    reason="row locks: PostgreSQL only (SQLite runs one writer at a time)",
)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, sites):
    ids = [
        add_moderator(app, "one@example.com", Role.ADMIN),
        add_moderator(app, "two@example.com", Role.ADMIN),
    ]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(target: int, actor: int) -> None:
        with app.app_context():
            moderator = db.session.get(Moderator, target)
            by = db.session.get(Moderator, actor)
            barrier.wait()
            try:
                set_role(moderator, Role.MODERATOR, by=by)
                outcomes.append("demoted")
            except InvalidTransition:
                db.session.rollback()
                outcomes.append("refused")

    threads = [
        threading.Thread(target=demote, args=(ids[0], ids[1])),
        threading.Thread(target=demote, args=(ids[1], ids[0])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["demoted", "refused"]
    with app.app_context():
        admins = db.session.scalars(sa.select(Moderator).filter_by(role=Role.ADMIN))
        assert len(admins.all()) == 1
