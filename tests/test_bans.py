"""Bans (handle, email, network) and handle standing: enforced, scoped, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from support import MODERATOR_PASSWORD

from moderation.errors import Forbidden
from moderation.extensions import db
from moderation.models import (
    AuditEntry,
    Ban,
    BanKind,
    Comment,
    CommentStatus,
    Moderator,
    Role,
    Site,
    Trust,
    utcnow,
)
from moderation.screening.base import Action, Draft, Policy
from moderation.screening.pipeline import judge
from moderation.services import bans
from moderation.services.comments import decide
from moderation.services.worker import run

from helpers import post_from_iframe


def _works(app, moderator_id: int, slug: str = "demo") -> None:
    with app.app_context():
        moderator = db.session.get(Moderator, moderator_id)
        moderator.sites.append(db.session.scalar(sa.select(Site).filter_by(slug=slug)))
        db.session.commit()


def _site(slug: str = "demo") -> Site:
    return db.session.scalar(sa.select(Site).filter_by(slug=slug))


def _other_site(app) -> int:
    with app.app_context():
        site = Site(slug="other", name="Other news")
        db.session.add(site)
        db.session.commit()
        return site.id


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _ban(app, moderator_id, kind, value, *, slug="demo", duration=None):
    with app.app_context():
        moderator = db.session.get(Moderator, moderator_id)
        site = _site(slug) if slug else None
        return bans.ban(
            site, kind, value, moderator=moderator, reason="abuse", duration=duration
        ).id


@pytest.fixture
def site_moderator(app, demo, moderator) -> int:
    """The `moderator` fixture, working the demo site."""
    _works(app, moderator)
    return moderator


def test_handle_ban_refuses_iframe_post_clearly_and_stores_nothing(
    app, client, demo, site_moderator
):
    _ban(app, site_moderator, BanKind.HANDLE, "  Troll42 ", duration=timedelta(days=7))
    with app.app_context():
        before = _count(Comment)
    response = post_from_iframe(client, demo.embed, handle="TROLL42")
    assert response.status_code == 403
    assert "You can&#39;t comment here until" in response.text
    # The refusal is shown inside the publisher's frame.
    assert "frame-ancestors" in response.headers["Content-Security-Policy"]
    with app.app_context():
        assert _count(Comment) == before


def test_email_ban_refuses_api_post_with_json_error(app, client, demo, site_moderator):
    _ban(app, site_moderator, BanKind.EMAIL, "Spam@Example.com")
    with app.app_context():
        before = _count(Comment)
    response = client.post(
        demo.api,
        json={"handle": "Fresh", "body": "Hello there.", "email": "spam@example.COM"},
    )
    assert response.status_code == 403
    assert response.json == {
        "error": "banned",
        "message": "You can't comment here permanently.",
    }
    with app.app_context():
        assert _count(Comment) == before


def test_new_comments_store_a_network_key_not_an_address(app, client, demo):
    response = client.post(demo.api, json={"handle": "Kim", "body": "Fine piece."})
    assert response.status_code == 201
    with app.app_context():
        key = db.session.get(Comment, response.json["id"]).network_key
    assert key and key.startswith("net:") and "127.0.0.1" not in key


def test_network_ban_from_a_comment_refuses_other_handles(
    app, demo, site_moderator, moderator_client
):
    first = moderator_client.post(demo.api, json={"handle": "A", "body": "First."})
    comment_id = first.json["id"]
    form = moderator_client.get(f"/mod/people/bans/new?comment_id={comment_id}")
    assert form.status_code == 200
    assert "This comment&#39;s network" in form.text
    with app.app_context():
        key = db.session.get(Comment, comment_id).network_key
    assert key not in form.text  # a moderator never sees the key
    made = moderator_client.post(
        "/mod/people/bans/new",
        data={
            "comment_id": comment_id,
            "kind": "network",
            "site": _site_id(app),
            "duration": "1d",
            "reason": "sock puppets",
            "confirm": "yes",
        },
    )
    assert made.status_code == 303, made.text
    with app.app_context():
        ban = db.session.scalar(sa.select(Ban))
        assert (ban.kind, ban.value) == (BanKind.NETWORK, key)
        assert ban.expires_at - ban.created_at == timedelta(days=1)
    refused = moderator_client.post(
        demo.api, json={"handle": "Someone else", "body": "Second."}
    )
    assert refused.status_code == 403
    assert refused.json["message"].startswith("You can't comment here until ")


def _site_id(app, slug="demo") -> int:
    with app.app_context():
        return _site(slug).id


def test_expired_and_lifted_bans_do_not_refuse(app, client, demo, site_moderator):
    expired = _ban(app, site_moderator, BanKind.HANDLE, "Old", duration=timedelta(1))
    lifted = _ban(app, site_moderator, BanKind.HANDLE, "Forgiven")
    with app.app_context():
        db.session.get(Ban, expired).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        bans.lift_ban(
            db.session.get(Ban, lifted),
            moderator=db.session.get(Moderator, site_moderator),
            reason="appeal",
        )
    for handle in ("Old", "Forgiven"):
        response = client.post(
            demo.api, json={"handle": handle, "body": f"I'm {handle}"}
        )
        assert response.status_code == 201, response.json


def test_bans_and_lifts_are_audited_before_and_after(
    app, demo, site_moderator, moderator_client
):
    ban_id = _ban(app, site_moderator, BanKind.HANDLE, "Troll", duration=timedelta(7))
    listing = moderator_client.get("/mod/people/bans")
    assert "troll" in listing.text and "Lift" in listing.text
    lifted = moderator_client.post(
        f"/mod/people/bans/{ban_id}/lift", data={"reason": "appeal", "confirm": "yes"}
    )
    assert lifted.status_code == 303
    with app.app_context():
        made, lift = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.target_type == "ban")
            .order_by(AuditEntry.id)
        ).all()
        assert made.action == "ban.created" and made.before is None
        assert made.after["value"] == "troll" and made.after["lifted_at"] is None
        assert lift.action == "ban.lifted" and lift.reason == "appeal"
        assert lift.before["lifted_at"] is None and lift.after["lifted_at"]
        assert lift.moderator_id == site_moderator
    again = moderator_client.post(f"/mod/people/bans/{ban_id}/lift", data={})
    assert again.status_code == 303  # told it is lifted already, not a 500


def test_a_ban_on_another_site_does_not_refuse_here(app, client, demo, moderator):
    other = _other_site(app)
    with app.app_context():
        admin = Moderator(email="admin@example.com", name="Admin", role=Role.ADMIN)
        admin.set_password(MODERATOR_PASSWORD)
        db.session.add(admin)
        db.session.commit()
        bans.ban(
            db.session.get(Site, other),
            BanKind.HANDLE,
            "Roamer",
            moderator=admin,
            reason="elsewhere",
            duration=None,
        )
    response = client.post(demo.api, json={"handle": "Roamer", "body": "Hi."})
    assert response.status_code == 201
    with app.app_context():
        admin = db.session.scalar(sa.select(Moderator).filter_by(role=Role.ADMIN))
        bans.ban(
            None, BanKind.HANDLE, "Roamer", moderator=admin, reason="", duration=None
        )
    response = client.post(demo.api, json={"handle": "Roamer", "body": "Again."})
    assert response.status_code == 403  # a ban on every site reaches this one


def test_moderators_ban_only_on_their_sites(app, demo, moderator, moderator_client):
    posted = moderator_client.post(demo.api, json={"handle": "X", "body": "Text."})
    # The moderator works no site yet: the demo comment is not theirs to act on.
    form = moderator_client.get(f"/mod/people/bans/new?comment_id={posted.json['id']}")
    assert form.status_code == 403
    with app.app_context(), pytest.raises(Forbidden):
        bans.ban(
            _site(),
            BanKind.HANDLE,
            "x",
            moderator=db.session.get(Moderator, moderator),
            reason="",
            duration=None,
        )
    _works(app, moderator)
    # Every-site bans are for admins only.
    with app.app_context(), pytest.raises(Forbidden):
        bans.ban(
            None,
            BanKind.HANDLE,
            "x",
            moderator=db.session.get(Moderator, moderator),
            reason="",
            duration=None,
        )
    refused = moderator_client.post(
        "/mod/people/bans/new",
        data={
            "kind": "handle",
            "value": "x",
            "site": "all",
            "duration": "1d",
            "reason": "r",
        },
    )
    assert refused.status_code == 400  # "every site" is not among their choices


def test_ban_form_rejects_bad_input_with_400(
    app, demo, site_moderator, moderator_client
):
    site_id = _site_id(app)
    for data in (
        {
            "kind": "handle",
            "value": "",
            "site": site_id,
            "duration": "1d",
            "reason": "r",
        },
        {
            "kind": "handle",
            "value": "x",
            "site": site_id,
            "duration": "9y",
            "reason": "r",
        },
        {
            "kind": "network",
            "value": "x",
            "site": site_id,
            "duration": "1d",
            "reason": "r",
        },
        {
            "kind": "handle",
            "value": "x",
            "site": site_id,
            "duration": "1d",
            "reason": "",
        },
    ):
        response = moderator_client.post("/mod/people/bans/new", data=data)
        assert response.status_code == 400, data
    assert (
        moderator_client.get("/mod/people/bans/new?comment_id=abc").status_code == 422
    )
    with app.app_context():
        assert _count(Ban) == 0


# Handles ---------------------------------------------------------------------


def _set_handle(app, moderator_id, handle, **values):
    with app.app_context():
        bans.set_handle(
            _site(),
            handle,
            moderator=db.session.get(Moderator, moderator_id),
            premoderate=values.get("premoderate", False),
            trust=values.get("trust", Trust.AUTO),
        )


def _premoderate_site(app, trust_after=5):
    with app.app_context():
        site = _site()
        site.premoderate = True
        site.trust_after = trust_after
        db.session.commit()


def test_premoderated_handle_is_held_even_when_clean(app, client, demo, site_moderator):
    _set_handle(app, site_moderator, "Watched", premoderate=True)
    held = client.post(demo.api, json={"handle": "WATCHED", "body": "Clean words."})
    assert held.status_code == 202 and held.json["status"] == "held"
    other = client.post(demo.api, json={"handle": "Free", "body": "Clean words too."})
    assert other.status_code == 201
    with app.app_context():
        reasons = [d.reason for d in db.session.get(Comment, held.json["id"]).decisions]
    assert reasons == ["pre-moderated handle: every comment is reviewed"]


def _regular(client, demo) -> None:
    """A published comment by "Regular" from the test client's network."""
    first = client.post(demo.api, json={"handle": "Regular", "body": "Hello all."})
    assert first.status_code == 201


