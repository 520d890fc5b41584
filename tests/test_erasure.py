"""A reader's data: exported and erased on request, gone when they delete a comment."""

from __future__ import annotations

import html
import json
import re

import pytest
import sqlalchemy as sa
from support import BROWSER_POST

from moderation.extensions import db
from moderation.models import AuditEntry, Comment, CommentStatus, Handle, Site, Thread

from helpers import post_from_iframe


def _posted(client, demo, body: str, handle="Ada", email="ada@example.org"):
    response = post_from_iframe(
        client, demo.embed, handle=handle, body=body, email=email
    )
    assert response.status_code == 201, response.text
    receipt = re.search(r'data-receipt="([^"]+)"', response.text)
    comment_id = re.search(r'data-comment-id="(\d+)"', response.text)
    return int(comment_id.group(1)), html.unescape(receipt.group(1))


def _row(app, comment_id: int) -> Comment:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        db.session.expunge(comment)
        return comment


def _audit_texts(app, comment_id: int) -> str:
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.target_id == str(comment_id))
        )
        return json.dumps([[e.before, e.after] for e in entries])


def _edit(client, demo, comment_id, receipt, body):
    return client.post(
        f"{demo.embed}/comments/{comment_id}/edit",
        data={"receipt": receipt, "body": body},
        headers=BROWSER_POST,
    )


def test_a_readers_own_delete_removes_the_text_and_email_everywhere(client, demo, app):
    comment_id, receipt = _posted(client, demo, "First words, to regret.")
    assert _edit(client, demo, comment_id, receipt, "Second words.").status_code == 200
    assert "First words" in _audit_texts(app, comment_id)  # the edit kept the old
    client.post(
        f"{demo.embed}/comments/{comment_id}/delete",
        data={"receipt": receipt, "confirm": "yes"},
        headers=BROWSER_POST,
    )
    row = _row(app, comment_id)
    assert row.status is CommentStatus.DELETED
    assert row.body == "[removed]" and row.email is None
    texts = _audit_texts(app, comment_id)
    assert "First words" not in texts and "Second words" not in texts


def _settings(app, **values) -> None:
    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
        for name, value in values.items():
            setattr(site, name, value)
        db.session.commit()


def test_export_gives_every_comment_of_the_reader(client, demo, app):
    first, receipt = _posted(client, demo, "One.")
    second, _ = _posted(client, demo, "Two.", handle="Ada L.")
    _posted(client, demo, "Someone else.", handle="Bo", email="bo@example.org")
    runner = app.test_cli_runner()
    by_email = runner.invoke(args=["export-reader", "--email", "ADA@example.org"])
    assert by_email.exit_code == 0, by_email.output
    exported = json.loads(by_email.output)["comments"]
    assert [c["id"] for c in exported] == [first, second]
    assert {c["body"] for c in exported} == {"One.", "Two."}
    by_receipt = runner.invoke(args=["export-reader", "--receipt", receipt])
    assert [c["id"] for c in json.loads(by_receipt.output)["comments"]] == [
        first,
        second,
    ]


def test_erasure_redacts_in_place_and_scrubs_the_audit(client, demo, app, moderator):
    comment_id, receipt = _posted(client, demo, "Please forget this one.")
    _edit(client, demo, comment_id, receipt, "Please forget this one, edited.")
    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
        db.session.add(Handle(site_id=site.id, handle="ada", premoderate=True))
        db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["erase-reader", "--email", "ada@example.org", "--remove-handle", "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert "1 redacted, 0 deleted" in result.output
    row = _row(app, comment_id)
    assert row.status is CommentStatus.PUBLISHED  # in place: replies keep context
    assert (row.body, row.handle, row.email, row.network_key) == (
        "[removed]",
        "[removed]",
        None,
        None,
    )
    assert "forget this" not in _audit_texts(app, comment_id)
    page = client.get(demo.embed).text
    assert "forget this" not in page and "[removed]" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Handle)) == 0
        erased = db.session.scalars(
            sa.select(AuditEntry).filter_by(action="reader.erased")
        ).one()
        assert erased.actor == "cli" and "ada" not in json.dumps(erased.after)


def test_erasure_deletes_when_the_site_says_so(client, demo, app):
    comment_id, _ = _posted(client, demo, "Delete me entirely.")
    _settings(app, erasure_mode="delete")
    result = app.test_cli_runner().invoke(
        args=["erase-reader", "--handle", "ADA", "--site", "demo", "--yes"]
    )
    assert result.exit_code == 0, result.output
    row = _row(app, comment_id)
    assert row.status is CommentStatus.DELETED and row.body == "[removed]"
    assert row.handle == "Ada"  # not asked to remove it
    assert "Delete me" not in client.get(demo.embed).text


def test_erasure_needs_a_reader(app):
    result = app.test_cli_runner().invoke(args=["erase-reader", "--yes"])
    assert result.exit_code != 0 and "--email" in result.output


@pytest.mark.parametrize("mode", ["redact", "delete"])
def test_the_erasure_mode_is_a_site_setting(app, moderator_client, demo, mode):
    from moderation.services.sites import form_values, parse_settings

    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
        values = form_values(site)
        values["erasure_mode"] = mode
        assert parse_settings(site, values)["erasure_mode"] == mode
        values["erasure_mode"] = "shred"
        with pytest.raises(Exception, match="need fixing"):
            parse_settings(site, values)
        assert db.session.scalar(sa.select(Thread).limit(1)) is not None


def test_an_admin_exports_then_erases_from_the_admin_page(client, demo, app):
    from moderation.models import Role

    from staff_helpers import add_moderator, login

    comment_id, _ = _posted(client, demo, "Admin, please erase me.")
    add_moderator(app, "boss@example.com", role=Role.ADMIN)
    admin = login(app, "boss@example.com")
    fields = {"email": "ada@example.org", "site": "demo"}
    exported = admin.post("/mod/admin/readers", data={**fields, "action": "export"})
    assert exported.status_code == 200
    assert exported.mimetype == "application/json"
    assert exported.get_json()["comments"][0]["body"] == "Admin, please erase me."
    asked = admin.post("/mod/admin/readers", data={**fields, "action": "erase"})
    assert "Yes, erase 1 comment" in asked.text
    assert _row(app, comment_id).body == "Admin, please erase me."  # not yet
    done = admin.post(
        "/mod/admin/readers", data={**fields, "action": "erase", "confirm": "yes"}
    )
    assert done.status_code == 303
    assert _row(app, comment_id).body == "[removed]"
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditEntry).filter_by(action="reader.erased")
        ).one()
        assert entry.actor == "boss@example.com"


def test_moderators_who_are_not_admins_cannot_open_it(app, demo):
    from staff_helpers import add_moderator, login

    add_moderator(app, "mod2@example.com", sites=["demo"])
    assert login(app, "mod2@example.com").get("/mod/admin/readers").status_code == 403
