"""The outbox's sender loop, beside each screening worker (a thread of its own,
so that a slow SMTP server or webhook receiver never delays a verdict).

It sends what is due, then, when nothing is, lets the alerts look for a digest
or a daily summary that is due (alerts.tick). A commit that adds outbox rows
wakes this process's sender at once (`watch_commits`); otherwise it looks every
OUTBOX_POLL seconds, which is also how rows written by other processes and
retries that came due are found.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import OutboxMessage, utcnow
from . import alerts
from .outbox import Delivered, deliver_due

logger = logging.getLogger(__name__)


def run_sender(
    app: Flask,
    *,
    stop: threading.Event,
    wake: threading.Event | None = None,
    drain: bool = False,
) -> Delivered:
    """Send until stopped (or, with drain, until nothing is due)."""
    wake = wake or threading.Event()
    total = Delivered()
    with app.app_context():
        poll = float(app.config["OUTBOX_POLL"])
        while not stop.is_set():
            wake.clear()
            try:
                done = deliver_due()
                total.sent += done.sent
                total.retried += done.retried
                total.failed += done.failed
                total.dropped += done.dropped
                total.deferred += done.deferred
                if done.progress:
                    continue  # more may be due
                alerts.tick(utcnow())
                if drain:
                    if not deliver_due().progress:
                        break
                    continue
            except Exception:  # a database hiccup must not end the loop
                db.session.rollback()
                logger.exception("outbox sender: pass failed; retrying")
                stop.wait(max(poll, 1.0))
            finally:
                db.session.remove()
            wake.wait(poll)
    return total


class InProcessSender:
    """The embedded default's sender: a thread of the web process, started by
    its first request (or the first commit that adds a message) and woken by
    every commit that adds one."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def wake(self) -> None:
        with self._lock:
            # Started lazily, in the process that serves: safe across gunicorn's fork.
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=run_sender,
                    args=(self.app,),
                    kwargs={"stop": self._stop, "wake": self._wake},
                    name="outbox-sender",
                    daemon=True,
                )
                self._thread.start()
        self._wake.set()

    def started(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)


def install(app: Flask) -> None:
    """Give the app its in-process sender, when it sends in process."""
    if not app.config["IN_PROCESS_SENDER"]:
        return
    sender = InProcessSender(app)
    app.extensions["sender"] = sender

    @app.before_request
    def _start() -> None:  # one attribute test per request once started
        if not sender.started():
            sender.wake()


def watch_commits() -> None:
    """Wake this process's sender after any commit that added outbox rows."""
    if getattr(watch_commits, "installed", False):
        return

    @event.listens_for(Session, "before_flush")
    def _mark(session: Session, *_: object) -> None:
        if any(isinstance(row, OutboxMessage) for row in session.new):
            session.info["outbox_added"] = True

    @event.listens_for(Session, "after_commit")
    def _wake(session: Session) -> None:
        if session.info.pop("outbox_added", False):
            try:
                sender = current_app.extensions.get("sender")
            except RuntimeError:  # no app context
                return
            if sender is not None:
                sender.wake()

    watch_commits.installed = True  # type: ignore[attr-defined]
