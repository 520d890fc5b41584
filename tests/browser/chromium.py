"""What the browser tests share: the system Chromium, its flags, axe-core, the frame.

Plain names; the fixtures that start Chromium and the live service are in this
folder's conftest.py.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("MODERATION_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The iframe embed.js makes on the demo article.
FRAME = "iframe.moderation-thread"
TIMEOUT_MS = 10_000
SERIOUS = {"serious", "critical"}


def find_chromium() -> str:
    """The browser to drive; skips, saying what to install, when there is none."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("Playwright not installed: pip install -e '.[dev]'")
    path = shutil.which(CHROMIUM)
    if not path or not Path(path).is_file():
        pytest.skip("Chromium not installed: apt-get install chromium")
    return path


def axe(frame) -> list[str]:
    """Serious and critical axe-core violations of a page's or frame's document."""
    from axe_playwright_python.sync_playwright import Axe

    frame.evaluate(Axe().axe_script)
    results = frame.evaluate(
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.map(n => n.target.join(' '))})))"
    )
    return [
        f"{v['id']} ({v['impact']}): {', '.join(v['nodes'][:3])}"
        for v in results
        if v["impact"] in SERIOUS
    ]


def frame_height(page) -> int:
    """The iframe's height as set by the height messages; waits until there is one."""
    page.wait_for_function(
        f"() => document.querySelector('{FRAME}').style.height !== ''",
        timeout=TIMEOUT_MS,
    )
    style = page.locator(FRAME).evaluate("frame => frame.style.height")
    match = re.fullmatch(r"(\d+)px", style)
    assert match, f"unexpected iframe height style {style!r}"
    return int(match.group(1))


def wait_for_frame_to_fit(page) -> int:
    """Waits until the iframe is as tall as its content; returns that height."""
    page.wait_for_function(
        f"""() => {{
            const frame = document.querySelector('{FRAME}');
            const html = frame.contentDocument && frame.contentDocument.documentElement;
            return html && frame.style.height ===
                Math.max(150, Math.ceil(html.getBoundingClientRect().height)) + 'px';
        }}""",
        timeout=TIMEOUT_MS,
    )
    return frame_height(page)
