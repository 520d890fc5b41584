"""Folding that sees through disguised spelling: look-alikes, invisible marks, leet.

Two uses. The word matcher folds one token at a time (``fold_word``), so that its
spans stay offsets into the original body. ``deobfuscate`` rewrites a whole comment
for the machine-learning model: spaced-out letters joined, leet read inside words,
long letter runs cut to two; ``rewrite`` is the same text with a map back to the
original offsets, which the pattern rules use for their spans.

Look-alikes come from Unicode's confusables data as packaged by
``confusable-homoglyphs`` (MIT), plus the few Cyrillic and Greek letters that only
look Latin in lower case (``к`` for k), small capitals and enclosed letters.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

# Format characters (Unicode category Cf: zero-width space and joiners, soft hyphen,
# bidi controls, tags), variation selectors, the combining grapheme joiner and the
# Hangul fillers: none draws anything, so inside a word they only hide it. The Cf
# ranges are Unicode 15's (a test checks them against this Python's data).
INVISIBLE_CLASS = (
    "\u00ad\u034f\u061c\u06dd\u070f\u115f\u1160\u180e\u3164\uffa0\ufeff"
    "\u0600-\u0605\u0890\u0891\u08e2\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufe00-\ufe0f\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f\U000e0100-\U000e01ef"
)
_INVISIBLE = re.compile(f"[{INVISIBLE_CLASS}]+")


def _expand(char_class: str) -> frozenset[str]:
    chars: set[str] = set()
    i = 0
    while i < len(char_class):
        if i + 2 < len(char_class) and char_class[i + 1] == "-":
            start, end = ord(char_class[i]), ord(char_class[i + 2])
            chars.update(chr(c) for c in range(start, end + 1))
            i += 3
        else:
            chars.add(char_class[i])
            i += 1
    return frozenset(chars)


# The same characters as a set, for cheap membership tests.
INVISIBLE_CHARS = _expand(INVISIBLE_CLASS)

# Lower-case Cyrillic and Greek letters that read as Latin ones in running text but
# that the confusables data leaves out (it pairs only glyphs that look the same).
_EXTRA_LOOKALIKES = {
    "в": "b",
    "к": "k",
    "м": "m",
    "н": "h",
    "п": "n",
    "т": "t",
    "и": "u",
    "ь": "b",
    "ъ": "b",
    "ш": "w",
    "β": "b",
    "δ": "d",
    "ε": "e",
    "η": "n",
    "κ": "k",
    "μ": "u",
    "π": "n",
    "τ": "t",
    "χ": "x",
    "ω": "w",
}
_SMALL_CAPITAL = re.compile(r"LATIN LETTER SMALL CAPITAL ([A-Z])")
_ENCLOSED = re.compile(r"(?:NEGATIVE (?:CIRCLED|SQUARED)|REGIONAL INDICATOR SYMBOL)")


@cache
def lookalikes() -> dict[int, str]:
    """A str.translate table from look-alike characters to Latin letters."""
    from confusable_homoglyphs import confusables

    table: dict[int, str] = {}
    for char, glyphs in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        letters = {
            g["c"].strip("\u200e")
            for g in glyphs
            if len(g["c"].strip("\u200e")) == 1 and g["c"].strip("\u200e").isascii()
        }
        letters = {c for c in letters if c.isalpha()}
        if not letters:
            continue
        lower = {c.lower() for c in letters}
        # Unicode's prototype for I, l and 1 is "l": a capital look-alike is an I.
        if lower >= {"l"} and (char.isupper() or "I" in letters):
            letter = "i" if char.isupper() else "l"
        elif len(lower) == 1:
            letter = lower.pop()
        else:
            continue
        table[ord(char)] = letter.upper() if char.isupper() else letter
    for char, letter in _EXTRA_LOOKALIKES.items():
        table.setdefault(ord(char), letter)
        table.setdefault(ord(char.upper()), letter.upper())
    # Small capitals (ᴀ ʙ ᴄ), and the enclosed letters NFKC leaves alone (🅰 🇦).
    blocks = ((0x0250, 0x02AF), (0x1D00, 0x1D2B), (0xA730, 0xA7FF), (0x1F150, 0x1F1FF))
    for start, end in blocks:
        for code in range(start, end + 1):
            name = unicodedata.name(chr(code), "")
            if m := _SMALL_CAPITAL.fullmatch(name):
                table.setdefault(code, m.group(1).lower())
            elif _ENCLOSED.match(name) and name[-2] == " ":
                table.setdefault(code, name[-1])
    return table


@cache
def _lookalike_class() -> re.Pattern[str]:
    chars = "".join(re.escape(chr(c)) for c in sorted(lookalikes()))
    # Letters that are neither Latin (with or without accents) nor a look-alike.
    return re.compile(
        rf"[^\W\d_A-Za-z\u00c0-\u024f\u1e00-\u1eff{chars}"
        "\U0001d400-\U0001d7ff\U0001f100-\U0001f1ff]"
    )


_LETTER = re.compile(r"[^\W\d_]")
_NON_ASCII_LETTER = re.compile(r"[^\W\d_\x00-\x7f]")


def latin_context(text: str) -> bool:
    """True when most letters of text read as Latin, look-alikes included.

    Look-alikes are mapped only in such text: a Russian comment stays Russian, while
    "ѕһіт" among English words, or on its own, is read as Latin.
    """
    if not _NON_ASCII_LETTER.search(text):
        return True
    letters = len(_LETTER.findall(text))
    foreign = len(_lookalike_class().findall(unicodedata.normalize("NFKC", text)))
    return foreign * 2 < letters


def strip_invisible(text: str) -> str:
    """Text without zero-width, format and variation-selector characters."""
    return _INVISIBLE.sub("", text)


def _latin(text: str, homoglyphs: bool) -> str:
    text = unicodedata.normalize("NFKC", strip_invisible(text))
    if text.isascii():
        return text
    # A token mixing scripts ("fuсk" with a Cyrillic с) is a disguise anywhere; one
    # of look-alikes only ("ѕһіт") in Latin text; "тебя" (я has no look-alike) is
    # a Russian word.
    mixed = any("a" <= c <= "z" or "A" <= c <= "Z" for c in text)
    if mixed or (homoglyphs and not _lookalike_class().search(text)):
        text = text.translate(lookalikes())
    return text


@lru_cache(maxsize=65536)
def skeleton(text: str, homoglyphs: bool = True) -> str:
    """A matching key: NFKC, no invisibles, look-alikes as Latin, casefolded."""
    text = _latin(text, homoglyphs).casefold()
    return "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )


_LEET = str.maketrans(
    {
        "@": "a",
        "4": "a",
        "1": "i",
        "!": "i",
        "3": "e",
        "0": "o",
        "$": "s",
        "5": "s",
        "7": "t",
        "+": "t",
    }
)
_LEET_CHARS = frozenset("@41!30$57+")
# "h8", "h8ers", "gr8": an 8 after letters is read "ate".
_EIGHT = re.compile(r"([^\W\d_]+)8(?=[^\W\d_]*$)")
# Numbers with a unit or an ordinal, codes ending in digits: never leet.
_NOT_LEET = re.compile(
    r"\d+(?:st|nd|rd|th|s|am|pm|k|m|bn|mn|g|d|x|p|kg|km|mph|ft|cm|mm|ml|gb|mb|hrs?"
    r"|mins?|yo|chan)|[^\W\d_]+\d+",
    re.IGNORECASE,
)

# "@john" is a mention; "@ss" and "@sshole" are not.
_MENTION = re.compile(r"@(?!ss)[^\W\d_]{3}")


def fold_leet(word: str, model: bool = False) -> str:
    """Read leetspeak digits and symbols as letters inside a word ("sh1t").

    Only in real words: "A55" (a road) and "2019" have fewer than two letters. For
    the model's copy, numbers with units ("1st", "4chan") and codes ("mp3",
    "covid19") stay, and digit-words are read ("h8" is "hate"); the word lists are
    built with the plain fold, so it must not change.
    """
    if model and "8" in word:
        word = _EIGHT.sub(r"\1ate", word)
    if not any(c in _LEET_CHARS for c in word):
        return word
    if sum(c.isalpha() for c in word) < 2:
        return word
    if model and (_NOT_LEET.fullmatch(word) or "!!" in word or _MENTION.match(word)):
        return word
    folded = word.translate(_LEET)
    letters = [c for c in word if c.isalpha()]
    return folded.upper() if all(c.isupper() for c in letters) else folded


@lru_cache(maxsize=65536)
def fold_word(token: str, homoglyphs: bool = True) -> str:
    """Fold one token as the word lists are written: skeleton, then leet."""
    return fold_leet(skeleton(token, homoglyphs))


# The rewrite reads a text as spelled-out runs of single letters ("h a t e", "f.u-c k"),
# words (letters, digits, leet symbols, masks, invisibles and combining marks inside),
# whitespace runs and any other single character.
ENCLOSED_CLASS = "\u24b6-\u24e9\U0001f130-\U0001f189\U0001f1e6-\U0001f1ff"
_WORD_CHAR = rf"[\w@$!+*#＠＄！＊＃{INVISIBLE_CLASS}{ENCLOSED_CLASS}\u0300-\u036f]"
# One to three separators between spelled-out letters, mixed or not.
SPELLED_GAP_CLASS = r" \t._\-/\\|~·•*+"
_SINGLE = rf"(?:[^\W_]|[@$!{ENCLOSED_CLASS}])"
_RUN = (
    rf"(?<![\w'@$!]){_SINGLE}(?:[{SPELLED_GAP_CLASS}]{{1,3}}{_SINGLE}){{2,}}"
    rf"(?![\w'@$!{ENCLOSED_CLASS}])"
)
# Single spaces and ASCII punctuation are kept as they are: the pieces are only what
# may change.
_PIECE = re.compile(
    rf"(?P<run>{_RUN})|(?P<word>{_WORD_CHAR}+)|(?P<space>\s{{2,}}|[^\S ])|[^\x00-\x7f]"
)
_WORD_PIECE = re.compile(rf"(?P<word>{_WORD_CHAR}+)|(?P<space>\s{{2,}}|[^\S ])")
_SPELLED_SEP = re.compile(rf"[{SPELLED_GAP_CLASS}]+")
_EDGE = re.compile(f"[!*#+！＊＃{INVISIBLE_CLASS}]+")
_QUOTES = str.maketrans("‘’‛ʼ′`“”„‟″«»", "'" * 6 + '"' * 7)
_LONG_RUN = re.compile(r"([^\W\d_])\1{2,}", re.IGNORECASE)


@dataclass(frozen=True)
class Rewrite:
    """A de-obfuscated text, and where each of its characters came from."""

    text: str
    # text lower-cased, the same length (what the pattern rules read).
    lower: str
    # (start, end) in text, then (start, end) in the original, for each stretch;
    # a stretch is copied as it was or rewritten whole.
    segments: tuple[tuple[int, int, int, int], ...]
    # Ranges of text that read differently from the original (not just case or
    # spacing): where a match was only visible after de-obfuscation.
    changed: tuple[tuple[int, int], ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original offsets of text[start:end] (end > start)."""
        return self._original(start, False), self._original(end - 1, True)

    def _original(self, pos: int, end: bool) -> int:
        k = bisect.bisect_right(self.segments, (pos, len(self.text) + 1)) - 1
        out_start, out_end, start, stop = self.segments[k]
        if out_end - out_start == stop - start:  # copied: char for char
            return start + pos - out_start + (1 if end else 0)
        return stop if end else start

    def disguised(self, start: int, end: int) -> bool:
        """True when text[start:end] reads differently from the original."""
        return any(s < end and start < e for s, e in self.changed)


