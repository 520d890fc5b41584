"""The evaluate command and its metrics: hand-computed examples, then the CLI."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from moderation.screening.metrics import (
    NO_GROUP,
    at_threshold,
    confusion,
    evaluate_rows,
    format_report,
    gaps,
    parse_label,
    per_group,
    roc_auc,
)

SUITE = Path(__file__).parent / "data" / "functional_eval.csv"


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


# Metrics, on examples small enough to count by hand.


def test_auc_counts_the_pairs_ranked_right():
    # Positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of 4 pairs in order.
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert roc_auc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)
    assert roc_auc([1, 0], [0.9, 0.1]) == pytest.approx(1.0)


def test_auc_is_undefined_with_one_class():
    assert roc_auc([1, 1, 1], [0.2, 0.5, 0.9]) is None
    assert roc_auc([], []) is None


def test_threshold_counts_a_score_equal_to_it_as_flagged():
    labels = [1, 1, 1, 0, 0, 0, 0]
    scores = [0.9, 0.5, 0.2, 0.6, 0.1, 0.3, 0.49]
    counts = at_threshold(labels, scores, 0.5)
    assert (counts.tp, counts.fp, counts.tn, counts.fn) == (2, 1, 3, 1)
    assert counts.precision == pytest.approx(2 / 3)
    assert counts.recall == pytest.approx(2 / 3)
    assert counts.f1 == pytest.approx(2 / 3)
    assert counts.accuracy == pytest.approx(5 / 7)
    assert counts.fpr == pytest.approx(1 / 4)
    assert counts.fnr == pytest.approx(1 / 3)


def test_rates_with_nothing_to_divide_by_are_none_not_zero():
    counts = confusion([0, 0], [False, False])
    assert counts.precision is None and counts.recall is None and counts.fnr is None
    assert counts.fpr == 0.0 and counts.accuracy == 1.0


def test_per_group_rows_and_gaps():
    labels = [0, 0, 1, 1, 0, 1, 1]
    scores = [0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.7]
    flagged = [False, True, True, True, False, True, True]
    groups = ["a", "a", "a", "a", "b", "b", "c"]
    rows = {r.group: r for r in per_group(labels, scores, flagged, groups)}
    assert (rows["a"].n, rows["a"].positives) == (4, 2)
    assert rows["a"].auc == pytest.approx(0.75) and rows["a"].fpr == 0.5
    assert rows["b"].auc == pytest.approx(1.0) and rows["b"].fpr == 0.0
    # c has only abusive comments: no AUC, no FPR, so it is in neither gap.
    assert rows["c"].auc is None and rows["c"].fpr is None and rows["c"].fnr == 0.0
    spread = gaps(list(rows.values()))
    assert spread["auc"].value == pytest.approx(0.25)
    assert spread["auc"].highest == ("b", 1.0) and spread["auc"].lowest[0] == "a"
    assert spread["fpr"].value == pytest.approx(0.5)


def test_gaps_leave_out_small_groups_and_the_blank_group():
    labels = [0, 1, 0, 1, 0, 1]
    scores = [0.1, 0.9, 0.9, 0.1, 0.2, 0.8]
    groups = ["a", "a", "", "", "tiny", "tiny"]
    rows = per_group(labels, scores, [s >= 0.5 for s in scores], groups)
    assert NO_GROUP in {r.group for r in rows}
    # Without the blank group and with a and tiny alike, nothing differs.
    assert gaps(rows)["auc"].value == 0.0
    assert gaps(rows, min_size=3) == {"auc": None, "fpr": None}


def test_evaluate_rows_uses_decisions_and_each_threshold():
    labels = [1, 1, 0, 0]
    scores = [0.95, 0.6, 0.55, 0.1]
    decisions = ["reject", "publish", "hold", "publish"]
    evaluation = evaluate_rows(
        labels,
        scores,
        decisions,
        ["x", "y", "x", "y"],
        {"hold": 0.5, "reject": 0.9},
    )
    assert (evaluation.n, evaluation.positives) == (4, 2)
    assert evaluation.auc == pytest.approx(1.0)
    assert evaluation.decision.tp == 1 and evaluation.decision.fp == 1
    hold, reject = evaluation.thresholds["hold"], evaluation.thresholds["reject"]
    assert hold[0] == 0.5 and hold[1].flagged == 3
    assert reject[0] == 0.9 and reject[1].flagged == 1
    report = format_report(evaluation, "function")
    assert "decision is hold or reject" in report
    assert "toxicity >= 0.90 (reject)" in report
    assert "by function" in report and "gaps" in report


def test_evaluate_rows_without_decisions_predicts_with_the_first_threshold():
    evaluation = evaluate_rows(
        [1, 0], [0.7, 0.6], groups=["g", "g"], thresholds={"hold": 0.65}
    )
    assert evaluation.decision is None
    assert evaluation.groups[0].fpr == 0.0 and evaluation.groups[0].fnr == 0.0
    assert "toxicity >= 0.65 (hold)" in evaluation.group_prediction


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        ("0", 0),
        (" TRUE ", 1),
        ("false", 0),
        (1, 1),
        (False, 0),
        ("hate", 1),
        ("Toxic", 1),
        ("offensive", 1),
        ("abusive", 1),
        ("neutral", 0),
        ("neither", 0),
        ("None", 0),
        ("normal", 0),
        ("non-toxic", 0),
    ],
)
def test_labels_accept_the_usual_spellings(value, expected):
    assert parse_label(value) == expected


@pytest.mark.parametrize("value", ["", "2", "maybe", "0.5", "spam"])
def test_labels_refuse_anything_else(value):
    with pytest.raises(ValueError, match="unknown label"):
        parse_label(value)


# The functional suite itself: its shape, not the screen's score on it.


def test_functional_suite_covers_every_function_and_enough_groups():
    with SUITE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert set(rows[0]) == {"text", "label", "function", "group"}
    assert {r["label"] for r in rows} == {"0", "1"}
    functions = Counter(r["function"] for r in rows)
    assert len(functions) == 21 and min(functions.values()) >= 15
    # Each function has one label: the label is what the function means.
    for function in functions:
        assert len({r["label"] for r in rows if r["function"] == function}) == 1
    assert len({r["group"] for r in rows} - {""}) >= 13
    assert len({r["text"] for r in rows}) == len(rows)


# The command.


@pytest.fixture
def labelled(tmp_path, classifier) -> Path:
    """Four comments: the classifier gets two right and one of the clean ones wrong."""
    classifier.by_text["You utter waste of space."] = {"toxicity": 0.9}
    classifier.by_text["Worst pothole in the county."] = {"toxicity": 0.6}
    classifier.by_text["Quietly menacing remark."] = {"toxicity": 0.3}
    return _write_csv(
        tmp_path / "in.csv",
        [
            {"id": "1", "body": "You utter waste of space.", "y": "1", "f": "insult"},
            {
                "id": "2",
                "body": "Quietly menacing remark.",
                "y": "toxic",
                "f": "threat",
            },
            {"id": "3", "body": "Worst pothole in the county.", "y": "0", "f": "thing"},
            {"id": "4", "body": "Thanks for the report.", "y": "neutral", "f": "thing"},
        ],
    )


def test_evaluate_prints_auc_and_the_decisions_scores(app, labelled):
    result = app.test_cli_runner().invoke(
        args=["evaluate", str(labelled), "--text-column", "body", "--label-column", "y"]
    )
    assert result.exit_code == 0, result.output
    assert "n: 4   positives: 2   negatives: 2" in result.output
    # 0.9 and 0.3 against 0.6 and 0.01: 3 of 4 pairs in order.
    assert "ROC AUC of toxicity: 0.750" in result.output
    decision = next(
        line for line in result.output.splitlines() if line.startswith("decision")
    )
    # Held 0.9 and 0.6 (threshold 0.5): one right, one wrong; 0.3 missed.
    assert decision.split()[-5:] == ["2", "0.500", "0.500", "0.500", "0.500"]
    assert "toxicity >= 0.50 (hold)" in result.output
    assert "screened 4 comments: 2 published, 2 held, 0 rejected" in result.output


def test_evaluate_breaks_down_by_group(app, labelled):
    result = app.test_cli_runner().invoke(
        args=[
            "evaluate",
            str(labelled),
            "--text-column",
            "body",
            "--label-column",
            "y",
            "--group-column",
            "f",
            "--min-group-size",
            "1",
        ]
    )
    assert result.exit_code == 0, result.output
    rows = {
        line.split()[0]: line.split()
        for line in result.output.splitlines()
        if line.split() and line.split()[0] in {"insult", "threat", "thing"}
    }
    # thing: 2 clean comments, one held: accuracy and FPR 0.5, no AUC, no FNR.
    assert rows["thing"][1:] == ["2", "0", "0.500", "-", "0.500", "-"]
    assert rows["threat"][-1] == "1.000"  # missed: FNR 1
    assert "FPR: - (fewer than two groups have it)" in result.output


def test_evaluate_writes_the_screened_rows(app, labelled, tmp_path):
    output = tmp_path / "out.csv"
    result = app.test_cli_runner().invoke(
        args=[
            "evaluate",
            str(labelled),
            "--text-column",
            "body",
            "--label-column",
            "y",
            "--output",
            str(output),
        ]
    )
    assert result.exit_code == 0, result.output
    with output.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["id", "body", "y", "f", "toxicity", "decision", "reasons"]
    assert [r["decision"] for r in rows] == ["hold", "publish", "hold", "publish"]
    assert rows[0]["toxicity"] == "0.9000" and "toxicity 0.90" in rows[0]["reasons"]


def test_evaluate_a_score_column_screens_nothing(app, classifier, tmp_path):
    source = _write_csv(
        tmp_path / "scored.csv",
        [
            {"text": "a", "label": "1", "other_model": "0.8"},
            {"text": "b", "label": "0", "other_model": "0.2"},
        ],
    )
    result = app.test_cli_runner().invoke(
        args=[
            "evaluate",
            str(source),
            "--text-column",
            "text",
            "--label-column",
            "label",
            "--score-column",
            "other_model",
        ]
    )
    assert result.exit_code == 0, result.output
    assert classifier.calls == []
    assert "ROC AUC of toxicity: 1.000" in result.output
    assert "decision is hold or reject" not in result.output


def test_evaluate_names_a_bad_label_and_its_row(app, classifier, tmp_path):
    source = _write_csv(
        tmp_path / "in.csv",
        [{"text": "fine", "label": "0"}, {"text": "hmm", "label": "maybe"}],
    )
    result = app.test_cli_runner().invoke(
        args=[
            "evaluate",
            str(source),
            "--text-column",
            "text",
            "--label-column",
            "label",
        ]
    )
    assert result.exit_code == 2
    assert "row 2" in result.output and "'maybe'" in result.output
    assert "--label-column" in result.output and "Traceback" not in result.output
    assert classifier.calls == []  # refused before any screening


def test_evaluate_names_the_missing_column(app, tmp_path):
    source = _write_csv(tmp_path / "in.csv", [{"text": "x", "is_toxic": "1"}])
    result = app.test_cli_runner().invoke(
        args=[
            "evaluate",
            str(source),
            "--text-column",
            "text",
            "--label-column",
            "label",
        ]
    )
    assert result.exit_code == 2
    assert "no column 'label'" in result.output and "text, is_toxic" in result.output
    assert "--label-column" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "is empty"), ("text,label\n", "has a header but no rows")],
)
def test_evaluate_refuses_an_empty_file(app, tmp_path, content, message):
    source = tmp_path / "in.csv"
    source.write_text(content, encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=[
            "evaluate",
            str(source),
            "--text-column",
            "text",
            "--label-column",
            "label",
        ]
    )
    assert result.exit_code == 2
    assert message in result.output


def test_evaluate_refuses_a_bad_score(app, tmp_path):
    source = _write_csv(tmp_path / "in.csv", [{"text": "x", "label": "1", "s": "n/a"}])
    result = app.test_cli_runner().invoke(
        args=[
            "evaluate",
            str(source),
            "--text-column",
            "text",
            "--label-column",
            "label",
            "--score-column",
            "s",
        ]
    )
    assert result.exit_code == 2
    assert "row 1" in result.output and "'n/a'" in result.output


def test_evaluate_reports_a_classifier_that_cannot_load(app, tmp_path, monkeypatch):
    from moderation.screening.errors import ClassifierUnavailable

    def unavailable():
        raise ClassifierUnavailable("cannot load the screen: no heads")

    monkeypatch.setattr(app.extensions["screener"], "classifier", unavailable)
    source = _write_csv(tmp_path / "in.csv", [{"text": "x", "label": "1"}])
    result = app.test_cli_runner().invoke(
        args=[
            "evaluate",
            str(source),
            "--text-column",
            "text",
            "--label-column",
            "label",
        ]
    )
    assert result.exit_code == 1
    assert "cannot load the screen: no heads" in result.output
    assert "Traceback" not in result.output


def test_evaluate_refuses_output_with_a_score_column(app, tmp_path):
    source = _write_csv(tmp_path / "in.csv", [{"text": "x", "label": "1", "s": "0.4"}])
    result = app.test_cli_runner().invoke(
        args=[
            "evaluate",
            str(source),
            "--text-column",
            "text",
            "--label-column",
            "label",
            "--score-column",
            "s",
            "--output",
            str(tmp_path / "out.csv"),
        ]
    )
    assert result.exit_code == 2
    assert "nothing is screened" in result.output
    assert not (tmp_path / "out.csv").exists()