def test_trusted_handle_skips_site_premoderation(app, client, demo, site_moderator):
    _regular(client, demo)
    _premoderate_site(app)
    _set_handle(app, site_moderator, "Regular", trust=Trust.TRUSTED)
    trusted = client.post(demo.api, json={"handle": "Regular", "body": "Nice."})
    assert trusted.status_code == 201
    stranger = client.post(demo.api, json={"handle": "New", "body": "Nice too."})
    assert stranger.json["status"] == "held"


def test_trusted_handle_is_still_held_when_its_comment_is_not_clean(
    app, client, classifier, demo, site_moderator
):
    _regular(client, demo)
    _premoderate_site(app)
    _set_handle(app, site_moderator, "Regular", trust=Trust.TRUSTED)
    classifier.by_text["You fool."] = {"toxicity": 0.9}
    response = client.post(demo.api, json={"handle": "Regular", "body": "You fool."})
    assert response.json["status"] == "held"


def test_auto_trust_after_enough_approved_comments(app, client, demo, site_moderator):
    _premoderate_site(app, trust_after=2)
    ids = []
    for n in range(2):
        response = client.post(
            demo.api, json={"handle": "Newbie", "body": f"Point {n}."}
        )
        assert response.json["status"] == "held"
        ids.append(response.json["id"])
    with app.app_context():
        moderator = db.session.get(Moderator, site_moderator)
        for comment_id in ids:
            decide(
                db.session.get(Comment, comment_id), moderator, CommentStatus.PUBLISHED
            )
        assert bans.standing(_site(), "Newbie").trusted
        # Counted by the handle's key: every spelling shares the count...
        assert bans.standing(_site(), "NEWBIE").trusted
        # ...but only the reader who wrote them is trusted by it.
        stranger = bans.Poster("net:elsewhere", "someone@example.com")
        assert not bans.standing(_site(), "Newbie", stranger).trusted
    third = client.post(demo.api, json={"handle": "Newbie", "body": "Point 3."})
    assert third.status_code == 201
    # Untrusted: never trusted by count, however many are approved.
    _set_handle(app, site_moderator, "Newbie", trust=Trust.UNTRUSTED)
    fourth = client.post(demo.api, json={"handle": "Newbie", "body": "Point 4."})
    assert fourth.json["status"] == "held"


