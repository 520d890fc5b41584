"""Handle identity: one key for every look-alike spelling; trust bound to its reader."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from moderation import create_app
from moderation.extensions import db
from moderation.models import (
    BanKind,
    Comment,
    CommentStatus,
    Moderator,
    Site,
    Trust,
)
from moderation.screening.handles import KEY_MAX, handle_key
from moderation.services import bans
from moderation.services.comments import decide
from moderation.services.erasure import Reader, find_comments

SNEAKY_SPELLINGS = (
    "SneakyS",
    "Sneaky S",
    "sneaky_s",
    "sneaky.s",
    "Snеaky-S",  # a Cyrillic е
    "ＳｎｅａｋｙＳ",  # full width
    "𝐒𝐧𝐞𝐚𝐤𝐲𝐒",  # mathematical bold
    "Sneaky\u200bS",  # a zero-width space
    "  SNEAKY   s ",
)
ANOTHER_NETWORK = {"REMOTE_ADDR": "203.0.113.9"}
THIRD_NETWORK = {"REMOTE_ADDR": "198.51.100.20"}


@pytest.mark.parametrize("spelled", SNEAKY_SPELLINGS)
def test_look_alike_spellings_share_one_key(spelled):
    assert handle_key(spelled) == "sneakys"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Anna", "Anna."),
        ("Regular", "Regu1ar"),  # a digit one reads as an l
        ("Bob0", "bobo"),  # a zero reads as an o
        ("Straße", "STRASSE"),  # case folding
        ("Ｍａｒｉｅ－Ｃｌａｉｒｅ", "marie claire"),
        ("Jean\u2019s", "jeans"),  # an apostrophe is punctuation
    ],
)
def test_same_handles_share_a_key(one, other):
    assert handle_key(one) == handle_key(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Anna", "Anne"),
        ("Sam", "Pam"),
        ("José", "Jose"),  # accents are kept, as in Unicode's skeleton
        ("Кира", "Кирк"),  # Cyrillic handles keep their own letters
        ("Reader1", "Reader2"),
        ("李明", "李朋"),
    ],
)
def test_distinct_handles_keep_distinct_keys(one, other):
    assert handle_key(one) != handle_key(other)


def test_a_key_is_its_own_key_and_fits_the_column():
    for spelled in (*SNEAKY_SPELLINGS, "Sam", "ᒮ", "⏨", "m" * 40, "...", "Zoë"):
        key = handle_key(spelled)
        assert handle_key(key) == key
        assert 0 < len(key) <= KEY_MAX
    assert handle_key("...") == "..."  # punctuation alone stays a key


# On the site -------------------------------------------------------------------


def _site() -> Site:
    return db.session.scalar(sa.select(Site).filter_by(slug="demo"))


@pytest.fixture
def site_moderator(app, demo, moderator) -> int:
    """The `moderator` fixture, working the demo site."""
    with app.app_context():
        found = db.session.get(Moderator, moderator)
        found.sites.append(_site())
        db.session.commit()
    return moderator


def _premoderate(app, trust_after: int = 0) -> None:
    with app.app_context():
        site = _site()
        site.premoderate = True
        site.trust_after = trust_after
        db.session.commit()


def _set_trust(app, moderator_id: int, handle: str, **values) -> None:
    with app.app_context():
        bans.set_handle(
            _site(),
            handle,
            moderator=db.session.get(Moderator, moderator_id),
            premoderate=values.get("premoderate", False),
            trust=values.get("trust", Trust.AUTO),
        )


def _post(client, demo, handle, body, email=None, environ=None):
    payload = {"handle": handle, "body": body}
    if email:
        payload["email"] = email
    return client.post(demo.api, json=payload, environ_base=environ or {})


def test_a_handle_ban_holds_every_spelling(app, client, demo, site_moderator):
    with app.app_context():
        bans.ban(
            _site(),
            BanKind.HANDLE,
            "SneakyS",
            moderator=db.session.get(Moderator, site_moderator),
            reason="abuse",
            duration=None,
        )
    for spelled in ("Sneaky S", "sneaky.s", "Snеaky-S", "ＳｎｅａｋｙＳ", "sneaky_s"):
        response = _post(client, demo, spelled, "Back again.")
        assert response.status_code == 403, spelled
    assert _post(client, demo, "Sneaky T", "Someone else.").status_code == 201
    with app.app_context():
        # A moderator's view of the handle finds the ban under any spelling.
        assert bans.handle_bans(_site(), "SNEAKY s")


def test_comments_store_their_handle_key_however_they_are_made(app, client, demo):
    response = _post(client, demo, "Ｐａｔ Ｏ", "Hello.")
    with app.app_context():
        assert db.session.get(Comment, response.json["id"]).handle_key == "pato"
        # Imports, the demo and staff build Comment rows: the model keys them.
        assert Comment(handle="Snеaky-S").handle_key == "sneakys"
        seeded = db.session.scalars(sa.select(Comment.handle_key)).all()
        assert seeded and all(seeded)


def test_trust_belongs_to_the_reader_who_earned_it(app, client, demo, site_moderator):
    first = _post(client, demo, "Regular", "Hello all.", email="reg@example.com")
    assert first.status_code == 201
    _premoderate(app)
    _set_trust(app, site_moderator, "Regular", trust=Trust.TRUSTED)
    # The reader who earned it: from their network, in any spelling.
    assert _post(client, demo, "Regular", "Nice.").status_code == 201
    assert _post(client, demo, "regular ", "Nice again.").status_code == 201
    # Or with their email, from elsewhere.
    travelling = _post(
        client, demo, "Regular", "From a café.", "REG@example.com", ANOTHER_NETWORK
    )
    assert travelling.status_code == 201
    # Someone else typing the handle, in any spelling, is a new reader.
    for spelled in ("Regular", "Regu1ar", "Rеgular"):
        impostor = _post(
            client,
            demo,
            spelled,
            f"Trust me, {spelled}.",
            "fake@example.com",
            THIRD_NETWORK,
        )
        assert impostor.status_code == 202, spelled
        assert impostor.json["status"] == "held"
    with app.app_context():
        reasons = [
            d.reason for d in db.session.get(Comment, impostor.json["id"]).decisions
        ]
    assert reasons == ["pre-moderated: every comment is reviewed"]


def test_a_trusted_handle_that_never_published_trusts_nobody(
    app, client, demo, site_moderator
):
    _premoderate(app)
    _set_trust(app, site_moderator, "Newcomer", trust=Trust.TRUSTED)
    assert _post(client, demo, "Newcomer", "First words.").json["status"] == "held"


def test_auto_trust_does_not_transfer(app, client, demo, site_moderator):
    _premoderate(app, trust_after=2)
    ids = [
        _post(client, demo, "Newbie", f"Point {n}.", "new@example.com").json["id"]
        for n in range(2)
    ]
    with app.app_context():
        moderator = db.session.get(Moderator, site_moderator)
        for comment_id in ids:
            decide(
                db.session.get(Comment, comment_id), moderator, CommentStatus.PUBLISHED
            )
    # Two approved comments under the handle, none of them the stranger's.
    stranger = _post(
        client, demo, "NEWBIE", "Me too.", "x@example.com", ANOTHER_NETWORK
    )
    assert stranger.json["status"] == "held"
    # The stranger's approved comments count for the stranger alone, and one is
    # not enough: the reader's two are not added to it.
    with app.app_context():
        decide(
            db.session.get(Comment, stranger.json["id"]),
            db.session.get(Moderator, site_moderator),
            CommentStatus.PUBLISHED,
        )
    again = _post(client, demo, "Newbie", "Again.", "x@example.com", ANOTHER_NETWORK)
    assert again.json["status"] == "held"
    # The reader who earned it is trusted, by network or by email.
    assert _post(client, demo, "Newbie", "Point 3.").status_code == 201
    moved = _post(
        client, demo, "Newbie", "Point 4.", "new@example.com", ANOTHER_NETWORK
    )
    assert moved.status_code == 201


def test_a_premoderated_handle_holds_every_spelling(app, client, demo, site_moderator):
    first = _post(client, demo, "Watched", "Hello.")
    assert first.status_code == 201
    _set_trust(app, site_moderator, "Watched", premoderate=True)
    for spelled in ("Watched", "W a t c h e d", "ＷＡＴＣＨＥＤ"):
        assert _post(client, demo, spelled, f"Clean, {spelled}.").json["status"] == (
            "held"
        )


def test_history_and_erasure_find_every_spelling(app, client, demo, site_moderator):
    for spelled in ("SneakyS", "Sneaky S"):
        assert _post(client, demo, spelled, f"As {spelled}.").status_code == 201
    with app.app_context():
        assert len(bans.recent_comments(_site(), "sneaky.s")) == 2
        assert len(find_comments(Reader(handle="SNEAKY_S"))) == 2


# The migration --------------------------------------------------------------------


def _insert(table: str, **values) -> None:
    """A row at the schema of the moment, its other required columns filled."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=db.engine)
    for column in reflected.columns:
        if column.name in values or column.nullable or column.server_default:
            continue
        try:
            python = column.type.python_type
        except NotImplementedError:
            python = str
        values[column.name] = {
            bool: False,
            int: 0,
            float: 0.0,
            dict: {},
            list: [],
            datetime: datetime(2026, 1, 1),
        }.get(python, "")
    db.session.execute(reflected.insert().values(**values))


