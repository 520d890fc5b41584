"""Importing Disqus and WordPress exports, exporting a site as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from moderation.extensions import db
from moderation.models import (
    AuditEntry,
    Comment,
    CommentStatus,
    Decision,
    Site,
    Thread,
)

DATA = Path(__file__).parent / "data" / "importers"
DISQUS = DATA / "disqus.xml"
WORDPRESS = DATA / "wordpress.xml"
REDACTED_KEY = "http-localhost-4000-blog-2013-02-12-redacted-index-html"


@pytest.fixture
def site(app: Flask) -> str:
    """An empty site whose time zone is not UTC."""
    with app.app_context():
        db.session.add(Site(slug="news", name="News", timezone="Europe/Berlin"))
        db.session.commit()
    return "news"


def invoke(app: Flask, *args: object):
    return app.test_cli_runner().invoke(args=[str(a) for a in args])


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(
                sa.select(sa.func.count()).select_from(model)
            )
            for model in (Site, Thread, Comment, Decision, AuditEntry)
        }


def comments_by_handle(app: Flask, key: str) -> dict[str, list[Comment]]:
    with app.app_context():
        found: dict[str, list[Comment]] = {}
        for comment in db.session.scalars(
            sa.select(Comment)
            .join(Comment.thread)
            .where(Thread.key == key)
            .order_by(Comment.created_at, Comment.id)
        ):
            found.setdefault(comment.handle, []).append(comment)
        return found


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_disqus_import_keeps_threads_handles_times_and_replies(app, site):
    result = invoke(app, "import", "disqus", DISQUS, "--site", site)
    assert result.exit_code == 0, result.output
    assert (
        "imported 2 threads, 4 comments (2 skipped: 1 deleted, 1 no thread)"
        in result.output
    )
    with app.app_context():
        threads = {t.key: t for t in db.session.scalars(sa.select(Thread))}
        assert set(threads) == {"some-id", REDACTED_KEY}
        assert threads["some-id"].url == "http://example.org/"
        assert threads["some-id"].title == "Hello, World!"
        assert threads[REDACTED_KEY].url.endswith("/redacted/index.html")
        assert threads[REDACTED_KEY].title == ""
        assert all(t.revision >= 1 for t in threads.values())
        audit = db.session.scalars(sa.select(AuditEntry)).one()
        assert (audit.actor, audit.action) == ("import", "site.import_disqus")
        assert audit.after["published"] == 4
    by_handle = comments_by_handle(app, "some-id")
    [peter] = by_handle["peter"]
    first_reply, second_reply = by_handle["user"]
    assert peter.created_at == datetime(2013, 10, 10, 19, 20, 29, tzinfo=UTC)
    assert peter.email == "foo@bar.com"
    assert peter.idempotency_key == "disqus:4"
    assert first_reply.parent_id == peter.id
    assert first_reply.body == "Hello, World."
    assert first_reply.html == "<p>Hello, World.</p>"
    # Its parent (post 9) was deleted in Disqus: the reply stands on its own.
    assert second_reply.parent_id is None
    assert {c.status for cs in by_handle.values() for c in cs} == {
        CommentStatus.PUBLISHED
    }
    [empty] = comments_by_handle(app, REDACTED_KEY)["Empty"]
    assert empty.email == "baz@email.foo"
    with app.app_context():
        decision = db.session.scalars(sa.select(Decision)).first()
        assert decision.actor == "import"
        assert decision.to_status is CommentStatus.PUBLISHED


def test_imported_comments_are_shown_in_the_thread(app, site):
    assert invoke(app, "import", "disqus", DISQUS, "--site", site).exit_code == 0
    response = app.test_client().get(f"/api/v1/sites/{site}/threads/some-id/comments")
    assert response.status_code == 200
    handles = [c["handle"] for c in response.json["comments"]]
    assert handles == ["peter", "user", "user"]


def test_wordpress_import_uses_gmt_times_post_ids_and_parents(app, site):
    result = invoke(app, "import", "wordpress", WORDPRESS, "--site", site)
    assert result.exit_code == 0, result.output
    assert "imported 2 threads, 8 comments" in result.output
    with app.app_context():
        threads = {t.key: t for t in db.session.scalars(sa.select(Thread))}
        # <wp:post_id> when there is one, else the ?p= of the link.
        assert set(threads) == {"18", "4"}
        assert threads["18"].title == "Hello, World…"
        assert threads["18"].url == "http://example.tld/2014/test/"
        assert threads["4"].url == "http://example.tld/?p=4"
    by_handle = comments_by_handle(app, "18")
    [ohai] = by_handle["Ohai"]
    assert ohai.email == "test@example.org"
    assert ohai.body == "Erster!1"
    [multiline] = by_handle["Multiline Author"]
    # comment_date says 12:13 local; comment_date_gmt 02:13 is the truth.
    assert multiline.created_at == datetime(2022, 6, 6, 2, 13, 14, tzinfo=UTC)
    assert multiline.html == (
        "<p>When you have a comment with multiple lines:<br>\n"
        "WordPress exports it like this.</p>"
    )
    second, third, reply_a, reply_b = by_handle["Tester"]
    assert third.created_at == datetime(2014, 4, 29, 15, 21, 35, tzinfo=UTC)
    assert third.parent_id == second.id
    assert reply_a.parent_id == reply_b.parent_id == third.id
    assert by_handle["Letzter :/"][0].status is CommentStatus.PUBLISHED
    assert comments_by_handle(app, "4")["Anonymous"][0].created_at == datetime(
        2014, 4, 29, 15, 21, 57, tzinfo=UTC
    )


def test_reimporting_the_same_file_adds_nothing(app, site):
    assert invoke(app, "import", "disqus", DISQUS, "--site", site).exit_code == 0
    assert invoke(app, "import", "wordpress", WORDPRESS, "--site", site).exit_code == 0
    before = counts(app)
    again = invoke(app, "import", "disqus", DISQUS, "--site", site)
    assert again.exit_code == 0, again.output
    assert "imported 0 threads, 0 comments (6 skipped: 4 already imported" in (
        again.output
    )
    assert invoke(app, "import", "wordpress", WORDPRESS, "--site", site).exit_code == 0
    after = counts(app)
    assert after["Comment"] == before["Comment"] == 12
    assert after["Thread"] == before["Thread"] == 4


@pytest.mark.parametrize(
    "cut",
    [
        lambda text: text[: len(text) // 2],  # truncated mid-file
        lambda text: text.replace("</post>", "</postt>", 3),  # a mismatched tag
    ],
)
def test_malformed_file_leaves_the_database_unchanged(app, site, tmp_path, cut):
    assert invoke(app, "import", "wordpress", WORDPRESS, "--site", site).exit_code == 0
    before = counts(app)
    broken = write(tmp_path, "broken.xml", cut(DISQUS.read_text(encoding="utf-8")))
    result = invoke(app, "import", "disqus", broken, "--site", site)
    assert result.exit_code != 0
    assert "broken.xml is not well-formed XML" in result.output
    assert "nothing was imported" in result.output
    assert counts(app) == before


def test_missing_required_element_imports_nothing(app, site, tmp_path):
    text = DISQUS.read_text(encoding="utf-8")
    last = text.rindex("<createdAt>")
    end = text.index("</createdAt>", last) + len("</createdAt>")
    broken = write(tmp_path, "no-date.xml", text[:last] + text[end:])
    result = invoke(app, "import", "disqus", broken, "--site", site)
    assert result.exit_code != 0
    assert "post 11 has no <createdAt>; nothing was imported" in result.output
    assert counts(app)["Comment"] == 0


def test_failure_while_storing_rolls_everything_back(app, site, monkeypatch):
    from moderation.porting import common

    calls = []

    def failing_render(body: str) -> str:
        calls.append(body)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return body

    monkeypatch.setattr(common, "render_body", failing_render)
    before = counts(app)
    result = invoke(app, "import", "wordpress", WORDPRESS, "--site", site)
    assert result.exit_code != 0
    assert len(calls) == 3
    assert counts(app) == before


def test_entity_declarations_are_refused(app, site, tmp_path):
    bomb = write(
        tmp_path,
        "bomb.xml",
        '<?xml version="1.0"?>\n<!DOCTYPE disqus [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        '<disqus xmlns="http://disqus.com"><thread><id>&b;</id></thread></disqus>',
    )
    result = invoke(app, "import", "disqus", bomb, "--site", site)
    assert result.exit_code != 0
    assert "never reads or expands" in result.output
    assert counts(app)["Thread"] == 0


DANGEROUS_LINKS = [
    "javascript:alert(document.domain)",
    "JaVaScRiPt&#9;:alert(4)",
    "data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;",
]


@pytest.mark.parametrize("link", DANGEROUS_LINKS)
@pytest.mark.parametrize(
    "kind, fixture, original",
    [
        ("disqus", DISQUS, "<link>http://example.org/</link>"),
        ("wordpress", WORDPRESS, "<link>http://example.tld/2014/test/</link>"),
    ],
)
def test_an_export_with_a_dangerous_link_is_refused_whole(
    app, site, tmp_path, link, kind, fixture, original
):
    text = fixture.read_text(encoding="utf-8")
    assert original in text
    path = write(
        tmp_path, "hostile.xml", text.replace(original, f"<link>{link}</link>")
    )
    result = invoke(app, "import", kind, path, "--site", site)
    assert result.exit_code != 0
    assert "not an http or https URL" in result.output
    assert counts(app)["Thread"] == 0 and counts(app)["Comment"] == 0


def test_an_external_dtd_is_refused(app, site, tmp_path):
    text = DISQUS.read_text(encoding="utf-8").replace(
        "<disqus ",
        '<!DOCTYPE disqus SYSTEM "http://attacker.example/x.dtd">\n<disqus ',
        1,
    )
    path = write(tmp_path, "dtd.xml", text)
    result = invoke(app, "import", "disqus", path, "--site", site)
    assert result.exit_code != 0
    assert "DTD" in result.output
    assert counts(app)["Thread"] == 0


def test_a_file_of_the_wrong_kind_is_refused(app, site):
    result = invoke(app, "import", "disqus", WORDPRESS, "--site", site)
    assert result.exit_code != 0
    assert "is not a Disqus export (its root element is <rss>" in result.output
    result = invoke(app, "import", "wordpress", DISQUS, "--site", site)
    assert result.exit_code != 0
    assert "is not a WordPress export" in result.output


HOSTILE_DISQUS = """<?xml version="1.0"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <thread dsq:id="1">
    <id>123 http://example.com/?p=123</id>
    <link>http://example.com/?p=123</link>
    <title>An &lt;b&gt;article&lt;/b&gt;</title>
  </thread>
  <post dsq:id="10">
    <message><![CDATA[<p>Hi <script>alert(1)</script><b>there</b>
      <a href="javascript:alert(2)">click</a>
      <a href="https://example.org/x">a link</a>
      <img src=x onerror="alert(3)"></p><blockquote>quoted <i>bit</i></blockquote>
      <iframe src="https://evil.example/"></iframe>]]></message>
    <createdAt>2020-01-02T03:04:05+02:00</createdAt>
    <author>
      <name>A very long display name that goes on and on and on</name>
      <email>not an address</email>
    </author>
    <thread dsq:id="1"/>
  </post>
  <post dsq:id="11">
    <message>&lt;p&gt;spam&lt;/p&gt;</message>
    <createdAt>2020-01-02T03:04:05Z</createdAt>
    <isSpam>true</isSpam>
    <author><name>Spammer</name></author>
    <thread dsq:id="1"/>
  </post>
