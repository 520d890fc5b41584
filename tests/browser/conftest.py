"""Fixtures of the browser tests: the system Chromium and a live service.

Each module gets its own service (tests change its data) and browser; a module
that needs other settings defines its own `server`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chromium import CHROMIUM_ARGS, find_chromium

from live_server import LiveServer, live_server


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The browser to drive; skips, saying what to install, when there is none."""
    return find_chromium()


@pytest.fixture(scope="module")
def server(
    chromium_path: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The service as production runs it, with the demo loaded (live_server.py).

    Its own SQLite even when MODERATION_TEST_DATABASE_URL names a PostgreSQL.
    """
    with live_server(tmp_path_factory.mktemp("live")) as running:
        yield running


@pytest.fixture(scope="module")
def browser(chromium_path: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
