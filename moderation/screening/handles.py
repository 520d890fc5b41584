"""Handle identity: one key for every spelling of a handle that reads the same.

``handle_key("Sneaky S") == handle_key("sneaky_s") == handle_key("ＳｎｅａｋｙＳ")``:
NFKC, case folded, reduced to Unicode's confusables skeleton (UTS #39, from the
data ``confusable-homoglyphs`` packages), then without spaces, punctuation,
separators and invisible characters. Bans, handle standing, author history and
erasure compare this key (stored as ``Comment.handle_key``), never the handle as
typed. Plain Python: the models, the services and the migrations all use it.

Case is folded before the skeleton, as UTS #39 advises for case-blind matching: a
capital I typed for an l ("NeiI") folds to an i and keeps its own key, since
merging i with l would merge real names (Lia and Ila).
"""

from __future__ import annotations

import unicodedata
from functools import cache

from .normalize import INVISIBLE_CHARS

# Comments.handle_key's size; a longer key is cut (handles have 40 characters).
KEY_MAX = 64
# The confusables data marks right-to-left characters with these around them.
_MARKS = "\u200e\u200f"
# Spaces, separators, punctuation, control and format characters: none of them
# tells one handle from another ("Sneaky S", "sneaky.s", "sneaky\u200bs").
_DROPPED_CATEGORIES = ("Z", "P", "Cc", "Cf")


@cache
def prototypes() -> dict[str, str]:
    """UTS #39's confusables mapping: each source character to its prototype."""
    from confusable_homoglyphs import confusables

    data = confusables.confusables_data
    order = {char: n for n, char in enumerate(data)}
    table: dict[str, str] = {}
    for char, glyphs in data.items():
        # The package stores each pair both ways: a source's one entry is its
        # prototype; a prototype lists its sources. A prototype with a single
        # source is told apart by the file's order: a line names the source
        # first, and the package keeps the order it read.
        source = char.strip(_MARKS)
        if len(source) != 1 or len(glyphs) != 1:
            continue
        target = glyphs[0]["c"]
        back = data.get(target, [])
        if len(back) == 1 and order[char] > order[target]:
            continue
        table[source] = target.strip(_MARKS)
    return table


def skeleton(text: str) -> str:
    """UTS #39's skeleton: NFD, each character to its prototype, NFD again."""
    table = prototypes()
    mapped = "".join(table.get(c, c) for c in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


def _kept(char: str) -> bool:
    """False for the characters a handle's key leaves out."""
    if char in INVISIBLE_CHARS:
        return False
    return not unicodedata.category(char).startswith(_DROPPED_CATEGORIES)


def _fold(text: str) -> str:
    """One round of the key: NFKC, case folded, the skeleton, the marks dropped."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    shape = skeleton(unicodedata.normalize("NFKC", folded)).casefold()
    return unicodedata.normalize("NFC", "".join(c for c in shape if _kept(c)))


def handle_key(handle: str) -> str:
    """The key that every look-alike spelling of a handle shares (at most 64)."""
    key = _fold(handle)
    # A prototype can fold further ("ᒮ" is "·Γ", whose lower case is a "γ" that
    # reads "y"): fold again until nothing changes, so that a key is its own key.
    for _ in range(4):
        again = _fold(key)
        if again == key:
            break
        key = again
    if not key:
        # A handle of punctuation alone ("...") keeps it, spaces left out.
        key = "".join(unicodedata.normalize("NFKC", handle).casefold().split())
    return key[:KEY_MAX]
