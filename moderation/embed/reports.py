"""Readers reporting a published comment, inside the publisher's iframe."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import (
    Response,
    current_app,
    has_request_context,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter import RequestLimit

from ..clients import network_key
from ..errors import FormExpired, InvalidInput
from ..extensions import limiter
from ..models import Comment, ReportReason, Thread
from ..origins import check_origin, framed_by_site, parent_origin
from ..services.comments import get_thread
from ..services.reports import (
    REPORT_SCOPE,
    TEXT_MAX,
    AlreadyReported,
    check_report,
    report_comment,
    report_limit,
)
from ..services.reports import reportable as find_reportable
from ..signing import issue_token, read_token
from .blueprint import bp
from .themes import theme_args


@bp.app_context_processor
def reader_language() -> dict[str, str]:
    """`<html lang>` of every reader page (the embed blueprints) follows its locale."""
    if has_request_context() and (request.blueprint or "").startswith("embed"):
        return {"lang": str(get_locale())}
    return {}


@bp.app_template_global()
def reader_args() -> dict[str, Any]:
    """The theme and language to carry on links and forms inside the iframe."""
    args = theme_args()
    lang = request.args.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        args["lang"] = lang
    return args


def reason_labels() -> list[tuple[str, str]]:
    """The reasons a reader can pick, in their language."""
    return [
        (ReportReason.ABUSE.value, _("Abusive or hateful")),
        (ReportReason.SPAM.value, _("Spam or advertising")),
        (ReportReason.OFF_TOPIC.value, _("Off-topic")),
        (ReportReason.OTHER.value, _("Something else")),
    ]


def _page(
    thread: Thread,
    comment: Comment | None,
    status: int = HTTPStatus.OK,
    *,
    message: str = "",
    outcome: str = "",
    errors: dict[str, list[str]] | None = None,
) -> Response:
    origin = parent_origin(thread.site.allowed_origins or ())
    html = render_template(
        "embed/report.html",
        thread=thread,
        comment=comment,
        token=issue_token(thread),
        reasons=reason_labels(),
        values=request.form if request.method == "POST" else {},
        errors=errors or {},
        message=message,
        outcome=outcome,
        text_max=TEXT_MAX,
        parent_origin=origin,
        back_url=url_for(
            "embed.thread_page",
            site=thread.site.slug,
            key=thread.key,
            origin=origin or None,
            **reader_args(),
        ),
    )
    return framed_by_site(make_response(html, status), thread.site)


def _too_many_reports(limit: RequestLimit) -> Response:
    """The report form's answer to its limit's breach: the form, saying so, inside
    the iframe (errorhandlers.rate_limited adds Retry-After)."""
    args = request.view_args or {}
    thread = get_thread(str(args.get("site")), str(args.get("key")))
    message = _("You are sending reports too fast; try again later.")
    return _page(
        thread, None, HTTPStatus.TOO_MANY_REQUESTS, message=message, outcome="error"
    )


# The API's report limit, counted in the same scope; only its answer differs.
report_page_limits = limiter.shared_limit(
    report_limit,
    scope=REPORT_SCOPE,
    key_func=network_key,
    on_breach=_too_many_reports,
)


@bp.get("/<site>/<key>/comments/<int:comment_id>/report")
def report_form(site: str, key: str, comment_id: int) -> Response:
    """The report form for one published comment."""
    thread = get_thread(site, key)
    return _page(thread, find_reportable(comment_id, thread.id))


@bp.post("/<site>/<key>/comments/<int:comment_id>/report")
@report_page_limits
def report(site: str, key: str, comment_id: int) -> Response:
    """Record a reader's report and say so; the comment is not hidden at once."""
    thread = get_thread(site, key)
    check_origin(request, thread.site)
    comment = find_reportable(comment_id, thread.id)
    try:
        read_token(request.form.get("token"), thread)
        reason, text = check_report(request.form.to_dict())
    except FormExpired:
        return _page(
            thread,
            comment,
            HTTPStatus.BAD_REQUEST,
            message=_(
                "This form has expired. Your text is kept: press “Send report” again."
            ),
            outcome="error",
        )
    except InvalidInput as error:
        return _page(
            thread,
            comment,
            error.status,
            message=_("The report could not be sent; see below."),
            outcome="error",
            errors=error.fields,
        )
    try:
        report_comment(comment, reason, text, network_key())
    except AlreadyReported:
        return _page(
            thread,
            None,
            HTTPStatus.OK,
            message=_("You have already reported this comment. Thank you."),
            outcome="already",
        )
    return _page(
        thread,
        None,
        HTTPStatus.CREATED,
        message=_("Thank you: your report was sent to the moderators."),
        outcome="reported",
    )
