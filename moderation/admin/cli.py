"""Commands: `flask moderation create-moderator`, `flask moderation create-site`,
`flask create-api-token`, and a reader's data: `flask export-reader`,
`flask erase-reader`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask
from flask.cli import with_appcontext

from ..commands.screen import moderation_group
from ..errors import InvalidInput, InvalidTransition, ModerationError
from ..extensions import db
from ..models import Role
from ..services import sites
from ..services.api_tokens import create_token
from ..services.comments import get_site
from ..services.erasure import Reader, erase_reader, export_reader, find_comments
from . import staff

ACTOR = "cli"  # who the audit log names for changes made from the shell


def register(app: Flask) -> None:
    """Attach the top-level commands (the group's are attached at import)."""
    app.cli.add_command(create_api_token)
    app.cli.add_command(export_reader_command)
    app.cli.add_command(erase_reader_command)


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


@moderation_group.command("create-site")
@click.argument("slug")
@click.option("--name", required=True, help="Shown to moderators, e.g. 'Daily News'.")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    required=True,
    metavar="ORIGIN",
    help="Where its pages are served, e.g. https://news.example; repeat for more.",
)
@click.option(
    "--timezone", default="UTC", show_default=True, help="Comment times' zone."
)
@click.option(
    "--copy-from",
    "copy_from",
    default=None,
    metavar="SLUG",
    help="Copy thresholds, word lists and the other settings from this site.",
)
def create_site_command(
    slug: str, name: str, origins: tuple[str, ...], timezone: str, copy_from: str | None
) -> None:
    """Create a site that pages may embed threads of (audited)."""
    source = None
    if copy_from:
        source = sites.find_site(copy_from)
        if source is None:
            raise click.BadParameter(f"no site {copy_from!r}", param_hint="--copy-from")
    try:
        site = sites.create_site(
            slug, name, "\n".join(origins), timezone, copy_from=source, actor=ACTOR
        )
    except InvalidInput as error:
        db.session.rollback()
        problems = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.fields.items()
        )
        raise click.ClickException(problems or error.message) from error
    copied = f", settings copied from {source.slug}" if source is not None else ""
    click.echo(
        f"created site {site.slug} ({site.name}): origins "
        f"{', '.join(site.allowed_origins)}, time zone {site.timezone}{copied}"
    )


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


F = TypeVar("F", bound=Callable[..., Any])


def _reader_options(command: F) -> F:
    """--email, --handle, --receipt and --site: who the reader is, where."""
    for option in reversed(
        [
            click.option("--email", default=None, help="The email they gave."),
            click.option("--handle", default=None, help="The handle they post under."),
            click.option("--receipt", default=None, help="A comment's receipt."),
            click.option("--site", default=None, metavar="SLUG", help="One site only."),
        ]
    ):
        command = option(command)
    return command


def _reader(email: str | None, handle: str | None, receipt: str | None) -> Reader:
    if not (email or handle or receipt):
        raise click.UsageError("Name the reader: --email, --handle or --receipt.")
    return Reader(email=email, handle=handle, receipt=receipt)


@click.command("export-reader")
@_reader_options
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the JSON here (default: standard output).",
)
@with_appcontext
def export_reader_command(
    email: str | None,
    handle: str | None,
    receipt: str | None,
    site: str | None,
    output: Path | None,
) -> None:
    """Everything held on one reader, as JSON (an access request)."""
    try:
        data = export_reader(
            _reader(email, handle, receipt), get_site(site) if site else None
        )
    except ModerationError as error:
        raise click.ClickException(error.message) from error
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"{len(data['comments'])} comments written to {output}", err=True)


@click.command("erase-reader")
@_reader_options
@click.option(
    "--remove-handle", is_flag=True, help="Replace their handle with [removed] too."
)
@click.option("--reason", default="", help="Why, for the audit log.")
@click.option("--yes", is_flag=True, help="Do it without asking.")
@with_appcontext
def erase_reader_command(
    email: str | None,
    handle: str | None,
    receipt: str | None,
    site: str | None,
    remove_handle: bool,
    reason: str,
    yes: bool,
) -> None:
    """Erase one reader's personal data, as each site's erasure mode says (audited)."""
    reader = _reader(email, handle, receipt)
    try:
        chosen = get_site(site) if site else None
        found = len(find_comments(reader, chosen))
        if not yes:
            click.confirm(f"Erase the data of {found} comments?", abort=True, err=True)
        counts = erase_reader(
            reader,
            moderator=None,
            actor=ACTOR,
            site=chosen,
            remove_handle=remove_handle,
            reason=reason,
        )
    except ModerationError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    click.echo(
        f"erased {found} comments: {counts['redacted']} redacted, "
        f"{counts['deleted']} deleted; {counts['audit_rows']} audit rows scrubbed, "
        f"{counts['handle_settings']} handle settings removed"
    )
