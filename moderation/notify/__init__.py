"""Notifications: mail to readers and moderators, webhooks to sites.

Everything goes through the outbox (outbox.py): a row written with the change
that causes it, sent by the workers. transport.py says how mail leaves (SMTP or
.eml files); webhooks.py signs and posts site events.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Check MAIL_URL at start (a typo fails loudly, not at the first mail),
    listen to the services' signals, and send from this process when the
    embedded default says so."""
    from pathlib import Path

    from . import events
    from .sender import install, watch_commits
    from .transport import transport_for

    directory = Path(app.config.get("MAIL_DIR") or Path(app.instance_path) / "mail")
    app.extensions["mail_transport"] = transport_for(
        app.config.get("MAIL_URL"), directory, float(app.config["MAIL_TIMEOUT"])
    )
    events.connect()
    watch_commits()
    install(app)