</disqus>
"""


def test_import_never_lets_a_script_through(app, site, tmp_path):
    path = write(tmp_path, "hostile.xml", HOSTILE_DISQUS)
    result = invoke(app, "import", "disqus", path, "--site", site)
    assert result.exit_code == 0, result.output
    assert "imported 1 threads, 1 comments (1 skipped: spam)" in result.output
    with app.app_context():
        thread = db.session.scalars(sa.select(Thread)).one()
        comment = db.session.scalars(sa.select(Comment)).one()
        # An id with a space and a slash cannot travel in /embed/<site>/<key>.
        assert thread.key == "123-http-example-com-p-123"
        assert comment.created_at == datetime(2020, 1, 2, 1, 4, 5, tzinfo=UTC)
        assert comment.handle == "A very long display name that goes on"
        assert len(comment.handle) <= 40
        assert comment.email is None
        html = comment.html.lower()
        for bad in ("<script", "alert(1)", "javascript:", "onerror", "<img", "<iframe"):
            assert bad not in html
        assert '<a href="https://example.org/x" rel="nofollow ugc noopener">' in html
        assert "<strong>there</strong>" in html
        assert "<blockquote>" in html
        assert "click" in comment.body
    page = app.test_client().get(f"/embed/{site}/{thread.key}")
    assert page.status_code == 200
    assert "alert(" not in page.text


WXR = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/">
  <channel>
    <item>
      <title>Statuses</title>
      <link>https://example.tld/statuses/</link>
      <wp:post_id>7</wp:post_id>
      {comments}
    </item>
  </channel>
</rss>
"""


