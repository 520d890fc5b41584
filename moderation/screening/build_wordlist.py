"""Build data/wordlist.json from the three public word lists, with their licences.

Run: ``python -m moderation.screening.build_wordlist /path/to/wordlists``; the folder
holds ``dsojevic/en.json``, ``surge-ai/profanity_en.csv`` and ``ldnoobw/en``.

Severity is put on one 1-4 scale: dsojevic's 1-4 as given; surge-ai's mean rating
(1-3) by its own bands, Mild < 1.5 -> 1, < 2.0 -> 2, Strong < 2.5 -> 3, Severe -> 4;
ldnoobw has none and counts as 2. A form found in several lists is one entry with the
highest severity.

Policy, thought of as a newsroom's:
- reject (banned): identity slurs (dsojevic racial / lgbtq / religious, surge-ai
  racial / ethnic slurs and sexual orientation / gender) at severity 4, and a short
  list of sexual-violence terms aimed at children (SEXUAL_VIOLENCE).
- hold (suspect): everything else kept, profanity included ("fuck" holds, it does not
  reject). Identity words with an everyday or reclaimed sense hold even at severity
  4 (AMBIGUOUS: "coon", "fag", "dyke", "chink", "spook", "nigga"...), so that a
  moderator, not the filter, decides.
- left out (DROP): words common in ordinary news discussion ("hell", "damn", "sex",
  "gay", "breast", "rape", "porn", "swastika", clinical anatomy), neutral identity
  terms ("enby", "queer", "twink"), names ("santorum"), everyday words with a second
  sense ("hoe", "ho", "balls", "tit", "hooker", "slag") and ldnoobw entries that mean
  something only as part of a longer phrase ("girl on", "taste my", "tied up").
Forms written with masks or separators ("c*nt", "f_u_c_k") are left out: the matcher
handles masks and spelled-out words itself.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from moderation.screening.rules import WORDLIST_PATH, fold_phrase

SOURCES = ("dsojevic", "surge-ai", "ldnoobw")
LICENSES_DIR = WORDLIST_PATH.parent / "licenses"

IDENTITY_TAGS = frozenset(
    {
        "racial",
        "lgbtq",
        "religious",
        "racial / ethnic slurs",
        "sexual orientation / gender",
    }
)

# fmt: off
DROP = frozenset(
    fold_phrase(w)
    for w in (
        # Ordinary news vocabulary and mild words.
        "hell", "damn", "crap", "bloody", "bugger", "christ", "jesus", "jesus christ",
        "sex", "sexy", "sexo", "sexual", "sexually", "sexuality", "gay", "gay sex",
        "breast", "breasts", "big breasts", "anal", "anus", "69", "penis", "vagina",
        "vulva", "genitals", "rectum", "nipple", "nipples", "clitoris", "semen",
        "ejaculation", "orgasm", "intercourse", "erotic", "erotism", "nude", "nudity",
        "topless", "undressing", "escort", "hooker", "suck", "sucks", "rape", "raping",
        "rapist", "date rape", "incest", "sodomy", "bestiality", "molester",
        "pedophile", "paedophile", "porn", "porno", "pornos", "pornography",
        "pornographic", "playboy", "swastika", "neonazi", "neo nazi", "nazi", "nambla",
        "lolita", "grope", "scat", "eunuch", "bondage", "domination", "hardcore",
        "hard core", "voyeur", "viagra", "cialis", "smut", "kinky", "horny",
        "homoerotic", "lovemaking", "strip club", "panties", "panty", "tushy", "butt",
        "booty call", "deep throat", "missionary position", "menage a trois",
        "wet dream", "threesome", "swinger", "sadism", "xx", "xxx", "snatch", "pubes",
        "venus mound", "mound of venus", "spunk", "fecal", "knickers", "jim crow",
        "klan", "slit", "tramp", "loose woman", "nuggets", "buttermilk", "crows",
        "bender", "transvestite", "santorum", "octopussy", "twinkie", "mong",
        # Everyday words with a second sense: a garden tool, sport, a bird, mining.
        "hoe", "hoes", "ho", "hos", "balls", "ball", "tit", "slag", "nob", "homo",
        "homos", "haji", "beaver", "knockers", "bimbos", "pecker", "prick", "cracker",
        "crackers", "puta", "niger", "abbie", "bates", "cox", "peter", "wang", "weiner",
        "dong", "dix", "askin", "sack", "finger", "forked", "swine", "sheet", "sperm",
        "crotch", "booty", "tart", "bbc", "kkk", "crow", "coot", "jerk", "nip", "knob",
        "ramrod", "diddle", "orgy", "dolt", "groper", "sixty nine", "only fans",
        "strap on", "impact play", "edge play", "cream pie", "nut butter",
        "mushroom tip", "double pen",
        # Neutral or reclaimed identity terms, not slurs.
        "queer", "queers", "enby", "cishet", "transbian", "twink", "futanari", "t girl",
        "tgirl", "gaysian", "switch hitter", "gym bunny", "muscle mary",
        "chicken queen", "potato queen", "grey queen", "gray queen", "bean queen",
        "brownie king", "brownie queen", "rice queen", "donut muncher", "donut puncher",
        "gayest", "gayness", "crafty butcher", "meat masseuse", "light in the pants",
        # ldnoobw phrases that mean something only as part of a longer phrase.
        "girl on", "girl on top", "taste my", "tongue in a", "tied up", "tight white",
        "big black", "huge fat", "hot chick", "how to kill", "how to murder",
        "blonde action", "brunette action", "blonde on blonde action", "sultry women",
        "jelly donut", "pleasure chest", "tainted love", "spread legs", "dp action",
        "leather restraint", "leather straight jacket", "suicide girls", "violet wand",
        "wrapping men", "female squirting", "male squirting", "busty", "barenaked",
        "big knockers", "doggie style", "dog style", "bastinado", "birdlock", "figging",
        "frotting", "dommes", "dominatrix", "nsfw", "nsfw images", "livesex",
        "worldsex", "sexcam", "phone sex", "group sex", "fingering", "humping",
        "bareback", "barely legal", "camgirl", "bbw", "bdsm", "ecchi", "yaoi",
        "kinbaku", "kinkster", "shibari", "strappado", "nawashi", "nutten", "babeland",
        "thumbzilla", "voyeurweb", "voyuer", "huge", "girls gone wild",
    )
)
# fmt: on

# Identity words with an everyday or reclaimed sense: held, never rejected.
# fmt: off
AMBIGUOUS = frozenset(
    fold_phrase(w)
    for w in (
        "coon", "coons", "fag", "fags", "dyke", "dykes", "chink", "chinks", "jigger",
        "jiggers", "nicker", "nickers", "spook", "spooks", "mongrel", "redskin",
        "redskins", "tar baby", "cotton picker", "ku kluxer", "negro", "negroes",
        "negroid", "pansy", "sissy", "spick", "spig", "nig", "nigs", "jap", "japs",
        "nigers", "lady boy", "ladyboy", "shemale", "pedobear", "piss pig", "flamer",
        "flamers", "fag hag", "tranny", "trannie", "trannies",
    )
)
# fmt: on
# Reclaimed in-group use (and a dialect marker): a moderator reads it in context.
AMBIGUOUS_PATTERN = re.compile(
    r"^(?:n[iu][gck]+(?:a|ah|as|az|uh)[hsz]*|negga|jiggas|gay .*)$"
)

# Sexual violence aimed at children: rejected whatever the sources say.
# fmt: off
SEXUAL_VIOLENCE = frozenset(
    fold_phrase(w)
    for w in (
        "jailbait", "jail bait", "kid diddler", "kiddy touch", "pthc",
    )
)
# fmt: on

# Exceptions added to the sources' own, in dsojevic syntax ("*" is the word).
EXTRA_EXCEPTIONS: dict[str, tuple[str, ...]] = {
    "dick": (
        "* cheney",
        "moby *",
        "philip k *",
        "* van dyke",
        "* durbin",
        "* clark",
        "* tracy",
        "* smothers",
    ),
    "chink": (
        "* in the armor",
        "* in the armour",
        "* in his armor",
        "* in her armor",
        "* in their armor",
        "* in its armor",
        "* of light",
    ),
    "spic": ("* and span",),
    "pussy": ("* riot",),
    "cum": ("summa *", "magna *", "* laude"),
    "dyke": ("offa's *", "devil's *"),
    "gook": ("gobbledy *", "gobbledee *", "gobble de *", "gobbledey *"),
}

# Forms may be written with letters, digits, leetspeak symbols, spaces, hyphens.
_FORM_SYMBOLS = frozenset(" -'@$!+")


@dataclass
class _Entry:
    term: str
    severity: int
    tags: list[str] = field(default_factory=list)
    forms: list[str] = field(default_factory=list)
    sources: dict[str, float] = field(default_factory=dict)
    exceptions: list[str] = field(default_factory=list)


def surge_severity(rating: float) -> int:
    """surge-ai's 1-3 mean rating on the common 1-4 scale."""
    if rating < 1.5:
        return 1
    if rating < 2.0:
        return 2
    if rating < 2.5:
        return 3
    return 4


