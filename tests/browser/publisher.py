"""A publisher's site on an origin of its own, for the browser tests: pages that
embed the thread with the one-line embed.js snippet, and helpers to reach and
measure the cross-origin iframe they make."""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass, field

import pytest

FRAME = "iframe.moderation-thread"

ARTICLE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body {{ margin: 0; padding: 1rem; {style} }}</style></head>
<body><main><h1>{title}</h1>
<p>{text}</p>
<script src="{service}/static/js/embed.js" data-site="demo"
  data-thread="{thread}" data-url="{origin}/{thread}" data-title="{title}" {extra}
  async></script>
</main></body></html>
"""
LIGHT = "background: #ffffff; color: #111111;"
DARK = "background: #121212; color: #eeeeee;"


@dataclass
class Publisher:
    """An HTTP server at `origin` answering each path with the page added for it."""

    origin: str
    server: http.server.ThreadingHTTPServer
    pages: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        path: str,
        service: str,
        thread: str,
        style: str = LIGHT,
        extra: str = "",
        title: str = "",
    ) -> str:
        """An article at `path` embedding `thread`; returns its URL."""
        self.pages[path] = ARTICLE.format(
            title=title or f"Article {path}",
            style=style,
            text="An article. " * 40,
            service=service,
            thread=thread,
            origin=self.origin,
            extra=extra,
        )
        return f"{self.origin}{path}"

    def html(self, path: str, html: str) -> str:
        """A page of the test's own at `path`; returns its URL."""
        self.pages[path] = html
        return f"{self.origin}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def publisher(host: str) -> Publisher:
    """A publisher listening on `host` (127.0.0.2 ...), or a skip where the
    loopback /8 is not there."""
    pages: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server calls it by this name
            body = pages.get(self.path.split("?")[0], "not here").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    try:
        server = http.server.ThreadingHTTPServer((host, 0), Handler)
    except OSError as error:
        pytest.skip(f"cannot listen on {host} ({error}): no loopback /8 here")
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Publisher(f"http://{host}:{server.server_address[1]}", server, pages)


def frame_of(page):
    """The comment iframe's Frame, once embed.js made it and it loaded."""
    page.locator(FRAME).scroll_into_view_if_needed()
    frame = page.locator(FRAME).element_handle().content_frame()
    assert frame is not None
    frame.wait_for_load_state("load")
    return frame


def fits(page, frame) -> int:
    """Waits until the iframe is as tall as its (cross-origin) content."""
    for _ in range(100):
        content = frame.evaluate(
            "Math.ceil(document.documentElement.getBoundingClientRect().height)"
        )
        style = page.locator(FRAME).evaluate("f => f.style.height")
        if style == f"{max(150, content)}px":
            return content
        page.wait_for_timeout(100)
    raise AssertionError(f"iframe height {style!r}, content {content}px")
