"""The demo: the seed article as a publisher's page, its thread in an iframe."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from support import MODERATOR_PASSWORD

from moderation.demo.article import load_article
from moderation.demo.loader import ACTOR, OLD_NAME, demo_origins
from moderation.extensions import db
from moderation.models import AuditEntry, Moderator, Role, Site
from moderation.services.sites import form_values


def test_seed_article_parses_into_its_parts():
    article = load_article()
    assert article.headline == "Diplomatic Efforts Intensify Amid Israel-Hamas Conflict"
    assert article.byline == "Lucas Garcia"
    assert [s.heading for s in article.sections if s.heading] == [
        "Escalation in the Israel-Hamas Conflict",
        "Regional Diplomacy and Security Concerns",
    ]
    assert len(article.faq) == 5
    assert [c.handle for c in article.comments] == [
        "Gary1990",
        "Mike Randal",
        "Sam_techguru",
        "Elaine Cruz",
        "JessieK",
    ]
    assert article.comments[0].local_time == datetime(2023, 11, 6, 0, 41)
    assert article.comments[-1].local_time == datetime(2023, 11, 6, 20, 46)


def test_demo_page_shows_the_article_and_embeds_the_thread_by_iframe(client, demo):
    page = client.get("/demo")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Diplomatic Efforts Intensify Amid Israel-Hamas Conflict</h1>" in html
    assert "by Lucas Garcia" in html
    assert "Frequently Asked Questions" in html
    assert '<iframe class="moderation-thread"' in html
    assert 'src="/embed/demo/seed-article?origin=http://localhost"' in html


def test_embedded_thread_knows_its_parent_only_when_the_site_allows_it(client, demo):
    allowed = client.get("/embed/demo/seed-article?origin=http://localhost").text
    assert 'data-parent-origin="http://localhost"' in allowed
    foreign = client.get("/embed/demo/seed-article?origin=https://evil.example").text
    assert 'data-parent-origin=""' in foreign


def test_front_page_links_to_demo_queue_and_api(client):
    html = client.get("/").text
    assert 'href="/demo"' in html and 'href="/mod/"' in html
    assert 'href="/api/v1/openapi.json"' in html


def test_demo_origins_follow_the_public_url():
    assert demo_origins("http://127.0.0.1:9000") == [
        "http://127.0.0.1:9000",
        "http://localhost:9000",
    ]
    assert demo_origins("https://comments.example") == ["https://comments.example"]


def test_demo_page_embeds_with_the_publishers_script_tag(client, demo):
    html = client.get("/demo").text
    assert '<script src="/static/js/embed.js" data-site="demo"' in html
    assert 'data-thread="seed-article"' in html
    assert 'data-url="http://localhost/demo"' in html
    # The comment count beside the byline comes from count.js.
    assert 'data-moderation-count data-site="demo"' in html
    assert client.get("/static/js/embed.js").status_code == 200
    assert client.get("/static/js/count.js").status_code == 200


# load-demo again: what an admin saved stays -----------------------------------


def _demo_site() -> Site:
    return db.session.scalar(sa.select(Site).filter_by(slug="demo"))


def _demo_site_state(app):
    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
        return site.name, list(site.allowed_origins), site.timezone


def _audit_rows(app, action):
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)
            )
        )


def _admin_client(app):
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        admin = Moderator(email="admin@example.com", name="Admin", role=Role.ADMIN)
        admin.set_password(MODERATOR_PASSWORD)
        db.session.add(admin)
        db.session.commit()
    client = app.test_client()
    login = {"email": "admin@example.com", "password": MODERATOR_PASSWORD}
    assert client.post("/mod/login", data=login).status_code == 302
    return client


def _load_demo(app, *args: str):
    result = app.test_cli_runner().invoke(args=["load-demo", *args])
    assert result.exit_code == 0, result.output
    return result


def test_load_demo_again_keeps_the_origins_an_admin_saved(app, demo):
    admin = _admin_client(app)
    page = admin.get("/mod/manage/sites/demo/settings")
    assert page.status_code == 200
    with app.app_context():
        values = form_values(_demo_site())
    values["allowed_origins"] = "http://localhost\nhttps://publisher.example"
    values["timezone"] = "Europe/Paris"
    saved = admin.post("/mod/manage/sites/demo/settings", data=values)
    assert saved.status_code == 303, saved.text
    before = _demo_site_state(app)
    assert before[1] == ["http://localhost", "https://publisher.example"]
    settings_rows = len(_audit_rows(app, "site.settings"))

    _load_demo(app)  # as `make run` does on every start

    assert _demo_site_state(app) == before
    # Nothing changed, so nothing was written in the log either.
    assert len(_audit_rows(app, "site.settings")) == settings_rows


def test_load_demo_adds_missing_origins_to_the_saved_ones_and_audits_it(app, demo):
    with app.app_context():
        site = _demo_site()
        site.allowed_origins = ["https://publisher.example"]
        db.session.commit()
    app.config["DEMO_EXTRA_ORIGINS"] = "https://staging.publisher.example"

    _load_demo(app, "--public-url", "http://127.0.0.1:9000")

    _, origins, _ = _demo_site_state(app)
    assert origins == [
        "https://publisher.example",  # the admin's, first and kept
        "http://127.0.0.1:9000",
        "http://localhost:9000",
        "https://staging.publisher.example",
    ]
    (entry,) = [e for e in _audit_rows(app, "site.settings") if e.actor == ACTOR]
    assert entry.before == {"allowed_origins": ["https://publisher.example"]}
    assert entry.after == {"allowed_origins": origins}
    assert "https://staging.publisher.example" in entry.reason

    _load_demo(app, "--public-url", "http://127.0.0.1:9000")  # again: no change
    assert [e.actor for e in _audit_rows(app, "site.settings")] == [ACTOR]
    assert _demo_site_state(app)[1] == origins


def test_demo_site_is_named_once_as_demo_in_lists(app, demo):
    name, _, _ = _demo_site_state(app)
    assert "(demo)" not in name
    sites = _admin_client(app).get("/mod/manage/sites").text
    assert "(demo) (demo)" not in sites and "(demo)" in sites  # the slug, once
    # A database from before: renamed once, audited.
    with app.app_context():
        _demo_site().name = OLD_NAME
        db.session.commit()
    _load_demo(app)
    assert _demo_site_state(app)[0] == name
    (renamed,) = _audit_rows(app, "site.renamed")
    assert renamed.before == {"name": OLD_NAME} and renamed.after == {"name": name}
