"""The screening's own errors, shared by the classifiers and the CLI."""

from __future__ import annotations


class ScreeningError(Exception):
    """Base class of the screening's own errors."""


class ClassifierUnavailable(ScreeningError):
    """The requested classifier cannot be set up here (weights, config, library)."""


class FetchFailed(ScreeningError):
    """Downloading detoxify weights or their config failed; nothing was kept."""