def test_handle_page_shows_standing_and_saves_it_audited(
    app, client, demo, site_moderator, moderator_client
):
    client.post(demo.api, json={"handle": "Pat", "body": "Pat's view."})
    page = moderator_client.get("/mod/people/handles/demo/Pat")
    assert page.status_code == 200
    assert "Pat&#39;s view." in page.text
    saved = moderator_client.post(
        "/mod/people/handles/demo/Pat",
        data={"premoderate": "y", "trust": "untrusted", "reason": "watch"},
    )
    assert saved.status_code == 303
    bad = moderator_client.post("/mod/people/handles/demo/Pat", data={"trust": "royal"})
    assert bad.status_code == 400
    with app.app_context():
        row = bans.get_handle(_site(), "PAT")
        assert row.premoderate and row.trust is Trust.UNTRUSTED
        entry = db.session.scalar(
            sa.select(AuditEntry).filter_by(action="handle.standing")
        )
        assert entry.before == {"premoderate": False, "trust": "auto"}
        assert entry.after == {"premoderate": True, "trust": "untrusted"}
    # And back: all reversible.
    moderator_client.post("/mod/people/handles/demo/Pat", data={"trust": "auto"})
    with app.app_context():
        row = bans.get_handle(_site(), "pat")
        assert not row.premoderate and row.trust is Trust.AUTO


