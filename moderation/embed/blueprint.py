"""The readers' blueprint: every page inside a site's iframe, under /embed.

Its routes live in views.py (the thread, posting), edits.py (a reader's own edits
and deletes), reports.py (reporting a comment), reactions.py (respecting one) and
themes.py (the theme's CSS). The reader path carries no cookie, so the whole
blueprint is exempt from session CSRF: signed form tokens, receipts and origin
checks guard it instead (signing.py, origins.py).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("embed", __name__, url_prefix="/embed")
