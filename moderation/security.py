"""Response headers: framing rules, no sniffing, a strict content security policy."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response
from flask.sessions import SecureCookieSessionInterface

# Pages load only our own scripts and styles: a comment can never bring a script.
BASE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'"
)


def embed_csp(frame_ancestors: str) -> str:
    """The policy for pages that publishers frame: only their origins may."""
    return f"{BASE_CSP}; frame-ancestors {frame_ancestors}"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus `Vary: Cookie` on public pages.

    Flask-Login looks at the session after every request, which marks it accessed
    and makes Flask add `Vary: Cookie`. The readers' pages are the same for every
    reader and say `Cache-Control: public`; varying them on Cookie would make a CDN
    keep one copy per visitor's cookies. Moderator pages keep the header.
    """

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        super().save_session(app, session, response)
        if response.cache_control.public and not session.modified:
            # Rewritten outright: HeaderSet.discard() does not update the header.
            kept = [value for value in response.vary if value.lower() != "cookie"]
            if kept:
                response.headers["Vary"] = ", ".join(kept)
            else:
                response.headers.pop("Vary", None)


def register(app: Flask) -> None:
    """Add the headers to every response; embed views set their own framing."""
    app.session_interface = SessionInterface()

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault(
            "Referrer-Policy", "strict-origin-when-cross-origin"
        )
        if "Content-Security-Policy" not in response.headers:
            # Everything but the embed is never framed: moderator pages above all.
            response.headers["Content-Security-Policy"] = (
                f"{BASE_CSP}; frame-ancestors 'none'"
            )
            response.headers["X-Frame-Options"] = "DENY"
        return response
