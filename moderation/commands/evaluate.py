"""`flask --app moderation evaluate`: how the screen does on labelled comments."""

from __future__ import annotations

import csv
import math
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..screening.base import Draft, Policy
from ..screening.errors import ClassifierUnavailable
from ..screening.metrics import evaluate_rows, format_report, parse_label
from ..screening.pipeline import screen
from .screen import batches, csv_input, require_column, site_policy


def register(app: Flask) -> None:
    """Attach evaluate to the app."""
    app.cli.add_command(evaluate_command)


@dataclass
class Labelled:
    """What the first pass reads: a label per row, and a group and score if asked."""

    labels: list[int] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """Turn a file that is not UTF-8 CSV into a usage error, not a traceback."""
    try:
        yield
    except (UnicodeDecodeError, csv.Error) as error:
        raise click.BadParameter(
            f"{path.name} is not a UTF-8 CSV file: {error}", param_hint="INPUT.csv"
        ) from error


def _require(path: Path, columns: list[str], column: str, option: str) -> None:
    """require_column, with the option that named the column in the message."""
    try:
        require_column(path, columns, column)
    except click.BadParameter as error:
        error.param_hint = option
        raise


def _read_labelled(
    path: Path,
    label_column: str,
    group_column: str | None,
    score_column: str | None,
) -> Labelled:
    """Every row's label (and group, score); refuses a bad value by row number."""
    found = Labelled()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for number, row in enumerate(reader, start=1):
            value = row.get(label_column)
            try:
                found.labels.append(parse_label(value or ""))
            except ValueError as error:
                raise click.BadParameter(
                    f"row {number} (line {reader.line_num}) of {path.name}: {error}",
                    param_hint="--label-column",
                ) from error
            if group_column is not None:
                found.groups.append(row.get(group_column) or "")
            if score_column is not None:
                found.scores.append(_score(row.get(score_column), number, path))
    return found


def _score(value: str | None, number: int, path: Path) -> float:
    try:
        score = float(value or "")
    except ValueError:
        score = math.nan
    if not math.isfinite(score):
        raise click.BadParameter(
            f"row {number} of {path.name}: score {value!r} is not a finite number",
            param_hint="--score-column",
        )
    return score


def _thresholds(policy: Policy) -> dict[str, float]:
    """The site's toxicity thresholds, as the pipeline applies them."""
    thresholds = {}
    if (hold := policy.hold_thresholds.get("toxicity")) is not None:
        thresholds["hold"] = hold
    if policy.reject_threshold is not None:
        thresholds["reject"] = policy.reject_threshold
    return thresholds


