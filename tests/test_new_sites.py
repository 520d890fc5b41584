"""New sites (admin form and `flask moderation create-site`), and each site's
embed snippets: validated, audited, filled with the site's own values."""

from __future__ import annotations

from html import unescape

import pytest
import sqlalchemy as sa
from flask import Flask

from moderation.extensions import db
from moderation.models import AuditEntry, Role, Site

from staff_helpers import add_moderator, add_site, login

NEW = "/mod/manage/sites/new"
CREATE = ["moderation", "create-site"]


@pytest.fixture
def admin_client(app: Flask):
    add_site(app, "north")
    with app.app_context():
        north = db.session.scalar(sa.select(Site).filter_by(slug="north"))
        north.banned_words = ["scumbag"]
        north.link_limit = 4
        north.premoderate = True
        db.session.commit()
    add_moderator(app, "admin@example.com", Role.ADMIN)
    return login(app, "admin@example.com")


def _site(app: Flask, slug: str) -> Site | None:
    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug=slug))
        if site is not None:
            db.session.expunge(site)
        return site


def _created(app: Flask) -> list[AuditEntry]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEntry)
                .filter_by(action="site.created")
                .order_by(AuditEntry.id)
            )
        )


def _count_sites(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Site))


GOOD = {
    "slug": "daily-news",
    "name": "Daily News",
    "allowed_origins": "https://news.example\nhttps://www.news.example",
    "timezone": "Europe/Paris",
    "copy_from": "north",
    "reason": "new publisher",
}


def test_admin_creates_a_site_with_settings_copied_from_another(app, admin_client):
    listing = admin_client.get("/mod/manage/sites")
    assert f'href="{NEW}"' in listing.text
    form = admin_client.get(NEW)
    assert form.status_code == 200 and 'name="slug"' in form.text
    response = admin_client.post(NEW, data=GOOD)
    assert response.status_code == 303, response.text
    assert response.headers["Location"].endswith("/mod/manage/sites/daily-news/embed")
    site = _site(app, "daily-news")
    assert site is not None and site.name == "Daily News"
    assert site.allowed_origins == ["https://news.example", "https://www.news.example"]
    assert site.timezone == "Europe/Paris"
    # Copied from north: everything but its origins and time zone.
    assert (site.banned_words, site.link_limit, site.premoderate) == (
        ["scumbag"],
        4,
        True,
    )
    (entry,) = _created(app)
    assert entry.actor == "admin@example.com" and entry.reason == "new publisher"
    assert entry.site_id == site.id
    assert entry.after["slug"] == "daily-news"
    assert entry.after["copied_from"] == "north"
    assert entry.after["allowed_origins"] == site.allowed_origins


def test_a_site_without_one_to_copy_gets_the_defaults(app, admin_client):
    response = admin_client.post(NEW, data={**GOOD, "copy_from": ""})
    assert response.status_code == 303, response.text
    site = _site(app, "daily-news")
    assert site.banned_words == [] and site.premoderate is False


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"slug": "north"}, "slug", "exists already"),
        ({"slug": "Daily News"}, "slug", "is not a slug"),
        ({"slug": ""}, "slug", "Give the site a slug"),
        ({"name": " "}, "name", "Give the site a name"),
        ({"allowed_origins": "news.example/path"}, "allowed_origins", "not an origin"),
        ({"allowed_origins": ""}, "allowed_origins", "at least one origin"),
        ({"timezone": "Mars/Olympus"}, "timezone", "is not a time zone"),
    ],
)
def test_bad_new_sites_are_refused_clearly_and_nothing_is_made(
    app, admin_client, change, field, message
):
    before = _count_sites(app)
    response = admin_client.post(NEW, data={**GOOD, **change})
    assert response.status_code == 422
    text = unescape(response.text)
    assert message in text
    assert f'id="{field}-error"' in response.text
    assert _count_sites(app) == before
    assert _created(app) == []


def test_an_unknown_site_to_copy_is_a_400_not_a_500(app, admin_client):
    response = admin_client.post(NEW, data={**GOOD, "copy_from": "nowhere"})
    assert response.status_code == 400
    assert _site(app, "daily-news") is None


def test_only_admins_create_sites(app, admin_client):
    add_moderator(app, "mod@example.com", sites=["north"])
    moderator = login(app, "mod@example.com")
    assert moderator.get(NEW).status_code == 403
    assert moderator.post(NEW, data=GOOD).status_code == 403
    assert f'href="{NEW}"' not in moderator.get("/mod/manage/sites").text
    assert _site(app, "daily-news") is None


