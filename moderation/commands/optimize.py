"""Commands for faster inference: optimize-model exports, compare-models validates."""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..screening.base import Draft
from ..screening.classifiers import (
    SETTINGS,
    Classifier,
    build,
    choose,
    default_onnx_dir,
)
from ..screening.errors import ClassifierUnavailable
from ..screening.pipeline import Verdict, screen
from .screen import batches, csv_input, require_column, site_policy

SPECS = ("detoxify", "onnx-fp32", "onnx-int8", "screen", "profanity-check")
MODELS = ("original", "unbiased", "multilingual", "original-small", "unbiased-small")
EXAMPLES = 10


def register(app: Flask) -> None:
    """Attach optimize-model and compare-models to the app."""
    app.cli.add_command(optimize_model)
    app.cli.add_command(compare_models)


@click.command("optimize-model")
@click.option(
    "--model",
    type=click.Choice(MODELS),
    default=None,
    help="The detoxify model (default: DETOXIFY_MODEL).",
)
@click.option(
    "--checkpoint",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A trusted detoxify checkpoint (default: the one the service would load).",
)
@click.option(
    "--config-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Its local config and tokenizer directory.",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write (default: ONNX_DIR, else MODEL_DIR/<model>/onnx).",
)
@with_appcontext
def optimize_model(
    model: str | None,
    checkpoint: Path | None,
    config_dir: Path | None,
    output: Path | None,
) -> None:
    """Export detoxify to ONNX Runtime: fp32 and an int8 dynamically quantized copy."""
    from ..screening.onnx import export

    config = current_app.config
    model = model or config["DETOXIFY_MODEL"]
    model_dir = Path(config["MODEL_DIR"])
    try:
        # The same search the service runs, so the export is of the weights
        # that `detoxify` or `auto` would load.
        choice = choose(
            "detoxify",
            model,
            str(checkpoint or config["DETOXIFY_CHECKPOINT"] or "") or None,
            str(config_dir or config["DETOXIFY_CONFIG_DIR"] or "") or None,
            model_dir,
        )
    except ClassifierUnavailable as error:
        raise click.ClickException(str(error)) from error
    assert choice.checkpoint is not None and choice.config_dir is not None
    if output is None:
        output = Path(config["ONNX_DIR"] or default_onnx_dir(model, model_dir))
    click.echo(f"exporting detoxify {model} from {choice.checkpoint}", err=True)
    started = time.monotonic()
    try:
        directory = export(choice.checkpoint, choice.config_dir, output, model=model)
    except ClassifierUnavailable as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"wrote {directory} in {time.monotonic() - started:.1f} s:")
    for path in sorted(directory.iterdir()):
        click.echo(f"  {path.name:<24} {_size(path.stat().st_size):>10}")
    click.echo(
        "validate before use: flask --app moderation compare-models IN.csv "
        "--text-column NAME --a detoxify --b onnx-int8; then set "
        "MODERATION_CLASSIFIER=onnx (MODERATION_ONNX_VARIANT=int8 or fp32)"
    )


@dataclass
class _Side:
    """One configuration being compared: its classifier and its verdicts."""

    spec: str
    classifier: Classifier
    seconds: float = 0.0
    verdicts: list[Verdict] = field(default_factory=list)


@click.command("compare-models")
@csv_input
@click.option("--a", "spec_a", required=True, type=click.Choice(SPECS))
@click.option("--b", "spec_b", required=True, type=click.Choice(SPECS))
@click.option(
    "--site",
    "site_slug",
    default=None,
    help="Use this site's thresholds and word lists (default: the defaults).",
)
@click.option(
    "--batch-size", default=32, show_default=True, type=click.IntRange(1, 4096)
)
@click.option(
    "--limit", default=None, type=click.IntRange(1), help="Score the first N rows."
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write every row's decisions and scores under A and B to this CSV.",
)
@click.option(
    "--fail-on-difference",
    is_flag=True,
    help="Exit with status 1 when any decision differs.",
)
@with_appcontext
def compare_models(
    input_csv: Path,
    text_column: str,
    spec_a: str,
    spec_b: str,
    site_slug: str | None,
    batch_size: int,
    limit: int | None,
    output: Path | None,
    fail_on_difference: bool,
) -> None:
    """Screen a CSV with two classifiers; report score and decision differences.

    Both go through the same screen (rules, thresholds, the site's policy), so a
    differing decision is one a reader would have seen. B "agrees" when no
    decision differs.
    """
    policy = site_policy(site_slug)
    texts = _read_texts(input_csv, text_column, limit)
    sides = [_Side(spec, _load(spec)) for spec in (spec_a, spec_b)]
    for side in sides:
        click.echo(f"{side.spec}: {side.classifier.name} ({side.classifier.version})")
    with click.progressbar(
        length=len(texts), label="comparing", file=sys.stderr
    ) as bar:
        for batch in batches(texts, batch_size):
            drafts = [Draft(body=text) for text in batch]
            for side in sides:
                started = time.perf_counter()
                side.verdicts.extend(screen(drafts, policy, side.classifier))
                side.seconds += time.perf_counter() - started
            bar.update(len(batch))
    a, b = sides
    differs = _report(texts, a, b)
    if output is not None:
        _write_rows(output, texts, a, b)
        click.echo(f"rows written to {output}")
    if differs and fail_on_difference:
        sys.exit(1)


