"""Every moderator and admin page on a 375 px phone: nothing scrolls sideways.

A live gunicorn service (live_server.py) with the demo, seeded with the things
that make pages wide: held and reported comments with long words and links,
scores and rule hits, a ban, an API token, audit rows, a moderator with a long
email. The pages are listed from the app's own routes (every GET page under
/mod), so a page added later is visited too; a route with a parameter this file
cannot fill fails the test, saying which, rather than going unchecked.

Set MODERATION_PHONE_SHOTS to a folder to keep a full-page screenshot of each.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromium import TIMEOUT_MS, axe

from live_server import PROJECT_ROOT, LiveServer, live_server, service_environment

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 375, "height": 740}
MODERATOR = "night.shift.moderator.with.a.long.name@newsroom.example.com"
MODERATOR_PASSWORD = "a phone in one hand"
LONG_WORD = "Unbelievable" * 8
LONG_LINK = "https://example.com/" + "a-very-long-path-segment/" * 6 + "?q=" + "x" * 40

# Run inside the service's environment: evidence of every kind, on the demo site.
SEED = """
import json, sys
from datetime import timedelta
import sqlalchemy as sa
from moderation import create_app
from moderation.extensions import db
from moderation.models import (
    BanKind, Comment, CommentStatus as S, Decision, Moderator, Report, ReportReason,
    Role, RuleHit, Score, Site, Thread, utcnow,
)
from moderation.services.api_tokens import create_token
from moderation.services.bans import ban
from moderation.services.comments import fingerprint

email, password, word, link = sys.argv[1:5]
app = create_app({"IN_PROCESS_WORKER": False, "CLASSIFIER_PRELOAD": False})
with app.app_context():
    site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
    thread = db.session.scalar(sa.select(Thread).filter_by(site=site))
    thread.title = "A rather long article title " + word
    admin = db.session.scalar(sa.select(Moderator).filter_by(role=Role.ADMIN))
    moderator = Moderator(email=email, name="Night shift " + word[:30])
    moderator.set_password(password)
    moderator.sites = [site]
    db.session.add(moderator)
    start = utcnow() - timedelta(hours=3)
    ids = []
    for number, (status, reports) in enumerate(
        [(S.HELD, 0), (S.HELD, 0), (S.PUBLISHED, 4), (S.REJECTED, 0)]
    ):
        body = f"Comment {number}: {word} see {link} and more words to wrap."
        comment = Comment(
            thread=thread, handle=f"Reader{number}{word[:20]}", body=body, html=body,
            status=status, fingerprint=fingerprint(body),
            created_at=start + timedelta(minutes=number), screened_at=start,
            report_count=reports,
        )
        comment.scores.extend(
            Score(classifier="profanity-check", version="1", label=label, value=value)
            for label, value in (("toxicity", 1.0), ("insult", 0.62), ("threat", 0.04))
        )
        comment.rule_hits.append(RuleHit(
            rule="links", action="hold", reason="2 links (limit 1) " + link,
            spans=[[body.index(link), body.index(link) + len(link), link]],
        ))
        comment.reports.extend(
            Report(reason=ReportReason.ABUSE, reporter_key=f"net:phone{n}",
                   text="Reported because " + word)
            for n in range(reports)
        )
        db.session.add(comment)
        db.session.flush()
        comment.decisions.append(Decision(
            actor="screen", from_status=S.RECEIVED, to_status=S.HELD,
            reason="toxicity 1.00 >= 0.50; " + link, created_at=start,
        ))
        ids.append(comment.id)
    db.session.commit()
    made = ban(site, BanKind.HANDLE, "Reader0" + word[:20], moderator=admin,
               reason="Repeated abuse, see " + link, duration=timedelta(days=7))
    token, _ = create_token(moderator, "phone test " + word[:40], by=admin)
    found = {
        "comment_id": ids[0], "moderator_id": moderator.id, "site": site.slug,
        "handle": "Reader0" + word[:20], "token_id": token.id, "ban_id": made.id,
        "thread_id": thread.id, "key": thread.key,
    }
    # A site's webhook, where this version has them (its page takes its id).
    import moderation.models as models
    if hasattr(models, "Webhook"):
        hook = models.Webhook(site_id=site.id, url=link, secret="s" * 64,
                              events=[], created_by=admin.email)
        db.session.add(hook)
        db.session.commit()
        found["hook_id"] = hook.id
    print(json.dumps(found))