def _fold_form(raw: str) -> str | None:
    text = unicodedata.normalize("NFKC", raw).strip()
    if not all((c.isalnum() and c != "_") or c in _FORM_SYMBOLS for c in text):
        return None
    folded = fold_phrase(text)
    if not folded or folded in DROP:
        return None
    # "bi + ch" is a spaced-out symbol; "f'ed", "suck my d" leave one-letter words,
    # which would match initials in ordinary text.
    if not all(
        len(word) > 1 and any(c.isalpha() for c in word) for word in folded.split()
    ):
        return None
    return folded


class _Merger:
    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self.by_form: dict[str, _Entry] = {}

    def add(
        self,
        term: str,
        forms: list[str],
        severity: int,
        tags: list[str],
        source: str,
        source_severity: float,
        exceptions: tuple[str, ...] = (),
    ) -> None:
        folded = [f for f in dict.fromkeys(_fold_form(x) or "" for x in forms) if f]
        if not folded:
            return
        # A form already listed joins that entry: one word, one entry.
        entry = next((self.by_form[f] for f in folded if f in self.by_form), None)
        if entry is None:
            entry = _Entry(term=fold_phrase(term) or folded[0], severity=severity)
            self.entries[entry.term] = entry
        entry.severity = max(entry.severity, severity)
        entry.sources.setdefault(source, source_severity)
        entry.tags.extend(t for t in tags if t not in entry.tags)
        entry.exceptions.extend(e for e in exceptions if e not in entry.exceptions)
        for f in folded:
            if f not in self.by_form:
                self.by_form[f] = entry
                entry.forms.append(f)