# The command -------------------------------------------------------------------


def test_create_site_command_creates_and_audits(app, admin_client):
    result = app.test_cli_runner().invoke(
        args=[
            *CREATE,
            "daily-news",
            "--name",
            "Daily News",
            "--origin",
            "https://news.example",
            "--origin",
            "https://www.news.example",
            "--timezone",
            "America/Chicago",
            "--copy-from",
            "north",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "created site daily-news (Daily News)" in result.output
    site = _site(app, "daily-news")
    assert site.allowed_origins == ["https://news.example", "https://www.news.example"]
    assert site.timezone == "America/Chicago" and site.link_limit == 4
    (entry,) = _created(app)
    assert entry.actor == "cli" and entry.after["copied_from"] == "north"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["north", "--name", "N", "--origin", "https://n.example"], "exists already"),
        (["bad slug", "--name", "N", "--origin", "https://n.example"], "not a slug"),
        (["ok", "--name", "N", "--origin", "n.example/x"], "not an origin"),
        (
            ["ok", "--name", "N", "--origin", "https://n.example", "--timezone", "X/Y"],
            "not a time zone",
        ),
        (
            ["ok", "--name", "N", "--origin", "https://n.example", "--copy-from", "z"],
            "no site 'z'",
        ),
    ],
)
def test_create_site_command_refuses_bad_input_with_an_error(
    app, admin_client, args, message
):
    before = _count_sites(app)
    result = app.test_cli_runner().invoke(args=[*CREATE, *args])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert message in result.output
    assert _count_sites(app) == before


def test_import_into_a_missing_site_names_the_command(app, tmp_path):
    export = tmp_path / "export.xml"
    export.write_text("<disqus></disqus>", encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["import", "disqus", str(export), "--site", "news"]
    )
    assert result.exit_code == 2
    assert "moderation create-site news" in " ".join(result.output.split())


# The embed snippets ------------------------------------------------------------


def test_embed_page_has_the_sites_snippets_ready_to_copy(app, admin_client):
    admin_client.post(NEW, data=GOOD)
    page = admin_client.get("/mod/manage/sites/daily-news/embed")
    assert page.status_code == 200
    text = unescape(page.text)
    public = app.config["PUBLIC_URL"]
    # The script tag, with the site's slug and an example article on its origin.
    assert f'<script src="{public}/static/js/embed.js"' in text
    assert 'data-site="daily-news" data-thread="story-1234"' in text
    assert 'data-url="https://news.example/2024/story-1234"' in text
    # The plain iframe, its origin and url encoded in the query.
    assert (
        f'src="{public}/embed/daily-news/story-1234?origin=https%3A%2F%2Fnews.example'
        "&amp;url=https%3A%2F%2Fnews.example%2F2024%2Fstory-1234" in text
    )
    # Selectable as text without script; the copy button only appears with it.
    assert '<pre id="snippet-script"' in page.text
    assert 'data-copy="snippet-script" hidden' in page.text
    assert "/static/js/copy.js" in page.text
    # The markup inside is shown, not run.
    assert "&lt;script src=" in page.text
    assert app.test_client().get("/static/js/copy.js").status_code == 200


def test_embed_page_uses_the_sites_latest_thread_and_is_linked(app, admin_client):
    page = unescape(admin_client.get("/mod/manage/sites/north/embed").text)
    assert 'data-thread="article"' in page  # add_site's thread
    assert 'data-title="north article"' in page
    assert (
        'href="/mod/manage/sites/north/embed"'
        in admin_client.get("/mod/manage/sites").text
    )
    assert (
        'href="/mod/manage/sites/north/embed"'
        in admin_client.get("/mod/manage/sites/north/settings").text
    )
    assert admin_client.get("/mod/manage/sites/nowhere/embed").status_code == 404


def test_snippet_values_are_escaped(app, admin_client):
    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="north"))
        site.threads[0].title = 'A "quoted" <b>title</b>'
        db.session.commit()
    page = admin_client.get("/mod/manage/sites/north/embed").text
    assert "<b>title</b>" not in page
    # Escaped once for the attribute (what the publisher pastes), once more for
    # the page that shows it.
    assert "<b>" not in unescape(page)
    assert 'data-title="A &quot;quoted&quot; &lt;b&gt;title&lt;/b&gt;"' in unescape(
        page
    )
