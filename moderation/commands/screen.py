"""Commands: `flask --app moderation screen | fetch-model`, the
`moderation` group (worker), and the CSV and batch helpers other command modules use."""

from __future__ import annotations

import csv
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import TypeVar

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from ..screening.base import DEFAULT_THRESHOLDS, Draft, Policy
from ..screening.pipeline import screen

# Real exports carry long bodies; the csv module's default field limit is 128 KiB.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def register(app: Flask) -> None:
    """Attach this module's commands (commands.py attaches every module's)."""
    for command in (screen_command, fetch_model_command):
        app.cli.add_command(command)
    app.cli.add_command(moderation_group)


T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., object])


def batches(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of `size` items (the last may be shorter)."""
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def require_column(path: Path, columns: Sequence[str], column: str) -> None:
    """Refuse a CSV without the text column, naming the columns it has."""
    if column not in columns:
        raise click.BadParameter(
            f"no column {column!r} in {path.name}; "
            f"it has: {', '.join(columns) or 'no header'}",
            param_hint="--text-column",
        )


def csv_input(command: F) -> F:
    """The INPUT.csv argument and --text-column option of the CSV commands."""
    command = click.option(
        "--text-column", required=True, help="The column holding the comment text."
    )(command)
    return click.argument(
        "input_csv",
        metavar="INPUT.csv",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
    )(command)


@click.command("screen")
@csv_input
@click.option(
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the screened CSV.",
)
@click.option(
    "--site",
    "site_slug",
    default=None,
    help="Use this site's thresholds and word lists (default: the defaults).",
)
@click.option(
    "--batch-size", default=64, show_default=True, type=click.IntRange(1, 4096)
)
@with_appcontext
def screen_command(
    input_csv: Path,
    text_column: str,
    output: Path,
    site_slug: str | None,
    batch_size: int,
) -> None:
    """Screen every row of a CSV with the rules and the classifier; store nothing.

    OUT has every input column plus toxicity (the score the screen acted on),
    decision (publish, hold or reject) and reasons. The repeat rule needs a
    thread's history, so it does not apply here.
    """
    policy = site_policy(site_slug)
    with input_csv.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        require_column(input_csv, columns, text_column)
        total = sum(1 for _ in reader)
    added = [c for c in ("toxicity", "decision", "reasons") if c not in columns]
    screener = current_app.extensions["screener"]
    classifier = screener.classifier()
    click.echo(f"classifier: {screener.description}", err=True)
    counts: Counter[str] = Counter()
    temporary = output.with_name(f".{output.name}.partial")
    with (
        input_csv.open(newline="", encoding="utf-8-sig") as source,
        temporary.open("w", newline="", encoding="utf-8") as target,
    ):
        reader = csv.DictReader(source)
        writer = csv.DictWriter(
            target, fieldnames=[*columns, *added], extrasaction="ignore"
        )
        writer.writeheader()
        with click.progressbar(length=total, label="screening", file=sys.stderr) as bar:
            for batch in batches(reader, batch_size):
                drafts = [Draft(body=row.get(text_column) or "") for row in batch]
                for row, verdict in zip(
                    batch, screen(drafts, policy, classifier), strict=True
                ):
                    row["toxicity"] = f"{verdict.toxicity:.4f}"
                    row["decision"] = verdict.action.value
                    row["reasons"] = "; ".join(verdict.reasons)
                    writer.writerow(row)
                    counts[verdict.action.value] += 1
                bar.update(len(batch))
    temporary.replace(output)
    click.echo(
        f"screened {sum(counts.values()):,} comments: {counts['publish']:,} published, "
        f"{counts['hold']:,} held, {counts['reject']:,} rejected -> {output}"
    )


def site_policy(site_slug: str | None) -> Policy:
    if site_slug is None:
        return Policy(hold_thresholds=dict(DEFAULT_THRESHOLDS))
    from ..errors import NotFound
    from ..services.comments import get_site
    from ..services.site_heads import site_policy as with_head

    try:
        return with_head(get_site(site_slug))
    except NotFound as error:
        raise click.BadParameter(error.message, param_hint="--site") from error


@click.command("fetch-model")
@click.argument("model", type=click.Choice(["original", "unbiased", "multilingual"]))
@with_appcontext
def fetch_model_command(model: str) -> None:
    """Download detoxify weights where `auto` finds them (needs internet)."""
    from ..screening.classifiers import fetch_model
    from ..screening.errors import FetchFailed

    model_dir = Path(current_app.config["MODEL_DIR"])
    try:
        path = fetch_model(model, model_dir)
    except FetchFailed as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"detoxify {model} weights saved in {path}; restart to use them.")


moderation_group = AppGroup("moderation", help="Run the service's background work.")


@moderation_group.command("worker")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 4096),
    default=None,
    help="Comments per classifier call (default: WORKER_BATCH_SIZE).",
)
@click.option(
    "--max-wait",
    type=click.FloatRange(0, 60),
    default=None,
    help="Seconds a short batch waits for more (default: WORKER_MAX_WAIT).",
)
@click.option(
    "--lease",
    type=click.FloatRange(1),
    default=None,
    help="Seconds a claim holds before others may take it (default: WORKER_LEASE).",
)
@click.option("--drain", is_flag=True, help="Exit once nothing is left to screen.")
@click.option(
    "--device",
    default=None,
    help="Inference device for detoxify, e.g. cuda (default: DETOXIFY_DEVICE).",
)
def worker_command(
    batch_size: int | None,
    max_wait: float | None,
    lease: float | None,
    drain: bool,
    device: str | None,
) -> None:
    """Claim received comments in batches, screen them, store the verdicts."""
    from ..services.worker import run

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    if device is not None:
        app.extensions["screener"].device = device
    lease = lease or config["WORKER_LEASE"]
    if lease <= config["SCREEN_TIMEOUT"]:
        raise click.BadParameter(
            f"the lease ({lease:g} s) must outlast SCREEN_TIMEOUT "
            f"({config['SCREEN_TIMEOUT']:g} s)",
            param_hint="--lease",
        )
    stop = threading.Event()
    # SIGTERM (systemd, Procfile managers) and Ctrl-C: finish the batch, then exit.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    # Mail and webhooks go out from a thread of their own (notify/sender.py).
    from ..notify.sender import run_sender

    sender = threading.Thread(
        target=run_sender,
        args=(app,),
        kwargs={"stop": stop},
        name="outbox-sender",
        daemon=True,
    )
    if not drain:
        sender.start()
    stats = run(
        app,
        batch_size=batch_size or config["WORKER_BATCH_SIZE"],
        max_wait=config["WORKER_MAX_WAIT"] if max_wait is None else max_wait,
        lease=lease,
        poll=config["WORKER_POLL"],
        drain=drain,
        stop=stop,
    )
    if drain:  # what the screening caused goes out too
        sent = run_sender(app, stop=stop, drain=True)
        click.echo(
            f"outbox: {sent.sent} sent, {sent.retried} to retry, "
            f"{sent.failed} failed, {sent.dropped} dropped"
        )
    else:
        sender.join()  # it stops with the same signal
    click.echo(stats.summary())
