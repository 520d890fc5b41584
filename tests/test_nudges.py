"""The authorship nudge: a writer told once, before storing, that the screen would
hold their comment; the site setting; the dashboard's figures."""

from __future__ import annotations

import html
import logging
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from support import BROWSER_POST, MODERATOR_PASSWORD

from moderation.extensions import db
from moderation.models import (
    AuditEntry,
    Comment,
    CommentStatus,
    Moderator,
    Role,
    Site,
    Thread,
)
from moderation.screening.pipeline import Screener
from moderation.services import nudges

from helpers import post_from_iframe

TOXIC = {"toxicity": 0.93, "insult": 0.88, "threat": 0.02}
DRAFT = "You are all fools and you know it."
NUDGED = "This may break the site&#39;s guidelines"
_ACK = re.compile(r'name="nudge_ack" value="([^"]+)"')
CHECKED = re.compile(r'<input id="nudge"[^>]*\bchecked\b')


def _site(app, **fields) -> None:
    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
        for name, value in fields.items():
            setattr(site, name, value)
        db.session.commit()


def _comments(app) -> list[tuple[str, CommentStatus, str | None]]:
    with app.app_context():
        return [
            (c.body, c.status, c.nudge)
            for c in db.session.scalars(
                sa.select(Comment)
                .where(Comment.handle == "Writer")
                .order_by(Comment.id)
            )
        ]


def _ack(page: str) -> str:
    match = _ACK.search(page)
    assert match, "the nudged page carries no acknowledgement"
    return html.unescape(match.group(1))


def _post(client, path, body=DRAFT, ack=None, **fields):
    if ack is not None:
        fields["nudge_ack"] = ack
    return post_from_iframe(client, path, handle="Writer", body=body, **fields)


@pytest.fixture
def nudge_log(caplog, monkeypatch):
    """The nudge's log records (Alembic's logging setup disables older loggers)."""
    logger = logging.getLogger("moderation.services.nudges")
    monkeypatch.setattr(logger, "disabled", False)
    caplog.set_level(logging.INFO, logger=logger.name)
    return caplog


@pytest.fixture
def nudging(app, demo, classifier):
    """The demo site with the nudge on, and DRAFT scored as toxic."""
    _site(app, nudge=True)
    classifier.by_text[DRAFT] = dict(TOXIC)
    return demo


def test_site_without_the_nudge_stores_a_toxic_comment_at_once(
    app, client, demo, classifier
):
    classifier.by_text[DRAFT] = dict(TOXIC)
    response = _post(client, demo.embed)
    assert response.status_code == 202
    assert NUDGED not in response.text
    assert _comments(app) == [(DRAFT, CommentStatus.HELD, None)]


def test_toxic_draft_is_not_stored_and_the_writer_is_asked_with_values_kept(
    app, client, nudging
):
    response = _post(client, nudging.embed, email="w@example.com")
    assert response.status_code == 422
    assert NUDGED in response.text
    assert 'value="Writer"' in response.text
    assert 'value="w@example.com"' in response.text
    assert "You are all fools and you know it.</textarea>" in response.text
    assert _ack(response.text)
    assert _comments(app) == []


def test_same_text_posted_again_is_stored_as_unchanged_and_screened(
    app, client, nudging
):
    ack = _ack(_post(client, nudging.embed).text)
    response = _post(client, nudging.embed, ack=ack)
    assert response.status_code == 202  # screened as usual: held
    assert NUDGED not in response.text
    assert _comments(app) == [(DRAFT, CommentStatus.HELD, "unchanged")]


def test_edited_text_is_stored_as_edited_and_never_nudged_twice(
    app, client, nudging, classifier
):
    ack = _ack(_post(client, nudging.embed).text)
    still_rude = "You are all fools, frankly."
    classifier.by_text[still_rude] = dict(TOXIC)
    response = _post(client, nudging.embed, body=still_rude, ack=ack)
    assert response.status_code == 202
    assert _comments(app) == [(still_rude, CommentStatus.HELD, "edited")]


def test_edited_into_a_clean_comment_is_published_as_edited(app, client, nudging):
    ack = _ack(_post(client, nudging.embed).text)
    response = _post(client, nudging.embed, body="I disagree, politely.", ack=ack)
    assert response.status_code == 201
    assert _comments(app) == [
        ("I disagree, politely.", CommentStatus.PUBLISHED, "edited")
    ]


def test_clean_text_is_stored_without_a_nudge(app, client, nudging):
    response = _post(client, nudging.embed, body="A fair and useful article.")
    assert response.status_code == 201
    assert NUDGED not in response.text
    assert _comments(app) == [
        ("A fair and useful article.", CommentStatus.PUBLISHED, None)
    ]


def test_forged_ack_counts_as_none(app, client, nudging):
    ack = _ack(_post(client, nudging.embed).text)
    forged = ack[:-3] + ("AAA" if not ack.endswith("AAA") else "BBB")
    for bad in (forged, "not-a-token"):
        response = _post(client, nudging.embed, ack=bad)
        assert response.status_code == 422
        assert NUDGED in response.text
    assert _comments(app) == []


