"""The screen without an app: rules, classifier scores and a site's policy."""

from __future__ import annotations

import pytest

from moderation.screening.base import Action, Draft, Policy, RuleHit
from moderation.screening.pipeline import Screener, ScreeningFailed, judge, screen

from fakes import FixedClassifier


def test_clean_text_with_low_scores_publishes():
    (verdict,) = screen(
        [Draft("A fair point, well made.")], Policy(), FixedClassifier()
    )
    assert verdict.action is Action.PUBLISH
    assert verdict.reasons == ()
    assert verdict.classifier == "fixed"


@pytest.mark.parametrize(
    ("scores", "action"),
    [
        ({"toxicity": 0.49}, Action.PUBLISH),
        ({"toxicity": 0.50}, Action.HOLD),
        ({"toxicity": 0.1, "threat": 0.31}, Action.HOLD),
        ({"toxicity": 0.1, "unknown_label": 0.99}, Action.PUBLISH),
    ],
)
def test_a_score_at_or_above_its_threshold_holds(scores, action):
    assert judge([], scores, Policy())[0] is action


def test_site_thresholds_replace_the_defaults():
    policy = Policy(hold_thresholds={"toxicity": 0.9})
    assert judge([], {"toxicity": 0.8, "threat": 0.8}, policy)[0] is Action.PUBLISH


def test_reject_threshold_rejects_only_when_set():
    scores = {"toxicity": 0.99}
    assert judge([], scores, Policy())[0] is Action.HOLD
    action, reasons = judge([], scores, Policy(reject_threshold=0.98))
    assert action is Action.REJECT
    assert "reject" in reasons[-1]


def test_strongest_rule_wins_and_every_reason_is_kept():
    hits = [
        RuleHit("links", Action.HOLD, "3 links (limit 1)"),
        RuleHit("banned_word", Action.REJECT, 'banned word: "x"'),
    ]
    action, reasons = judge(hits, {"toxicity": 0.7}, Policy())
    assert action is Action.REJECT
    assert reasons[:2] == ("3 links (limit 1)", 'banned word: "x"')
    assert "toxicity 0.70 ≥ 0.50" in reasons


def test_premoderation_holds_what_passed():
    action, reasons = judge([], {"toxicity": 0.0}, Policy(premoderate=True))
    assert action is Action.HOLD
    assert "pre-moderated" in reasons[0]


def test_rules_run_before_the_classifier_and_both_are_reported():
    drafts = [
        Draft("Read https://a.example and https://b.example and https://c.example"),
        Draft("Same old words", is_repeat=True),
    ]
    verdicts = screen(drafts, Policy(link_limit=1), FixedClassifier())
    assert [v.action for v in verdicts] == [Action.HOLD, Action.HOLD]
    assert verdicts[0].hits[0].rule == "links"
    assert verdicts[1].hits[0].rule == "repeat"
    assert all(v.scores for v in verdicts)


def test_one_classifier_call_per_batch():
    classifier = FixedClassifier()
    screen([Draft(f"text {n}") for n in range(5)], Policy(), classifier)
    assert classifier.calls == [[f"text {n}" for n in range(5)]]


def test_a_classifier_returning_too_few_scores_is_an_error():
    class Short(FixedClassifier):
        def score(self, texts):
            return []

    with pytest.raises(RuntimeError, match="0 scores for 2 texts"):
        screen([Draft("a"), Draft("b")], Policy(), Short())


def test_screener_turns_errors_and_timeouts_into_screening_failed():
    import threading

    failing = FixedClassifier()
    failing.error = ValueError("broken")
    with pytest.raises(ScreeningFailed, match="broken"):
        Screener(classifier=failing).screen([Draft("x")], Policy(), timeout=5)

    stalled = FixedClassifier()
    stalled.stall = threading.Event()
    try:
        with pytest.raises(ScreeningFailed, match=r"longer than 0\.1 s"):
            Screener(classifier=stalled).screen([Draft("x")], Policy(), timeout=0.1)
    finally:
        stalled.stall.set()


def test_toxicity_is_the_score_the_pipeline_acted_on():
    (verdict,) = screen([Draft("x")], Policy(), FixedClassifier({"toxicity": 0.42}))
    assert verdict.toxicity == pytest.approx(0.42)
