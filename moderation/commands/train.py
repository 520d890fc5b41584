"""`flask --app moderation train-screen`: the screen's default heads, or a site's."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..screening.screen_model import HEADS_PATH

# The shared training data sits beside a checkout (../shared/data/train).
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "train"


def register(app: Flask) -> None:
    """Attach train-screen to the app."""
    app.cli.add_command(train_screen)


@click.command("train-screen")
@click.option(
    "--site",
    "site_slug",
    default=None,
    help="Train this site's own head from its moderators' decisions.",
)
@click.option(
    "--rollback", is_flag=True, help="With --site: go back to the previous head."
)
@click.option("--list", "list_heads", is_flag=True, help="With --site: list heads.")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA,
    show_default=True,
    help="The shared training data (default heads only).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=HEADS_PATH,
    show_default=True,
    help="Where the default heads are written.",
)
@click.option(
    "--cache",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Embeddings cache (default: MODEL_DIR/train-cache/embeddings.npz).",
)
@click.option(
    "--report/--no-report",
    default=True,
    help="Score the held-out sets with the new heads.",
)
@with_appcontext
def train_screen(
    site_slug: str | None,
    rollback: bool,
    list_heads: bool,
    data_dir: Path,
    seed: int,
    output: Path,
    cache: Path | None,
    report: bool,
) -> None:
    """Train the screen's heads (deterministic for a seed) or a site's own head."""
    if site_slug is not None:
        from .site_heads import list_site_heads, run_site_rollback, run_site_training

        if list_heads:
            sys.exit(list_site_heads(site_slug))
        if rollback:
            sys.exit(run_site_rollback(site_slug))
        sys.exit(run_site_training(site_slug))
    if rollback or list_heads:
        raise click.UsageError("--rollback and --list need --site")
    if not (data_dir / "davidson" / "labeled_data.csv").is_file():
        raise click.BadParameter(
            f"{data_dir} does not hold the shared training data", param_hint="--data"
        )
    from ..screening.encoder import Encoder, EncoderUnavailable
    from ..screening.screen_model import Featurizer, ScreenClassifier
    from ..screening.training import CachingEncoder, held_out_report, train_default

    model_dir = Path(current_app.config["MODEL_DIR"])
    cache = cache or model_dir / "train-cache" / "embeddings.npz"
    try:
        encoder = CachingEncoder(Encoder(model_dir), cache)
    except EncoderUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    command = "flask --app moderation train-screen " + shlex.join(["--seed", str(seed)])
    try:
        meta = train_default(
            data_dir,
            output,
            Featurizer(encoder),
            seed=seed,
            command=command,
            log=click.echo,
        )
    finally:
        encoder.save()
    click.echo(
        f"trained {len(meta['heads'])} heads on {sum(meta['examples'].values()):,} "
        f"examples; wrote {output}"
    )
    if report:
        classifier = ScreenClassifier(model_dir, heads_path=output, encoder=encoder)
        try:
            results = held_out_report(classifier, data_dir)
        finally:
            encoder.save()
        click.echo("held-out ROC AUC (never trained on):")
        for name, row in results.items():
            cells = ", ".join(
                f"{label} {value:.3f}" for label, value in row.items() if label != "n"
            )
            click.echo(f"  {name} (n={int(row['n']):,}): {cells}")
