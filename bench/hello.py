"""Hello world in Flask: the ceiling the read benchmark compares the thread page to.

Served by bench/read.sh under the same gunicorn settings as the service:
`gunicorn --config deploy/gunicorn.conf.py --chdir bench hello:app`.
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """The smallest response Flask can make."""
    return "Hello, World!"
