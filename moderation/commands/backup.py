"""`flask --app moderation backup FILE`: a consistent copy of the embedded database.

SQLite's online backup API copies the database page by page while the service
keeps serving: readers are never blocked, and a write that lands during the copy
makes it start that step again, so the copy is one consistent moment (unlike a file
copy of a database in WAL mode). PostgreSQL has its own tools: the command says which.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from ..extensions import db

PAGES_PER_STEP = 1024  # about 4 MB at SQLite's default page size

POSTGRES_ADVICE = (
    "The database is PostgreSQL: back it up with its own tools, e.g.\n"
    '  pg_dump -Fc --file=moderation.dump "$MODERATION_DATABASE_URL"\n'
    "and continuous WAL archiving (pgBackRest, WAL-G); docs/deploy.md#backups."
)


def register(app: Flask) -> None:
    """Attach backup to the app."""
    app.cli.add_command(backup_command)


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy the SQLite database `source` to `target` online; the pages copied."""
    copied = 0

    def progress(status: int, remaining: int, total: int) -> None:
        nonlocal copied
        copied = total - remaining

    with (
        sqlite3.connect(f"file:{source}?mode=ro", uri=True) as reader,
        sqlite3.connect(target) as writer,
    ):
        reader.backup(writer, pages=PAGES_PER_STEP, progress=progress)
        check = writer.execute("PRAGMA integrity_check").fetchone()[0]
    if check != "ok":
        raise click.ClickException(f"the copy failed its integrity check: {check}")
    return copied


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace TARGET when it exists.")
@with_appcontext
def backup_command(target: Path, force: bool) -> None:
    """Copy the embedded SQLite database to TARGET while the service runs."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(POSTGRES_ADVICE)
    if not url.database or url.database == ":memory:":
        raise click.ClickException("the database is in memory: nothing to back up")
    source = Path(url.database).resolve()
    if target.resolve() == source:
        raise click.ClickException("TARGET is the database itself")
    if target.exists():
        if not force:
            raise click.ClickException(f"{target} exists; add --force to replace it")
        target.unlink()
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    pages = backup_sqlite(source, partial)
    partial.rename(target)  # a reader of TARGET never sees half a copy
    click.echo(f"backed up {source} to {target} ({pages:,} pages)")
    click.echo("Keep instance/secret_key with it: form tokens and receipts need it.")
