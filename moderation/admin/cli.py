"""Commands: `flask moderation create-moderator`, `flask create-api-token`."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from ..commands.screen import moderation_group
from ..errors import InvalidInput, InvalidTransition
from ..extensions import db
from ..models import Role
from ..services.api_tokens import create_token
from . import staff

ACTOR = "cli"  # who the audit log names for changes made from the shell


def register(app: Flask) -> None:
    """Attach the top-level commands (the group's are attached at import)."""
    app.cli.add_command(create_api_token)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # One line; the trailing newline is not part of the password.
        return sys.stdin.readline().rstrip("\r\n")
    return str(
        click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    )


@moderation_group.command("create-moderator")
@click.argument("email")
@click.option(
    "--name", default=None, help="Shown in the queue (default: the email's name)."
)
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=None,
    help="admin or moderator (new accounts: moderator).",
)
@click.option(
    "--site",
    "sites",
    multiple=True,
    metavar="SLUG",
    help="A site the moderator works; repeat for several (admins work them all).",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin instead of asking.",
)
def create_moderator_command(
    email: str,
    name: str | None,
    role: str | None,
    sites: tuple[str, ...],
    password_stdin: bool,
) -> None:
    """Create a moderator, or update one's role, sites and password (audited)."""
    try:
        email = staff.normal_email(email)
        chosen_sites = staff.sites_by_slug(sites)
    except InvalidInput as error:
        raise click.BadParameter(error.message) from error
    password = _read_password(password_stdin)
    try:
        staff.check_password_strength(password)
    except InvalidInput:
        raise click.BadParameter(
            f"use at least {staff.MIN_PASSWORD_LENGTH} characters",
            param_hint="password",
        ) from None
    moderator = staff.moderator_by_email(email)
    try:
        if moderator is None:
            moderator = staff.create_moderator(
                email,
                name=name or "",
                role=Role(role or Role.MODERATOR),
                sites=chosen_sites,
                password=password,
                actor=ACTOR,
            )
            click.echo(f"created {moderator.role.value} {email}")
            return
        if name:
            moderator.name = name
        staff.change_password(moderator, "", password, check_current=False, actor=ACTOR)
        if role is not None:
            staff.set_role(moderator, Role(role), by=None, actor=ACTOR)
        if sites:
            staff.set_sites(moderator, chosen_sites, by=None, actor=ACTOR)
    except InvalidTransition as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    click.echo(f"updated {moderator.role.value} {email} (its sessions have ended)")


@click.command("create-api-token")
@click.argument("email")
@click.option("--name", default="", help="What the token is for, e.g. a script's name.")
@with_appcontext
def create_api_token(email: str, name: str) -> None:
    """Make a moderation API token for a moderator; it is printed once."""
    moderator = staff.moderator_by_email(email)
    if moderator is None:
        raise click.BadParameter(f"no moderator {email}", param_hint="EMAIL")
    if not moderator.active:
        raise click.BadParameter(f"{email} is deactivated", param_hint="EMAIL")
    row, token = create_token(moderator, name)
    click.echo(
        f"API token {row.prefix}… for {moderator.email} "
        "(shown once; send it as 'Authorization: Bearer TOKEN'):",
        err=True,
    )
    click.echo(token)
