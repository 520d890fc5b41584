"""Threads created on their first view, when the site's own page frames them.

A publisher adds one iframe per article and never calls us first: the iframe's
URL names the article (`key`), the page (`url`, `title`) and the page's origin.
The thread is created only when the site exists, the page's origin and URL are
on the site's allowed origins, and what the browser says of itself agrees: a
Referer, when sent, comes from an allowed origin; Sec-Fetch-Dest, when sent,
says the page is being framed. The query string alone is easy to forge, so the
browser's own headers are what keep others from creating threads from their
pages; a client that sends neither (curl) can only create threads on URLs the
site owns, which is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import Headers

from .. import signals
from ..errors import ForbiddenOrigin, InvalidInput, NotFound
from ..extensions import db
from ..links import web_url
from ..models import THREAD_KEY_MAX, THREAD_TITLE_MAX, THREAD_URL_MAX, Site, Thread
from ..origins import origin_of, site_origins
from ..services.comments import get_site
from ..services.shapes import clean_text

logger = logging.getLogger(__name__)


# What Sec-Fetch-Dest says when a page frames us (<frame> is obsolete but legal).
_FRAMED = {"iframe", "frame"}

# A request's headers, or a plain mapping of them (tests, other callers).
RequestHeaders = Mapping[str, str] | Headers


def find_thread(site_slug: str, key: str) -> Thread | None:
    """The stored thread `key` of site `site_slug`, or None."""
    return db.session.scalar(
        sa.select(Thread)
        .join(Thread.site)
        .where(Site.slug == site_slug, Thread.key == key)
    )


def thread_for_view(
    site_slug: str,
    key: str,
    args: Mapping[str, str],
    headers: RequestHeaders,
) -> Thread:
    """The thread to show: the stored one, or a new one the site's page asks for."""
    thread = find_thread(site_slug, key)
    if thread is not None:
        return thread
    site = get_site(site_slug)
    if not args.get("origin"):
        # Not an embedding page asking: an unknown thread, as before.
        raise NotFound(f"No thread {key!r} on site {site_slug!r}.")
    url, title = check_page(key, args)
    check_embedder(site, args.get("origin", ""), url, headers)
    return create_thread(site, key, url, title)


def check_page(key: str, args: Mapping[str, str]) -> tuple[str, str]:
    """(url, title) from the iframe's parameters, or InvalidInput naming the field."""
    errors: dict[str, list[str]] = {}
    if not key.strip() or key != clean_text(key) or key != key.strip():
        errors["key"] = [_("The article key must be plain text, no spaces around.")]
    elif len(key) > THREAD_KEY_MAX:
        errors["key"] = [
            _("The article key can be at most %(n)d characters.", n=THREAD_KEY_MAX)
        ]
    url = args.get("url", "").strip()
    if len(url) > THREAD_URL_MAX:
        errors["url"] = [
            _("The page URL can be at most %(n)d characters.", n=THREAD_URL_MAX)
        ]
    elif url and (url != clean_text(url) or web_url(url) != url):
        errors["url"] = [_("The page URL must be an http or https address.")]
    title = " ".join(clean_text(args.get("title", "")).split())
    if len(title) > THREAD_TITLE_MAX:
        errors["title"] = [
            _("The title can be at most %(n)d characters.", n=THREAD_TITLE_MAX)
        ]
    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidInput(first, errors)
    return url, title


def check_embedder(site: Site, origin: str, url: str, headers: RequestHeaders) -> None:
    """Refuse to create a thread for a page the site does not own."""
    allowed = site_origins(site)
    refused = ForbiddenOrigin(
        _(
            "Comments for %(site)r can only be embedded on the site's own pages; "
            "add this page's origin to the site's allowed origins.",
            site=site.slug,
        )
    )
    if origin_of(origin) not in allowed:
        raise refused
    if url and origin_of(url) not in allowed:
        raise refused
    referer = headers.get("Referer")
    if referer is not None and origin_of(referer) not in allowed:
        raise refused
    dest = headers.get("Sec-Fetch-Dest")
    if dest is not None and dest.lower() not in _FRAMED:
        raise ForbiddenOrigin(
            _(
                "A thread is created only when the article's page frames it; "
                "open the article instead."
            )
        )


def create_thread(site: Site, key: str, url: str, title: str) -> Thread:
    """Insert the thread; when a concurrent first view won the race, return its."""
    thread = Thread(site=site, key=key, url=url, title=title)
    db.session.add(thread)
    try:
        db.session.flush()  # a concurrent first view's row fails here, not below
        signals.thread_created.send(thread)  # webhooks, in this transaction
        db.session.commit()
    except IntegrityError:
        # Two readers opened a new article at once: unique (site_id, key).
        db.session.rollback()
        existing = find_thread(site.slug, key)
        if existing is None:
            raise
        return existing
    logger.info("thread %s created on site %s by its first view", thread.id, site.id)
    return thread
