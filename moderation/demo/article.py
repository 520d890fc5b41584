"""Parse the seed article: headline, byline, sections, FAQ and reader comments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ARTICLE_PATH = Path(__file__).with_name("article.txt")

# "Gary1990 November 6, 2023 - 12:41 am": the seed's comment header.
COMMENT_HEADER = re.compile(
    r"^(?P<handle>.+?) (?P<when>(?:January|February|March|April|May|June|July|August|"
    r"September|October|November|December) \d{1,2}, \d{4} - \d{1,2}:\d{2} [ap]m)$"
)
_FAQ_START = re.compile(r"^Frequently Asked Questions")
_END_OF_BODY = ("More about", "You may also like")


@dataclass
class Section:
    heading: str | None
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class SeedComment:
    handle: str
    local_time: datetime  # naive, in the site's time zone
    body: str


@dataclass
class Article:
    headline: str
    byline: str
    kicker: str
    sections: list[Section]
    faq_title: str
    faq: list[tuple[str, str]]
    comments: list[SeedComment]
    footer: list[str]


def _is_heading(line: str) -> bool:
    return len(line) < 80 and not line.endswith((".", "?", "”", '"', ":"))


def parse_article(text: str) -> Article:
    """Split the seed page into its parts; comments keep their handles and times."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    headline, byline, kicker = lines[0], lines[1].removeprefix("by ").strip(), lines[2]
    sections = [Section(None)]
    faq: list[tuple[str, str]] = []
    faq_title = ""
    comments: list[SeedComment] = []
    footer: list[str] = []
    part = "body"
    index = 3
    while index < len(lines):
        line = lines[index]
        header = COMMENT_HEADER.match(line)
        if header and index + 1 < len(lines):
            when = datetime.strptime(header["when"], "%B %d, %Y - %I:%M %p")
            comments.append(SeedComment(header["handle"], when, lines[index + 1]))
            part = "comments"
            index += 2
            continue
        if line == "Leave a Comment":
            part = "footer"
        elif part == "body" and _FAQ_START.match(line):
            part, faq_title = "faq", line
        elif part in ("body", "faq") and line.startswith(_END_OF_BODY):
            part = "links"
        elif part == "body":
            if _is_heading(line):
                sections.append(Section(line))
            else:
                sections[-1].paragraphs.append(line)
        elif part == "faq" and line.endswith("?") and index + 1 < len(lines):
            faq.append((line, lines[index + 1]))
            index += 1
        elif part == "footer":
            footer.append(line)
        index += 1
    return Article(
        headline=headline,
        byline=byline,
        kicker=kicker,
        sections=[s for s in sections if s.heading or s.paragraphs],
        faq_title=faq_title,
        faq=faq,
        comments=comments,
        footer=footer,
    )


def load_article() -> Article:
    """The seed article shipped with the package."""
    return parse_article(ARTICLE_PATH.read_text(encoding="utf-8"))