def test_migration_0007_keys_comments_handles_and_bans(tmp_path, app_config):
    if not app_config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return  # PostgreSQL: the session fixture already ran the upgrade there
    app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'keys.db'}"
    app = create_app(app_config)
    with app.app_context():
        upgrade(revision="0006")
        _insert("sites", id=1, slug="s", name="S")
        _insert("threads", id=1, site_id=1, key="t")
        for n, handle in enumerate(["SneakyS", "Sneaky S", "Snеaky-S", "Anna"], 1):
            _insert("comments", id=n, thread_id=1, handle=handle, status="published")
        for row_id, handle, premoderate, trust in [
            (1, "sneakys", False, "trusted"),
            (2, "sneaky s", True, "auto"),
            (3, "sneaky_s", False, "auto"),
            (4, "anna", False, "trusted"),
            (5, "bob 0", False, "untrusted"),
        ]:
            _insert(
                "handles",
                id=row_id,
                site_id=1,
                handle=handle,
                premoderate=premoderate,
                trust=trust,
            )
        _insert("bans", id=1, kind="handle", value="sneaky s")
        _insert("bans", id=2, kind="email", value="a.b@example.com")
        db.session.commit()
        upgrade(revision="0007")
        run = db.session.execute
        keys = dict(run(sa.text("SELECT id, handle_key FROM comments")).all())
        assert keys == {1: "sneakys", 2: "sneakys", 3: "sneakys", 4: "anna"}
        rows = run(
            sa.text("SELECT id, handle, premoderate, trust FROM handles ORDER BY id")
        ).all()
        # The three spellings merged into the first row, with the strictest
        # standing: pre-moderated (row 2) and auto over trusted (rows 2 and 3).
        assert [tuple(r) for r in rows] == [
            (1, "sneakys", 1, "auto"),
            (4, "anna", 0, "trusted"),
            (5, "bobo", 0, "untrusted"),
        ]
        values = dict(run(sa.text("SELECT id, value FROM bans")).all())
        assert values == {1: "sneakys", 2: "a.b@example.com"}
        db.session.commit()
        downgrade(revision="0006")
        columns = {c["name"] for c in db.inspect(db.engine).get_columns("comments")}
        assert "handle_key" not in columns
        db.engine.dispose()
