"""The cookieless reader path's checks: origins and form tokens."""

from __future__ import annotations

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from moderation.errors import ForbiddenOrigin
from moderation.models import Site
from moderation.origins import check_origin, frame_ancestors, origin_of

SITE = Site(slug="s", name="S", allowed_origins=["https://news.example"])


def _request(headers):
    return Request(
        EnvironBuilder(
            base_url="https://comments.example/", headers=headers
        ).get_environ()
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},  # not a browser: curl, a server-side integration
        {"Sec-Fetch-Site": "same-origin"},
        {"Origin": "https://comments.example", "Sec-Fetch-Site": "same-origin"},
        {"Origin": "https://news.example", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://NEWS.example"},
    ],
)
def test_allowed(headers):
    check_origin(_request(headers), SITE)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://news.example.evil.example"},
    ],
)
def test_refused(headers):
    with pytest.raises(ForbiddenOrigin):
        check_origin(_request(headers), SITE)


def test_origin_of():
    assert origin_of("https://News.Example:8443/path?q") == "https://news.example:8443"
    assert origin_of("not a url") == ""


def test_frame_ancestors_lists_exactly_the_sites_origins():
    assert frame_ancestors(SITE) == "https://news.example"
    assert frame_ancestors(Site(slug="x", name="x", allowed_origins=[])) == "'none'"
