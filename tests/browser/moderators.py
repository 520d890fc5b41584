"""Moderators in a real browser: made in the live service, logged in by keyboard.

Shared by the queue's browser tests: `run` runs Python in the service's own
environment (creating moderators, seeding comments), `logged_in` opens a fresh
context logged in as one of them, collecting CSP and script errors.
"""

from __future__ import annotations

import subprocess
import sys

from chromium import TIMEOUT_MS

from live_server import PROJECT_ROOT, LiveServer

PASSWORD = "keyboard only please"


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    result = subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{args[:3]} failed:\n{result.stderr}"


def logged_in(browser, server: LiveServer, email: str, problems: list[str]):
    """A fresh context logged in as `email`; CSP or script errors go to problems."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    # A CSP violation or a script error shows as a console error; a failed load is
    # listed by its response instead (the browser's own favicon request aside).
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{server.url}/mod/login")
    # The email field has autofocus: the login is typed, too.
    page.wait_for_function("document.activeElement.name === 'email'")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/mod/")
    return context, page


def press_and_wait(page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)
