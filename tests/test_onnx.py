"""ONNX Runtime export of the tiny detoxify checkpoint, its classifier and commands."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from flask import Flask

from moderation import create_app
from moderation.screening.classifiers import Classifier, build, choose
from moderation.screening.detoxify_model import DetoxifyClassifier
from moderation.screening.errors import ClassifierUnavailable
from moderation.screening.onnx import OnnxClassifier, export

from tiny_detoxify import CLEAN, ORIGINAL_LABELS, TOXIC

TEXTS = [
    *TOXIC,
    *CLEAN,
    "",
    "Unknown words only: Zanzibar quokka",
    # Longer than the model's 512 positions: must be truncated, not fail.
    "you fool " * 400,
]


@pytest.fixture(scope="module")
def exported(tiny_detoxify: tuple[Path, Path], tmp_path_factory) -> Path:
    """The tiny checkpoint exported once for this module."""
    checkpoint, config_dir = tiny_detoxify
    return export(checkpoint, config_dir, tmp_path_factory.mktemp("models") / "onnx")


@pytest.fixture(scope="module")
def reference(tiny_detoxify: tuple[Path, Path]) -> list[dict[str, float]]:
    """Detoxify's own scores for TEXTS."""
    checkpoint, config_dir = tiny_detoxify
    return DetoxifyClassifier("original", checkpoint, config_dir).score(TEXTS)


def test_export_writes_both_models_tokenizer_and_meta(
    exported: Path, tiny_detoxify: tuple[Path, Path]
) -> None:
    checkpoint, _ = tiny_detoxify
    names = {path.name for path in exported.iterdir()}
    assert {"model.fp32.onnx", "model.int8.onnx", "meta.json"} <= names
    assert "tokenizer_config.json" in names
    meta = json.loads((exported / "meta.json").read_text())
    assert meta["labels"] == list(ORIGINAL_LABELS)
    assert meta["model"] == "original"
    assert meta["max_length"] == 512
    assert meta["checkpoint"] == checkpoint.name
    # No staging directory is left beside the export.
    assert [p.name for p in exported.parent.iterdir()] == [exported.name]


def test_fp32_matches_detoxify(
    exported: Path, reference: list[dict[str, float]]
) -> None:
    onnx = OnnxClassifier(exported, "fp32", batch_size=4)
    scores = onnx.score(TEXTS)
    assert isinstance(onnx, Classifier)
    assert onnx.name == "onnx-original-fp32"
    assert "fp32" in onnx.version and "onnxruntime" in onnx.version
    for got, want in zip(scores, reference, strict=True):
        assert list(got) == list(want)
        for label in want:
            assert got[label] == pytest.approx(want[label], abs=1e-4)


def test_int8_runs_close_to_detoxify(
    exported: Path, reference: list[dict[str, float]]
) -> None:
    onnx = OnnxClassifier(exported, "int8")
    scores = onnx.score(TEXTS)
    assert onnx.name == "onnx-original-int8"
    assert onnx.score([]) == []
    for got, want in zip(scores, reference, strict=True):
        assert list(got) == list(want)
        for label in want:
            assert 0.0 <= got[label] <= 1.0
            # Loose: quantization moves scores, compare-models measures by how much.
            assert abs(got[label] - want[label]) < 0.1


def test_choose_and_build_onnx(exported: Path, model_dir: Path) -> None:
    choice = choose("onnx", "original", None, None, model_dir, str(exported), "fp32")
    assert (choice.kind, choice.variant) == ("onnx", "fp32")
    assert "fp32" in choice.reason
    # Like detoxify, averaged with the screen.
    assert build(choice).name == "onnx-original-fp32+screen"


def test_onnx_without_files_is_unavailable(
    tmp_path: Path, tiny_detoxify: tuple[Path, Path]
) -> None:
    checkpoint, config_dir = tiny_detoxify
    with pytest.raises(ClassifierUnavailable, match="optimize-model"):
        choose("onnx", "original", str(checkpoint), str(config_dir), tmp_path)
    with pytest.raises(ClassifierUnavailable, match="variant"):
        choose("onnx", "original", None, None, tmp_path, None, "int4")


def test_auto_never_picks_onnx(
    exported: Path, tiny_detoxify: tuple[Path, Path]
) -> None:
    checkpoint, config_dir = tiny_detoxify
    choice = choose(
        "auto", "original", str(checkpoint), str(config_dir), Path(), str(exported)
    )
    assert choice.kind == "detoxify"


@pytest.fixture
def detoxify_app(
    app_config: dict[str, object], tiny_detoxify: tuple[Path, Path], tmp_path: Path
) -> Flask:
    """An app whose configured detoxify weights are the tiny checkpoint."""
    checkpoint, config_dir = tiny_detoxify
    app_config.pop("CLASSIFIER_OBJECT")
    app_config.update(
        CLASSIFIER="profanity-check",  # the app itself need not load detoxify
        CLASSIFIER_PRELOAD=False,
        DETOXIFY_CHECKPOINT=str(checkpoint),
        DETOXIFY_CONFIG_DIR=str(config_dir),
        MODEL_DIR=str(tmp_path / "models"),
    )
    return create_app(app_config)


