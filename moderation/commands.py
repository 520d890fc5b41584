"""Every `flask --app moderation` command, attached to the app in one place."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach each command module's commands."""
    from . import cli, eval_cli, model_cli, screen_cli
    from .admin import cli as admin_cli
    from .demo import cli as demo_cli
    from .porting import cli as porting_cli

    for module in (
        cli,
        model_cli,
        screen_cli,
        eval_cli,
        admin_cli,
        demo_cli,
        porting_cli,
    ):
        module.register(app)
