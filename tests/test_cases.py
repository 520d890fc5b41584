"""The functional training cases: deterministic, fully labelled, balanced."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest

from moderation.screening.base import LABELS
from moderation.screening.cases import (
    FUNCTIONS,
    GROUPS,
    Case,
    is_obscene,
    training_cases,
)

HATEFUL = {f.name for f in FUNCTIONS if f.hateful}
CONTRASTS = {f.name for f in FUNCTIONS if not f.hateful}
GROUP_ATTACKS = {
    "threat_group",
    "exclusion_group",
    "dehumanisation_group",
    "derogation_explicit",
    "derogation_implicit",
    "slur_attack",
}
PERSONAL_ATTACKS = {"threat_individual", "insult_individual"}
# Floors, not the generator's targets: a template edit may move a count a little.
MINIMUM = {
    "threat_individual": 500,
    "threat_group": 450,
    "exclusion_group": 400,
    "dehumanisation_group": 400,
    "derogation_explicit": 400,
    "derogation_implicit": 400,
    "slur_attack": 250,
    "insult_individual": 400,
    "group_neutral": 800,
    "nonprotected_target": 400,
    "negation": 400,
    "counter_speech": 400,
    "news_report": 400,
    "reclaimed": 40,
    "profanity_benign": 300,
    "political_disagreement": 400,
}


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return training_cases()


def _rows(cases: list[Case]) -> str:
    return repr([(c.text, c.function, c.group, c.labels) for c in cases])


def test_same_seed_gives_the_same_cases(cases: list[Case]) -> None:
    assert training_cases(0) == cases


def test_another_seed_gives_other_cases_of_the_same_functions(
    cases: list[Case],
) -> None:
    other = training_cases(1)
    assert {c.text for c in other} != {c.text for c in cases}
    assert Counter(c.function for c in other).keys() == MINIMUM.keys()


def test_cases_do_not_depend_on_the_hash_seed(cases: list[Case]) -> None:
    # Set iteration order changes with PYTHONHASHSEED; the cases must not.
    script = (
        "from moderation.screening.cases import training_cases\n"
        "cases = training_cases()\n"
        "print(repr([(c.text, c.function, c.group, c.labels) for c in cases]))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == _rows(cases)


def test_every_case_has_the_six_labels_as_zero_or_one(cases: list[Case]) -> None:
    for case in cases:
        assert tuple(case.labels) == LABELS, case.text
        assert set(case.labels.values()) <= {0, 1}, case.text


def test_each_function_has_its_minimum_count(cases: list[Case]) -> None:
    counts = Counter(c.function for c in cases)
    assert counts.keys() == MINIMUM.keys()
    short = {f: n for f, n in counts.items() if n < MINIMUM[f]}
    assert not short


def test_the_set_is_a_few_thousand_cases(cases: list[Case]) -> None:
    assert 4000 <= len(cases) <= 8000


def test_toxic_and_non_toxic_cases_are_balanced(cases: list[Case]) -> None:
    share = sum(c.labels["toxicity"] for c in cases) / len(cases)
    assert 0.4 <= share <= 0.6


def test_no_text_appears_twice(cases: list[Case]) -> None:
    texts = [c.text for c in cases]
    assert len(set(texts)) == len(texts)
    # The key training_examples() deduplicates sources on.
    keys = {" ".join(t.split()).casefold() for t in texts}
    assert len(keys) == len(texts)


def test_every_slot_is_filled(cases: list[Case]) -> None:
    assert not [c.text for c in cases if "{" in c.text or "}" in c.text]


def test_contrasts_are_not_toxic(cases: list[Case]) -> None:
    for case in cases:
        if case.function in CONTRASTS:
            others = {k: v for k, v in case.labels.items() if k != "obscene"}
            assert set(others.values()) == {0}, case.text


def test_hateful_functions_are_toxic(cases: list[Case]) -> None:
    for case in cases:
        if case.function in HATEFUL:
            assert case.labels["toxicity"] == 1, case.text


def test_attacks_on_groups_are_identity_attacks_naming_the_group(
    cases: list[Case],
) -> None:
    for case in cases:
        if case.function in GROUP_ATTACKS:
            assert case.labels["identity_attack"] == 1, case.text
            assert case.group, case.text


def test_attacks_on_a_person_are_not_identity_attacks(cases: list[Case]) -> None:
    for case in cases:
        if case.function in PERSONAL_ATTACKS:
            assert case.labels["identity_attack"] == 0, case.text
            assert case.group == "", case.text


def test_threats_are_labelled_threats_and_nothing_else_is(cases: list[Case]) -> None:
    for case in cases:
        expected = int(case.function in {"threat_individual", "threat_group"})
        assert case.labels["threat"] == expected, case.text


@pytest.mark.parametrize("function", ["dehumanisation_group", "slur_attack"])
def test_dehumanisation_and_slurs_are_severe_insults(
    cases: list[Case], function: str
) -> None:
    for case in cases:
        if case.function == function:
            assert case.labels["severe_toxicity"] == 1, case.text
            assert case.labels["insult"] == 1, case.text


def test_only_some_threats_are_severe(cases: list[Case]) -> None:
    # Death and rape threats are severe; "I know where you live" is not.
    for function in ("threat_individual", "threat_group"):
        severe = Counter(
            c.labels["severe_toxicity"] for c in cases if c.function == function
        )
        assert severe[0] > 100 and severe[1] > 100


def test_implicit_derogation_carries_no_insult_or_swearing(cases: list[Case]) -> None:
    implicit = [c for c in cases if c.function == "derogation_implicit"]
    assert all(c.labels["insult"] == 0 for c in implicit)
    assert not [c.text for c in implicit if c.labels["obscene"]]


def test_friendly_profanity_is_obscene_but_not_toxic(cases: list[Case]) -> None:
    for case in cases:
        if case.function == "profanity_benign":
            assert case.labels["obscene"] == 1, case.text
            assert case.labels["toxicity"] == 0, case.text


def test_obscene_label_follows_the_words(cases: list[Case]) -> None:
    assert all(c.labels["obscene"] == int(is_obscene(c.text)) for c in cases)
    # Swearing is no cue for toxicity on its own.
    obscene = [c for c in cases if c.labels["obscene"]]
    share = sum(c.labels["toxicity"] for c in obscene) / len(obscene)
    assert 0.3 <= share <= 0.7


@pytest.mark.parametrize(
    ("text", "obscene"),
    [
        ("holy shit what a game", True),
        ("You fucking idiot", True),
        ("what a smug arsehole", True),
        ("Bloody hell that was close", False),
        ("Scunthorpe won on Saturday", False),
        ("Shut up, kike", False),
    ],
)
def test_obscenity_is_swearing_not_slurs(text: str, obscene: bool) -> None:
    assert is_obscene(text) is obscene


def test_every_function_has_many_templates() -> None:
    assert not {f.name: len(f.templates) for f in FUNCTIONS if len(f.templates) < 15}


def test_groups_are_many_and_written_several_ways() -> None:
    assert len(GROUPS) >= 13
    for group in GROUPS:
        assert len(group.plural) >= 3, group.key


def test_every_group_is_both_attacked_and_mentioned_harmlessly(
    cases: list[Case],
) -> None:
    # Otherwise naming the group would be the easiest cue for toxicity.
    for group in GROUPS:
        mine = [c for c in cases if c.group == group.key]
        share = sum(c.labels["toxicity"] for c in mine) / len(mine)
        assert len(mine) >= 150, group.key
        assert 0.35 <= share <= 0.65, group.key


def test_contrast_functions_name_the_same_groups(cases: list[Case]) -> None:
    every = {g.key for g in GROUPS}
    for function in ("group_neutral", "negation", "counter_speech", "news_report"):
        assert {c.group for c in cases if c.function == function} >= every, function
