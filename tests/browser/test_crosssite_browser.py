"""The embed on another site, in a real browser: the publisher's page on one origin,
the service on another, a third origin the site does not allow.

http://127.0.0.1:P is the service (live_server.py), http://127.0.0.2:P2 a publisher
page with the one-line embed.js snippet (the demo site allows it), and
http://127.0.0.3:P3 a page the site does not allow. IP hosts are each their own
site, so the iframe is cross-site, as on a newsroom's page; third-party cookies
are blocked (and none is needed). axe-core checks the iframe's accessibility.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from chromium import CHROMIUM_ARGS as BROWSER_ARGS
from chromium import axe
from publisher import FRAME, Publisher, fits, frame_of, publisher

from live_server import LiveServer, live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_ARGS = [
    *BROWSER_ARGS,
    # Chromium's own switch for "third-party cookies blocked" (as Safari, Firefox
    # and incognito Chrome do); the preference below says the same.
    "--test-third-party-cookie-phaseout",
]
TIMEOUT_MS = 15_000
VERDICT_MS = 60_000

PUBLISHER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main><h1>{title}</h1><p>An article on another site.</p>
<p><span data-moderation-count data-site="demo" data-thread="seed-article"
  data-one="{{n}} comment" data-many="{{n}} comments">comments</span></p>
<script src="{service}/static/js/embed.js" data-site="demo"
  data-thread="seed-article" data-url="{origin}/article" data-title="{title}"
  async></script>
<script src="{service}/static/js/count.js" async></script>
</main></body></html>
"""


@pytest.fixture(scope="module")
def sites(
    chromium_path: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, Publisher, Publisher]]:
    """The service, an allowed publisher and a foreign page, each its own origin."""
    allowed = publisher("127.0.0.2")
    foreign = publisher("127.0.0.3")
    extra = {"MODERATION_DEMO_EXTRA_ORIGINS": json.dumps([allowed.origin])}
    try:
        with live_server(tmp_path_factory.mktemp("crosssite"), extra) as service:
            for site, title in (
                (allowed, "Publisher article"),
                (foreign, "Someone else's page"),
            ):
                page = PUBLISHER_PAGE.format(
                    service=service.url, origin=site.origin, title=title
                )
                site.html("/article", page)
            yield service, allowed, foreign
    finally:
        allowed.stop()
        foreign.stop()