def test_handle_page_of_a_site_not_moderated_is_forbidden(
    app, demo, moderator, moderator_client
):
    assert moderator_client.get("/mod/people/handles/demo/Pat").status_code == 403
    response = moderator_client.post(
        "/mod/people/handles/demo/Pat", data={"trust": "trusted"}
    )
    assert response.status_code == 403


def test_a_typed_handle_ban_from_the_form(app, client, demo, site_moderator):
    app.config["WTF_CSRF_ENABLED"] = False
    moderator_client = app.test_client()
    moderator_client.post(
        "/mod/login", data={"email": "mod@example.com", "password": MODERATOR_PASSWORD}
    )
    page = moderator_client.get("/mod/people/bans/new")
    assert page.status_code == 200 and 'name="value"' in page.text
    assert "Every site" not in page.text  # a moderator's choices: their sites
    made = moderator_client.post(
        "/mod/people/bans/new",
        data={
            "kind": "handle",
            "value": " Shouty ",
            "site": _site_id(app),
            "duration": "permanent",
            "reason": "abuse",
            "confirm": "yes",
        },
    )
    assert made.status_code == 303
    listing = moderator_client.get("/mod/people/bans")
    assert "shouty" in listing.text and "permanent" in listing.text
    refused = client.post(demo.api, json={"handle": "SHOUTY", "body": "Hi."})
    assert refused.json["message"] == "You can't comment here permanently."


def test_a_draft_overrides_the_policy_only_for_clean_comments():
    premoderated = Policy(premoderate=True)
    trusted = Draft("Fine.", premoderate=False)
    assert judge([], {"toxicity": 0.0}, premoderated, trusted)[0] is Action.PUBLISH
    assert judge([], {"toxicity": 0.9}, premoderated, trusted)[0] is Action.HOLD
    watched = Draft("Fine.", premoderate=True, premoderate_reason="watched")
    assert judge([], {"toxicity": 0.0}, Policy(), watched) == (
        Action.HOLD,
        ("watched",),
    )
    assert judge([], {"toxicity": 0.0}, premoderated, Draft("x"))[0] is Action.HOLD


def test_one_worker_batch_sorts_handles_by_standing(make_app, app, demo, moderator):
    """Mixed standings in one batch: two queries for them, each comment its due."""
    _works(app, moderator)
    earlier = app.test_client().post(
        demo.api, json={"handle": "Trusted", "body": "Earlier words."}
    )
    assert earlier.status_code == 201
    _premoderate_site(app)
    _set_handle(app, moderator, "Trusted", trust=Trust.TRUSTED)
    external = make_app(IN_PROCESS_WORKER=False, VERDICT_WAIT=0.0)
    posting = external.test_client()
    ids = {}
    for handle in ("Trusted", "Stranger", "trusted"):
        response = posting.post(
            demo.api, json={"handle": handle, "body": f"Words {len(ids)}."}
        )
        assert response.json["status"] == "received"
        ids[handle] = response.json["id"]
    stats = run(external, batch_size=8, max_wait=0, lease=30, drain=True)
    assert stats.batches == 1
    with external.app_context():
        status = {h: db.session.get(Comment, i).status for h, i in ids.items()}
    assert status == {
        "Trusted": CommentStatus.PUBLISHED,
        "Stranger": CommentStatus.HELD,
        "trusted": CommentStatus.PUBLISHED,  # the setting is case-blind
    }


def test_ban_message_writes_the_end_as_the_thread_writes_its_times(
    app, client, demo, site_moderator
):
    """Not "12:22 EST": the site's zone, in the thread's own format."""
    from datetime import UTC, datetime

    from moderation.rendering import display_time

    ban_id = _ban(app, site_moderator, BanKind.HANDLE, "Troll", duration=timedelta(7))
    until = datetime(2030, 1, 15, 17, 22, tzinfo=UTC)  # 12:22 in New York
    with app.app_context():
        db.session.get(Ban, ban_id).expires_at = until
        db.session.commit()
        zone = _site().timezone
    refused = client.post(demo.api, json={"handle": "troll", "body": "Let me in."})
    assert refused.status_code == 403
    shown = display_time(until, zone)
    assert shown == "January 15, 2030 - 12:22 pm"
    assert refused.json["message"] == f"You can't comment here until {shown}."
    assert "EST" not in refused.json["message"]
    # In the reader's language, as the thread's times are.
    french = client.post(
        f"{demo.api}?lang=fr",
        json={"handle": "troll", "body": "Laissez-moi entrer."},
        headers={"Accept-Language": "fr-FR,fr;q=0.9"},
    )
    assert display_time(until, zone, "fr") in french.json["message"]