def test_optimize_model_writes_where_the_onnx_setting_reads(
    detoxify_app: Flask, tmp_path: Path
) -> None:
    result = detoxify_app.test_cli_runner().invoke(args=["optimize-model"])
    assert result.exit_code == 0, result.output
    target = tmp_path / "models" / "original" / "onnx"
    assert f"wrote {target}" in result.output
    assert "model.int8.onnx" in result.output and "KiB" in result.output
    choice = choose("onnx", "original", None, None, tmp_path / "models")
    assert choice.checkpoint == target / "model.int8.onnx"


def test_optimize_model_without_weights_says_what_is_missing(
    app: Flask, tmp_path: Path, empty_torch_home: Path
) -> None:
    app.config["MODEL_DIR"] = str(tmp_path / "none")
    result = app.test_cli_runner().invoke(args=["optimize-model"])
    assert result.exit_code == 1
    assert "no detoxify weights" in result.output


@pytest.fixture
def empty_torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A torch hub cache with nothing in it."""
    home = tmp_path / "torch-home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home


def _comments_csv(path: Path, texts: tuple[str, ...] = (*TOXIC, *CLEAN)) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "comment_text"])
        for i, text in enumerate(texts, start=1):
            writer.writerow([i, text])
    return path


def test_compare_models_reports_differences_and_a_verdict(
    detoxify_app: Flask, exported: Path, tmp_path: Path
) -> None:
    detoxify_app.config["ONNX_DIR"] = str(exported)
    source = _comments_csv(tmp_path / "in.csv")
    diff = tmp_path / "diff.csv"
    args = ["compare-models", str(source), "--text-column", "comment_text"]

    result = detoxify_app.test_cli_runner().invoke(
        args=[*args, "--a", "detoxify", "--b", "onnx-fp32", "--output", str(diff)]
    )

    assert result.exit_code == 0, result.output
    assert "toxicity" in result.output and "max |Δ|" in result.output
    assert "decisions differ on 0 of 10 rows" in result.output
    assert (
        result.output.strip()
        .splitlines()[-2]
        .startswith(
            "onnx-fp32 agrees with detoxify: max |Δ| 0.000, 0 decisions differ of 10"
        )
    )
    with diff.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 10
    assert {"decision_a", "decision_b", "toxicity_a", "toxicity_b"} <= set(rows[0])


def test_compare_models_lists_differing_decisions_and_can_fail(
    detoxify_app: Flask, exported: Path, tmp_path: Path
) -> None:
    detoxify_app.config["ONNX_DIR"] = str(exported)
    # The tiny model never saw "stupid" next to "article"; profanity-check
    # holds any "stupid".
    texts = ("you are an idiot", "the stupid article", *CLEAN)
    source = _comments_csv(tmp_path / "in.csv", texts)
    args = ["compare-models", str(source), "--text-column", "comment_text"]
    runner = detoxify_app.test_cli_runner()
    compare = [*args, "--a", "onnx-int8", "--b", "profanity-check", "--limit", "5"]

    result = runner.invoke(args=compare)
    failing = runner.invoke(args=[*compare, "--fail-on-difference"])

    assert result.exit_code == 0, result.output
    assert "decisions differ on 1 of 5 rows" in result.output
    assert "row 2: onnx-int8 publish (toxicity 0." in result.output
    assert "profanity-check hold (toxicity 1.000)" in result.output
    assert "profanity-check does NOT agree with onnx-int8" in result.output
    assert failing.exit_code == 1


def test_compare_models_without_an_export_says_how_to_make_one(
    detoxify_app: Flask, tmp_path: Path
) -> None:
    source = _comments_csv(tmp_path / "in.csv")
    result = detoxify_app.test_cli_runner().invoke(
        args=[
            "compare-models",
            str(source),
            "--text-column",
            "comment_text",
            "--a",
            "detoxify",
            "--b",
            "onnx-int8",
        ]
    )
    assert result.exit_code == 1
    assert "onnx-int8" in result.output and "optimize-model" in result.output


def test_a_failed_export_leaves_the_previous_one(
    exported: Path,
    tiny_detoxify: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import onnxruntime.quantization

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("quantization failed")

    checkpoint, config_dir = tiny_detoxify
    copy = tmp_path / "onnx"
    shutil.copytree(exported, copy)
    before = (copy / "model.int8.onnx").read_bytes()
    monkeypatch.setattr(onnxruntime.quantization, "quantize_dynamic", fail)
    with pytest.raises(RuntimeError, match="quantization failed"):
        export(checkpoint, config_dir, copy)
    assert (copy / "model.int8.onnx").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["onnx"]
