"""Moderators: log in, work the queues, claim, decide, undo; every decision is kept."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from support import MODERATOR_PASSWORD

from moderation.extensions import db
from moderation.models import (
    AuditEntry,
    Comment,
    CommentStatus,
    Decision,
    Moderator,
    Report,
    ReportReason,
    Role,
    RuleHit,
    Score,
    Site,
    Thread,
    utcnow,
)
from moderation.services.comments import fingerprint
from moderation.services.review_queues import Filters, count, counts

from helpers import post_from_iframe


def _login(app, email, password=MODERATOR_PASSWORD):
    client = app.test_client()
    response = client.post("/mod/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.text
    return client


def _add_moderator(app, email, name, sites=(), role=Role.MODERATOR):
    with app.app_context():
        moderator = Moderator(email=email, name=name, role=role)
        moderator.set_password(MODERATOR_PASSWORD)
        moderator.sites = [db.session.get(Site, s) for s in sites]
        db.session.add(moderator)
        db.session.commit()
        return moderator.id


def _demo_site(app, demo):
    with app.app_context():
        return db.session.get(Thread, demo.id).site_id


@pytest.fixture
def moderator_client(app, moderator, demo):
    """Logged in as a moderator of the demo site (CSRF off for brevity)."""
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        found = db.session.get(Moderator, moderator)
        found.sites = [db.session.get(Thread, demo.id).site]
        db.session.commit()
    return _login(app, "mod@example.com")


@pytest.fixture
def other_client(app, demo, moderator_client):
    """A second moderator of the demo site, called Other."""
    _add_moderator(app, "other@example.com", "Other", [_demo_site(app, demo)])
    return _login(app, "other@example.com")


def _make(app, thread_id, body="A comment.", status=CommentStatus.HELD, **fields):
    """A comment stored directly (no screening), for queue shapes and paging."""
    with app.app_context():
        comment = Comment(
            thread_id=thread_id,
            handle=fields.pop("handle", "Reader"),
            body=body,
            html=body,
            status=status,
            fingerprint=fingerprint(body),
            **fields,
        )
        db.session.add(comment)
        db.session.commit()
        return comment.id


def _held(client, demo, classifier, body, **scores):
    classifier.by_text[body] = {"toxicity": 0.9, "insult": 0.7, **scores}
    response = post_from_iframe(client, demo.embed, body=body)
    assert response.status_code == 202
    return body


def _id_of(app, body):
    with app.app_context():
        return db.session.scalar(sa.select(Comment.id).filter_by(body=body))


def test_queue_needs_a_login(client):
    response = client.get("/mod/")
    assert response.status_code == 302
    assert "/mod/login" in response.headers["Location"]


def test_wrong_password_is_refused(client, moderator):
    client.application.config["WTF_CSRF_ENABLED"] = False
    response = client.post(
        "/mod/login", data={"email": "mod@example.com", "password": "wrong"}
    )
    assert response.status_code == 401
    assert "do not match" in response.text


def test_login_form_is_csrf_protected(client, moderator):
    response = client.post(
        "/mod/login", data={"email": "mod@example.com", "password": MODERATOR_PASSWORD}
    )
    assert response.status_code == 400


def test_login_with_csrf_token_works(client, moderator):
    page = client.get("/mod/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/mod/login",
        data={
            "email": "mod@example.com",
            "password": MODERATOR_PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 302


def test_passwords_are_stored_as_strong_hashes(app, moderator):
    from moderation.models import Moderator

    with app.app_context():
        stored = db.session.get(Moderator, moderator).password_hash
    assert stored.startswith("scrypt:")
    assert MODERATOR_PASSWORD not in stored


def test_moderator_pages_are_never_framed(moderator_client):
    response = moderator_client.get("/mod/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_held_queue_is_oldest_first_with_thread_scores_and_classifier(
    client, moderator_client, demo, classifier
):
    first = _held(client, demo, classifier, "First held comment.")
    second = _held(client, demo, classifier, "Second held comment.")
    page = moderator_client.get("/mod/").text
    assert page.index(first) < page.index(second)
    assert "Diplomatic Efforts Intensify" in page  # the thread
    assert "toxicity" in page and "0.90" in page and "0.50" in page  # score, threshold
    assert "Classifier: fixed: set by the application" in page
    assert '<span class="count" data-count="held">2</span>' in page


def test_comments_still_being_checked_have_a_tab_with_their_age(
    app, moderator_client, demo
):
    """A comment left `received` (workers down, or a crash) is not invisible."""
    with app.app_context():
        thread = db.session.get(Thread, demo.id)
        db.session.add(
            Comment(
                thread=thread,
                handle="Waiting",
                body="Stuck before screening.",
                html="<p>Stuck before screening.</p>",
                fingerprint=fingerprint("Stuck before screening."),
                status=CommentStatus.RECEIVED,
                created_at=utcnow() - timedelta(minutes=6),
            )
        )
        db.session.commit()
    page = moderator_client.get("/mod/?queue=checking").text
    assert "Being checked" in page
    assert '<span class="count" data-count="checking">1</span>' in page
    item = page[page.index("Stuck before screening.") - 2500 :]
    assert "waiting" in item and "6 min" in page
    assert "Not screened yet" in page
    assert 'value="approve"' not in page  # nothing to decide before the screen


def test_matched_words_are_highlighted(client, moderator_client, demo):
    response = post_from_iframe(
        client, demo.embed, body="What a load of bullshit, honestly."
    )
    assert response.status_code == 202
    page = moderator_client.get("/mod/").text
    assert "<mark>bullshit</mark>" in page
    assert "suspect word" in page


def test_highlighting_escapes_the_comment(client, moderator_client, demo):
    body = "<script>alert(1)</script> bullshit"
    post_from_iframe(client, demo.embed, body=body)
    page = moderator_client.get("/mod/").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>bullshit</mark>" in page


def test_approve_publishes_and_records_the_decision(
    app, client, moderator_client, demo, classifier
):
    body = _held(client, demo, classifier, "Borderline but fine.")
    comment_id = _id_of(app, body)
    response = moderator_client.post(
        f"/mod/comments/{comment_id}/decision",
        data={"action": "approve", "reason": "fair criticism", "expected": "held"},
    )
    assert response.status_code == 303
    assert body in client.get(demo.embed).text
    with app.app_context():
        decision = db.session.scalars(
            sa.select(Decision).filter_by(comment_id=comment_id).order_by(Decision.id)
        ).all()[-1]
        assert decision.actor == "mod@example.com"
        assert decision.moderator_id is not None
        assert decision.from_status is CommentStatus.HELD
        assert decision.to_status is CommentStatus.PUBLISHED
        assert decision.reason == "fair criticism"
        assert decision.created_at is not None
    page = moderator_client.get(f"/mod/comments/{comment_id}").text
    assert "fair criticism" in page and "mod@example.com" in page
    assert "screen" in page  # the screen's own decision is listed too


def test_reject_keeps_it_off_the_thread(
    app, client, moderator_client, demo, classifier
):
    body = _held(client, demo, classifier, "Nasty one.")
    comment_id = _id_of(app, body)
    response = moderator_client.post(
        f"/mod/comments/{comment_id}/decision",
        data={"action": "reject", "reason_code": "abuse", "expected": "held"},
    )
    assert response.status_code == 303
    assert body not in client.get(demo.embed).text
    assert body not in moderator_client.get("/mod/").text


def test_double_decision_is_a_clear_409(
    app, client, moderator_client, demo, classifier
):
    body = _held(client, demo, classifier, "Decided twice.")
    comment_id = _id_of(app, body)
    path = f"/mod/comments/{comment_id}/decision"
    data = {"action": "approve", "expected": "held"}
    assert moderator_client.post(path, data=data).status_code == 303
    again = moderator_client.post(
        path, data={"action": "reject", "reason_code": "spam", "expected": "held"}
    )
    assert again.status_code == 409
    assert "already published" in again.text


def test_unknown_comment_and_bad_action_are_4xx(app, moderator_client, demo):
    assert moderator_client.get("/mod/comments/999999").status_code == 404
    response = moderator_client.post(
        "/mod/comments/999999/decision", data={"action": "approve"}
    )
    assert response.status_code == 404
    response = moderator_client.post(
        "/mod/comments/1/decision", data={"action": "burn"}
    )
    assert response.status_code == 422
    assert moderator_client.post("/mod/comments/999999/claim").status_code == 404
    assert moderator_client.post("/mod/decisions/999999/undo").status_code == 404


def test_decision_form_is_csrf_protected(
    app, client, moderator_client, demo, classifier
):
    body = _held(client, demo, classifier, "Needs a token.")
    app.config["WTF_CSRF_ENABLED"] = True
    response = moderator_client.post(
        f"/mod/comments/{_id_of(app, body)}/decision", data={"action": "approve"}
    )
    assert response.status_code == 400


def test_logout_ends_the_session(moderator_client):
    assert moderator_client.post("/mod/logout").status_code == 302
    assert moderator_client.get("/mod/").status_code == 302


def test_screening_failure_is_visible_to_moderators(
    app, client, moderator_client, demo, classifier
):
    classifier.error = RuntimeError("weights corrupt")
    post_from_iframe(client, demo.embed, body="Unscreened text.")
    page = moderator_client.get("/mod/").text
    assert "Unscreened text." in page
    assert "weights corrupt" in page


# The queues, their counts, filters and pages.


def test_each_queue_lists_its_own_comments_with_counts(app, moderator_client, demo):
    held = _make(app, demo.id, "Held one.")
    reported = _make(app, demo.id, "Reported one.", CommentStatus.PUBLISHED)
    with app.app_context():
        # As reports.py stores them: a Report row for every step of the count.
        db.session.get(Comment, reported).report_count = 2
        for key in ("reader-a", "reader-b"):
            db.session.add(
                Report(comment_id=reported, reason=ReportReason.ABUSE,
                       reporter_key=key)
            )
        db.session.commit()
    rejected = _make(app, demo.id, "Rejected one.", CommentStatus.REJECTED)
    pages = {
        name: moderator_client.get(f"/mod/?queue={name}").text
        for name in ("held", "reported", "approved", "rejected", "all")
    }
    assert f"#{held}<" in pages["held"] and f"#{reported}<" not in pages["held"]
    assert f"#{reported}<" in pages["reported"] and f"#{held}<" not in pages["reported"]
    assert f"#{reported}<" in pages["approved"]  # the five seed comments too
    assert f"#{rejected}<" in pages["rejected"] and f"#{held}<" not in pages["rejected"]
    assert all(f"#{i}<" in pages["all"] for i in (held, reported, rejected))
    counts = moderator_client.get("/mod/counts").get_json()["queues"]
    assert {name: c["count"] for name, c in counts.items()} == {
        "held": 1,
        "reported": 1,
        "approved": 6,
        "rejected": 1,
        "checking": 0,
        "all": 8,
    }
    assert '<span class="count" data-count="approved">6</span>' in pages["held"]


def test_counts_stop_at_the_cap(app, moderator, demo):
    for number in range(4):
        _make(app, demo.id, f"Held {number}.")
    with app.app_context(), app.test_request_context():
        admin = db.session.get(Moderator, moderator)
        admin.role = Role.ADMIN
        assert count(Filters(), admin, cap=3).label == "3+"
        assert count(Filters(), admin, cap=4).label == "4"
        tabs = counts(Filters(), admin, cap=5)
        assert tabs["held"].label == "4" and tabs["rejected"].label == "0"
        assert tabs["approved"].label == "5" and tabs["all"].label == "5+"


def test_keyset_pages_walk_forward_and_back_without_offset(
    app, moderator_client, demo
):
    start = utcnow() - timedelta(hours=2)
    ids = [
        _make(app, demo.id, f"Number {n}.", created_at=start + timedelta(minutes=n))
        for n in range(30)
    ]
    first = moderator_client.get("/mod/").text
    assert f"#{ids[0]}<" in first and f"#{ids[24]}<" in first
    assert f"#{ids[25]}<" not in first and 'rel="prev"' not in first
    after = re.search(r'rel="next" href="([^"]+)"', first).group(1)
    assert "offset" not in after and "after=" in after
    second = moderator_client.get(after.replace("&amp;", "&")).text
    assert f"#{ids[25]}<" in second and f"#{ids[29]}<" in second
    assert f"#{ids[24]}<" not in second and 'rel="next"' not in second
    before = re.search(r'rel="prev" href="([^"]+)"', second).group(1)
    back = moderator_client.get(before.replace("&amp;", "&")).text
    assert f"#{ids[0]}<" in back and f"#{ids[24]}<" in back
    newest = moderator_client.get("/mod/?order=newest").text
    assert newest.index(f"#{ids[29]}<") < newest.index(f"#{ids[5]}<")
    assert f"#{ids[4]}<" not in newest


def test_filters_narrow_the_queue(app, moderator_client, demo):
    with app.app_context():
        site = db.session.get(Thread, demo.id).site
        other = Thread(site=site, key="other", title="Another story")
        db.session.add(other)
        db.session.commit()
        other_id, site_id = other.id, site.id
    plain = _make(app, demo.id, "Plain.", handle="Calm")
    elsewhere = _make(app, other_id, "Elsewhere.", handle="Calm")
    toxic = _make(app, demo.id, "Scored.", handle="Loud")
    linky = _make(app, demo.id, "Links.", handle="Spammy")
    with app.app_context():
        db.session.add(
            Score(comment_id=toxic, classifier="f", version="1", label="insult",
                  value=0.8)
        )
        db.session.add(
            RuleHit(comment_id=linky, rule="links", action="hold", reason="2 links")
        )
        db.session.commit()

    def shown(query):
        page = moderator_client.get(f"/mod/?{query}")
        assert page.status_code == 200
        return {i for i in (plain, elsewhere, toxic, linky) if f"#{i}<" in page.text}

    assert shown(f"thread={other_id}") == {elsewhere}
    assert shown("handle=Calm") == {plain, elsewhere}
    assert shown("label=insult") == {toxic}
    assert shown("label=insult&min=0.9") == set()
    assert shown("rule=links") == {linky}
    assert shown(f"site={site_id}") == {plain, elsewhere, toxic, linky}
    assert shown("site=999") == set()


BAD_FILTERS = [
    "queue=nope",
    "site=abc",
    "thread=-4",
    "label=bogus",
    "min=2",
    "order=sideways",
    "after=garbage",
    "after=1-1&before=1-1",
]


def test_bad_filters_are_a_clear_400(moderator_client):
    for query in BAD_FILTERS:  # one login for all: each case is one request
        response = moderator_client.get(f"/mod/?{query}")
        assert response.status_code == 400, query
        assert moderator_client.get(f"/mod/counts?{query}").status_code == 400, query


def test_moderators_see_only_their_sites_and_admins_see_all(app, moderator_client,
                                                             demo):
    with app.app_context():
        site = Site(slug="elsewhere", name="Elsewhere")
        thread = Thread(site=site, key="k", title="Theirs")
        db.session.add(thread)
        db.session.commit()
        thread_id = thread.id
    theirs = _make(app, thread_id, "Not yours.")
    ours = _make(app, demo.id, "Yours.")
    page = moderator_client.get("/mod/").text
    assert f"#{ours}<" in page and f"#{theirs}<" not in page
    assert moderator_client.get(f"/mod/comments/{theirs}").status_code == 403
    response = moderator_client.post(
        f"/mod/comments/{theirs}/decision",
        data={"action": "approve", "expected": "held"},
    )
    assert response.status_code == 403
    _add_moderator(app, "admin@example.com", "Admin", role=Role.ADMIN)
    admin = _login(app, "admin@example.com")
    page = admin.get("/mod/").text
    assert f"#{ours}<" in page and f"#{theirs}<" in page


# One comment's page: everything needed to decide.


def test_item_page_shows_parent_reports_and_author_history(
    app, moderator_client, demo
):
    parent = _make(app, demo.id, "The parent says this.", CommentStatus.PUBLISHED)
    past = _make(
        app, demo.id, "An earlier rejected one.", CommentStatus.REJECTED,
        handle="Repeat", email="r@example.com",
    )
    same_network = _make(
        app, demo.id, "Another name, same network.", handle="Alias",
        network_key="net-1",
    )
    comment_id = _make(
        app, demo.id, "Reply under review.", handle="Repeat",
        email="r@example.com", network_key="net-1", parent_id=parent,
    )
    with app.app_context():
        db.session.add(
            Report(comment_id=comment_id, reason=ReportReason.SPAM,
                   text="selling pills", reporter_key="abcdef0123456789")
        )
        db.session.add(
            Decision(comment_id=past, actor="someone@example.com",
                     from_status=CommentStatus.HELD,
                     to_status=CommentStatus.REJECTED, reason="abuse")
        )
        db.session.commit()
    page = moderator_client.get(f"/mod/comments/{comment_id}").text
    assert "The parent says this." in page
    assert "Diplomatic Efforts Intensify" in page
    assert "selling pills" in page and "abcdef01" in page
    assert "abcdef0123456789" not in page  # the reporter key is shortened
    assert "By the same handle" in page and "By the same email" in page
    assert "By the same network" in page
    assert f"#{past}<" in page and "rejected by someone@example.com: abuse" in page
    assert f"#{same_network}<" in page


def test_reject_needs_a_listed_reason_and_keeps_the_notes(
    app, moderator_client, demo
):
    comment_id = _make(app, demo.id, "Buy now.")
    path = f"/mod/comments/{comment_id}/decision"
    refused = moderator_client.post(path, data={"action": "reject"})
    assert refused.status_code == 422
    assert "Choose why" in refused.text
    bad = moderator_client.post(path, data={"action": "reject", "reason_code": "meh"})
    assert bad.status_code == 422
    done = moderator_client.post(
        path, data={"action": "reject", "reason_code": "spam", "reason": "pills"}
    )
    assert done.status_code == 303
    with app.app_context():
        last = db.session.scalars(
            sa.select(Decision).filter_by(comment_id=comment_id).order_by(Decision.id)
        ).all()[-1]
        assert last.reason == "spam: pills"


def test_bulk_decides_each_and_reports_conflicts(app, moderator_client, demo):
    first = _make(app, demo.id, "One.")
    second = _make(app, demo.id, "Two.")
    decided = _make(app, demo.id, "Three.", CommentStatus.PUBLISHED)
    response = moderator_client.post(
        "/mod/bulk",
        data={
            "action": "approve",
            "ids": [f"{first}:held", f"{second}:held", f"{decided}:held"],
        },
        follow_redirects=True,
    )
    assert "Approved 2 of 3 comments. 1 had been decided" in response.text
    with app.app_context():
        statuses = {
            c.id: c.status for c in db.session.scalars(sa.select(Comment))
        }
        assert statuses[first] is statuses[second] is CommentStatus.PUBLISHED
    assert moderator_client.post("/mod/bulk", data={"action": "approve"}).status_code \
        == 422
    assert moderator_client.post(
        "/mod/bulk", data={"action": "approve", "ids": ["x:held"]}
    ).status_code == 422
    assert moderator_client.post(
        "/mod/bulk", data={"action": "reject", "ids": [f"{first}:published"]}
    ).status_code == 422  # no reason picked


@pytest.mark.parametrize(
    "path",
    ["/mod/bulk", "/mod/comments/1/claim", "/mod/decisions/1/undo"],
)
def test_queue_forms_are_csrf_protected(app, moderator_client, path):
    app.config["WTF_CSRF_ENABLED"] = True
    assert moderator_client.post(path, data={"action": "approve"}).status_code == 400


# Claims: one moderator per comment at a time.


def test_opening_a_comment_claims_it_from_other_moderators(
    app, moderator_client, other_client, demo
):
    comment_id = _make(app, demo.id, "Under review.")
    assert "You are reviewing this" in moderator_client.get(
        f"/mod/comments/{comment_id}"
    ).text
    theirs = other_client.get(f"/mod/comments/{comment_id}").text
    assert "Being reviewed by <strong>Mod</strong>" in theirs
    assert f"#{comment_id}<" not in other_client.get("/mod/").text  # skipped
    shown = other_client.get("/mod/?claimed=1").text
    assert f"#{comment_id}<" in shown and "Being reviewed by" in shown
    response = other_client.post(
        f"/mod/comments/{comment_id}/decision",
        data={"action": "approve", "expected": "held"},
    )
    assert response.status_code == 409
    assert "being reviewed by Mod" in response.text
    claim = other_client.post(f"/mod/comments/{comment_id}/claim")
    assert claim.status_code == 409 and claim.get_json()["by"] == "Mod"
    # The holder decides; that ends the claim.
    done = moderator_client.post(
        f"/mod/comments/{comment_id}/decision",
        data={"action": "approve", "expected": "held"},
    )
    assert done.status_code == 303
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.review_moderator_id is None and comment.review_until is None


def test_an_expired_claim_lets_anyone_decide(app, moderator, other_client, demo):
    comment_id = _make(
        app, demo.id, "Claim ran out.",
        review_moderator_id=moderator,
        review_until=utcnow() - timedelta(seconds=1),
    )
    assert f"#{comment_id}<" in other_client.get("/mod/").text
    response = other_client.post(
        f"/mod/comments/{comment_id}/decision",
        data={"action": "approve", "expected": "held"},
    )
    assert response.status_code == 303


def test_focusing_in_the_list_claims_and_releases(
    app, moderator_client, other_client, demo
):
    first = _make(app, demo.id, "First.")
    second = _make(app, demo.id, "Second.")
    mine = moderator_client.post(f"/mod/comments/{first}/claim")
    assert mine.status_code == 200 and mine.get_json()["claimed"] is True
    moved = moderator_client.post(
        f"/mod/comments/{second}/claim", data={"release": str(first)}
    )
    assert moved.status_code == 200
    with app.app_context():
        assert db.session.get(Comment, first).review_moderator_id is None
    # Someone else's claim is not given back by another moderator.
    other_client.post(f"/mod/comments/{first}/claim")
    moderator_client.post(f"/mod/comments/{second}/claim", data={"release": first})
    with app.app_context():
        assert db.session.get(Comment, first).review_moderator_id is not None
    bad = moderator_client.post(f"/mod/comments/{second}/claim", data={"release": "x"})
    assert bad.status_code == 422


# Undo.


def _decide(client, comment_id, action="approve"):
    data = {"action": action, "expected": "held", "reason_code": "spam"}
    response = client.post(f"/mod/comments/{comment_id}/decision", data=data)
    assert response.status_code == 303
    page = client.get("/mod/").text
    return int(re.search(r'/mod/decisions/(\d+)/undo', page).group(1)), page


def test_undo_reverts_the_last_decision_within_the_window(
    app, moderator_client, demo
):
    comment_id = _make(app, demo.id, "Oops, wrong button.")
    decision_id, page = _decide(moderator_client, comment_id)
    assert f"Comment #{comment_id} published." in page
    response = moderator_client.post(f"/mod/decisions/{decision_id}/undo")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Comment, comment_id).status is CommentStatus.HELD
        last = db.session.scalars(
            sa.select(Decision).filter_by(comment_id=comment_id).order_by(Decision.id)
        ).all()[-1]
        assert (last.from_status, last.to_status) == (
            CommentStatus.PUBLISHED, CommentStatus.HELD
        )
        audit = db.session.scalars(
            sa.select(AuditEntry).filter_by(action="comment.undo")
        ).one()
        assert audit.target_id == str(comment_id)
    again = moderator_client.post(f"/mod/decisions/{decision_id}/undo")
    assert again.status_code == 409  # undone already: the comment moved since


def test_undo_is_refused_after_the_window_or_once_moved(
    app, moderator_client, other_client, demo
):
    late = _make(app, demo.id, "Too late.")
    decision_id, _ = _decide(moderator_client, late)
    with app.app_context():
        db.session.get(Decision, decision_id).created_at = utcnow() - timedelta(
            seconds=31
        )
        db.session.commit()
    response = moderator_client.post(f"/mod/decisions/{decision_id}/undo")
    assert response.status_code == 409 and "Too late" in response.text
    moved = _make(app, demo.id, "Moved since.")
    decision_id, _ = _decide(moderator_client, moved, "reject")
    other_client.post(
        f"/mod/comments/{moved}/decision",
        data={"action": "approve", "expected": "rejected"},
    )
    response = moderator_client.post(f"/mod/decisions/{decision_id}/undo")
    assert response.status_code == 409 and "moved since" in response.text
    mine = _make(app, demo.id, "Not yours to undo.")
    decision_id, _ = _decide(moderator_client, mine)
    assert other_client.post(f"/mod/decisions/{decision_id}/undo").status_code == 409


def test_ban_shortcut_appears_only_when_the_ban_form_exists(
    app, moderator_client, demo
):
    comment_id = _make(app, demo.id, "Ban me maybe.")
    has_people = "people.new_ban" in app.view_functions
    page = moderator_client.get("/mod/").text
    assert ("data-ban=" in page) is has_people
    assert ("<kbd>b</kbd>" in page) is has_people
    if not has_people:
        app.add_url_rule(
            "/people/ban/<int:comment_id>", "people.new_ban", lambda comment_id: ""
        )
        page = moderator_client.get(f"/mod/comments/{comment_id}").text
        assert f'data-ban="/people/ban/{comment_id}"' in page
