"""The read cache's fast path: a repeated thread page answered before Flask.

A cache hit through the whole stack (routing, request and app contexts, Babel's
locale negotiation, the view, the after-request hooks) costs more than the bytes
it answers with. This WSGI middleware keeps, per process, the *final* response
the stack gave to a request: status, every header (the site's CSP included) and
body. The same request again, while its thread and site are at the same
revisions, gets those bytes back without entering Flask.

What makes it safe:
- Only responses a view marked as shared (`mark_shared`, which `readcache.serve`
  callers do) are kept: the page every reader of the thread sees alike, never
  a reader's own (receipts, replies, forms sent back), never one with a cookie.
- "The same request" is the same path, query string, Host, scheme, language
  (Accept-Language) and forwarded headers: everything the page is rendered from.
- Before each answer the thread's revisions are looked up exactly as the full
  stack does (`readcache.lookup`, with its READ_LOOKUP_TTL): a changed thread or
  site misses here and is rendered afresh.
- An entry lives at most `readcache.ttl()` (the form token in the page stays
  far younger than FORM_TOKEN_MAX_AGE), and the memory it may take is bounded
  (READ_FASTPATH_BYTES, least recently used out first).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, request
from werkzeug.http import parse_etags

from . import cache as readcache

# What a view leaves in the WSGI environ for the middleware: (site, key, ref).
ENVIRON_KEY = "moderation.read_shared"

# Where shared pages live: the thread page and the JSON API's comments (a view
# still has to mark its answer shared; nothing else under these is kept).
_SHARED_PREFIXES = ("/embed/", "/api/v1/sites/")

# The request headers a shared page may depend on (the rest never reach it).
_SIGNATURE_HEADERS = (
    "HTTP_HOST",
    "HTTP_ACCEPT_LANGUAGE",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
)

StartResponse = Callable[..., Any]


def mark_shared(site: str, key: str, ref: readcache.ThreadRef) -> None:
    """The response to this request is the shared page of (site, key) at `ref`."""
    request.environ[ENVIRON_KEY] = (site, key, ref)


@dataclass(frozen=True)
class _Entry:
    site: str
    key: str
    ref: readcache.ThreadRef
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    etag: str
    expires: float

    @property
    def size(self) -> int:
        return len(self.body) + 512


def _signature(environ: dict[str, Any]) -> tuple[str, ...] | None:
    if environ.get("REQUEST_METHOD") != "GET":
        return None
    return (
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        environ.get("wsgi.url_scheme", ""),
        *(environ.get(name, "") for name in _SIGNATURE_HEADERS),
    )


class ReadFastPath:
    """WSGI middleware in front of the app (see the module's docstring)."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.max_bytes = int(app.config["READ_FASTPATH_BYTES"])
        self._entries: OrderedDict[tuple[str, ...], _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    # The answer from memory ---------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        signature = _signature(environ) if self.max_bytes > 0 else None
        if signature is not None:
            entry = self._get(signature)
            if entry is not None and self._current(entry):
                return self._answer(entry, environ, start_response)
        path = environ.get("PATH_INFO", "")
        if signature is None or not path.startswith(_SHARED_PREFIXES):
            return self.wsgi_app(environ, start_response)
        return self._through(signature, environ, start_response)

    def _get(self, signature: tuple[str, ...]) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(signature)
            if entry is None:
                return None
            if entry.expires <= time.monotonic():
                self._drop(signature)
                return None
            self._entries.move_to_end(signature)
            return entry

    def _current(self, entry: _Entry) -> bool:
        """Whether the thread and its site are still at the entry's revisions."""
        try:
            with self.app.app_context():
                ref = readcache.lookup(entry.site, entry.key)
        except Exception:  # the database is down: let the full stack answer
            return False
        return ref == entry.ref

    @staticmethod
    def _answer(
        entry: _Entry, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        headers = [(k, v) for k, v in entry.headers if k.lower() != "x-read-cache"]
        headers.append(("X-Read-Cache", "hit"))
        wanted = parse_etags(environ.get("HTTP_IF_NONE_MATCH"))
        if entry.etag and wanted.contains(entry.etag):
            kept = [
                (k, v)
                for k, v in headers
                if k.lower() not in ("content-length", "content-type")
            ]
            start_response("304 NOT MODIFIED", kept)
            return []
        start_response(entry.status, headers)
        return [entry.body]

    # The answer from the app, kept when it is a shared page --------------------

    def _through(
        self,
        signature: tuple[str, ...],
        environ: dict[str, Any],
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        seen: dict[str, Any] = {}

        def remember(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            seen["status"], seen["headers"] = status, headers
            if exc_info is not None:
                return start_response(status, headers, exc_info)
            return start_response(status, headers)

        result = self.wsgi_app(environ, remember)
        shared = environ.get(ENVIRON_KEY)
        status = str(seen.get("status", ""))
        if shared is None or not status.startswith("200"):
            return result
        headers: list[tuple[str, str]] = seen["headers"]
        names = {name.lower() for name, _ in headers}
        if "set-cookie" in names:
            return result
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        etag = next((v for k, v in headers if k.lower() == "etag"), "")
        site, key, ref = shared
        with self.app.app_context():
            lifetime = readcache.ttl()
        self._put(
            signature,
            _Entry(
                site=site,
                key=key,
                ref=ref,
                status=status,
                headers=tuple(headers),
                body=body,
                etag=etag.strip('"') if etag else "",
                expires=time.monotonic() + lifetime,
            ),
        )
        return [body]

    def _put(self, signature: tuple[str, ...], entry: _Entry) -> None:
        if entry.size > self.max_bytes // 4:
            return  # one huge page must not push out every other thread
        with self._lock:
            if signature in self._entries:
                self._drop(signature)
            self._entries[signature] = entry
            self._bytes += entry.size
            while self._bytes > self.max_bytes and self._entries:
                self._drop(next(iter(self._entries)))

    def _drop(self, signature: tuple[str, ...]) -> None:
        entry = self._entries.pop(signature, None)
        if entry is not None:
            self._bytes -= entry.size


def install(app: Flask) -> None:
    """Put the fast path in front of the app (READ_FASTPATH_BYTES 0, or a read
    cache switched off, leaves it out)."""
    if int(app.config["READ_FASTPATH_BYTES"]) <= 0:
        return
    if app.config.get("CACHE_TYPE") == "NullCache":
        return
    app.wsgi_app = ReadFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