def _load(spec: str) -> Classifier:
    config = current_app.config
    if spec.startswith("onnx-"):
        setting, variant = "onnx", spec.removeprefix("onnx-")
    else:
        setting, variant = spec, config["ONNX_VARIANT"]
    assert setting in SETTINGS
    try:
        choice = choose(
            setting,
            config["DETOXIFY_MODEL"],
            config["DETOXIFY_CHECKPOINT"],
            config["DETOXIFY_CONFIG_DIR"],
            Path(config["MODEL_DIR"]),
            config["ONNX_DIR"],
            variant,
        )
        # The models themselves, not averaged with the screen: compare-models
        # measures what int8 or another model changes on its own.
        if choice.kind in ("detoxify", "onnx"):
            choice = replace(choice, screen_cache=None)
        return build(choice, config["DETOXIFY_DEVICE"], config["DETOXIFY_THREADS"])
    except ClassifierUnavailable as error:
        raise click.ClickException(f"{spec}: {error}") from error


def _read_texts(path: Path, column: str, limit: int | None) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        require_column(path, reader.fieldnames or [], column)
        return [row.get(column) or "" for row in islice(reader, limit)]


def _report(texts: Sequence[str], a: _Side, b: _Side) -> int:
    """Echo the per-label differences, differing decisions and a verdict."""
    total = len(texts)
    labels = [label for label in a.classifier.labels if label in b.classifier.labels]
    worst = 0.0
    if labels:
        click.echo(f"\nscore differences, {b.spec} - {a.spec}, over {total:,} rows:")
        click.echo(f"  {'label':<16} {'max |Δ|':>8} {'mean |Δ|':>9} {'mean Δ':>9}")
    for label in labels:
        deltas = [
            vb.scores[label] - va.scores[label]
            for va, vb in zip(a.verdicts, b.verdicts, strict=True)
        ]
        largest = max((abs(d) for d in deltas), default=0.0)
        worst = max(worst, largest)
        mean_abs = sum(abs(d) for d in deltas) / max(total, 1)
        mean = sum(deltas) / max(total, 1)
        click.echo(f"  {label:<16} {largest:>8.4f} {mean_abs:>9.5f} {mean:>+9.5f}")
    if not labels:
        click.echo(f"\n{a.spec} and {b.spec} share no label; only decisions compared")
    rows = [
        i
        for i, (va, vb) in enumerate(zip(a.verdicts, b.verdicts, strict=True))
        if va.action is not vb.action
    ]
    click.echo(f"\ndecisions differ on {len(rows):,} of {total:,} rows")
    for i in rows[:EXAMPLES]:
        va, vb = a.verdicts[i], b.verdicts[i]
        click.echo(
            f"  row {i + 1}: {a.spec} {va.action.value} (toxicity {va.toxicity:.3f}), "
            f"{b.spec} {vb.action.value} (toxicity {vb.toxicity:.3f}): "
            f"{_excerpt(texts[i])}"
        )
    for side in (a, b):
        rate = total / side.seconds if side.seconds else float("inf")
        click.echo(f"{side.spec}: {side.seconds:.1f} s, {rate:,.1f} comments/s")
    agrees = "agrees" if not rows else "does NOT agree"
    click.echo(
        f"{b.spec} {agrees} with {a.spec}: max |Δ| {worst:.3f}, "
        f"{len(rows):,} decisions differ of {total:,}"
    )
    return len(rows)


def _write_rows(path: Path, texts: Sequence[str], a: _Side, b: _Side) -> None:
    """Every row under both (columns suffixed _a and _b), for a closer look."""
    labels = [label for label in a.classifier.labels if label in b.classifier.labels]
    columns = ["row", "text", "decision_a", "decision_b", "decision_differs"]
    columns += [f"{label}_{side}" for label in labels for side in ("a", "b")]
    temporary = path.with_name(f".{path.name}.partial")
    with temporary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for i, (va, vb) in enumerate(zip(a.verdicts, b.verdicts, strict=True)):
            scores = [f"{v.scores[label]:.6f}" for label in labels for v in (va, vb)]
            differs = int(va.action is not vb.action)
            writer.writerow(
                [i + 1, texts[i], va.action.value, vb.action.value, differs, *scores]
            )
    temporary.replace(path)


def _excerpt(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= width else flat[: width - 1] + "…")


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
