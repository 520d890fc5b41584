"""The demo's command: `flask --app moderation load-demo`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .loader import load_demo as load


def register(app: Flask) -> None:
    """Attach the demo's command (commands.py attaches every module's)."""
    app.cli.add_command(load_demo)


@click.command("load-demo")
@click.option(
    "--public-url",
    default=None,
    help="Where the service is reached (default: PUBLIC_URL).",
)
@with_appcontext
def load_demo(public_url: str | None) -> None:
    """Load the demo site, the seed article's thread and comments, and a moderator."""
    public_url = (public_url or current_app.config["PUBLIC_URL"]).rstrip("/")
    thread, login = load(public_url, Path(current_app.instance_path))
    published = sum(1 for c in thread.comments if c.published)
    click.echo(
        f"demo thread {thread.site.slug}/{thread.key}: {published} published comments"
    )
    click.echo(f"  article:    {public_url}/demo")
    password = login.password or (
        "password file instance/demo-moderator.txt is gone; use "
        "`flask moderation create-moderator`"
    )
    click.echo(f"  moderators: {public_url}/mod/  ({login.email} / {password})")
    click.echo(f"  API:        {public_url}/api/v1/openapi.json")