def wxr_comment(number: int, approved: str, kind: str = "", gmt: str = "") -> str:
    return f"""<wp:comment>
        <wp:comment_id>{number}</wp:comment_id>
        <wp:comment_author>Reader {number}</wp:comment_author>
        <wp:comment_date>2021-07-01 12:00:00</wp:comment_date>
        <wp:comment_date_gmt>{gmt or "0000-00-00 00:00:00"}</wp:comment_date_gmt>
        <wp:comment_content>Comment {number}</wp:comment_content>
        <wp:comment_approved>{approved}</wp:comment_approved>
        <wp:comment_type>{kind}</wp:comment_type>
        <wp:comment_parent>0</wp:comment_parent>
      </wp:comment>"""


def test_wordpress_pending_is_held_and_spam_trash_pingbacks_skipped(
    app, site, tmp_path
):
    comments = "".join(
        [
            wxr_comment(1, "1"),
            wxr_comment(2, "0", gmt="2021-07-01 09:30:00"),
            wxr_comment(3, "spam"),
            wxr_comment(4, "trash"),
            wxr_comment(5, "1", kind="pingback"),
        ]
    )
    path = write(tmp_path, "statuses.xml", WXR.format(comments=comments))
    result = invoke(app, "import", "wordpress", path, "--site", site)
    assert result.exit_code == 0, result.output
    assert (
        "imported 1 threads, 2 comments (1 published, 1 held) "
        "(3 skipped: 1 deleted, 1 pingback, 1 spam)"
    ) in result.output
    by_handle = comments_by_handle(app, "7")
    published, held = by_handle["Reader 1"][0], by_handle["Reader 2"][0]
    # No GMT time: comment_date is read in the site's zone (Berlin, UTC+2).
    assert published.created_at == datetime(2021, 7, 1, 10, 0, tzinfo=UTC)
    assert published.status is CommentStatus.PUBLISHED
    assert held.status is CommentStatus.HELD
    assert held.created_at == datetime(2021, 7, 1, 9, 30, tzinfo=UTC)
    with app.app_context():
        reason = db.session.scalars(
            sa.select(Decision.reason).where(Decision.comment_id == held.id)
        ).one()
        assert reason == "pending in WordPress when exported"


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_every_wxr_namespace_wordpress_writes_is_read(
    app, site, tmp_path, scheme, version
):
    text = WXR.format(comments=wxr_comment(1, "1")).replace(
        "http://wordpress.org/export/1.2/",
        f"{scheme}://wordpress.org/export/{version}/",
    )
    path = write(tmp_path, "ns.xml", text)
    result = invoke(app, "import", "wordpress", path, "--site", site)
    assert result.exit_code == 0, result.output
    assert "imported 1 threads, 1 comments" in result.output


