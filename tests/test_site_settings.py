"""Threads and sites: close, reopen, pre-moderate; settings validated and audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from support import MODERATOR_PASSWORD

from moderation.extensions import db
from moderation.models import AuditEntry, Moderator, Role, Site, Thread


@pytest.fixture
def admin_client(app, demo):
    """A client logged in as an admin (CSRF off for brevity)."""
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        admin = Moderator(email="admin@example.com", name="Admin", role=Role.ADMIN)
        admin.set_password(MODERATOR_PASSWORD)
        db.session.add(admin)
        db.session.commit()
    client = app.test_client()
    response = client.post(
        "/mod/login",
        data={"email": "admin@example.com", "password": MODERATOR_PASSWORD},
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def site_moderator_client(app, demo, moderator, moderator_client):
    with app.app_context():
        row = db.session.get(Moderator, moderator)
        row.sites.append(_demo())
        db.session.commit()
    return moderator_client


def _demo() -> Site:
    return db.session.scalar(sa.select(Site).filter_by(slug="demo"))


def _thread(app, thread_id) -> tuple[bool, bool, int]:
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        return thread.is_open, thread.premoderate, thread.revision


def _audit(app, action):
    with app.app_context():
        return db.session.scalars(
            sa.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)
        ).all()


def test_closing_a_thread_shows_readers_comments_are_closed(
    app, client, demo, site_moderator_client
):
    _, _, revision = _thread(app, demo.id)
    closed = site_moderator_client.post(
        f"/mod/manage/threads/{demo.id}/close", data={"reason": "legal"}
    )
    assert closed.status_code == 303
    is_open, _, after = _thread(app, demo.id)
    assert not is_open and after > revision
    assert "Comments are closed" in client.get(demo.embed).text
    refused = client.post(demo.api, json={"handle": "Late", "body": "Too late."})
    assert refused.status_code == 409
    (entry,) = _audit(app, "thread.closed")
    assert entry.before["is_open"] is True and entry.after["is_open"] is False
    assert entry.reason == "legal"
    reopened = site_moderator_client.post(f"/mod/manage/threads/{demo.id}/reopen")
    assert reopened.status_code == 303
    assert _thread(app, demo.id)[0]
    assert (
        client.post(demo.api, json={"handle": "On", "body": "Back."}).status_code == 201
    )


def test_premoderated_thread_holds_clean_comments_until_switched_off(
    app, client, demo, site_moderator_client
):
    site_moderator_client.post(f"/mod/manage/threads/{demo.id}/premoderate")
    held = client.post(demo.api, json={"handle": "A", "body": "Clean."})
    assert held.json["status"] == "held"
    site_moderator_client.post(
        f"/mod/manage/threads/{demo.id}/postmoderate", data={"confirm": "yes"}
    )
    assert client.post(demo.api, json={"handle": "B", "body": "Ok."}).status_code == 201
    assert [e.action for e in _audit(app, "thread.premoderate")] == [
        "thread.premoderate"
    ]
    assert len(_audit(app, "thread.postmoderate")) == 1


def test_threads_page_lists_threads_with_buttons(app, demo, site_moderator_client):
    page = site_moderator_client.get("/mod/manage/sites/demo/threads")
    assert page.status_code == 200
    assert f"/mod/manage/threads/{demo.id}/close" in page.text
    assert "demo" in site_moderator_client.get("/mod/manage/sites").text


def test_moderators_act_only_on_threads_of_their_sites(
    app, demo, moderator, moderator_client
):
    response = moderator_client.post(f"/mod/manage/threads/{demo.id}/close")
    assert response.status_code == 403
    assert _thread(app, demo.id)[0]
    assert moderator_client.get("/mod/manage/sites/demo/threads").status_code == 403
    assert (
        moderator_client.post(f"/mod/manage/threads/{demo.id}/explode").status_code
        == 404
    )


def test_only_admins_edit_site_settings(app, demo, site_moderator_client):
    assert (
        site_moderator_client.get("/mod/manage/sites/demo/settings").status_code == 403
    )
    response = site_moderator_client.post(
        "/mod/manage/sites/demo/settings", data=_valid_form()
    )
    assert response.status_code == 403


def _valid_form(**changes: str) -> dict[str, str]:
    form = {
        "allowed_origins": "http://localhost",
        "timezone": "UTC",
        "hold_toxicity": "0.5",
        "reject_threshold": "",
        "banned_words": "",
        "suspect_words": "",
        "link_limit": "1",
        "report_threshold": "3",
        "trust_after": "5",
        "edit_window_minutes": "15",
        "surge_window_minutes": "10",
        "surge_max_comments": "200",
        "surge_held_rate": "0.6",
    }
    form.update(changes)
    return form


def test_admin_edits_settings_audited_before_and_after(app, demo, admin_client):
    page = admin_client.get("/mod/manage/sites/demo/settings")
    assert page.status_code == 200 and "Allowed origins" in page.text
    with app.app_context():
        revision = _demo().revision
    response = admin_client.post(
        "/mod/manage/sites/demo/settings",
        data=_valid_form(
            allowed_origins="https://news.example.com\nhttp://localhost:8000/",
            timezone="Europe/Paris",
            hold_toxicity="0.7",
            reject_threshold="0.95",
            banned_words="scam\n\n  buy   now \nSCAM",
            suspect_words="crypto",
            trust_after="3",
            premoderate="y",
            reason="launch",
        ),
    )
    assert response.status_code == 303, response.text
    with app.app_context():
        site = _demo()
        assert site.allowed_origins == [
            "https://news.example.com",
            "http://localhost:8000",
        ]
        assert site.timezone == "Europe/Paris" and site.revision > revision
        assert site.hold_thresholds == {"toxicity": 0.7}
        assert site.reject_threshold == 0.95
        assert site.banned_words == ["scam", "buy now"]
        assert site.suspect_words == ["crypto"] and site.premoderate
        assert site.trust_after == 3
    (entry,) = _audit(app, "site.settings")
    assert entry.reason == "launch"
    assert entry.before["timezone"] == "America/New_York"
    assert entry.after["timezone"] == "Europe/Paris"
    assert entry.before["trust_after"] == 5 and entry.after["trust_after"] == 3
    assert "surge_max_comments" not in entry.after  # only what changed
    # Saving the same values again changes nothing and audits nothing.
    admin_client.post(
        "/mod/manage/sites/demo/settings",
        data=_valid_form(
            allowed_origins="https://news.example.com\nhttp://localhost:8000",
            timezone="Europe/Paris",
            hold_toxicity="0.7",
            reject_threshold="0.95",
            banned_words="scam\nbuy now",
            suspect_words="crypto",
            trust_after="3",
            premoderate="y",
        ),
    )
    assert len(_audit(app, "site.settings")) == 1


BAD_SETTINGS = [
    ("allowed_origins", "news.example.com"),
    ("allowed_origins", "https://news.example.com/path"),
    ("allowed_origins", "ftp://news.example.com"),
    ("allowed_origins", "https://*.example.com"),
    ("allowed_origins", "https://user@example.com"),
    ("allowed_origins", "https://example.com:99999"),
    ("timezone", "Mars/Olympus"),
    ("timezone", "../../etc/passwd"),
    ("timezone", ""),
    ("hold_toxicity", "1.5"),
    ("hold_toxicity", "nan"),
    ("hold_insult", "high"),
    ("reject_threshold", "-0.1"),
    ("link_limit", "-1"),
    ("link_limit", "two"),
    ("trust_after", "3.5"),
    ("surge_max_comments", "0"),
    ("surge_held_rate", "2"),
    ("banned_words", "!!!"),
    ("suspect_words", "x" * 101),
]


def test_bad_settings_are_refused_with_400_and_nothing_changes(app, demo, admin_client):
    # One app for every case: each request must fail on its own field alone.
    for field, value in BAD_SETTINGS:
        response = admin_client.post(
            "/mod/manage/sites/demo/settings", data=_valid_form(**{field: value})
        )
        assert response.status_code == 400, (field, value)
        assert 'aria-invalid="true"' in response.text
        assert f'id="{field}-error"' in response.text, (field, value)
        assert response.text.count('class="error"') == 1, (field, value)
    assert _audit(app, "site.settings") == []
    with app.app_context():
        assert _demo().timezone == "America/New_York"


def test_settings_form_is_csrf_protected(app, demo, admin_client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = admin_client.post("/mod/manage/sites/demo/settings", data=_valid_form())
    assert response.status_code == 400
    assert _audit(app, "site.settings") == []
