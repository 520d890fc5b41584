"""Atom feeds of published comments: one per thread, one per site, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import sqlalchemy as sa
from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, current_app, request, url_for
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..links import web_url
from ..models import Comment, CommentStatus, Site, Thread
from ..services.comments import get_site, get_thread

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

FEED_LIMIT = 50  # entries per feed: a reader's feed client polls, it does not page
MAX_AGE = 60  # seconds a feed may be cached: polled often, changes often


@bp.get("/<site>.atom")
def site_feed(site: str) -> Response:
    """The newest published comments on every thread of a site."""
    found = get_site(site)
    comments = _newest(Thread.site_id == found.id)
    feed = _feed(
        found,
        feed_id=_tag(found, f"site/{found.slug}"),
        title=f"Comments on {found.name}",
        alternate=found.allowed_origins[0] if found.allowed_origins else "",
        comments=comments,
    )
    return _atom(feed)


@bp.get("/<site>/<key>.atom")
def thread_feed(site: str, key: str) -> Response:
    """The newest published comments of one thread."""
    thread = get_thread(site, key)
    comments = _newest(Comment.thread_id == thread.id)
    feed = _feed(
        thread.site,
        feed_id=_tag(thread.site, f"thread/{thread.id}"),
        title=f"Comments: {thread.title or thread.key}",
        alternate=web_url(thread.url) or _embed_url(thread),
        comments=comments,
    )
    return _atom(feed)


def _newest(where: sa.ColumnElement[bool]) -> list[Comment]:
    """Published comments matching `where`, newest first, at most FEED_LIMIT."""
    return list(
        db.session.scalars(
            sa.select(Comment)
            .join(Comment.thread)
            .options(contains_eager(Comment.thread))
            .where(where, Comment.status == CommentStatus.PUBLISHED)
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .limit(FEED_LIMIT)
        )
    )


def _tag(site: Site, path: str) -> str:
    """A stable tag: URI (RFC 4151), whatever the article URLs become."""
    host = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "localhost"
    return f"tag:{host},{site.created_at:%Y-%m-%d}:{site.slug}/{path}"


def _embed_url(thread: Thread) -> str:
    return url_for(
        "embed.thread_page", site=thread.site.slug, key=thread.key, _external=True
    )


def comment_link(comment: Comment) -> str:
    """Where a comment is read: the article's own page when the thread has one."""
    anchor = f"#comment-{comment.id}"
    return (web_url(comment.thread.url) or _embed_url(comment.thread)) + anchor


def _feed(
    site: Site,
    *,
    feed_id: str,
    title: str,
    alternate: str,
    comments: Sequence[Comment],
) -> FeedGenerator:
    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(title)
    feed.link(href=request.url, rel="self", type="application/atom+xml")
    if alternate:
        feed.link(href=alternate, rel="alternate", type="text/html")
    feed.updated(comments[0].created_at if comments else site.created_at)
    feed.generator("moderation")
    for comment in comments:  # newest first, as listed
        entry = feed.add_entry(order="append")
        entry.id(_tag(site, f"comment/{comment.id}"))
        thread_title = comment.thread.title or comment.thread.key
        entry.title(f"{comment.handle} on {thread_title}")
        entry.author(name=comment.handle)
        entry.published(comment.created_at)
        entry.updated(comment.edited_at or comment.created_at)
        entry.link(href=comment_link(comment), rel="alternate", type="text/html")
        # Already cleaned by nh3 when stored (rendering.render_body).
        entry.content(comment.html, type="html")
    return feed


def _atom(feed: FeedGenerator) -> Response:
    response = current_app.response_class(
        feed.atom_str(pretty=False), mimetype="application/atom+xml"
    )
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response
