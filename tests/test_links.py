"""Only http(s) links come in or go out, read the way a browser reads them."""

from __future__ import annotations

import pytest

from moderation.links import web_url


@pytest.mark.parametrize(
    "url",
    [
        "https://news.example/article",
        "http://news.example:8080/a?b=c#d",
        "HTTPS://NEWS.EXAMPLE/",
        "  https://news.example/  ",
    ],
)
def test_web_urls_pass(url):
    assert web_url(url) == url.strip()


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.domain)",
        "JaVaScRiPt\t:alert(4)",
        "java\nscript:alert(1)",
        " \x01javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//news.example/protocol-relative",
        "https:///no-host",
        "https://news.ex\x00ample/",
        "https://[::1/",
        "",
        None,
        "ftp://news.example/file",
    ],
)
def test_anything_else_is_refused(url):
    assert web_url(url) is None


def test_tabs_inside_a_web_url_are_dropped_as_a_browser_drops_them():
    assert web_url("ht\ttps://news.example/a") == "https://news.example/a"


def test_a_stored_dangerous_link_is_never_written_out(app, client, demo, moderator):
    """A thread URL stored before these checks (or by any other way in) is dropped
    at output: the permalinks, the Atom feed, the moderator's page, the API."""
    import sqlalchemy as sa
    from support import MODERATOR_PASSWORD

    from moderation.extensions import db
    from moderation.models import Comment, Moderator, Role, Thread

    with app.app_context():
        thread = db.session.get(Thread, demo.id)
        thread.url = "JaVaScRiPt\t:alert(document.domain)"
        db.session.get(Moderator, moderator).role = Role.ADMIN
        comment_id = db.session.scalars(
            sa.select(Comment.id).where(Comment.thread_id == demo.id)
        ).first()
        db.session.commit()
    app.config["READ_CACHE_TTL"] = 0
    pages = {
        "thread": client.get(demo.embed).text,
        "feed": client.get(f"/feeds/{demo.site}/{demo.key}.atom").text,
        "site feed": client.get(f"/feeds/{demo.site}.atom").text,
        "api": client.get(demo.api.removesuffix("/comments")).text,
    }
    app.config["WTF_CSRF_ENABLED"] = False
    login = {"email": "mod@example.com", "password": MODERATOR_PASSWORD}
    assert client.post("/mod/login", data=login).status_code == 302
    pages["moderator"] = client.get(f"/mod/comments/{comment_id}").text
    for name, text in pages.items():
        assert "alert(document.domain)" not in text, name
    assert 'class="permalink"' not in pages["thread"]