def test_the_theme_unit_test_export_shape_imports(app, site, tmp_path):
    """WordPress's theme-unit-test file: https namespaces, an excerpt namespace
    that shares the WXR prefix, 7 posts with 29 importable comments and pingbacks."""
    items = []
    number = 0
    for post in range(1, 8):
        comments = []
        for _ in range(5 if post == 7 else 4):
            number += 1
            comments.append(wxr_comment(number, "1"))
        comments.append(wxr_comment(100 + post, "1", kind="pingback"))
        items.append(f"""<item>
      <title>Post {post}</title>
      <link>https://wpthemetestdata.wordpress.com/post-{post}/</link>
      <excerpt:encoded><![CDATA[]]></excerpt:encoded>
      <wp:post_id>{post}</wp:post_id>
      {"".join(comments)}
    </item>""")
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"
  xmlns:excerpt="https://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:wfw="http://wellformedweb.org/CommentAPI/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="https://wordpress.org/export/1.2/">
  <channel>
    <title>Theme Unit Test Data</title>
    <wp:wxr_version>1.2</wp:wxr_version>
    {"".join(items)}
  </channel>
</rss>
"""
    path = write(tmp_path, "theme-unit-test.xml", text)
    result = invoke(app, "import", "wordpress", path, "--site", site)
    assert result.exit_code == 0, result.output
    assert "imported 7 threads, 29 comments (7 skipped: pingback)" in result.output
    assert (counts(app)["Thread"], counts(app)["Comment"]) == (7, 29)


def test_unknown_site_is_refused_unless_created(app, tmp_path):
    result = invoke(app, "import", "disqus", DISQUS, "--site", "nope")
    assert result.exit_code == 2
    assert "no site called 'nope'" in result.output
    assert counts(app)["Site"] == 0
    result = invoke(app, "import", "disqus", DISQUS, "--site", "nope", "--create-site")
    assert result.exit_code == 0, result.output
    assert counts(app)["Site"] == 1
    result = invoke(app, "export", "--site", "missing")
    assert result.exit_code == 2
    assert "no site called 'missing'" in result.output


def test_export_writes_every_thread_and_comment_in_any_status(app, site, tmp_path):
    comments = wxr_comment(1, "1") + wxr_comment(2, "0")
    path = write(tmp_path, "statuses.xml", WXR.format(comments=comments))
    assert invoke(app, "import", "wordpress", WORDPRESS, "--site", site).exit_code == 0
    assert invoke(app, "import", "wordpress", path, "--site", site).exit_code == 0
    output = tmp_path / "export.json"
    result = invoke(app, "export", "--site", site, "--output", output)
    assert result.exit_code == 0, result.output
    assert "exported 3 threads, 10 comments" in result.output
    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["format"] == "moderation-export/1"
    assert document["site"] == {
        "slug": "news",
        "name": "News",
        "timezone": "Europe/Berlin",
    }
    assert [t["key"] for t in document["threads"]] == ["18", "4", "7"]
    thread = document["threads"][0]
    assert set(thread) == {"key", "url", "title", "open", "created_at", "comments"}
    first = thread["comments"][0]
    assert set(first) == {
        "id",
        "parent_id",
        "status",
        "handle",
        "created_at",
        "edited_at",
        "body",
        "html",
    }
    assert first["handle"] == "Ohai"
    assert first["created_at"] == "2014-01-14T17:32:12+00:00"
    ids = {c["id"] for c in thread["comments"]}
    assert all(c["parent_id"] in ids for c in thread["comments"] if c["parent_id"])
    assert sorted(c["status"] for c in document["threads"][2]["comments"]) == [
        "held",
        "published",
    ]
    assert "test@example.org" not in output.read_text(encoding="utf-8")

    with_emails = invoke(app, "export", "--site", site, "--include-emails")
    assert with_emails.exit_code == 0
    streamed = json.loads(with_emails.stdout)
    assert streamed["threads"][0]["comments"][0]["email"] == "test@example.org"


@pytest.mark.parametrize(
    ("html", "body"),
    [
        (
            "<p>a <b>bold</b> move</p><p>next<br>line</p>",
            "a **bold** move\n\nnext\nline",
        ),
        ("<ul><li>one</li><li>two</li></ul>", "- one\n- two"),
        ("<blockquote><p>quoted</p></blockquote><p>reply</p>", "> quoted\n\nreply"),
        ('<a href="https://x.org/a">see</a>', "[see](https://x.org/a)"),
        ('<a href="javascript:alert(1)">see</a>', "see"),
        ("Tom &amp; Jerry &lt;3 <script>alert(1)</script>", "Tom & Jerry <3"),
        ("<p>left <i>open", "left *open*"),
        ("stray</b> end", "stray end"),
    ],
)
def test_exported_html_becomes_the_markdown_subset(html, body):
    from moderation.porting.common import html_to_body

    assert html_to_body(html) == body


def test_two_posts_with_one_key_merge_without_duplicates(app, site, tmp_path):
    item = WXR.split("<channel>")[1].split("</channel>")[0]
    twice = WXR.replace(item, item * 2).format(comments=wxr_comment(1, "1"))
    path = write(tmp_path, "twice.xml", twice)
    result = invoke(app, "import", "wordpress", path, "--site", site)
    assert result.exit_code == 0, result.output
    assert "imported 1 threads, 1 comments (1 skipped: duplicate)" in result.output
    assert counts(app)["Comment"] == 1
