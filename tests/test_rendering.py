"""Bodies render from a small markdown subset, HTML off, cleaned by nh3."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from moderation.rendering import display_time, render_body


@pytest.mark.parametrize(
    ("body", "html"),
    [
        ("plain", "<p>plain</p>"),
        ("*em* and **strong**", "<p><em>em</em> and <strong>strong</strong></p>"),
        ("one\ntwo", "<p>one<br>\ntwo</p>"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("# not a heading", "<p># not a heading</p>"),
        ("<b>raw</b>", "<p>&lt;b&gt;raw&lt;/b&gt;</p>"),
    ],
)
def test_markdown_subset(body, html):
    assert render_body(body) == html


def test_links_get_rel_and_only_safe_schemes():
    html = render_body("[a](https://example.com) [b](javascript:alert(1)) [c](data:x)")
    assert '<a href="https://example.com" rel="nofollow ugc noopener">a</a>' in html
    assert "javascript:" not in html.replace("[b](javascript:alert(1))", "")
    assert 'href="javascript' not in html and 'href="data' not in html


def test_bare_urls_become_links():
    assert 'href="https://example.org/x"' in render_body("see https://example.org/x")


def test_images_and_event_handlers_never_survive():
    html = render_body('![x](https://e.com/i.png) <img src=x onerror="alert(1)">')
    assert "<img" not in html


def test_blns_strings_render_without_error():
    import json
    from pathlib import Path

    strings = json.loads((Path(__file__).parent / "data/blns/blns.json").read_text())
    for text in strings:
        html = render_body(text)
        assert "<script" not in html.lower()


@pytest.mark.parametrize(
    ("moment", "zone", "shown"),
    [
        (
            datetime(2023, 11, 6, 5, 41, tzinfo=UTC),
            "America/New_York",
            "November 6, 2023 - 12:41 am",
        ),
        (
            datetime(2023, 11, 7, 1, 46, tzinfo=UTC),
            "America/New_York",
            "November 6, 2023 - 8:46 pm",
        ),
        (
            datetime(2023, 11, 6, 12, 0, tzinfo=UTC),
            "UTC",
            "November 6, 2023 - 12:00 pm",
        ),
        (
            datetime(2024, 7, 1, 22, 5, tzinfo=UTC),
            "Europe/Berlin",
            "July 2, 2024 - 12:05 am",
        ),
    ],
)
def test_display_time_in_the_sites_zone(moment, zone, shown):
    assert display_time(moment, zone) == shown
