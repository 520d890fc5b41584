"""Destructive actions ask first, without script: the first POST changes nothing
and shows what would happen; only the POST with confirm=yes acts, audited."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa
from flask import Flask

from moderation.extensions import db
from moderation.models import ApiToken, AuditEntry, Ban, BanKind, Moderator, Role, Site
from moderation.models import Thread as ThreadRow
from moderation.services import bans as ban_service

from staff_helpers import add_moderator, add_site, login

CONFIRM = {"confirm": "yes"}


@pytest.fixture
def admin_client(app: Flask):
    add_site(app, "north")
    add_moderator(app, "admin@example.com", Role.ADMIN)
    return login(app, "admin@example.com")


def _audit(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)
            )
        )


def _asks(response, *phrases: str) -> None:
    """A confirmation page: what will happen, a Confirm that posts, a Cancel link."""
    assert response.status_code == 200, response.text
    text = unescape(response.text)
    assert 'name="confirm" value="yes"' in response.text
    assert ">Cancel</a>" in response.text
    for phrase in phrases:
        assert phrase in text, phrase


def test_deactivating_a_moderator_asks_first(app, admin_client):
    moderator_id = add_moderator(app, "mod@example.com", sites=["north"])
    path = f"/mod/admin/moderators/{moderator_id}/active"
    asked = admin_client.post(path, data={"active": "0"})
    _asks(asked, "Deactivate mod@example.com?", "every session of theirs ends")
    assert f'action="{path}"' in asked.text
    assert 'name="active" value="0"' in asked.text
    with app.app_context():
        assert db.session.get(Moderator, moderator_id).active
    assert _audit(app, "moderator.active") == []

    done = admin_client.post(path, data={"active": "0", **CONFIRM})
    assert done.status_code == 303
    with app.app_context():
        assert not db.session.get(Moderator, moderator_id).active
    (entry,) = _audit(app, "moderator.active")
    assert entry.after == {"active": False} and entry.actor == "admin@example.com"
    # Reactivating is not destructive: no step.
    assert admin_client.post(path, data={"active": "1"}).status_code == 303


def test_revoking_a_token_asks_first(app, admin_client):
    moderator_id = add_moderator(app, "bot@example.com", sites=["north"])
    admin_client.post(
        f"/mod/admin/moderators/{moderator_id}/tokens", data={"name": "nightly"}
    )
    with app.app_context():
        token = db.session.scalar(sa.select(ApiToken))
        token_id, prefix = token.id, token.prefix
    path = f"/mod/admin/tokens/{token_id}/revoke"
    asked = admin_client.post(path)
    _asks(asked, f"Revoke API token {prefix}…?", "(nightly)", "bot@example.com")
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None
    assert _audit(app, "token.revoked") == []

    assert admin_client.post(path, data=CONFIRM).status_code == 303
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is not None
    assert len(_audit(app, "token.revoked")) == 1


def _north_id(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Site.id).filter_by(slug="north"))


def test_banning_from_the_form_asks_first(app, admin_client):
    data = {
        "kind": "handle",
        "value": "Troll42",
        "site": "all",
        "duration": "7d",
        "reason": "abuse",
    }
    asked = admin_client.post("/mod/people/bans/new", data=data)
    _asks(asked, "Ban the handle 'Troll42' on every site?", "for 7 days", "abuse")
    for name, value in data.items():
        assert f'name="{name}" value="{value}"' in asked.text  # kept for Confirm
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ban)) == 0
    assert _audit(app, "ban.created") == []

    done = admin_client.post("/mod/people/bans/new", data={**data, **CONFIRM})
    assert done.status_code == 303
    with app.app_context():
        ban = db.session.scalar(sa.select(Ban))
        assert (ban.site_id, ban.value) == (None, "troll42")
    assert len(_audit(app, "ban.created")) == 1


def test_a_bad_ban_is_refused_before_any_confirmation(app, admin_client):
    data = {"kind": "handle", "value": " ", "site": _north_id(app)}
    response = admin_client.post(
        "/mod/people/bans/new", data={**data, "duration": "7d", "reason": "r"}
    )
    assert response.status_code == 400
    assert 'name="confirm"' not in response.text


def test_lifting_a_ban_asks_first(app, admin_client):
    with app.app_context():
        admin = db.session.scalar(sa.select(Moderator))
        ban_id = ban_service.ban(
            None,
            BanKind.EMAIL,
            "spam@example.com",
            moderator=admin,
            reason="spam",
            duration=timedelta(days=30),
        ).id
    path = f"/mod/people/bans/{ban_id}/lift"
    asked = admin_client.post(path, data={"reason": "appeal", "next": "/mod/"})
    _asks(asked, f"Lift ban {ban_id}?", "every site", "'appeal'")
    assert 'name="next" value="/mod/"' in asked.text
    with app.app_context():
        assert db.session.get(Ban, ban_id).lifted_at is None
    assert _audit(app, "ban.lifted") == []

    done = admin_client.post(
        path, data={"reason": "appeal", "next": "/mod/", **CONFIRM}
    )
    assert done.status_code == 303 and done.headers["Location"].endswith("/mod/")
    (entry,) = _audit(app, "ban.lifted")
    assert entry.reason == "appeal"


def test_lifting_a_ban_one_may_not_lift_is_refused_before_asking(app, admin_client):
    with app.app_context():
        admin = db.session.scalar(sa.select(Moderator))
        ban_id = ban_service.ban(
            None,
            BanKind.HANDLE,
            "someone",
            moderator=admin,
            reason="r",
            duration=None,
        ).id
    add_moderator(app, "mod@example.com", sites=["north"])
    moderator = login(app, "mod@example.com")
    response = moderator.post(f"/mod/people/bans/{ban_id}/lift", data={})
    assert response.status_code == 403


def test_switching_a_threads_premoderation_off_asks_first(app, admin_client):
    with app.app_context():
        thread = db.session.scalar(sa.select(ThreadRow))
        thread_id = thread.id
    admin_client.post(f"/mod/manage/threads/{thread_id}/premoderate")
    path = f"/mod/manage/threads/{thread_id}/postmoderate"
    asked = admin_client.post(path, data={"reason": "calm now"})
    _asks(asked, "Stop pre-moderating north article?", "published at once")
    with app.app_context():
        assert db.session.get(ThreadRow, thread_id).premoderate
    assert _audit(app, "thread.postmoderate") == []

    done = admin_client.post(path, data={"reason": "calm now", **CONFIRM})
    assert done.status_code == 303
    with app.app_context():
        assert not db.session.get(ThreadRow, thread_id).premoderate
    (entry,) = _audit(app, "thread.postmoderate")
    assert entry.reason == "calm now"


def test_confirmation_page_keeps_the_csrf_check(app, admin_client):
    moderator_id = add_moderator(app, "mod@example.com", sites=["north"])
    app.config["WTF_CSRF_ENABLED"] = True
    response = admin_client.post(
        f"/mod/admin/moderators/{moderator_id}/active", data={"active": "0", **CONFIRM}
    )
    assert response.status_code == 400  # no token: refused, nothing changed
    with app.app_context():
        assert db.session.get(Moderator, moderator_id).active
