"""Small helpers the view tests share."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from support import BROWSER_POST

_TOKEN = re.compile(r'name="token" value="([^"]+)"')


def form_token(client: FlaskClient, path: str) -> str:
    """The token of the comment form the embed page at `path` serves."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    match = _TOKEN.search(page.text)
    assert match, "the embed page has no form token"
    return match.group(1)


def post_from_iframe(
    client: FlaskClient, path: str, token: str | None = None, **fields: str
):
    """Post the embedded form the way a browser inside the iframe does."""
    data = {"handle": "Reader", "body": "A thoughtful comment.", **fields}
    data["token"] = token if token is not None else form_token(client, path)
    return client.post(path, data=data, headers=BROWSER_POST)
