"""Themes and site overrides for the iframe, and permalinks to comments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from moderation.embed.themes import overrides_css, valid_overrides
from moderation.errors import InvalidInput
from moderation.extensions import db
from moderation.models import Thread

from helpers import post_from_iframe

EMBED_CSS = Path(__file__).parents[1] / "moderation/static/css/embed.css"


def test_theme_css_serves_valid_overrides_as_custom_properties(client):
    response = client.get(
        "/embed/theme.css",
        query_string={
            "accent": "#C0FFEE",
            "text": "123",
            "background": "#fff",
            "font": "Georgia, 'Times New Roman', serif",
            "size": "18px",
        },
    )
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert "public" in response.headers["Cache-Control"]
    css = response.text
    assert "--mod-accent: #c0ffee !important;" in css
    assert "--mod-text: #123 !important;" in css
    assert "--mod-bg: #fff !important;" in css
    assert '--mod-font: "Georgia", "Times New Roman", serif !important;' in css
    assert "--mod-font-size: 18px !important;" in css


@pytest.mark.parametrize(
    "params",
    [
        {"accent": "red"},
        {"accent": "#12345"},
        {"accent": "#123;}body{display:none"},
        {"text": "url(https://evil.example/x)"},
        {"font": "Arial; color: red"},
        {"font": 'Arial"}body{x:y'},
        {"font": "a\\62 c"},
        {"font": ",".join(["Arial"] * 7)},
        {"size": "100"},
        {"size": "9px"},
        {"size": "1em"},
        {"colour": "#fff"},
    ],
)
def test_theme_css_refuses_bad_values_with_400(client, params):
    response = client.get(
        "/embed/theme.css",
        query_string=params,
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    body = response.get_json()
    assert set(body["fields"]) == set(params)


def test_only_the_allowlisted_characters_reach_the_stylesheet():
    css = overrides_css({"font": "Open Sans, system-ui", "border": "#AbC"})
    assert css == (
        ".embed {\n"
        '  --mod-border: #abc !important;\n  --mod-font: "Open Sans", system-ui '
        "!important;\n}\n"
    )
    with pytest.raises(InvalidInput):
        overrides_css({"font": "Open Sans</style>"})


def test_thread_page_takes_the_theme_from_its_url(client, demo):
    assert (
        'class="embed theme-dark"'
        in client.get(demo.embed, query_string={"theme": "dark"}).text
    )
    assert (
        'class="embed theme-light"'
        in client.get(demo.embed, query_string={"theme": "light"}).text
    )
    default = client.get(demo.embed)
    assert 'class="embed theme-auto"' in default.text
    assert "/embed/theme.css" not in default.text


def test_thread_page_links_valid_overrides_and_ignores_bad_ones(client, demo):
    page = client.get(
        demo.embed,
        query_string={"accent": "#aa0000", "size": "999", "theme": "nonsense"},
    )
    assert page.status_code == 200
    links = re.findall(r'href="(/embed/theme\.css[^"]*)"', page.text)
    assert links == ["/embed/theme.css?accent=%23aa0000"]
    assert 'class="embed theme-auto"' in page.text
    assert client.get(links[0].replace("&amp;", "&")).status_code == 200
    assert "999" not in page.text.split("<main")[0]


def test_theme_survives_posting_and_replying(client, demo):
    path = f"{demo.embed}?theme=dark&accent=%23aa0000"
    page = client.get(path).text
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1)
    assert "theme=dark" in action and "accent=%23aa0000" in action
    assert re.search(r'reply_to=\d+[^"]*theme=dark', page)
    response = post_from_iframe(client, action.replace("&amp;", "&"))
    assert response.status_code == 201
    assert 'class="embed theme-dark"' in response.text
    assert "/embed/theme.css?accent=%23aa0000" in response.text


def test_valid_overrides_keeps_only_good_values():
    assert valid_overrides({"accent": "#abc", "text": "blue", "x": "#fff"}) == {
        "accent": "#abc"
    }


def test_every_colour_and_font_in_embed_css_is_a_custom_property():
    css = re.sub(r"/\*.*?\*/", "", EMBED_CSS.read_text(), flags=re.S)
    for prop, value in re.findall(r"([\w-]+)\s*:\s*([^;{}]+)", css):
        if prop.startswith("--") or prop in {"a", "input", "button", "time"}:
            continue
        assert not re.search(r"#[0-9a-fA-F]{3,8}\b|rgba?\(|hsla?\(", value), prop
        if prop in {"font", "font-family", "color", "background", "background-color"}:
            assert "var(--mod-" in value or value.strip() in {
                "inherit",
                "none",
            }, (prop, value)
    for theme in (".embed.theme-dark", "prefers-color-scheme: dark"):
        assert theme in css


def test_each_comment_links_to_its_place_on_the_article(client, demo, app):
    page = client.get(demo.embed).text
    links = re.findall(
        r'<a class="permalink" href="([^"]+)" target="_top" rel="noopener"', page
    )
    assert len(links) == 5
    assert all(
        re.fullmatch(r"http://localhost/demo#comment-\d+", link) for link in links
    )
    with app.app_context():
        thread = db.session.get(Thread, demo.id)
        thread.url = ""
        thread.revision += 1  # as every change readers can see does
        db.session.commit()
    assert 'class="permalink"' not in client.get(demo.embed).text


def test_permalink_view_loads_the_scrolling_script(client, demo):
    page = client.get(demo.embed, query_string={"comment": "1"}).text
    assert "/static/js/receipts.js" in page
    assert 'id="comment-1"' in page
