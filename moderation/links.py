"""Links: http and https only, checked where a URL comes in and again where it goes out.

A thread's URL comes from imports, a page's first view and moderators, and is
written into the thread's permalinks (target="_top"), Atom feeds, the moderators'
pages and the API. A `javascript:` or `data:` URL in any of them would run in the
publisher's page or ours, so every one passes `web_url` on the way in (refused when
it fails) and the `web_url` filter on the way out (dropped when it fails). The
check is the browsers' own reading of a URL: tabs and newlines anywhere and
control characters at the ends are ignored, and the scheme is case-insensitive.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask

SCHEMES = ("http", "https")
# What a browser's URL parser drops before it reads the scheme.
_IGNORED_ANYWHERE = re.compile(r"[\t\n\r]")
_ENDS = "".join(chr(c) for c in range(0x21))  # C0 controls and space
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def web_url(value: str | None) -> str | None:
    """`value` as an http(s) URL with a host, as a browser would read it; None
    when it is anything else (another scheme, no host, control characters)."""
    if not value:
        return None
    url = _IGNORED_ANYWHERE.sub("", value).strip(_ENDS)
    if _CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed IPv6 host
        return None
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        return None
    return url


def register(app: Flask) -> None:
    """The `web_url` template filter: the URL when it is safe to link, else ''."""
    app.add_template_filter(lambda value: web_url(value) or "", "web_url")