"""

# Every GET route under /mod, with its endpoint and parameters.
ROUTES = """
from moderation import create_app
import json
app = create_app({"IN_PROCESS_WORKER": False, "CLASSIFIER_PRELOAD": False})
print(json.dumps([
    {"rule": rule.rule, "endpoint": rule.endpoint, "arguments": sorted(rule.arguments)}
    for rule in app.url_map.iter_rules()
    if rule.rule.startswith("/mod") and "GET" in (rule.methods or ())
]))
"""

# Not pages: downloads and the counts poll (JSON); the login page is checked
# logged out.
NOT_PAGES = re.compile(r"\.(csv|json)$|/counts$|/login$")

# The widest offenders: visible elements that reach past the viewport while
# their parent does not (the place where the layout breaks), and whether each
# header link or button can be reached (inside the viewport, and on top).
MEASURE = """() => {
  const width = document.documentElement.clientWidth;
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const outside = r => r.right > width + 0.5 || r.left < -0.5;
  const scrolls = el => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(up).overflowX)) {
        return true;
      }
    }
    return false;
  };
  const wide = document.documentElement.scrollWidth > width;
  const offenders = [], escaped = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if ((r.width === 0 && r.height === 0) || !outside(r)) continue;
    const parent = el.parentElement;
    if (parent !== document.body && outside(parent.getBoundingClientRect())) continue;
    // Inside a container that scrolls on its own: allowed, unless it is
    // positioned past that container's clip (a page that is still too wide).
    if (scrolls(el)) {
      if (wide && getComputedStyle(el).position === 'absolute') {
        escaped.push(`${name(el)} (absolute, escapes its scrolling box) at ` +
          `${Math.round(r.left)}..${Math.round(r.right)}`);
      }
      continue;
    }
    offenders.push(`${name(el)} is ${Math.round(r.width)} px wide, ` +
      `${Math.round(r.left)}..${Math.round(r.right)}: ` +
      JSON.stringify((el.textContent || '').trim().slice(0, 50)));
  }
  const unreachable = [];
  for (const el of document.querySelectorAll('header a, header button, header input')) {
    if (el.type === 'hidden') continue;
    const r = el.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    const top = r.width && r.height && !outside(r) && y >= 0 &&
      y <= window.innerHeight ? document.elementFromPoint(x, y) : null;
    if (!top || !(top === el || el.contains(top))) {
      unreachable.push(`${name(el)} ${JSON.stringify(el.textContent.trim())} at ` +
        `${Math.round(r.left)}..${Math.round(r.right)}`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width,
          offenders: [...offenders, ...escaped].slice(0, 6), unreachable};
}"""


def _python(env: dict[str, str], code: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def phone_server(
    chromium_path: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, dict, list[dict], str]]:
    """The service, the seeded ids, its /mod routes and the demo admin's password."""
    directory = tmp_path_factory.mktemp("live-phone")
    with live_server(directory) as running:
        env = service_environment(directory, running.url)
        ids = json.loads(
            _python(env, SEED, MODERATOR, MODERATOR_PASSWORD, LONG_WORD, LONG_LINK)
        )
        routes = json.loads(_python(env, ROUTES))
        # load-demo keeps the demo moderator's login under instance/ (make run says so).
        _, password = (
            (directory / "instance" / "demo-moderator.txt").read_text().split()
        )
        yield running, ids, routes, password


def _phone(browser, server: LiveServer, email: str | None, password: str = ""):
    context = browser.new_context(viewport=PHONE, device_scale_factor=1)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    if email is not None:
        page.goto(f"{server.url}/mod/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.click("form.login button[type=submit]")
        page.wait_for_url(f"{server.url}/mod/")
    return context, page


def _pages(routes: list[dict], ids: dict) -> tuple[list[str], list[str]]:
    """The URL of every page (parameters filled from the seed), and the routes
    whose parameters the seed has no value for."""
    urls, unfilled = [], []
    for route in routes:
        if NOT_PAGES.search(route["rule"]):
            continue
        missing = [name for name in route["arguments"] if name not in ids]
        if missing:
            unfilled.append(f"{route['rule']} ({', '.join(missing)})")
            continue
        urls.append(
            re.sub(
                r"<(?:[^:<>]+:)?([^<>]+)>",
                lambda m: str(ids[m.group(1)]),
                route["rule"],
            )
        )
    return sorted(set(urls)), unfilled


def _check(
    page, url: str, problems: list[str], shots: Path | None, prefix: str = ""
) -> None:
    """Open `url` and measure it (a download or a redirect elsewhere is skipped)."""
    response = page.goto(url)
    assert response is not None
    if "text/html" not in response.headers.get("content-type", ""):
        return
    if response.status >= 400:
        problems.append(f"{url}: answered {response.status}")
        return
    name = re.sub(r"[^A-Za-z0-9]+", "_", url.split("/mod", 1)[1]).strip("_")
    _measure(page, url, problems, shots, f"{prefix}{name or 'queue'}")


def _measure(
    page, label: str, problems: list[str], shots: Path | None, name: str
) -> None:
    """Whether the page as it stands fits, and every header control is in reach."""
    found = page.evaluate(MEASURE)
    if found["scrollWidth"] > PHONE["width"] or found["offenders"]:
        problems.append(
            f"{label}: the page is {found['scrollWidth']} px wide at "
            f"{PHONE['width']}; " + "; ".join(found["offenders"])
        )
    if found["unreachable"]:
        problems.append(
            f"{label}: header controls out of reach: " + "; ".join(found["unreachable"])
        )
    if shots is not None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def _answers(page, url: str, button: str, problems, shots, name: str) -> None:
    """The page a form answers with (a confirmation), measured like the others."""
    page.goto(url)
    found = page.get_by_role("button", name=button)
    if found.count() == 0:
        problems.append(f"{url}: no {button!r} button to press")
        return
    with page.expect_navigation():
        found.first.click()
    _measure(page, f"{url} → {button}", problems, shots, name)


def _shots() -> Path | None:
    folder = os.environ.get("MODERATION_PHONE_SHOTS")
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_every_moderator_page_fits_a_phone(browser, phone_server):
    """At 375 px no page scrolls sideways and every header link can be tapped."""
    server, ids, routes, password = phone_server
    urls, unfilled = _pages(routes, ids)
    assert not unfilled, f"no value to visit these routes with: {unfilled}"
    shots = _shots()
    problems: list[str] = []
    context, page = _phone(browser, server, None)
    try:
        _check(page, f"{server.url}/mod/login", problems, shots)
    finally:
        context.close()
    context, page = _phone(browser, server, "moderator@example.com", password)
    try:
        # The queue's tabs, as the queue page itself links them.
        page.goto(f"{server.url}/mod/")
        tabs = page.eval_on_selector_all(
            "nav.tabs a", "links => links.map(a => a.href)"
        )
        assert len(tabs) >= 4, tabs
        extra = [
            *tabs,
            f"/mod/people/bans/new?comment_id={ids['comment_id']}",
            "/mod/dashboard?site=demo&range=7d",
            "/mod/calibration?site=demo",
            "/mod/people/bans?all=1",
        ]
        for url in [*urls, *extra]:
            _check(page, url if "://" in url else server.url + url, problems, shots)
        # Pages that answer a form: the confirmations of destructive actions.
        for url, button, name in (
            ("/mod/people/bans", "Lift…", "confirm_lift_ban"),
            (
                f"/mod/admin/moderators/{ids['moderator_id']}",
                "Revoke…",
                "confirm_token",
            ),
        ):
            _answers(page, server.url + url, button, problems, shots, name)
    finally:
        context.close()
    # A moderator, not an admin, with a long email in the header.
    context, page = _phone(browser, server, MODERATOR, MODERATOR_PASSWORD)
    try:
        for url in ("/mod/", f"/mod/comments/{ids['comment_id']}", "/mod/dashboard"):
            _check(page, server.url + url, problems, shots, "moderator_")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_tables_that_scroll_on_a_phone_can_be_reached_by_keyboard(
    browser, phone_server
):
    """A table scrolling in its own box takes focus (axe: no serious violations)."""
    server, ids, _, password = phone_server
    context, page = _phone(browser, server, "moderator@example.com", password)
    try:
        found = {}
        for url in (
            "/mod/?queue=all",
            f"/mod/comments/{ids['comment_id']}",
            "/mod/admin/",
            "/mod/admin/audit",
            "/mod/people/bans",
        ):
            page.goto(server.url + url)
            found[url] = axe(page)
        # The audit table is wider than the phone: it scrolls, and Tab reaches it.
        page.goto(server.url + "/mod/admin/audit")
        assert page.locator("table.audit").get_attribute("tabindex") == "0"
    finally:
        context.close()
    assert found == {url: [] for url in found}