@lru_cache(maxsize=65536)
def _fold_model_word(raw: str, homoglyphs: bool, runs: int) -> str:
    text = _latin(raw, homoglyphs)
    if text.lower() != "www":
        text = _LONG_RUN.sub(r"\1" * runs, text)
    return fold_leet(text, model=True)


@lru_cache(maxsize=65536)
def _word_edit(raw: str, homoglyphs: bool, runs: int) -> tuple[str, bool]:
    """A word's rewrite, and whether it reads differently (beyond case)."""
    lead = _EDGE.match(raw)
    lo = lead.end() if lead else 0
    trail = _EDGE.search(raw, lo)
    hi = trail.start() if trail and trail.end() == len(raw) else len(raw)
    core = raw[lo:hi]
    out = _fold_model_word(core, homoglyphs, runs) if core else ""
    changed = out.lower() != unicodedata.normalize("NFC", core).lower()
    return strip_invisible(raw[:lo]) + out + strip_invisible(raw[hi:]), changed


Edit = tuple[int, int, str, bool]


def _edits(text: str, homoglyphs: bool, runs: int) -> list[Edit]:
    """(start, end, replacement, changed) for every stretch the rewrite alters."""
    edits: list[Edit] = []
    for m in _PIECE.finditer(text):
        raw = m.group()
        kind = m.lastgroup
        if kind == "word":
            # Most words are plain: nothing to fold.
            if raw.isascii() and raw.isalpha() and not _LONG_RUN.search(raw):
                continue
            out, changed = _word_edit(raw, homoglyphs, runs)
            if out != raw:
                edits.append((m.start(), m.end(), out, changed))
        elif kind == "run":
            letters = _SPELLED_SEP.sub("", raw)
            if sum(c.isalpha() for c in letters) >= 2:
                out = _fold_model_word(letters, homoglyphs, runs)
                edits.append((m.start(), m.end(), out, True))
            else:
                # Not a spelled-out word ("2 + 2 = 4"): its pieces one by one.
                for sub in _WORD_PIECE.finditer(raw):
                    edits.extend(_piece_edit(sub, m.start(), homoglyphs, runs))
        else:
            edits.extend(_piece_edit(m, 0, homoglyphs, runs))
    return edits


