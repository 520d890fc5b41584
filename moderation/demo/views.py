"""The publisher's side, as a newsroom's page would embed us: the demo article."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from ..origins import origin_of
from ..services.comments import get_thread
from .article import load_article
from .loader import SITE, THREAD

bp = Blueprint("demo", __name__)


@bp.get("/")
def index() -> str:
    """Where to go: the demo article, the moderators' queue, the API."""
    return render_template("demo/index.html")


@bp.get("/demo")
def article() -> str:
    """The seed article with its comment thread embedded by iframe."""
    thread = get_thread(SITE, THREAD)
    embed_src = url_for(
        "embed.thread_page",
        site=thread.site.slug,
        key=thread.key,
        origin=origin_of(request.host_url),
    )
    return render_template(
        "demo/article.html", article=load_article(), thread=thread, embed_src=embed_src
    )
