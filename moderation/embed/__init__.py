"""Readers inside the iframe: one blueprint (blueprint.py), its routes in views.py,
edits.py, own.py (previews, a reader's own comments), reactions.py, reports.py
and themes.py, and the feeds readers subscribe to (feeds.py)."""

from . import (  # noqa: F401  (they attach routes to bp)
    edits,
    live,
    own,
    reactions,
    reports,
    themes,
    views,
)
from .blueprint import bp

__all__ = ["bp"]
