"""Readers inside the iframe: one blueprint (blueprint.py), its routes in views.py,
edits.py, reports.py and themes.py, and the feeds readers subscribe to (feeds.py)."""

from . import edits, reports, themes, views  # noqa: F401  (they attach routes to bp)
from .blueprint import bp

__all__ = ["bp"]
