"""`flask --app moderation train-screen --site SLUG [--rollback] [--list]`.

A site's own head (site_heads.py). The plain functions print with click.echo and
return an exit code, so that the `train-screen` command that trains the default
heads can hand over to them when `--site` is given.
"""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..errors import InvalidTransition, NotFound
from ..models import HeadStatus, ScreenHead, Site
from ..services import site_heads
from ..services.comments import get_site

ACTOR = "cli"  # who the audit log names for heads trained or rolled back here


def register(app: Flask) -> None:
    """Add `train-screen --site` unless the default heads' train-screen is there."""
    if "train-screen" not in app.cli.commands:
        app.cli.add_command(train_screen_site)


def _site(slug: str) -> Site | None:
    try:
        return get_site(slug)
    except NotFound as error:
        click.echo(error.message, err=True)
        return None


def run_site_training(slug: str) -> int:
    """Train, validate and store a new head for the site; 0 when one was stored."""
    site = _site(slug)
    if site is None:
        return 1
    classifier = current_app.extensions["screener"].classifier()
    if not site_heads.supports_features(classifier):
        click.echo(
            f"{classifier.name} gives no features: site heads build on the offline "
            "default screen classifier (CLASSIFIER=screen).",
            err=True,
        )
        return 1
    total = min(site_heads.count_labelled(site), site_heads.MAX_EXAMPLES)
    with click.progressbar(length=total, label="embedding", file=sys.stderr) as bar:
        outcome = site_heads.train_site(
            site, classifier, actor=ACTOR, progress=bar.update
        )
    click.echo(
        f"site {slug}: {outcome.message} "
        f"({outcome.examples:,} decisions, {outcome.positives:,} rejected)"
    )
    return 0 if outcome.version is not None else 1


def run_site_rollback(slug: str, reason: str = "") -> int:
    """Re-activate the head the active one replaced (or the default model)."""
    site = _site(slug)
    if site is None:
        return 1
    try:
        previous = site_heads.rollback(site, actor=ACTOR, reason=reason)
    except InvalidTransition as error:
        click.echo(error.message, err=True)
        return 1
    now = f"v{previous.version}" if previous is not None else "the default model"
    click.echo(f"site {slug}: rolled back; {now} screens it now")
    return 0


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def describe_head(head: ScreenHead) -> str:
    """One line: version, status, when, decisions, validation against what."""
    metrics = head.metrics or {}
    line = (
        f"v{head.version:<3} {head.status.value:<9} {head.created_at:%Y-%m-%d %H:%M} "
        f"{head.examples:>7,} decisions ({head.positives:,} rejected)  by "
        f"{head.created_by}"
    )
    if "candidate" in metrics:
        ours, theirs = metrics["candidate"], metrics["current"]
        line += (
            f"\n     precision {_share(ours['precision'])} vs "
            f"{_share(theirs['precision'])}, recall {_share(ours['recall'])} vs "
            f"{_share(theirs['recall'])} at {metrics['threshold']:.2f} "
            f"against {metrics.get('against', 'the default model')}"
        )
    if "error" in metrics:
        line += f"\n     failed: {metrics['error']}"
    if "rolled_back" in metrics:
        line += f"\n     rolled back by {metrics['rolled_back']['by']}"
    return line


def list_site_heads(slug: str) -> int:
    """Print the site's head versions, newest first."""
    site = _site(slug)
    if site is None:
        return 1
    heads = site_heads.history(site, limit=100)
    active = next((h for h in heads if h.status is HeadStatus.ACTIVE), None)
    click.echo(
        f"site {slug}: "
        + (f"v{active.version} active" if active else "the default model screens it")
        + f"; {site_heads.count_labelled(site):,} decisions to learn from"
    )
    for head in heads:
        click.echo(describe_head(head))
    return 0


def site_command(
    slug: str, *, rollback: bool = False, list_heads: bool = False, reason: str = ""
) -> int:
    """What `train-screen --site SLUG [--rollback] [--list]` does; an exit code."""
    if rollback and list_heads:
        click.echo("--rollback and --list do not go together", err=True)
        return 2
    if list_heads:
        return list_site_heads(slug)
    if rollback:
        return run_site_rollback(slug, reason)
    return run_site_training(slug)


@click.command("train-screen")
@click.option("--site", "slug", required=True, help="The site whose head to train.")
@click.option("--rollback", is_flag=True, help="Go back to the previous head.")
@click.option("--list", "list_heads", is_flag=True, help="Show the head versions.")
@click.option("--reason", default="", help="For the audit log (with --rollback).")
@with_appcontext
def train_screen_site(slug: str, rollback: bool, list_heads: bool, reason: str) -> None:
    """Train a site's own toxicity head on its moderators' decisions."""
    sys.exit(
        site_command(slug, rollback=rollback, list_heads=list_heads, reason=reason)
    )
