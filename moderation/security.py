"""Response headers: framing rules, no sniffing, a strict content security policy."""

from __future__ import annotations

from flask import Flask, Response

# Pages load only our own scripts and styles: a comment can never bring a script.
BASE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'"
)


def embed_csp(frame_ancestors: str) -> str:
    """The policy for pages that publishers frame: only their origins may."""
    return f"{BASE_CSP}; frame-ancestors {frame_ancestors}"


def register(app: Flask) -> None:
    """Add the headers to every response; embed views set their own framing."""

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
