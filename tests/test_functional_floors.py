"""The offline default on the held-out functional suite: a floor on every function.

Both sides of each function count: the hateful cases caught and their contrasts left
alone. The floors sit about 0.1 below what the committed heads score
(docs/screening.md), so that retraining may move a function a little but a change
that gives one up (say, flagging all counter-speech to catch more threats) fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SUITE = Path(__file__).parent / "data" / "functional_eval.csv"

# Decision accuracy (hold or reject counts as abusive) per function.
FLOORS = {
    # hateful
    "threat_individual": 0.75,
    "threat_group": 0.70,
    "call_for_violence": 0.80,
    "call_for_exclusion": 0.90,
    "dehumanisation": 0.90,
    "derogation_explicit": 0.90,
    "derogation_implicit": 0.35,
    "slur_attack": 0.75,
    "insult_person": 0.80,
    "profanity_at_person": 0.90,
    "disguised": 0.70,
    # contrasts
    "scunthorpe": 0.95,
    "neutral_identity": 0.75,
    "non_protected_target": 0.65,
    "negation": 0.45,
    "counter_speech": 0.35,
    "quote_to_condemn": 0.50,
    "news_report_of_violence": 0.75,
    "reclaimed_use": 0.70,
    "political_disagreement": 0.90,
    "profanity_benign": 0.20,
}


@pytest.fixture(scope="module")
def report(tmp_path_factory, model_dir):
    from support import app_settings

    from moderation import create_app

    tmp = tmp_path_factory.mktemp("floors")
    app = create_app(
        app_settings(
            tmp,
            f"sqlite:///{tmp / 'unused.db'}",
            MODEL_DIR=str(model_dir),
            CLASSIFIER="screen",
            CLASSIFIER_OBJECT=None,
        )
    )
    args = ["evaluate", str(SUITE), "--text-column", "text"]
    args += ["--label-column", "label", "--group-column", "function"]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output


def _accuracy_by_function(output: str) -> dict[str, float]:
    rows = {}
    for line in output.splitlines():
        parts = line.split()
        if parts and parts[0] in FLOORS:
            rows[parts[0]] = float(parts[3])
    return rows


def test_every_function_is_scored(report):
    assert set(_accuracy_by_function(report)) == set(FLOORS)


@pytest.mark.parametrize("function", sorted(FLOORS))
def test_each_function_stays_above_its_floor(report, function):
    accuracy = _accuracy_by_function(report)[function]
    assert accuracy >= FLOORS[function], f"{function}: {accuracy:.3f}"


def test_the_whole_suite(report):
    auc = next(line for line in report.splitlines() if line.startswith("ROC AUC"))
    assert float(auc.split()[-1]) >= 0.85
    decision = next(line for line in report.splitlines() if line.startswith("decision"))
    accuracy, precision, recall = (float(v) for v in decision.split()[-4:-1])
    assert accuracy >= 0.78
    assert precision >= 0.75 and recall >= 0.80