@pytest.fixture(scope="module")
def context(chromium_path: str, tmp_path_factory: pytest.TempPathFactory):
    """A browser profile that blocks third-party cookies."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("profile")
    (profile / "Default").mkdir()
    (profile / "Default" / "Preferences").write_text(
        json.dumps(
            {"profile": {"cookie_controls_mode": 1, "block_third_party_cookies": True}}
        )
    )
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium_path,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 720},
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


def _status(url: str, data: bytes | None = None, headers=None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def _published(service: LiveServer) -> list[dict]:
    url = f"{service.url}/api/v1/sites/demo/threads/seed-article/comments"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)["comments"]


def test_reader_posts_replies_and_reports_from_another_site(sites, context):
    from playwright.sync_api import expect

    service, publisher, _ = sites
    page = context.new_page()
    page.goto(f"{publisher.origin}/article")
    frame = frame_of(page)
    assert frame.url.startswith(f"{service.url}/embed/demo/seed-article?")
    query = parse_qs(urlsplit(frame.url).query)
    assert query["origin"] == [publisher.origin]
    assert query["url"] == [f"{publisher.origin}/article"]
    assert page.locator(FRAME).get_attribute("title") == "Reader comments"
    # Third-party cookies are blocked in this frame, and the reader path needs none.
    assert frame.evaluate("document.cookie = 'probe=1'; document.cookie") == ""
    expect(frame.locator("li.comment").first.locator(".handle")).to_have_text(
        "Gary1990"
    )
    # count.js filled the teaser from the counts API, cross-origin.
    expect(page.locator("[data-moderation-count]")).to_have_text("5 comments")
    height = fits(page, frame)

    body = "Posted from a newsroom on another origin."
    box = frame.locator("#leave-comment")
    box.get_by_label("Name").fill("Nora")
    box.get_by_label("Comment", exact=True).fill(body)
    box.get_by_role("button", name="Post Comment").click()
    # The first comment may wait for the classifier to load ("being checked"):
    # the frame then polls its receipt and shows the outcome.
    expect(frame.locator("#result")).to_contain_text(
        "your comment is published", timeout=VERDICT_MS
    )
    mine = frame.locator("li.comment", has_text=body).last
    expect(mine.locator(".handle").first).to_have_text("Nora")
    assert fits(page, frame) > height

    # Reply opens its form under the comment, without leaving the thread.
    mine.get_by_role("link", name="Reply to Nora").click()
    panel = mine.locator(".inline-panel")
    reply = "And a reply, still inside the iframe."
    panel.get_by_label("Name").fill("Omar")
    panel.get_by_label("Comment", exact=True).fill(reply)
    panel.get_by_role("button", name="Post Comment").click()
    # The first comment may wait for the classifier to load ("being checked"):
    # the frame then polls its receipt and shows the outcome.
    expect(frame.locator("#result")).to_contain_text(
        "your comment is published", timeout=VERDICT_MS
    )
    nested = frame.locator("li.comment", has_text=body).locator("ol.replies li")
    expect(nested.locator(".body")).to_have_text(reply)
    fits(page, frame)

    violations = axe(frame)
    assert not violations, violations

    # Report opens under the comment too, and answers there.
    reported = frame.locator("li.comment", has_text=body).first
    reported.locator(":scope > article a.report").click()
    panel = reported.locator(":scope > .inline-panel")
    expect(panel.locator(".panel-title")).to_have_text("Report a comment")
    violations = axe(frame)
    assert not violations, violations
    panel.get_by_label("Spam or advertising").check()
    panel.get_by_label("Details").fill("Looks like an advert.")
    panel.get_by_role("button", name="Send report").click()
    result = panel.locator(".panel-message")
    expect(result).to_contain_text("your report was sent to the moderators")
    assert result.get_attribute("role") == "status"
    fits(page, frame)

    assert {c["handle"] for c in _published(service)} >= {"Nora", "Omar"}
    # Nothing on the reader's path left a cookie, first- or third-party.
    assert context.cookies() == []
    page.close()


def test_only_the_sites_origins_may_frame_the_thread(sites):
    service, publisher, _ = sites
    status, headers = _status(f"{service.url}/embed/demo/seed-article")
    assert status == 200
    assert "Set-Cookie" not in headers
    policy = headers["Content-Security-Policy"]
    ancestors = re.search(r"frame-ancestors ([^;]+)", policy).group(1).split()
    port = service.url.rsplit(":", 1)[1]
    assert set(ancestors) == {
        service.url,
        f"http://localhost:{port}",
        publisher.origin,
    }


def test_a_page_the_site_does_not_allow_cannot_frame_it(sites, context):
    service, _, foreign = sites
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "frame-ancestors" in message.text else None
        ),
    )
    page.goto(f"{foreign.origin}/article")
    page.locator(FRAME).scroll_into_view_if_needed()
    page.wait_for_function(
        "() => document.querySelector('iframe.moderation-thread')"
        ".getAttribute('src') !== null"
    )
    page.wait_for_timeout(1500)
    embedded = [f for f in page.frames if f.url.startswith(service.url)]
    assert embedded == [], "the thread loaded inside a page the site does not allow"
    assert refused, "Chromium did not report the frame-ancestors refusal"
    # Nothing could tell the page its height: the frame keeps embed.js's minimum.
    assert page.locator(FRAME).evaluate("f => f.style.height") == ""
    page.close()


def test_forged_cross_site_posts_are_refused(sites, context):
    service, _, foreign = sites
    thread_url = f"{service.url}/api/v1/sites/demo/threads/seed-article"
    with urllib.request.urlopen(thread_url, timeout=10) as response:
        token = json.load(response)["form_token"]
    before = len(_published(service))

    # A page on a foreign origin submits the iframe's form (a valid token even).
    page = context.new_page()
    page.goto(f"{foreign.origin}/article")
    page.evaluate(
        """([url, token]) => fetch(url, {method: 'POST', mode: 'no-cors',
            body: new URLSearchParams({handle: 'Forger', body: 'Forged post',
                                       token: token})}).catch(() => null)""",
        [f"{service.url}/embed/demo/seed-article", token],
    )
    page.close()

    # The same, sent plainly with the foreign Origin header: refused with 403.
    form = f"handle=Forger&body=Forged+again&token={token}".encode()
    status, _ = _status(
        f"{service.url}/embed/demo/seed-article",
        data=form,
        headers={
            "Origin": foreign.origin,
            "Sec-Fetch-Site": "cross-site",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert status == 403
    after = _published(service)
    assert len(after) == before
    assert "Forger" not in {c["handle"] for c in after}


def test_a_comment_link_opens_the_frame_at_that_comment(sites, context):
    service, publisher, _ = sites
    first = _published(service)[0]["id"]
    page = context.new_page()
    page.goto(f"{publisher.origin}/article#comment-{first}")
    frame = frame_of(page)
    assert parse_qs(urlsplit(frame.url).query)["comment"] == [str(first)]
    page.close()
