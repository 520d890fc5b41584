"""The labelled examples the screen's heads learn from, read from the shared data.

Each source keeps its licence beside it (`shared/data/train/*/LICENSE*`); nothing here
ships them: `train-screen` reads them from a directory given on the command line and
writes only the learned weights. Labels a source does not give are None, and a head
learns only from the examples that carry its label.

How each source's labels map to the six detoxify labels:
- Jigsaw sample (Wikipedia talk): the six labels as annotated.
- Davidson tweets: hate -> toxicity and identity_attack; offensive -> toxicity (the
  others unknown; weight 0.2, see OFFENSIVE_WEIGHT); neither -> every label 0. A
  fixed 30% is held out, never trained on: it is the held-out tweet set and the
  stream the site-learning simulation replays.
- SemEval toxic spans (Civil Comments news comments): split into sentences; a sentence
  holding an annotated span is toxic, a sentence of a toxic post without one is a
  (weaker, weight 0.5) non-toxic example from the news-comment domain. The trial file,
  split the same way, is held out.
- ToxiGen statements about 13 groups: hate -> toxicity and identity_attack; neutral
  -> every label 0. A fixed 20% is held out.
- The project's own functional cases (`cases.py`): all six labels.
Public test splits (the Jigsaw sample's test.csv, the IBM test examples) are never
read here.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from .base import LABELS

_JIGSAW_COLUMNS = {
    "toxicity": "toxic",
    "severe_toxicity": "severe_toxic",
    "obscene": "obscene",
    "threat": "threat",
    "insult": "insult",
    "identity_attack": "identity_hate",
}
# Davidson's 19,000 "offensive" tweets (mostly one register of slang) would
# otherwise be half of all training and teach that a short, casual text is toxic.
OFFENSIVE_WEIGHT = 0.2
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")


@dataclass(frozen=True)
class Example:
    """One labelled text: a value per label it is labelled for (None: unknown)."""

    text: str
    labels: dict[str, int | None]
    source: str
    weight: float = 1.0
    group: str = ""
    function: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _all(value: int) -> dict[str, int | None]:
    return {label: value for label in LABELS}


def _only(**known: int) -> dict[str, int | None]:
    labels: dict[str, int | None] = {label: None for label in LABELS}
    labels.update(known)
    return labels


def _held_out(key: str, fraction: float, salt: str) -> bool:
    # A hash of the text, not a shuffle: the split never moves when a source grows.
    import hashlib

    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def jigsaw(directory: Path) -> Iterator[Example]:
    """The Jigsaw (2018) sample: Wikipedia talk comments with the six labels.

    A clean comment's sentences are clean too: they are added one by one, so that
    short, ordinary sentences are not left to the tweets to teach.
    """
    with (directory / "jigsaw-detoxify-sample" / "train.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            labels: dict[str, int | None] = {
                label: int(row[column]) for label, column in _JIGSAW_COLUMNS.items()
            }
            yield Example(row["comment_text"], labels, "jigsaw")
            if any(labels.values()):
                continue
            for m in _SENTENCE.finditer(row["comment_text"]):
                sentence = m.group().strip()
                if len(sentence) >= 12 and sentence != row["comment_text"].strip():
                    yield Example(sentence, _all(0), "jigsaw", 0.5)


def davidson(directory: Path, held_out: bool = False) -> Iterator[Example]:
    """Davidson et al. tweets: 0 hate, 1 offensive, 2 neither."""
    with (directory / "davidson" / "labeled_data.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            text = row["tweet"]
            if _held_out(text, 0.3, "davidson") != held_out:
                continue
            kind = int(row["class"])
            weight = 1.0
            if kind == 0:
                labels = _only(toxicity=1, identity_attack=1)
            elif kind == 1:
                labels = _only(toxicity=1)
                weight = OFFENSIVE_WEIGHT
            else:
                labels = _all(0)
            yield Example(text, labels, "davidson", weight, extra={"class": str(kind)})


def toxic_spans(directory: Path, held_out: bool = False) -> Iterator[Example]:
    """SemEval 2021 toxic spans (Civil Comments), as sentences with or without spans."""
    name = "tsd_trial.csv" if held_out else "tsd_train.csv"
    with (directory / "toxic-spans" / name).open(newline="") as f:
        for row in csv.DictReader(f):
            spans = set(json.loads(row["spans"]))
            text = row["text"]
            if not spans:
                continue
            for m in _SENTENCE.finditer(text):
                sentence = m.group().strip()
                if len(sentence) < 12:
                    continue
                if any(i in spans for i in range(m.start(), m.end())):
                    yield Example(sentence, _only(toxicity=1), "toxic-spans")
                else:
                    yield Example(sentence, _only(toxicity=0), "toxic-spans", 0.5)


def toxigen(directory: Path, held_out: bool = False) -> Iterator[Example]:
    """ToxiGen statements about 13 groups: hate or neutral."""
    with (directory / "toxigen" / "statements.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            if _held_out(row["text"], 0.2, "toxigen") != held_out:
                continue
            hate = row["label"].strip().lower() == "hate"
            labels = _only(toxicity=1, identity_attack=1) if hate else _all(0)
            yield Example(row["text"], labels, "toxigen", group=row["group"])


def functional(seed: int = 0) -> Iterator[Example]:
    """The project's own functional cases (threats, dehumanisation, contrasts)."""
    from .cases import training_cases

    for case in training_cases(seed):
        yield Example(
            case.text,
            dict(case.labels),
            "functional",
            group=case.group,
            function=case.function,
        )


_OBSCENE_CATEGORIES = frozenset({"sexual", "profanity", "sexual violence"})


def complete(example: Example) -> Example:
    """Fill the labels a source left unknown where they follow from what it gave.

    A comment that is not toxic is no threat, insult, ... either. Obscenity is a
    matter of words: where a source does not say, a comment is obscene when it
    holds a listed sexual or profane word (the shipped word list).
    """
    from .rules import find_words

    labels = dict(example.labels)
    if labels.get("toxicity") == 0:
        labels = {
            label: 0 if value is None else value for label, value in labels.items()
        }
    if labels.get("obscene") is None:
        labels["obscene"] = int(
            any(
                m.entry.category in _OBSCENE_CATEGORIES
                for m in find_words(example.text)
            )
        )
    return replace(example, labels=labels)


def training_examples(directory: Path, seed: int = 0) -> list[Example]:
    """Every training example, deduplicated by text, in a fixed order."""
    seen: set[str] = set()
    out: list[Example] = []
    for source in (
        jigsaw(directory),
        davidson(directory),
        toxic_spans(directory),
        toxigen(directory),
        functional(seed),
    ):
        for example in source:
            key = " ".join(example.text.split()).casefold()
            if key and key not in seen:
                seen.add(key)
                out.append(complete(example))
    return out


def held_out_sets(directory: Path) -> dict[str, list[Example]]:
    """The held-out sets the training report scores (never trained on)."""
    return {
        "davidson": [complete(e) for e in davidson(directory, held_out=True)],
        "toxic-spans-trial": [
            complete(e) for e in toxic_spans(directory, held_out=True)
        ],
        "toxigen": [complete(e) for e in toxigen(directory, held_out=True)],
    }


def calibration_split(
    examples: list[Example], fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """Split off a seeded random fraction for calibrating the heads."""
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    cut = int(len(order) * fraction)
    calibrate = sorted(order[:cut])
    fit = sorted(order[cut:])
    return [examples[i] for i in fit], [examples[i] for i in calibrate]
