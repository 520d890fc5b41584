"""Readers, inside the publisher's iframe: read a thread, post, reply."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from http import HTTPStatus

import sqlalchemy as sa
from flask import (
    Response,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter import RequestLimit

from ..errors import FormExpired, InvalidInput, ModerationError
from ..extensions import db, limiter
from ..models import Comment, Site, Thread
from ..origins import (
    check_origin,
    frame_ancestors_of,
    framed_by_site,
    origin_of,
    parent_origin,
    site_origins,
)
from ..reader import cache as readcache
from ..reader.fastpath import mark_shared
from ..reader.first_view import thread_for_view
from ..reader.limits import (
    post_limits_answering,
    retry_message,
    seconds_until,
    thread_busy,
    too_fast,
)
from ..security import embed_csp
from ..services import nudges
from ..services.comments import (
    RESPONSE_STATUS,
    get_thread,
    receipt_comment,
    submit_comment,
)
from ..services.editorial import featured_comments
from ..services.shapes import ROW_ID_MAX, check_comment
from ..services.threads import DEFAULT_SORT, SORTS, ReadView, read_page, read_view
from ..signing import form_idempotency_key, issue_receipt, issue_token, read_token
from .blueprint import bp
from .themes import theme_name, valid_overrides

# nudge_ack: kept through a bounced form, so a nudged draft is not nudged twice.
_FIELDS = ("handle", "email", "body", "parent_id", "nudge_ack", "notify_replies")


def _view() -> ReadView:
    """The sort and page the URL asks for; bad values fall back to the first page."""
    config = current_app.config
    return read_view(
        request.args,
        config["THREAD_PAGE_SIZE"],
        config["THREAD_PAGE_MAX"],
        strict=False,
    )


def _theme_params() -> dict[str, str]:
    """The theme parameters that change the page (validated): part of cache keys."""
    params = valid_overrides(request.args)
    theme = theme_name(request.args)
    if theme != "auto":
        params["theme"] = theme
    return params


def _render(
    thread: Thread,
    view: ReadView,
    parent_origin: str,
    *,
    fragment: bool = False,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    message: str = "",
    receipt: Comment | None = None,
) -> str:
    """The iframe page (or, for "Load more", only its next comments) as HTML."""
    page = read_page(thread, view, str(get_locale()))
    context = {
        "thread": thread,
        "page": page,
        "parent_origin": parent_origin,
        "fragment": fragment,
        "sorts": SORTS,
        "default_sort": DEFAULT_SORT,
    }
    if fragment:
        return render_template("embed/_more.html", **context)
    values = values or {"parent_id": request.args.get("reply_to", "")}
    replying = _reply_parent(thread, values.get("parent_id", ""))
    if replying is None:
        values = {**values, "parent_id": ""}
    on_page = {node.comment.id for node in page.flat()}
    return render_template(
        "embed/thread.html",
        tree=page.nodes,
        featured=featured_comments(thread),  # editors' picks, above the list
        token=issue_token(thread),
        values=values,
        replying=replying,
        # The reply form opens under its comment when that is on this page.
        reply_inline=replying is not None and replying.id in on_page,
        errors=errors or {},
        message=message,
        receipt=receipt,
        receipt_token=issue_receipt(receipt) if receipt is not None else "",
        limits={
            "body": current_app.config["BODY_MAX_LENGTH"],
            "handle": current_app.config["HANDLE_MAX_LENGTH"],
        },
        **context,
    )


def _reply_parent(thread: Thread, raw: str) -> Comment | None:
    """The published comment of this thread a reply form answers, if any."""
    if not raw.isdigit() or int(raw) > ROW_ID_MAX:
        return None
    comment = db.session.get(Comment, int(raw))
    if comment is None or comment.thread_id != thread.id or not comment.published:
        return None
    return comment


def _page(
    thread: Thread,
    status: int = HTTPStatus.OK,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    message: str = "",
    receipt: Comment | None = None,
) -> Response:
    """The page for one reader (after a post, a reply form, an error): never cached."""
    view = _view()
    if receipt is not None and receipt.published and view.after is None:
        # "Published below" must be true: open the page that holds it.
        view = replace(view, focus=receipt.id)
    html = _render(
        thread,
        view,
        parent_origin(thread.site.allowed_origins or ()),
        values=values,
        errors=errors,
        message=message,
        receipt=receipt,
    )
    return framed_by_site(make_response(html, status), thread.site)


@bp.get("/<site>/<key>")
@limiter.exempt  # reading is never limited; skipping the check is a tenth of a hit
def thread_page(site: str, key: str) -> Response:
    """The thread and its comment form, as the iframe shows them."""
    if not request.args.get("receipt") and not request.args.get("reply_to"):
        return _shared_page(site, key)
    # Created here on its first view, when the site's own page frames it.
    thread = thread_for_view(site, key, request.args, request.headers)
    receipt = None
    if request.args.get("receipt"):
        # The poster's own view after "being checked": say how it ended.
        with contextlib.suppress(ModerationError):
            receipt = receipt_comment(request.args["receipt"])
        if receipt is not None and receipt.thread_id != thread.id:
            receipt = None
    return _page(thread, receipt=receipt)


def _shared_page(site: str, key: str) -> Response:
    """The page every reader sees alike: from the read cache, keyed by revisions.

    `?fragment=1` answers only the page's comments and the next "Load more" link,
    for frame.js to append.
    """
    ref = readcache.lookup(site, key)
    if ref is None:
        # Created here on its first view, when the site's own page frames it.
        thread_for_view(site, key, request.args, request.headers)
        ref = readcache.lookup(site, key)
        assert ref is not None  # thread_for_view returned it or raised
    view = _view()
    fragment = request.args.get("fragment") == "1"
    origin = parent_origin(ref.allowed_origins)
    theme = sorted(_theme_params().items())
    # Everything the page reads from the request is in the key. `lang` as well as
    # the locale: links inside the frame carry the parameter only when it was given.
    lang = request.args.get("lang", "")
    cache_key = readcache.key_for(
        "embed-fragment" if fragment else "embed",
        ref,
        view.sort,
        str(view.after or ""),
        str(view.focus or ""),
        str(get_locale()),
        lang if lang in current_app.config["LANGUAGES"] else "",
        repr(theme),
        origin,
    )

    def render() -> str:
        thread = db.session.get(Thread, ref.thread_id)
        assert thread is not None  # lookup() just found it
        return _render(thread, view, origin, fragment=fragment)

    # The same request again, at the same revisions, is answered from memory.
    mark_shared(site, key, ref)

    return readcache.serve(
        cache_key,
        render,
        "text/html",
        # On 200 and 304 alike: only the site's own pages may frame us.
        {"Content-Security-Policy": embed_csp(frame_ancestors_of(ref.allowed_origins))},
    )


def _too_fast(limit: RequestLimit) -> Response:
    """A posting limit's answer inside the frame: the thread and its form again,
    the reader's text kept, saying when to try again (Retry-After is added by
    errorhandlers.rate_limited)."""
    args = request.view_args or {}
    thread = get_thread(str(args.get("site", "")), str(args.get("key", "")))
    reason = thread_busy() if "post:thread" in limit.key else too_fast()
    message = retry_message(reason, seconds_until(limit.reset_at))
    values = {name: request.form.get(name, "") for name in _FIELDS}
    return _page(thread, HTTPStatus.TOO_MANY_REQUESTS, values=values, message=message)


@bp.post("/<site>/<key>")
@post_limits_answering(_too_fast)
def post_comment(site: str, key: str) -> Response:
    """Accept a reader's comment from the embedded form."""
    thread = get_thread(site, key)
    check_origin(request, thread.site)
    values = {name: request.form.get(name, "") for name in _FIELDS}
    try:
        token = read_token(request.form.get("token"), thread)
        new = check_comment(
            request.form,
            body_max=current_app.config["BODY_MAX_LENGTH"],
            handle_max=current_app.config["HANDLE_MAX_LENGTH"],
        )
        # "Email me replies" needs an address to send them to.
        notify_replies = request.form.get("notify_replies") in ("1", "on", "y")
        if notify_replies and new.email is None:
            message = _("Give your email to get replies by email.")
            raise InvalidInput(message, {"email": [message]})
        # Every reader of a cached page holds the same token: the key is the
        # token with what was written, so only a true double submit repeats it.
        new = replace(
            new,
            idempotency_key=form_idempotency_key(
                token, new.handle, new.body, new.parent_id
            ),
            notify_replies=notify_replies,
        )
    except FormExpired as error:
        # Keep what the reader wrote; the fresh token lets them post it at once.
        return _page(thread, error.status, values=values, message=error.message)
    except InvalidInput as error:
        return _page(
            thread,
            error.status,
            values=values,
            errors=error.fields,
            message=error.message,
        )
    # The authorship nudge: once per draft, before anything is stored. 422 like a
    # bounced form: nothing stored, and the posting limits charge only < 300.
    nudge = nudges.consider(thread, new, request.form.get(nudges.ACK_FIELD))
    if nudge.ack:
        values["nudge_ack"] = nudge.ack
        return _page(
            thread,
            HTTPStatus.UNPROCESSABLE_ENTITY,
            values=values,
            message=nudges.message(),
        )
    new = replace(new, nudge=nudge.outcome)
    try:
        comment = submit_comment(thread, new)
    except ModerationError as error:  # closed thread, reply to a vanished comment
        return _page(thread, error.status, values=values, message=error.message)
    return _page(thread, RESPONSE_STATUS[comment.status], receipt=comment)


@bp.get("/<site>/<key>/allowed")
@limiter.exempt  # embed.js asks once, only when its frame stayed silent
def allowed(site: str, key: str) -> Response:
    """Whether a page at `?origin=` may show this site's comments, for embed.js to
    explain a frame the browser refused: JSON any page may read (it names only
    the origin that asked, never the site's list)."""
    origin = origin_of(request.args.get("origin", ""))
    found = db.session.scalar(sa.select(Site).filter_by(slug=site))
    if found is None:
        body = {
            "allowed": False,
            "origin": origin,
            "message": f"There is no site {site!r} here: check data-site.",
        }
    elif origin and origin in site_origins(found):
        body = {"allowed": True, "origin": origin, "message": ""}
    else:
        body = {
            "allowed": False,
            "origin": origin,
            "message": (
                f"This page's origin {origin or '(none)'} may not show comments for "
                f"site {site!r}. An admin adds it under Sites → Settings → allowed "
                "origins."
            ),
        }
    response = jsonify(body)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-store"
    return response