@click.command("evaluate")
@csv_input
@click.option(
    "--label-column",
    required=True,
    help="The column holding the label: 1/true/hate/toxic... or 0/false/neutral...",
)
@click.option(
    "--group-column",
    default=None,
    help="Break the numbers down by this column (a target group, a test function).",
)
@click.option(
    "--site",
    "site_slug",
    default=None,
    help="Use this site's thresholds and word lists (default: the defaults).",
)
@click.option(
    "--score-column",
    default=None,
    help="Evaluate this column's precomputed scores (0..1) instead of screening.",
)
@click.option(
    "--output",
    default=None,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write every row with toxicity, decision and reasons, like screen.",
)
@click.option(
    "--min-group-size",
    default=10,
    show_default=True,
    type=click.IntRange(1),
    help="Smaller groups are listed but left out of the gaps.",
)
@click.option(
    "--batch-size", default=64, show_default=True, type=click.IntRange(1, 4096)
)
@with_appcontext
def evaluate_command(
    input_csv: Path,
    text_column: str,
    label_column: str,
    group_column: str | None,
    site_slug: str | None,
    score_column: str | None,
    output: Path | None,
    min_group_size: int,
    batch_size: int,
) -> None:
    """Screen a labelled CSV (store nothing) and report how the screen did.

    Prints ROC AUC of the toxicity score, accuracy, precision, recall and F1 of
    the screen's decision (hold or reject counts as abusive) and of the site's
    toxicity thresholds; with --group-column, the same per group and the gaps
    between groups. --score-column evaluates a column of scores without screening.
    """
    if score_column is not None and output is not None:
        raise click.UsageError(
            "--output writes the screen's verdicts; with --score-column nothing "
            "is screened"
        )
    policy = site_policy(site_slug)
    with _readable(input_csv), input_csv.open(newline="", encoding="utf-8-sig") as f:
        columns = list(csv.DictReader(f).fieldnames or [])
    if not columns:
        raise click.BadParameter(
            f"{input_csv.name} is empty: it needs a header row and labelled rows",
            param_hint="INPUT.csv",
        )
    _require(input_csv, columns, label_column, "--label-column")
    if group_column is not None:
        _require(input_csv, columns, group_column, "--group-column")
    if score_column is not None:
        _require(input_csv, columns, score_column, "--score-column")
    else:
        _require(input_csv, columns, text_column, "--text-column")
    # Labels first: a bad one fails in a second, not after the whole screen.
    with _readable(input_csv):
        found = _read_labelled(input_csv, label_column, group_column, score_column)
    if not found.labels:
        raise click.BadParameter(
            f"{input_csv.name} has a header but no rows", param_hint="INPUT.csv"
        )
    decisions: list[str] | None = None
    if score_column is None:
        scores, decisions = _screen_file(
            input_csv,
            columns,
            text_column,
            policy,
            output,
            len(found.labels),
            batch_size,
        )
    else:
        scores = found.scores
        click.echo(f"scores: column {score_column!r} (nothing screened)", err=True)
    evaluation = evaluate_rows(
        found.labels,
        scores,
        decisions,
        found.groups if group_column is not None else None,
        _thresholds(policy),
        min_group_size,
    )
    click.echo(f"site: {site_slug or 'the defaults'}")
    click.echo(format_report(evaluation, group_column or "group"))


def _screen_file(
    input_csv: Path,
    columns: list[str],
    text_column: str,
    policy: Policy,
    output: Path | None,
    total: int,
    batch_size: int,
) -> tuple[list[float], list[str]]:
    """Screen every row as `screen` does; write them to `output` when given."""
    screener = current_app.extensions["screener"]
    click.echo(f"classifier: {screener.description}", err=True)
    try:
        classifier = screener.classifier()
    except ClassifierUnavailable as error:
        raise click.ClickException(
            f"{error}\n(--score-column evaluates precomputed scores without it)"
        ) from error
    added = [c for c in ("toxicity", "decision", "reasons") if c not in columns]
    scores: list[float] = []
    decisions: list[str] = []
    counts: Counter[str] = Counter()
    temporary = output.with_name(f".{output.name}.partial") if output else None
    with ExitStack() as stack:
        source = stack.enter_context(input_csv.open(newline="", encoding="utf-8-sig"))
        writer = None
        if temporary is not None:
            target = stack.enter_context(
                temporary.open("w", newline="", encoding="utf-8")
            )
            writer = csv.DictWriter(
                target, fieldnames=[*columns, *added], extrasaction="ignore"
            )
            writer.writeheader()
        bar = stack.enter_context(
            click.progressbar(length=total, label="screening", file=sys.stderr)
        )
        for batch in batches(csv.DictReader(source), batch_size):
            drafts = [Draft(body=row.get(text_column) or "") for row in batch]
            verdicts = screen(drafts, policy, classifier)
            for row, verdict in zip(batch, verdicts, strict=True):
                scores.append(verdict.toxicity)
                decisions.append(verdict.action.value)
                counts[verdict.action.value] += 1
                if writer is not None:
                    row["toxicity"] = f"{verdict.toxicity:.4f}"
                    row["decision"] = verdict.action.value
                    row["reasons"] = "; ".join(verdict.reasons)
                    writer.writerow(row)
            bar.update(len(batch))
    if temporary is not None and output is not None:
        temporary.replace(output)
    click.echo(
        f"screened {sum(counts.values()):,} comments: {counts['publish']:,} published, "
        f"{counts['hold']:,} held, {counts['reject']:,} rejected"
        + (f" -> {output}" if output else "")
    )
    return scores, decisions