def _piece_edit(
    m: re.Match[str], offset: int, homoglyphs: bool, runs: int
) -> list[Edit]:
    raw = m.group()
    start, end = m.start() + offset, m.end() + offset
    if m.lastgroup == "word":
        out, changed = _word_edit(raw, homoglyphs, runs)
        return [(start, end, out, changed)] if out != raw else []
    if m.lastgroup == "space":
        return [(start, end, "\n" if "\n" in raw else " ", False)]
    out = unicodedata.normalize("NFKC", raw.translate(_QUOTES))
    return [(start, end, out, False)] if out != raw else []


@lru_cache(maxsize=1024)
def rewrite(text: str, runs: int = 2) -> Rewrite:
    """De-obfuscate text, keeping where each output character came from.

    A letter repeated three times or more is cut to runs letters: two for the
    model ("sooo" reads "soo"), one for the pattern rules ("kiiill" reads "kill").
    """
    homoglyphs = latin_context(text)
    chunks: list[str] = []
    segments: list[tuple[int, int, int, int]] = []
    changed: list[tuple[int, int]] = []
    pos = done = 0
    for start, end, out, differs in _edits(text, homoglyphs, runs):
        if start > done:
            chunks.append(text[done:start])
            segments.append((pos, pos + start - done, done, start))
            pos += start - done
        if out:
            chunks.append(out)
            segments.append((pos, pos + len(out), start, end))
            if differs:
                changed.append((pos, pos + len(out)))
            pos += len(out)
        done = end
    if done < len(text):
        chunks.append(text[done:])
        segments.append((pos, pos + len(text) - done, done, len(text)))
    out_text = "".join(chunks)
    lower = out_text.lower()
    if len(lower) != len(out_text):  # "İ" lower-cases to two characters
        lower = "".join(c if len(c.lower()) != 1 else c.lower() for c in out_text)
    return Rewrite(out_text, lower, tuple(segments), tuple(changed))


def deobfuscate(text: str) -> str:
    """Text for a model to read, look-alikes, spacing, leet and letter runs undone."""
    return rewrite(text).text
