"""Commands: `flask --app moderation import disqus|wordpress FILE.xml`, `export`."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from ..extensions import db
from ..models import Site
from . import disqus, wordpress
from .common import Export, ImportFailed, store
from .export import write_export

# As the demo and the API's URLs use them: /embed/<site>/<key>.
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

import_group = AppGroup("import", help="Import comments from another service's export.")


def register(app: Flask) -> None:
    """Attach the import and export commands to the app."""
    app.cli.add_command(import_group)
    app.cli.add_command(export_command)


def _import_options(command: Callable[..., None]) -> Callable[..., None]:
    command = click.option(
        "--create-site",
        is_flag=True,
        help="Create the site (named after its slug) when it does not exist.",
    )(command)
    command = click.option(
        "--site", "site_slug", required=True, help="The site to import into (slug)."
    )(command)
    return click.argument(
        "export_file",
        metavar="FILE.xml",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
    )(command)


@import_group.command("disqus")
@_import_options
def import_disqus(export_file: Path, site_slug: str, create_site: bool) -> None:
    """Import a Disqus XML export: published comments, with replies and times.

    Spam and deleted comments are skipped; a reply to a skipped comment becomes a
    top-level comment. Importing the same file again adds nothing.
    """
    _run_import(export_file, site_slug, create_site, disqus.parse)


@import_group.command("wordpress")
@_import_options
def import_wordpress(export_file: Path, site_slug: str, create_site: bool) -> None:
    """Import a WordPress export (WXR): approved comments published, pending held.

    Spam, trashed comments, pingbacks and trackbacks are skipped. A post's thread
    key is its post id. Importing the same file again adds nothing.
    """

    def parse(path: Path) -> Export:
        # A comment_date without its GMT twin is read in the site's time zone.
        site = _find_site(site_slug)
        return wordpress.parse(path, site.timezone if site else "UTC")

    _run_import(export_file, site_slug, create_site, parse)


def _run_import(
    path: Path, site_slug: str, create_site: bool, parse: Callable[[Path], Export]
) -> None:
    site = _find_site(site_slug)
    if site is None and not create_site:
        raise click.BadParameter(
            f"no site called {site_slug!r}; create it first with `flask --app "
            f"moderation moderation create-site {site_slug} --name NAME --origin "
            "https://YOUR-SITE`, or pass --create-site",
            param_hint="--site",
        )
    if site is None and not _SLUG.match(site_slug):
        raise click.BadParameter(
            "a site slug is 1-64 lower-case letters, digits and hyphens",
            param_hint="--site",
        )
    try:
        export = parse(path)
    except ImportFailed as error:
        raise click.ClickException(f"{error.message}; nothing was imported") from error
    if site is None:
        site = Site(slug=site_slug, name=site_slug)
        db.session.add(site)
        db.session.flush()
        click.echo(f"created site {site_slug!r}", err=True)
    with click.progressbar(
        length=len(export.comments), label="importing", file=sys.stderr
    ) as bar:
        result = store(site, export, filename=path.name, progress=bar.update)
    click.echo(result.summary())


def _find_site(slug: str) -> Site | None:
    return db.session.scalar(sa.select(Site).filter_by(slug=slug))


@click.command("export")
@click.option("--site", "site_slug", required=True, help="The site to export (slug).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Where to write the JSON (default: standard output).",
)
@click.option(
    "--include-emails",
    is_flag=True,
    help="Include commenters' email addresses (personal data: handle with care).",
)
@with_appcontext
def export_command(site_slug: str, output: Path | None, include_emails: bool) -> None:
    """Export a site's threads and all their comments, any status, as JSON."""
    site = _find_site(site_slug)
    if site is None:
        raise click.BadParameter(f"no site called {site_slug!r}", param_hint="--site")
    if output is None:
        counts = write_export(site, sys.stdout, include_emails=include_emails)
        target = "standard output"
    else:
        # Written beside the target, then renamed: a failed export leaves no stub.
        temporary = output.with_name(f".{output.name}.partial")
        try:
            with temporary.open("w", encoding="utf-8") as handle:
                counts = write_export(site, handle, include_emails=include_emails)
            temporary.replace(output)
        finally:
            temporary.unlink(missing_ok=True)
        target = str(output)
    click.echo(
        f"exported {counts.threads:,} threads, {counts.comments:,} comments "
        f"-> {target}",
        err=True,
    )
