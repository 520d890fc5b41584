"""The embed snippets an admin copies for a site: embed.js, and a plain iframe."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote, urlencode

import sqlalchemy as sa

from ..extensions import db
from ..models import Site, Thread

# Shown when the site has no thread yet: the key and path of an example article.
EXAMPLE_KEY = "story-1234"
EXAMPLE_PATH = "/2024/story-1234"
EXAMPLE_TITLE = "The story's headline"


@dataclass(frozen=True)
class Snippets:
    """The two ways to embed one thread, with what they were filled with."""

    script: str
    iframe: str
    count: str
    thread_key: str
    thread_url: str
    origin: str
    example: bool  # True: no thread yet, the key and URL are made up


def _attribute(value: str) -> str:
    return escape(value, quote=True)


def embed_snippets(site: Site, public_url: str) -> Snippets:
    """The snippets for `site`, filled with its latest thread (or an example)."""
    service = public_url.rstrip("/")
    thread = db.session.scalar(
        sa.select(Thread)
        .where(Thread.site_id == site.id)
        .order_by(Thread.created_at.desc(), Thread.id.desc())
        .limit(1)
    )
    origin = (site.allowed_origins or ["https://news.example"])[0]
    if thread is not None:
        key, url, title = thread.key, thread.url or "", thread.title or ""
    else:
        key, url, title = EXAMPLE_KEY, origin + EXAMPLE_PATH, EXAMPLE_TITLE
    lines = [
        f'<script src="{_attribute(service)}/static/js/embed.js"',
        f'        data-site="{_attribute(site.slug)}" data-thread="{_attribute(key)}"',
    ]
    if url:
        lines.append(f'        data-url="{_attribute(url)}"')
    if title:
        lines.append(f'        data-title="{_attribute(title)}"')
    script = "\n".join(lines) + " async></script>"
    query = {"origin": origin, **({"url": url} if url else {})}
    src = (
        f"{service}/embed/{quote(site.slug, safe='')}/{quote(key, safe='')}"
        f"?{urlencode(query)}"
    )
    iframe = (
        '<iframe class="moderation-thread" title="Reader comments" loading="lazy"\n'
        f'        src="{_attribute(src)}"\n'
        '        style="width:100%; height:900px; border:0"></iframe>\n'
        f'<script src="{_attribute(service)}/static/js/parent.js" defer></script>'
    )
    count = (
        f'<span data-moderation-count data-site="{_attribute(site.slug)}" '
        f'data-thread="{_attribute(key)}"></span>\n'
        f'<script src="{_attribute(service)}/static/js/count.js" async></script>'
    )
    return Snippets(
        script=script,
        iframe=iframe,
        count=count,
        thread_key=key,
        thread_url=url,
        origin=origin,
        example=thread is None,
    )
