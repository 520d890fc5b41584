"""Live threads: the open page asks whether new comments were published since.

`GET /embed/<site>/<key>/live?since=<revision>&seen=<published>` answers JSON
(reader/live.py waits, or not), and the template global `live_state` gives the
page the revision and count it was rendered at (templates/embed/_live.html).
"""

from __future__ import annotations

from flask import Response, jsonify, request
from flask_babel import ngettext

from ..extensions import limiter
from ..models import Thread
from ..reader.live import LiveState, changed_since, parse_number, state_of
from .blueprint import bp


@bp.app_template_global()
def live_state(thread: Thread) -> LiveState:
    """The revision and published count a thread page shows (for live.js)."""
    return state_of(thread)


@bp.get("/<site>/<key>/live")
@limiter.exempt  # a read as cheap as a cache hit, asked every 20 s at most
def live(site: str, key: str) -> Response:
    """How many comments were published since the page's revision, once there
    is news or the wait ends; `retry` says when to ask again."""
    since = parse_number("since", request.args.get("since"))
    seen = parse_number("seen", request.args.get("seen"))
    # gunicorn's sync worker (and any server without threads) serves one request
    # per process: there a wait would stop every other reader.
    threaded = bool(request.environ.get("wsgi.multithread"))
    answer = changed_since(site, key, since, may_wait=threaded)
    new = max(0, answer.state.published - seen)
    text = ngettext("%(n)d new comment — show", "%(n)d new comments — show", new, n=new)
    response = jsonify(
        revision=answer.state.revision,
        published=answer.state.published,
        new=new,
        text=text if new else "",
        retry=answer.retry,
        waited=answer.waited,
    )
    # Each answer is about a moment: no browser or CDN may keep it.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Language"
    return response
