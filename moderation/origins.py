"""Where a reader's request comes from, and which pages may frame ours.

A browser's POST must come from our own pages or from one of the site's allowed
origins (Sec-Fetch-Site, then Origin); pages inside a site's iframe may be framed by
that site's origins only (CSP frame-ancestors).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Request, Response, request
from flask_babel import gettext as _

from .errors import ForbiddenOrigin
from .models import Site
from .security import embed_csp


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased; '' when it has none."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def site_origins(site: Site) -> set[str]:
    """The site's allowed origins as browsers send them (scheme://host[:port])."""
    return {origin_of(o) or o.lower() for o in site.allowed_origins or ()}


def is_browser(request: Request) -> bool:
    """Browsers send Origin on POST and Sec-Fetch-Site on every request."""
    return "Origin" in request.headers or "Sec-Fetch-Site" in request.headers


def check_origin(request: Request, site: Site) -> None:
    """Refuse a browser POST that comes from a page neither ours nor the site's."""
    fetch_site = request.headers.get("Sec-Fetch-Site", "").lower()
    origin = request.headers.get("Origin", "").lower()
    if not is_browser(request):
        return
    own = origin_of(request.host_url)
    allowed = {own, *site_origins(site)}
    if origin and origin != "null":
        if origin in allowed:
            return
    elif fetch_site in ("same-origin", "none"):
        # Old browsers may omit Origin; Sec-Fetch-Site alone still speaks for it.
        return
    raise ForbiddenOrigin(
        _("This form can only be sent from the page that shows the comments.")
    )


def frame_ancestors(site: Site) -> str:
    """The CSP frame-ancestors value: exactly the site's origins."""
    return frame_ancestors_of(site.allowed_origins or ())


def frame_ancestors_of(allowed_origins: Iterable[str]) -> str:
    """frame_ancestors() from the origins alone (the read cache's hot path)."""
    origins = [origin_of(o) or o for o in allowed_origins]
    return " ".join(origins) if origins else "'none'"


def parent_origin(allowed_origins: Iterable[str]) -> str:
    """The embedding page's origin (the `origin` parameter) when the site allows
    it, else '': the only origin a frame may post its height and links to."""
    claimed = origin_of(request.values.get("origin", ""))
    allowed = {origin_of(o) for o in allowed_origins}
    return claimed if claimed in allowed else ""


def framed_by_site(response: Response, site: Site) -> Response:
    """A per-reader page inside the site's iframe: only the site's own pages may
    frame it, and no cache keeps it (it carries a form token or a receipt)."""
    response.headers["Content-Security-Policy"] = embed_csp(frame_ancestors(site))
    response.headers["Cache-Control"] = "no-store"
    return response
