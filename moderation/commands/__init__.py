"""Every `flask --app moderation` command, attached to the app in one place.

The app-wide commands live here (screen.py: screen, fetch-model and the worker;
evaluate.py, optimize.py, train.py, site_heads.py, backup.py); an audience's own
commands live beside its pages (admin/cli.py, demo/cli.py, porting/cli.py).
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach each command module's commands."""
    from ..admin import cli as admin_cli
    from ..demo import cli as demo_cli
    from ..porting import cli as porting_cli
    from . import backup, evaluate, optimize, screen, train

    for module in (
        screen,
        optimize,
        train,
        evaluate,
        backup,
        admin_cli,
        demo_cli,
        porting_cli,
    ):
        module.register(app)