def _action(entry: _Entry) -> str:
    forms = set(entry.forms) | {entry.term}
    if forms & SEXUAL_VIOLENCE:
        return "reject"
    if forms & AMBIGUOUS or any(AMBIGUOUS_PATTERN.match(f) for f in forms):
        return "hold"
    if entry.severity >= 4 and IDENTITY_TAGS.intersection(entry.tags):
        return "reject"
    return "hold"


def _category(entry: _Entry) -> str:
    if set(entry.forms) & SEXUAL_VIOLENCE:
        return "sexual violence"
    if IDENTITY_TAGS.intersection(entry.tags):
        return "identity"
    if {"sexual", "sexual anatomy / sexual acts", "shock"}.intersection(entry.tags):
        return "sexual"
    return "profanity"


def build(source_dir: Path) -> list[dict[str, object]]:
    """Merge the three source lists into the shipped entries."""
    merger = _Merger()
    with (source_dir / "dsojevic" / "en.json").open(encoding="utf-8") as f:
        for item in json.load(f):
            # dsojevic "*" repeats the previous letter; the matcher lets every
            # letter repeat, so the plain word is enough.
            forms = [alt.replace("*", "") for alt in item["match"].split("|")]
            merger.add(
                item["id"],
                forms,
                int(item["severity"]),
                list(item["tags"]),
                "dsojevic",
                float(item["severity"]),
                tuple(item.get("exceptions", ())),
            )
    with (source_dir / "surge-ai" / "profanity_en.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rating = float(row["severity_rating"])
            # Only the first category: a second one ("@ssfcker": sexual orientation)
            # would make plain profanity look like an identity slur.
            tags = [row["category_1"]]
            merger.add(
                row["text"],
                [row["text"]],
                surge_severity(rating),
                tags,
                "surge-ai",
                rating,
            )
    with (source_dir / "ldnoobw" / "en").open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                merger.add(line.strip(), [line.strip()], 2, [], "ldnoobw", 0.0)

    out: list[dict[str, object]] = []
    for entry in sorted(merger.entries.values(), key=lambda e: e.term):
        exceptions = list(entry.exceptions)
        for form in entry.forms:
            exceptions += [
                e for e in EXTRA_EXCEPTIONS.get(form, ()) if e not in exceptions
            ]
        out.append(
            {
                "term": entry.term,
                "forms": sorted(entry.forms),
                "severity": entry.severity,
                "action": _action(entry),
                "category": _category(entry),
                "tags": entry.tags,
                "sources": [s for s in SOURCES if s in entry.sources],
                "source_severity": {
                    s: entry.sources[s]
                    for s in SOURCES
                    if s in entry.sources and s != "ldnoobw"
                },
                "exceptions": exceptions,
            }
        )
    return out


def render(entries: list[dict[str, object]]) -> str:
    """The JSON text as shipped: one entry per line, stable for diffs."""
    lines = ",\n".join(json.dumps(e, ensure_ascii=False) for e in entries)
    return f"[\n{lines}\n]\n"


def main(argv: list[str]) -> int:
    """Write the merged list and copy each source's licence and README."""
    if len(argv) != 1:
        print("usage: python -m moderation.screening.build_wordlist WORDLISTS_DIR")
        return 2
    source_dir = Path(argv[0])
    entries = build(source_dir)
    WORDLIST_PATH.parent.mkdir(parents=True, exist_ok=True)
    WORDLIST_PATH.write_text(render(entries), encoding="utf-8")
    for source in SOURCES:
        target = LICENSES_DIR / source
        target.mkdir(parents=True, exist_ok=True)
        for name in ("LICENSE", "README.md"):
            if (source_dir / source / name).exists():
                shutil.copyfile(source_dir / source / name, target / name)
    rejects = sum(e["action"] == "reject" for e in entries)
    print(f"{len(entries)} entries: {rejects} reject, {len(entries) - rejects} hold")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