def test_ack_from_another_thread_counts_as_none(app, client, nudging):
    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
        db.session.add(Thread(site=site, key="other-article", title="Other"))
        db.session.commit()
    other = "/embed/demo/other-article"
    ack = _ack(_post(client, other).text)
    response = _post(client, nudging.embed, ack=ack)
    assert response.status_code == 422
    assert _ack(response.text) != ack
    assert _comments(app) == []


def test_ack_survives_a_bounced_form(app, client, nudging):
    """An expired form token keeps the ack, so the draft is not nudged twice."""
    ack = _ack(_post(client, nudging.embed).text)
    bounced = client.post(
        nudging.embed,
        data={"handle": "Writer", "body": DRAFT, "nudge_ack": ack, "token": "bad"},
        headers=BROWSER_POST,
    )
    assert bounced.status_code == 422
    assert _ack(bounced.text) == ack
    response = _post(client, nudging.embed, ack=ack)
    assert response.status_code == 202
    assert _comments(app) == [(DRAFT, CommentStatus.HELD, "unchanged")]


def test_failing_classifier_skips_the_nudge_and_stores_the_post(
    app, client, nudging, classifier, nudge_log
):
    calls = []

    def fail_first(texts):
        calls.append(texts)
        if len(calls) == 1:
            raise RuntimeError("model went away")

    classifier.hook = fail_first
    response = _post(client, nudging.embed)
    assert response.status_code == 202  # the worker's screen still holds it
    assert _comments(app) == [(DRAFT, CommentStatus.HELD, None)]
    assert any("check failed" in r.getMessage() for r in nudge_log.records)
    assert not any(DRAFT in r.getMessage() for r in nudge_log.records)


def test_slow_classifier_skips_the_nudge(app, client, nudging, classifier, nudge_log):
    app.config["NUDGE_TIMEOUT"] = 0.05
    calls = []

    def slow_first(texts):
        calls.append(texts)
        if len(calls) == 1:
            time.sleep(0.5)

    classifier.hook = slow_first
    response = _post(client, nudging.embed)
    assert response.status_code == 202
    assert _comments(app) == [(DRAFT, CommentStatus.HELD, None)]
    assert any("slower than" in r.getMessage() for r in nudge_log.records)


def test_classifier_not_loaded_skips_the_nudge_and_asks_for_a_load(
    app, client, nudging, monkeypatch
):
    asked = []
    monkeypatch.setattr(Screener, "loaded", property(lambda self: None))
    monkeypatch.setattr(Screener, "preload", lambda self: asked.append(1))
    assert _post(client, nudging.embed).status_code == 202
    assert _post(client, nudging.embed, body="Fools, again.").status_code in (
        201,
        202,
    )
    assert asked == [1]  # at most once a minute
    assert [nudge for *_, nudge in _comments(app)] == [None, None]


def test_links_and_premoderation_are_not_the_writers_tone(app, client, nudging):
    links = "See https://a.example and https://b.example and https://c.example"
    response = _post(client, nudging.embed, body=links)
    assert response.status_code == 202  # held for its links, not nudged
    _site(app, premoderate=True)
    response = _post(client, nudging.embed, body="A calm remark.")
    assert response.status_code == 202
    assert [nudge for *_, nudge in _comments(app)] == [None, None]


def test_site_words_held_by_the_rules_are_nudged(app, client, nudging):
    _site(app, suspect_words=["frobnicate"])
    response = _post(client, nudging.embed, body="Go frobnicate yourself.")
    assert response.status_code == 422
    assert NUDGED in response.text


def test_nudge_is_not_charged_to_the_posting_limits(make_app, demo, tmp_path):
    """A nudged draft is not stored, so only a stored post counts on the handle."""
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_POST_HANDLE="2/hour")
    _site(app, nudge=True)
    app.config["CLASSIFIER_OBJECT"].by_text[DRAFT] = dict(TOXIC)
    client = app.test_client()
    ack = _ack(_post(client, "/embed/demo/seed-article").text)
    assert _post(client, "/embed/demo/seed-article", ack=ack).status_code == 202
    response = _post(client, "/embed/demo/seed-article", body="Kind words.")
    assert response.status_code == 201


# The site setting


@pytest.fixture
def admin_client(app, demo):
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


