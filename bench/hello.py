"""Bare Flask: the ceilings the read benchmark compares the thread page to.

Served by bench/read.sh under the same gunicorn settings as the service:
`gunicorn --config deploy/gunicorn.conf.py --chdir bench hello:app`.

- `/`: the smallest response Flask can make.
- `/page`: the very bytes of the service's thread page (the file BENCH_PAGE
  names, read once at start), from a plain Flask view: what serving that page
  costs with no work at all (issue 15's reference).
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

app = Flask(__name__)
_PAGE_FILE = os.environ.get("BENCH_PAGE")
PAGE = Path(_PAGE_FILE).read_bytes() if _PAGE_FILE else b""


@app.get("/")
def hello() -> str:
    """The smallest response Flask can make."""
    return "Hello, World!"


@app.get("/page")
def page() -> Response:
    """The thread page's bytes, as they are."""
    return Response(PAGE, mimetype="text/html")
