"""Comment bodies: a small markdown subset with HTML off, cleaned by nh3."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import nh3
from babel.dates import format_datetime
from markdown_it import MarkdownIt

# Paragraphs, line breaks, emphasis, links, code, quotes and lists. No headings,
# images or tables: a comment is not a page. Raw HTML is text (html=False).
_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True})
    .enable("linkify")
    .disable(["heading", "lheading", "image", "hr", "html_block", "html_inline"])
)

ALLOWED_TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "a",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
}


def render_body(body: str) -> str:
    """The safe HTML for a comment body."""
    return nh3.clean(
        _markdown.render(body),
        tags=ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener",
    ).strip()


# The seed page's format: "November 6, 2023 - 12:41 am".
DISPLAY_PATTERN = "MMMM d, y - h:mm a"
# Other languages write dates their own way: "6 novembre 2023 à 00:41".
LOCALE_PATTERNS = {"fr": "d MMMM y 'à' HH:mm"}


def display_time(moment: datetime, timezone: str, locale: str = "en") -> str:
    """A stored UTC time as the site shows it, in the site's time zone."""
    pattern = LOCALE_PATTERNS.get(str(locale).split("_")[0], DISPLAY_PATTERN)
    text = format_datetime(moment, pattern, tzinfo=ZoneInfo(timezone), locale=locale)
    # CLDR English says "AM"/"PM"; the newsroom's pages print them lower case.
    return text.replace("\u202f", " ").replace("AM", "am").replace("PM", "pm")