def _settings_form(**changes: str) -> dict[str, str]:
    form = {
        "allowed_origins": "http://localhost",
        "timezone": "America/New_York",
        "hold_toxicity": "0.5",
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


def test_settings_checkbox_turns_the_nudge_on_and_off_audited(app, admin_client):
    page = admin_client.get("/mod/manage/sites/demo/settings").text
    assert "Nudge writers before storing a comment the screen would hold" in page
    assert not CHECKED.search(page)
    response = admin_client.post(
        "/mod/manage/sites/demo/settings",
        data=_settings_form(nudge="y", reason="try it"),
    )
    assert response.status_code == 303, response.text
    page = admin_client.get("/mod/manage/sites/demo/settings").text
    assert CHECKED.search(page)
    admin_client.post("/mod/manage/sites/demo/settings", data=_settings_form())
    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
        assert site.nudge is False
        entries = db.session.scalars(
            sa.select(AuditEntry)
            .filter_by(action="site.settings")
            .order_by(AuditEntry.id)
        ).all()
    on = next(e for e in entries if e.after.get("nudge"))
    assert on.before["nudge"] is False and on.reason == "try it"
    off = entries[-1]
    assert off.before["nudge"] is True and off.after["nudge"] is False


# The dashboard

NOW = datetime(2026, 11, 26, 12, 20, tzinfo=UTC)


def test_dashboard_shows_nudged_posts_by_edit_and_outcome(app, monkeypatch):
    monkeypatch.setattr("moderation.insights.views.utcnow", lambda: NOW)
    at = NOW - timedelta(hours=2)
    with app.app_context():
        on = Site(slug="on", name="Nudging Times", nudge=True)
        off = Site(slug="off", name="Quiet Post")
        never = Site(slug="never", name="Never Nudged")
        outcomes = [
            (on, "edited", CommentStatus.PUBLISHED),
            (on, "edited", CommentStatus.PUBLISHED),
            (on, "edited", CommentStatus.HELD),
            (on, "unchanged", CommentStatus.REJECTED),
            (on, None, CommentStatus.PUBLISHED),  # not nudged: not counted
            (off, "unchanged", CommentStatus.HELD),  # the nudge since turned off
            (never, None, CommentStatus.PUBLISHED),
        ]
        threads = {}
        for site in (on, off, never):
            threads[site.slug] = Thread(site=site, key=f"{site.slug}-a", title="A")
            db.session.add(threads[site.slug])
        for site, nudge, status in outcomes:
            db.session.add(
                Comment(
                    thread=threads[site.slug],
                    handle="Reader",
                    body="A comment.",
                    html="<p>A comment.</p>",
                    status=status,
                    created_at=at,
                    updated_at=at,
                    fingerprint="f",
                    nudge=nudge,
                )
            )
        # Before the window: not counted.
        db.session.add(
            Comment(
                thread=threads["on"],
                handle="Reader",
                body="Old.",
                html="<p>Old.</p>",
                status=CommentStatus.PUBLISHED,
                created_at=NOW - timedelta(days=3),
                updated_at=NOW - timedelta(days=3),
                fingerprint="o",
                nudge="edited",
            )
        )
        admin = Moderator(email="admin@example.com", name="Admin", role=Role.ADMIN)
        admin.set_password(MODERATOR_PASSWORD)
        db.session.add(admin)
        db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post(
        "/mod/login",
        data={"email": "admin@example.com", "password": MODERATOR_PASSWORD},
    )
    page = client.get("/mod/dashboard").text
    assert "Authorship nudge" in page
    assert (
        '<tr><th scope="row">Nudging Times</th><td>4</td><td>3</td><td>1</td>'
        "<td>2 (50%)</td><td>2 (50%)</td><td>67%</td><td>0%</td></tr>"
    ) in page
    assert (
        '<tr><th scope="row">Quiet Post <span class="muted">(nudge off now)</span>'
        "</th><td>1</td><td>0</td><td>1</td><td>0 (0%)</td><td>1 (100%)</td>"
        "<td>–</td><td>0%</td></tr>"
    ) in page
    assert "Never Nudged</th>" not in page
    one = client.get("/mod/dashboard?site=off&range=7d").text
    assert "Quiet Post <span" in one and "Nudging Times</th>" not in one


def test_dashboard_without_nudging_sites_shows_no_nudge_table(admin_client):
    page = admin_client.get("/mod/dashboard")
    assert page.status_code == 200
    assert "Authorship nudge" not in page.text


def test_tone_action_leaves_out_links_and_premoderation():
    from moderation.screening.base import Action, Policy, RuleHit
    from moderation.screening.pipeline import Verdict

    policy = Policy(premoderate=True)
    links = RuleHit("links", Action.HOLD, "3 links (limit 1)")
    word = RuleHit("suspect_word", Action.HOLD, "suspect word")
    clean = {"toxicity": 0.1}

    def verdict(hits, scores):
        return Verdict(Action.HOLD, tuple(hits), scores, "fixed", "1")

    assert nudges.tone_action(verdict([links], clean), policy) is Action.PUBLISH
    assert nudges.tone_action(verdict([word], clean), policy) is Action.HOLD
    assert nudges.tone_action(verdict([], {"toxicity": 0.9}), policy) is Action.HOLD
    rejecting = Policy(reject_threshold=0.8)
    assert (
        nudges.tone_action(verdict([], {"toxicity": 0.9}), rejecting) is Action.REJECT
    )
