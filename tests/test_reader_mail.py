"""Readers' mail against a real SMTP server: double opt-in, reply mails batched
and escaped, one-click unsubscribe, stop-all, signed links, outcome mails."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from mail_server import smtp_server

from moderation.extensions import db
from moderation.models import (
    AddressState,
    AuditEntry,
    Comment,
    CommentStatus,
    MailAddress,
    OutboxMessage,
    OutboxStatus,
    Site,
    Thread,
)
from moderation.notify import outbox, replies, tokens
from moderation.rendering import render_body
from moderation.services.comments import fingerprint

from helpers import post_from_iframe

READER = "Reader@Example.org"
ARTICLE = "https://news.example/2024/big-story"


@pytest.fixture
def mail():
    """(the MAIL_URL of a real SMTP server, its handler)."""
    with smtp_server() as (url, handler):
        yield url, handler


@pytest.fixture
def mail_app(make_app, mail):
    """An app mailing that server, with no batch wait; mail goes out only when a
    test drains the outbox (no in-process sender racing it)."""
    return make_app(MAIL_URL=mail[0], REPLY_BATCH_SECONDS=0, IN_PROCESS_WORKER=False)


@pytest.fixture
def handler(mail):
    return mail[1]


def _thread(app, url=ARTICLE, notify_outcomes=False) -> int:
    with app.app_context():
        site = Site(slug="news", name="The News", notify_outcomes=notify_outcomes)
        thread = Thread(site=site, key="big-story", url=url, title="A <b>big</b> story")
        db.session.add(thread)
        db.session.commit()
        return thread.id


def _comment(
    app,
    thread_id: int,
    body: str = "First!",
    *,
    handle: str = "Alice",
    email: str | None = None,
    parent: int | None = None,
    status: CommentStatus = CommentStatus.PUBLISHED,
    notify: bool = False,
    posted: bool = False,
    published: bool = False,
) -> int:
    """Store a comment; `posted` / `published` tell replies.py as the services do."""
    with app.app_context():
        comment = Comment(
            thread_id=thread_id,
            parent_id=parent,
            handle=handle,
            email=email,
            body=body,
            html=render_body(body),
            fingerprint=fingerprint(body),
            status=status,
            notify_replies=notify,
        )
        db.session.add(comment)
        db.session.flush()
        if posted:
            replies.on_posted(comment)
        if published:
            replies.on_published(comment)
        db.session.commit()
        return comment.id


def _subscribed(app, thread_id: int, email: str = READER) -> int:
    """A published comment whose author asked for replies and confirmed."""
    with app.app_context():
        db.session.add(MailAddress(email=email.lower(), state=AddressState.CONFIRMED))
        db.session.commit()
    return _comment(app, thread_id, email=email, notify=True, posted=True)


def _drain(app) -> outbox.Delivered:
    return outbox.drain(app)


def _links(message: EmailMessage) -> list[str]:
    text = message.get_body(("plain",)).get_content()
    return re.findall(r"http://localhost/mail/\S+", text)


def _path(url: str) -> str:
    return url.removeprefix("http://localhost")


def _link(message: EmailMessage, purpose: str) -> str:
    [found] = [url for url in _links(message) if f"/mail/{purpose}/" in url]
    return _path(found)


def _state(app) -> AddressState:
    with app.app_context():
        return db.session.scalar(sa.select(MailAddress.state))


def _none_arrives(handler, count: int) -> None:
    """No mail beyond `count` (drain is synchronous: a sent mail has arrived)."""
    time.sleep(0.1)
    assert len(handler.received) == count


# Double opt-in ----------------------------------------------------------------


def test_the_form_stores_the_opt_in_only_with_an_email(make_app, mail):
    from moderation.demo.loader import load_demo

    mail_app = make_app(MAIL_URL=mail[0])

    with mail_app.app_context():
        load_demo(mail_app.config["PUBLIC_URL"], Path(mail_app.instance_path))
    client = mail_app.test_client()
    path = "/embed/demo/seed-article"
    page = client.get(path)
    assert 'name="notify_replies"' in page.text and "Email me replies" in page.text
    refused = post_from_iframe(client, path, notify_replies="1", body="No address.")
    assert refused.status_code == 422
    assert "Give your email to get replies by email." in refused.text
    assert 'name="notify_replies" type="checkbox" value="1" checked' in refused.text
    posted = post_from_iframe(
        client, path, notify_replies="1", email=READER, body="With an address."
    )
    assert posted.status_code in (201, 202)
    plain = post_from_iframe(client, path, email="b@example.org", body="No box.")
    assert plain.status_code in (201, 202)
    with mail_app.app_context():
        stored = dict(
            db.session.execute(
                sa.select(Comment.body, Comment.notify_replies).where(
                    Comment.body.in_(["With an address.", "No box."])
                )
            ).all()
        )
    assert stored == {"With an address.": True, "No box.": False}


def test_opting_in_sends_one_confirmation_and_nothing_else_until_confirmed(
    mail_app, handler
):
    thread = _thread(mail_app)
    parent = _comment(mail_app, thread, email=READER, notify=True, posted=True)
    # A second opt-in the same day sends no second confirmation.
    _comment(mail_app, thread, "Again", email=READER.lower(), notify=True, posted=True)
    # A reply published before the address is confirmed: no mail.
    _comment(mail_app, thread, "A reply", handle="Bob", parent=parent, published=True)
    done = _drain(mail_app)
    assert done.sent == 1
    [confirm] = handler.wait_for(1)
    _none_arrives(handler, 1)
    assert confirm["To"] == READER.lower()
    assert "Confirm reply notifications" in confirm["Subject"]
    assert confirm["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(
        r"<http://localhost/mail/unsubscribe/[^>]+>", confirm["List-Unsubscribe"]
    )
    html = confirm.get_body(("html",)).get_content()
    assert "/mail/confirm/" in html and "The News" in html
    # No address and no raw id in any link, only signed tokens.
    for url in _links(confirm):
        assert "example.org" not in url.lower()
    assert _state(mail_app) is AddressState.PENDING
    with mail_app.app_context():
        [address] = db.session.scalars(sa.select(MailAddress)).all()
        assert address.email == READER.lower()


def test_get_on_the_confirm_link_only_asks_and_post_confirms(mail_app, handler):
    thread = _thread(mail_app)
    _comment(mail_app, thread, email=READER, notify=True, posted=True)
    _drain(mail_app)
    [confirm] = handler.wait_for(1)
    link = _link(confirm, "confirm")
    client = mail_app.test_client()
    page = client.get(link)
    assert page.status_code == 200
    assert '<form method="post"' in page.text and "Confirm</button>" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert _state(mail_app) is AddressState.PENDING  # a scanner's GET changes nothing
    done = client.post(link)  # no session, no CSRF token: the link is the proof
    assert done.status_code == 200 and "Address confirmed" in done.text
    assert _state(mail_app) is AddressState.CONFIRMED
    with mail_app.app_context():
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "mail_address.confirmed")
        )
        address_id = db.session.scalar(sa.select(MailAddress.id))
    assert entry.actor == "reader" and entry.target_type == "mail_address"
    assert entry.target_id == str(address_id)
    assert "example.org" not in repr((entry.before, entry.after, entry.reason))


def test_a_confirmation_mail_is_dropped_once_the_address_is_confirmed(
    mail_app, handler
):
    thread = _thread(mail_app)
    _comment(mail_app, thread, email=READER, notify=True, posted=True)
    with mail_app.app_context():
        db.session.scalar(sa.select(MailAddress)).state = AddressState.CONFIRMED
        db.session.commit()
    assert _drain(mail_app).dropped == 1
    _none_arrives(handler, 0)


# Reply mails ------------------------------------------------------------------


def test_a_published_reply_mails_its_text_escaped_with_a_permalink(mail_app, handler):
    thread = _thread(mail_app)
    parent = _subscribed(mail_app, thread)
    body = "I disagree <script>alert('x')</script> & so on."
    reply = _comment(
        mail_app, thread, body, handle="Bob <b>", parent=parent, published=True
    )
    assert _drain(mail_app).sent == 1
    [message] = handler.wait_for(1)
    assert message["To"] == READER.lower()
    assert "Bob <b> replied to your comment" in message["Subject"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"]
    # As sent, not decoded: a URL in an encoded word (=?utf-8?q?...) is no URL.
    assert dict(message.raw_items())["List-Unsubscribe"] == unsubscribe
    assert re.fullmatch(r"<https?://localhost/mail/unsubscribe/[^>]+>", unsubscribe)
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    permalink = f"{ARTICLE}#comment-{reply}"
    assert body in plain and permalink in plain
    assert "<script>" not in html
    assert (
        "I disagree &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; so on."
        in html
    )
    assert "Bob &lt;b&gt;" in html
    assert "A &lt;b&gt;big&lt;/b&gt; story" in html
    assert f'href="{permalink}"' in html
    assert "/mail/unsubscribe/" in html and "/mail/stop/" in html


def test_without_a_thread_url_the_permalink_is_the_services_own_page(mail_app, handler):
    thread = _thread(mail_app, url="javascript:alert(1)")
    parent = _subscribed(mail_app, thread)
    reply = _comment(
        mail_app, thread, "Hi", handle="Bob", parent=parent, published=True
    )
    _drain(mail_app)
    [message] = handler.wait_for(1)
    plain = message.get_body(("plain",)).get_content()
    assert f"http://localhost/embed/news/big-story#comment-{reply}" in plain
    assert "javascript:" not in message.get_body(("html",)).get_content()


def test_three_replies_within_the_window_are_one_mail(mail_app, handler):
    thread = _thread(mail_app)
    parent = _subscribed(mail_app, thread)
    ids = [
        _comment(
            mail_app,
            thread,
            f"Reply {n}",
            handle=f"R{n}",
            parent=parent,
            published=True,
        )
        for n in range(3)
    ]
    done = _drain(mail_app)
    assert done.sent == 3  # three rows, one message
    [message] = handler.wait_for(1)
    _none_arrives(handler, 1)
    assert "3 new replies" in message["Subject"]
    plain = message.get_body(("plain",)).get_content()
    for n, reply in enumerate(ids):
        assert f"Reply {n}" in plain and f"#comment-{reply}" in plain


def test_replies_wait_for_the_batch_window(make_app, mail, handler):
    app = make_app(MAIL_URL=mail[0], REPLY_BATCH_SECONDS=300, IN_PROCESS_WORKER=False)
    thread = _thread(app)
    parent = _subscribed(app, thread)
    _comment(app, thread, "Soon", handle="Bob", parent=parent, published=True)
    assert _drain(app).sent == 0
    with app.app_context():
        row = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.topic == "reply")
        )
    assert row.status is OutboxStatus.PENDING and row.batch_key.startswith("reply:")


@pytest.mark.parametrize("status", [CommentStatus.HELD, CommentStatus.REJECTED])
def test_a_held_or_rejected_reply_sends_no_mail(mail_app, handler, status):
    thread = _thread(mail_app)
    parent = _subscribed(mail_app, thread)
    _comment(
        mail_app,
        thread,
        "Nope",
        handle="Bob",
        parent=parent,
        status=status,
        published=True,
    )
    assert _drain(mail_app).handled == 0
    _none_arrives(handler, 0)


def test_a_reply_removed_before_the_mail_goes_is_left_out(mail_app, handler):
    thread = _thread(mail_app)
    parent = _subscribed(mail_app, thread)
    kept = _comment(
        mail_app, thread, "Kept", handle="Bob", parent=parent, published=True
    )
    gone = _comment(
        mail_app, thread, "Gone", handle="Eve", parent=parent, published=True
    )
    with mail_app.app_context():
        db.session.get(Comment, gone).status = CommentStatus.REJECTED
        db.session.commit()
    _drain(mail_app)
    [message] = handler.wait_for(1)
    plain = message.get_body(("plain",)).get_content()
    assert "Kept" in plain and f"#comment-{kept}" in plain and "Gone" not in plain
    # All of a batch gone: no mail at all.
    with mail_app.app_context():
        db.session.get(Comment, kept).status = CommentStatus.HELD
        db.session.commit()
    late = _comment(
        mail_app, thread, "Later", handle="Zed", parent=parent, published=True
    )
    with mail_app.app_context():
        db.session.get(Comment, late).status = CommentStatus.HELD
        db.session.commit()
    assert _drain(mail_app).dropped == 1
    _none_arrives(handler, 1)


def test_replying_to_yourself_sends_no_mail(mail_app, handler):
    thread = _thread(mail_app)
    parent = _subscribed(mail_app, thread)
    # The same handle (any case and spacing) or the same address.
    _comment(
        mail_app, thread, "Also me", handle="  alice ", parent=parent, published=True
    )
    _comment(
        mail_app,
        thread,
        "Me again",
        handle="Other",
        email=READER.upper(),
        parent=parent,
        published=True,
    )
    assert _drain(mail_app).handled == 0
    _none_arrives(handler, 0)


def test_a_reply_to_a_comment_that_did_not_opt_in_sends_nothing(mail_app, handler):
    thread = _thread(mail_app)
    _subscribed(mail_app, thread)  # the address is confirmed...
    other = _comment(mail_app, thread, "No box", email=READER, notify=False)
    _comment(mail_app, thread, "Hi", handle="Bob", parent=other, published=True)
    assert _drain(mail_app).handled == 0  # ...but this comment did not ask


# Leaving ----------------------------------------------------------------------


def test_one_click_unsubscribe_stops_reply_mails(mail_app, handler):
    thread = _thread(mail_app)
    parent = _subscribed(mail_app, thread)
    _comment(mail_app, thread, "One", handle="Bob", parent=parent, published=True)
    _drain(mail_app)
    [first] = handler.wait_for(1)
    target = _path(first["List-Unsubscribe"].strip("<>"))
    # What a mail client sends (RFC 8058): a POST with this body, no cookie.
    answer = mail_app.test_client().post(
        target,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 200
    assert _state(mail_app) is AddressState.UNSUBSCRIBED
    _comment(mail_app, thread, "Two", handle="Carol", parent=parent, published=True)
    _drain(mail_app)
    _none_arrives(handler, 1)
    with mail_app.app_context():
        entry = db.session.scalar(
            sa.select(AuditEntry).where(
                AuditEntry.action == "mail_address.unsubscribed"
            )
        )
    assert entry is not None and entry.actor == "reader"


def test_stop_all_mail_is_for_good_even_after_a_new_opt_in(mail_app, handler):
    thread = _thread(mail_app)
    parent = _subscribed(mail_app, thread)
    _comment(mail_app, thread, "One", handle="Bob", parent=parent, published=True)
    _drain(mail_app)
    [first] = handler.wait_for(1)
    stop = _link(first, "stop")
    client = mail_app.test_client()
    assert "Stop all mail</button>" in client.get(stop).text
    assert _state(mail_app) is AddressState.CONFIRMED
    assert client.post(stop).status_code == 200
    assert _state(mail_app) is AddressState.STOPPED
    # A new opt-in: no confirmation, no reset; a confirm link changes nothing.
    _comment(mail_app, thread, "Again", email=READER, notify=True, posted=True)
    with mail_app.app_context():
        address_id = db.session.scalar(sa.select(MailAddress.id))
        confirm = _path(tokens.link(address_id, tokens.CONFIRM))
    assert client.post(confirm).status_code == 200
    assert _state(mail_app) is AddressState.STOPPED
    _comment(mail_app, thread, "Two", handle="Carol", parent=parent, published=True)
    _drain(mail_app)
    _none_arrives(handler, 1)
    with mail_app.app_context():
        actions = list(db.session.scalars(sa.select(AuditEntry.action)))
    assert actions.count("mail_address.stopped") == 1
    assert "mail_address.confirmed" not in actions


def test_a_bounce_is_audited_as_the_mail_system(make_app):
    with smtp_server("refuse") as (url, _):
        app = make_app(MAIL_URL=url, REPLY_BATCH_SECONDS=0, IN_PROCESS_WORKER=False)
        thread = _thread(app)
        parent = _subscribed(app, thread)
        _comment(app, thread, "Hi", handle="Bob", parent=parent, published=True)
        assert _drain(app).failed == 1
        assert _state(app) is AddressState.BOUNCED
        with app.app_context():
            entry = db.session.scalar(
                sa.select(AuditEntry).where(AuditEntry.action == "mail_address.bounced")
            )
        assert entry is not None and entry.actor == "mail"


def _old_token(app, address_id: int, purpose: str) -> str:
    """A token signed by us eight days ago."""

    class EightDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 8 * 24 * 3600

    serializer = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt="moderation.mail-links", signer=EightDaysAgo
    )
    return serializer.dumps({"a": address_id, "p": purpose})


def test_forged_wrong_and_expired_links_are_a_clear_400(mail_app):
    thread = _thread(mail_app)
    _comment(mail_app, thread, email=READER, notify=True, posted=True)
    with mail_app.app_context():
        address_id = db.session.scalar(sa.select(MailAddress.id))
        unsubscribe = tokens.issue(address_id, tokens.UNSUBSCRIBE)
    forged = URLSafeTimedSerializer("not our key", salt="moderation.mail-links").dumps(
        {"a": address_id, "p": "confirm"}
    )
    client = mail_app.test_client()
    for method in (client.get, client.post):
        bad = method(f"/mail/confirm/{forged}")
        assert bad.status_code == 400 and "This link is not valid" in bad.text
        # An unsubscribe token does not confirm.
        assert method(f"/mail/confirm/{unsubscribe}").status_code == 400
        assert method("/mail/stop/x").status_code == 400
    expired = client.post(
        f"/mail/confirm/{_old_token(mail_app, address_id, 'confirm')}"
    )
    assert expired.status_code == 400 and "has expired" in expired.text
    assert _state(mail_app) is AddressState.PENDING
    # Unsubscribe and stop links never expire.
    old = _old_token(mail_app, address_id, "unsubscribe")
    assert client.post(f"/mail/unsubscribe/{old}").status_code == 200
    assert _state(mail_app) is AddressState.UNSUBSCRIBED


# Outcomes ----------------------------------------------------------------------


@pytest.mark.parametrize("setting", [False, True])
def test_an_outcome_mail_only_when_the_site_says_so(make_app, mail, handler, setting):
    app = make_app(MAIL_URL=mail[0], REPLY_BATCH_SECONDS=0, IN_PROCESS_WORKER=False)
    thread = _thread(app, notify_outcomes=setting)
    _subscribed(app, thread)
    approved = _comment(app, thread, "Held then approved", email=READER, notify=True)
    refused = _comment(
        app,
        thread,
        "Held then refused",
        email=READER,
        notify=True,
        status=CommentStatus.REJECTED,
    )
    with app.app_context():
        replies.on_outcome(db.session.get(Comment, approved), approved=True)
        replies.on_outcome(db.session.get(Comment, refused), approved=False)
        db.session.commit()
    done = _drain(app)
    if not setting:
        assert done.handled == 0
        _none_arrives(handler, 0)
        return
    assert done.sent == 2
    messages = handler.wait_for(2)
    subjects = sorted(m["Subject"] for m in messages)
    assert subjects == [
        "Your comment on “A <b>big</b> story” is published",
        "Your comment on “A <b>big</b> story” was not published",
    ]
    published = next(m for m in messages if m["Subject"].endswith("is published"))
    assert (
        f"{ARTICLE}#comment-{approved}" in published.get_body(("plain",)).get_content()
    )
    for message in messages:
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_french_reader_gets_french_mail_and_pages(make_app, mail, handler, tmp_path):
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from moderation.config import PROJECT_ROOT

    po = PROJECT_ROOT / "moderation/translations/fr/LC_MESSAGES/messages.po"
    target = tmp_path / "translations" / "fr" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with po.open("rb") as source, (target / "messages.mo").open("wb") as output:
        write_mo(output, read_po(source, locale="fr"))
    app = make_app(
        MAIL_URL=mail[0],
        REPLY_BATCH_SECONDS=0,
        IN_PROCESS_WORKER=False,
        BABEL_TRANSLATION_DIRECTORIES=str(tmp_path / "translations"),
    )
    thread = _thread(app)
    with app.test_request_context("/embed/news/big-story?lang=fr"):
        comment = Comment(
            thread_id=thread,
            handle="Léa",
            email=READER,
            body="Bonjour",
            html=render_body("Bonjour"),
            fingerprint=fingerprint("Bonjour"),
            status=CommentStatus.PUBLISHED,
            notify_replies=True,
        )
        db.session.add(comment)
        db.session.flush()
        replies.on_posted(comment)
        db.session.commit()
    _drain(app)
    [confirm] = handler.wait_for(1)
    assert "Confirmez" in confirm["Subject"]
    link = _link(confirm, "confirm")
    assert "lang=fr" in link
    client = app.test_client()
    page = client.get(link)
    assert '<html lang="fr">' in page.text and "Confirmer</button>" in page.text
    assert "Adresse confirmée" in client.post(link).text
    bad = client.get("/mail/confirm/x", headers={"Accept-Language": "fr"})
    assert bad.status_code == 400 and "Ce lien ne fonctionne pas" in bad.text
