"""Reader pages in French: `?lang=fr` or the browser's Accept-Language.

The catalogue is compiled here from the .po (as `make setup` does), so the test
also proves the .po compiles and is complete.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from moderation.config import PROJECT_ROOT
from moderation.extensions import db
from moderation.models import Comment, CommentStatus

TRANSLATIONS = PROJECT_ROOT / "moderation" / "translations"
FRENCH_PO = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture(scope="module")
def catalogues(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """moderation/translations compiled into a directory of the test's own."""
    root = tmp_path_factory.mktemp("translations")
    with FRENCH_PO.open("rb") as source:
        catalog = read_po(source, locale="fr")
    target = root / "fr" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as output:
        write_mo(output, catalog)
    return root


@pytest.fixture
def french_client(make_app, catalogues, demo):
    return make_app(BABEL_TRANSLATION_DIRECTORIES=str(catalogues)).test_client()


def test_french_catalogue_is_complete_and_well_formed():
    with FRENCH_PO.open("rb") as source:
        catalog = read_po(source, locale="fr")
    messages = [m for m in catalog if m.id]
    assert len(messages) > 30
    untranslated = [m.id for m in messages if not m.string or m.fuzzy]
    assert untranslated == []
    # Placeholders (%(n)d, %(handle)s) must survive translation.
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert problems == []


def test_lang_parameter_renders_french_labels_and_dates(french_client, demo):
    page = french_client.get(f"{demo.embed}?lang=fr")
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    text = _text(page.text)
    assert "Laisser un commentaire" in text
    assert "Publier le commentaire" in text
    assert "Répondre" in text
    assert "Signaler" in text
    assert "Gary1990 6 novembre 2023 à 00:41" in text
    assert "Leave a Comment" not in text
    assert "November 6, 2023" not in text


def test_accept_language_renders_french(french_client, demo):
    page = french_client.get(demo.embed, headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="fr">' in page.text
    text = _text(page.text)
    assert "Laisser un commentaire" in text
    assert "JessieK 6 novembre 2023 à 20:46" in text


def test_english_is_unchanged(french_client, demo):
    for headers in ({}, {"Accept-Language": "en-GB,en;q=0.8"}):
        page = french_client.get(demo.embed, headers=headers)
        assert '<html lang="en">' in page.text
        text = _text(page.text)
        assert "Gary1990 November 6, 2023 - 12:41 am" in text
        assert "Leave a Comment" in text
        assert "Post Comment" in text


def test_french_post_result_and_report_form(french_client, demo, app):
    with app.app_context():
        comment_id = db.session.scalar(
            sa.select(Comment.id)
            .where(Comment.status == CommentStatus.PUBLISHED)
            .order_by(Comment.id)
        )
    form = french_client.get(f"{demo.embed}/comments/{comment_id}/report?lang=fr")
    assert '<html lang="fr">' in form.text
    text = _text(form.text)
    assert "Signaler un commentaire" in text
    assert "Spam ou publicité" in text
    assert "Envoyer le signalement" in text


def test_gettext_outside_a_request_is_english(app):
    from flask_babel import gettext

    # The worker and the CLI have an app context but no request to choose from.
    with app.app_context():
        assert gettext("Please write a comment.") == "Please write a comment."


def test_french_reader_is_answered_in_french_after_posting(french_client, demo):
    from support import BROWSER_POST

    from helpers import form_token

    path = f"{demo.embed}?lang=fr"
    token = form_token(french_client, path)
    empty = french_client.post(
        path, data={"handle": "Léa", "body": " ", "token": token}, headers=BROWSER_POST
    )
    assert empty.status_code == 422
    assert "Veuillez écrire un commentaire." in empty.text
    posted = french_client.post(
        path,
        data={"handle": "Léa", "body": "Merci pour cet article.", "token": token},
        headers=BROWSER_POST,
    )
    assert posted.status_code == 201
    assert "Merci, Léa : votre commentaire est publié." in _text(posted.text)
    assert '<html lang="fr">' in posted.text


def test_an_edited_comment_says_when_in_the_readers_language(french_client, demo, app):
    from datetime import UTC, datetime

    with app.app_context():
        comment = db.session.scalar(
            sa.select(Comment).where(Comment.status == CommentStatus.PUBLISHED).limit(1)
        )
        comment.edited_at = datetime(2026, 12, 3, 15, 4, tzinfo=UTC)
        comment.thread.revision += 1
        db.session.commit()
    french = _text(french_client.get(f"{demo.embed}?lang=fr").text)
    # The site's zone (America/New_York), the reader's language and format.
    assert "3 décembre 2026 à 10:04" in french
    english = _text(french_client.get(demo.embed).text)
    assert "December 3, 2026 - 10:04 am" in english
