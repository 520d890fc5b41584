"""The offline default classifier: packaged encoder, committed heads, and its wiring."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from moderation.screening import encoder as encoder_module
from moderation.screening import training
from moderation.screening.base import Action, Draft, Policy, RuleHit
from moderation.screening.classifiers import choose
from moderation.screening.encoder import EXPORT_MODULE, MAX_TOKENS, package_model_dir
from moderation.screening.pipeline import screen, with_rule_evidence
from moderation.screening.screen_model import (
    FEATURE_NAMES,
    HEADS_PATH,
    LABELS,
    Heads,
    calibrate,
)
from moderation.screening.training_data import Example

# The two comments an outside test saw published under the seed's war article.
WAR_THREATS = (
    "People like you deserve to be hurt. I know where the journalist lives and "
    "I will find him.",
    "I will find where you live and hurt you.",
)
CALM = (
    "Thanks for the careful reporting on the ceasefire talks.",
    "I disagree with the minister, but the article explains both sides well.",
)


def test_the_encoder_weights_come_from_an_installed_package():
    directory = package_model_dir()
    assert (directory / "model.safetensors").stat().st_size > 80_000_000
    assert "site-packages" in str(directory)


def test_the_export_child_runs_this_module_even_from_make_setup():
    # `python -m moderation.screening.encoder --prepare` (make setup) runs the
    # module as __main__; the child it starts must still find the module.
    spec = importlib.util.find_spec(EXPORT_MODULE)
    assert spec is not None
    assert Path(spec.origin).resolve() == Path(encoder_module.__file__).resolve()


def test_embeddings_are_unit_vectors_and_repeatable(screen_classifier):
    encoder = screen_classifier.encoder
    texts = ["a short comment", "another, longer comment about the election"]
    first, owners = encoder.embed_windows(texts)
    again, _ = encoder.embed_windows(list(reversed(texts)))
    assert owners == [0, 1]
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-4)
    assert np.allclose(first, again[::-1], atol=1e-5)


def test_a_long_comment_is_read_as_its_head_and_its_tail(screen_classifier):
    long = "The council met again to discuss the budget. " * 80
    _, owners = screen_classifier.encoder.embed_windows([long, "short"])
    assert owners == [0, 0, 1]
    assert len(long.split()) > MAX_TOKENS


def test_abuse_at_the_end_of_a_long_comment_is_still_seen(screen_classifier):
    filler = "The council met again to discuss the road budget and the schools. " * 40
    clean, ending = screen_classifier.score(
        [filler, filler + " I know where you live and I will hurt you."]
    )
    assert ending["threat"] > clean["threat"] + 0.2


def test_severe_toxicity_never_exceeds_toxicity(screen_classifier):
    # Plain comments with numbers once scored severe 0.88 beside toxicity 0.12
    # (a load test's "Load comment 658: a fair point.") and were held.
    texts = [f"Load comment {n}: a fair point." for n in range(600, 700)]
    texts += [*WAR_THREATS, *CALM, "Muslims are vermin and should be wiped out."]
    for text, row in zip(texts, screen_classifier.score(texts), strict=True):
        assert row["severe_toxicity"] <= row["toxicity"], text
    numbered = screen_classifier.score(texts[:100])
    assert max(row["severe_toxicity"] for row in numbered) < 0.5


def test_every_label_is_a_probability(screen_classifier):
    rows = screen_classifier.score([*WAR_THREATS, *CALM, "", "!!!", "ок"])
    assert len(rows) == 7
    for row in rows:
        assert set(row) == set(LABELS)
        assert all(0.0 <= value <= 1.0 for value in row.values())


@pytest.mark.parametrize("text", WAR_THREATS)
def test_the_war_article_threats_are_held_by_the_default_thresholds(
    screen_classifier, text
):
    (verdict,) = screen([Draft(text)], Policy(), screen_classifier)
    assert verdict.action is Action.HOLD
    assert verdict.scores["threat"] >= Policy().hold_thresholds["threat"]
    assert verdict.toxicity >= Policy().hold_thresholds["toxicity"]


@pytest.mark.parametrize("text", CALM)
def test_calm_comments_are_published(screen_classifier, text):
    (verdict,) = screen([Draft(text)], Policy(), screen_classifier)
    assert verdict.action is Action.PUBLISH, verdict.reasons


def test_the_heads_file_records_how_to_reproduce_it():
    heads = Heads.load(HEADS_PATH)
    meta = heads.meta
    assert meta["command"].startswith("flask --app moderation train-screen")
    assert meta["seed"] == 0
    assert set(meta["data_sha256"]) >= {"davidson/labeled_data.csv"}
    assert heads.labels == LABELS
    assert heads.feature_names == FEATURE_NAMES
    assert HEADS_PATH.stat().st_size < 1_000_000


def test_calibration_maps_are_monotone():
    heads = Heads.load(HEADS_PATH)
    raw = np.linspace(-15, 15, 301)
    for label in heads.labels:
        probabilities = calibrate(heads.heads[label], raw)
        assert np.all(np.diff(probabilities) >= -1e-12), label
        assert probabilities.min() >= 0.0 and probabilities.max() <= 1.0


def test_a_broken_heads_file_is_refused(tmp_path: Path):
    path = tmp_path / "heads.npz"
    path.write_text(json.dumps({"format": 99}))
    with pytest.raises(ValueError, match="not a heads file"):
        Heads.load(path)
    np.savez(path, meta=np.asarray(json.dumps({"format": 99})))
    with pytest.raises(ValueError, match="format"):
        Heads.load(path)


def test_fitting_is_deterministic():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    truth = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    examples = [
        Example(f"t{i}", {label: int(truth[i]) for label in LABELS}, "synthetic")
        for i in range(400)
    ]
    first, described = training.fit_heads(
        x[:300], examples[:300], x[300:], examples[300:]
    )
    second, again = training.fit_heads(x[:300], examples[:300], x[300:], examples[300:])
    assert described == again
    assert first.keys() == second.keys()
    for key in first:
        assert np.array_equal(first[key], second[key]), key
    assert set(described) == set(LABELS)


def test_a_rule_that_holds_moves_the_toxicity_score():
    hit = RuleHit("threat", Action.HOLD, "threat: first-person intent to harm")
    spam = RuleHit("spam", Action.HOLD, "shouting")
    scores = {"toxicity": 0.1, "threat": 0.2}
    moved = with_rule_evidence(scores, [hit], {"threat": 0.86})
    assert moved == {"toxicity": 0.86, "threat": 0.2}
    assert with_rule_evidence(scores, [spam], {"threat": 0.86}) == scores
    assert with_rule_evidence({"toxicity": 0.9}, [hit], {"threat": 0.86}) == {
        "toxicity": 0.9
    }


def test_auto_chooses_the_screen_when_detoxify_weights_are_absent(tmp_path: Path):
    choice = choose("auto", "original", None, None, tmp_path)
    assert choice.kind == "screen"
    assert choice.screen_cache == tmp_path
    assert "offline default" in choice.reason


def test_profanity_check_alone_is_still_a_setting(tmp_path: Path):
    choice = choose("profanity-check", "original", None, None, tmp_path)
    assert choice.kind == "profanity-check"
    assert choice.screen_cache is None
