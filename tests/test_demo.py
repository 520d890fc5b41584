"""The demo: the seed article as a publisher's page, its thread in an iframe."""

from __future__ import annotations

from datetime import datetime

from moderation.demo.article import load_article
from moderation.demo.loader import demo_origins


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
