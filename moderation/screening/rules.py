"""Rule filters: word lists, links, repeats and spam signals, as plain functions.

Word matching works on tokens, never on substrings, so "Scunthorpe", "cocktail" and
"analysis" cannot match. Each token is folded (``normalize.fold_word``: NFKC,
invisible characters dropped, look-alike letters read as Latin, casefold, accents
dropped, leetspeak digits and symbols read as letters) and looked up in an index;
every letter of a listed form may repeat ("fuuuck"). Masked tokens ("f*ck", "sh*t"),
single letters spelled out with separators ("f.u.c.k", "f u-c k"), words split by
zero-width characters, and severe listed words of five letters or more with two
inner letters swapped ("btich") are matched too, but a masked match only ever holds:
"s**t" could be several words. Spans are the original token offsets, so
``body[span.start:span.end] == span.text`` for highlighting.

The pattern rules (threats, dehumanisation, calls for harm against a group) live in
``patterns``; their rules here hold, never reject.

The shipped list is ``data/wordlist.json``, made by ``build_wordlist`` (its docstring
gives the reject / hold policy). Sites add their own words through ``Policy``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from moderation.screening import patterns
from moderation.screening.base import Action, Draft, Policy, RuleHit, Span
from moderation.screening.normalize import (
    ENCLOSED_CLASS,
    INVISIBLE_CHARS,
    INVISIBLE_CLASS,
    SPELLED_GAP_CLASS,
    fold_leet,
    fold_word,
    latin_context,
)

WORDLIST_PATH = Path(__file__).parent / "data" / "wordlist.json"

# Letters and digits, plus the symbols people put in place of letters (leetspeak:
# @ $ ! +, fullwidth forms; masks: * #), and the invisible characters and combining
# marks that may sit inside a word. Underscore is a separator, not a letter.
_TOKEN = re.compile(
    rf"(?:[^\W_]|[@$!+*#＠＄！＊＃{INVISIBLE_CLASS}{ENCLOSED_CLASS}\u0300-\u036f])+"
)
# "fuck!" and "*fuck*" are the word itself; so is "fuck" between zero-width spaces.
_EDGE_STRIP = frozenset("!*#！＊＃") | INVISIBLE_CHARS
# Invisible characters that stand for a space: a word split by one of these may be
# two words ("fuck\u200bthis"). A soft hyphen or a joiner sits inside one word.
_INVISIBLE_SPACE = re.compile("[\u200b\u180e\ufeff]+")
_MASKS = frozenset("*#")
_LEET_CHARS = frozenset("@41!30$57+")
# Between the words of a phrase: spaces, a hyphen, a full stop ("mr. hands").
_PHRASE_GAP = re.compile(r"[\s\-.\u2010-\u2014]{1,6}")
# Between single letters spelled out: one to three separators, mixed or not:
# "f.u.c.k", "f u c k", "f.u-c k", "f_u_c_k".
_SPELLED_GAP = re.compile(f"[{SPELLED_GAP_CLASS}]{{1,3}}")
_REPEATS = re.compile(r"(.)\1+")
# A spelled-out or masked word longer than this is never looked up.
_MAX_SPELLED = 16
# Swapped letters are matched only in listed words this long and this severe, and
# only inside the word ("btich", "nigegr"): the first and last letters stay.
_SWAP_MIN_LENGTH = 5
_SWAP_MIN_SEVERITY = 3


def fold_token(token: str, homoglyphs: bool = True) -> str:
    """Fold one token to the form the word lists are written in."""
    return fold_word(token, homoglyphs)


def tokens(text: str) -> list[tuple[int, int, str]]:
    """Split text into (start, end, folded) word tokens with original offsets."""
    # Look-alikes are read as Latin in Latin text only: Russian stays Russian.
    homoglyphs = latin_context(text)
    out: list[tuple[int, int, str]] = []
    for m in _TOKEN.finditer(text):
        start, end = m.span()
        while start < end and text[start] in _EDGE_STRIP:
            start += 1
        while end > start and text[end - 1] in _EDGE_STRIP:
            end -= 1
        if start < end:
            out.append((start, end, fold_word(text[start:end], homoglyphs)))
    return out


def fold_phrase(text: str) -> str:
    """Fold a listed word or phrase: its folded tokens joined by single spaces."""
    return " ".join(t for _, _, t in tokens(text))


def _plain(token: str) -> str:
    # A token as typed, only case and canonical composition undone.
    return unicodedata.normalize("NFC", token).casefold()


def _spelled_letter(folded: str) -> bool:
    return len(folded) == 1 and (folded.isalpha() or folded in _LEET_CHARS)


# Real words one swap away from a listed severe word, which swapped-letter matching
# must leave alone. None is known today (checked against an English vocabulary of
# 30,000 words and the training comments); add any that turn up.
_REAL_WORDS: frozenset[str] = frozenset()


@lru_cache(maxsize=65536)
def _collapse(text: str) -> str:
    return _REPEATS.sub(r"\1", text)


def _letters_regex(word: str) -> re.Pattern[str]:
    # Every listed letter may be repeated: "fuuuck", "shiiit".
    # "ass" keeps both s: a+s+s+ matches "ass" and "asss" but not "as".
    return re.compile("".join(re.escape(c) + "+" for c in word))


@dataclass(frozen=True)
class WordEntry:
    """One listed word: its forms, severity 1-4, and whether it rejects or holds."""

    term: str
    forms: tuple[str, ...]
    action: Action
    severity: int = 2
    category: str = ""
    sources: tuple[str, ...] = ()
    # dsojevic syntax: "*" is the matched word, e.g. "* hound" spares "coon hound".
    exceptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class WordMatch:
    """A listed word found in a body: where, which entry, and the action it asks."""

    span: Span
    entry: WordEntry
    # Matched through a mask ("f*ck"): the word is a guess, so it only holds.
    masked: bool = False
    # Only found by reading through a disguise: leet, look-alikes, invisible
    # characters, spelled-out or swapped letters, masks, repeated letters.
    disguised: bool = False

    @property
    def action(self) -> Action:
        return Action.HOLD if self.masked else self.entry.action


@dataclass(frozen=True)
class _Form:
    entry: WordEntry
    words: tuple[re.Pattern[str], ...]
    # Exceptions as (words before, words after) the match, folded.
    exceptions: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    # The folded words as listed: a token that reads so without folding is plain.
    plain: tuple[str, ...] = ()


def _parse_exceptions(
    entry: WordEntry,
) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    out = []
    for exc in entry.exceptions:
        if exc.count("*") != 1:
            continue
        head, tail = exc.split("*")
        before = tuple(fold_phrase(head).split())
        after = tuple(fold_phrase(tail).split())
        # Whole-word matching already spares "cocktail" ("*tail"); the exception
        # still counts for the word written apart ("gobbledy gook", "coon hound"),
        # but not for a short piece: "a*" (aspic) must not spare "a spic".
        glued = (head and not head.endswith(" ")) or (tail and not tail.startswith(" "))
        if glued and any(len(w) < 3 for w in before + after):
            continue
        if before or after:
            out.append((before, after))
    return tuple(out)


class WordMatcher:
    """Finds listed words in text; build once per set of entries, then reuse."""

    def __init__(self, entries: Iterable[WordEntry]) -> None:
        self._index: dict[str, list[_Form]] = {}
        # Single-word forms by first letter, for masked tokens.
        self._by_first: dict[str, list[tuple[str, WordEntry]]] = {}
        # Severe long words with two inner letters swapped: "btich" -> bitch.
        self._swapped: dict[str, WordEntry] = {}
        swappable: list[tuple[str, WordEntry]] = []
        for entry in entries:
            exceptions = _parse_exceptions(entry)
            for form in entry.forms:
                words = fold_phrase(form).split()
                if not words:
                    continue
                compiled = _Form(
                    entry,
                    tuple(_letters_regex(w) for w in words),
                    exceptions,
                    tuple(words),
                )
                self._index.setdefault(_collapse(words[0]), []).append(compiled)
                if len(words) == 1:
                    self._by_first.setdefault(words[0][0], []).append((words[0], entry))
                    if (
                        entry.severity >= _SWAP_MIN_SEVERITY
                        and len(words[0]) >= _SWAP_MIN_LENGTH
                        and words[0].isalpha()
                    ):
                        swappable.append((words[0], entry))
        listed = {w for forms in self._by_first.values() for w, _ in forms}
        for word, entry in swappable:
            for k in range(1, len(word) - 2):
                if word[k] == word[k + 1]:
                    continue
                swapped = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
                # A listed spelling ("fcuking") is matched as itself.
                if swapped in listed or swapped in _REAL_WORDS:
                    continue
                known = self._swapped.get(swapped)
                if known is None or entry.severity > known.severity:
                    self._swapped[swapped] = entry

    def find(self, body: str) -> list[WordMatch]:
        """Return the listed words in body, left to right, never overlapping."""
        toks = tokens(body)
        invisible = _INVISIBLE_SPACE.search(body) is not None
        matches: list[WordMatch] = []
        i = 0
        while i < len(toks):
            found = self._match_at(body, toks, i)
            if found is None:
                found = self._spelled_at(body, toks, i)
            if found is None:
                found = self._masked_at(body, toks, i)
            if found is None:
                found = self._swapped_at(body, toks, i)
            if found is None:
                if invisible:
                    matches.extend(self._split_at_invisibles(body, toks[i]))
                i += 1
                continue
            match, used = found
            matches.append(match)
            i += used
        return matches

    def _match_at(
        self, body: str, toks: list[tuple[int, int, str]], i: int
    ) -> tuple[WordMatch, int] | None:
        best: tuple[int, int, _Form] | None = None
        for form in self._index.get(_collapse(toks[i][2]), ()):
            n = len(form.words)
            if i + n > len(toks) or not self._words_fit(body, toks, i, form):
                continue
            if self._excepted(toks, i, n, form):
                continue
            key = (n, form.entry.action.rank)
            if best is None or key > (best[0], best[1]):
                best = (n, form.entry.action.rank, form)
        if best is None:
            return None
        n, _, form = best
        start, end = toks[i][0], toks[i + n - 1][1]
        disguised = any(
            _plain(body[s:e]) != word
            for (s, e, _), word in zip(toks[i : i + n], form.plain, strict=True)
        )
        span = Span(start, end, body[start:end])
        return WordMatch(span, form.entry, disguised=disguised), n

    @staticmethod
    def _words_fit(
        body: str, toks: list[tuple[int, int, str]], i: int, form: _Form
    ) -> bool:
        for k, word in enumerate(form.words):
            if not word.fullmatch(toks[i + k][2]):
                return False
            gap = body[toks[i + k - 1][1] : toks[i + k][0]] if k else " "
            if not _PHRASE_GAP.fullmatch(gap):
                return False
        return True

    @staticmethod
    def _excepted(
        toks: list[tuple[int, int, str]], i: int, n: int, form: _Form
    ) -> bool:
        for before, after in form.exceptions:
            lo, hi = i - len(before), i + n + len(after)
            if lo < 0 or hi > len(toks):
                continue
            if (
                tuple(t for _, _, t in toks[lo:i]) == before
                and tuple(t for _, _, t in toks[i + n : hi]) == after
            ):
                return True
        return False

    def _spelled_at(
        self, body: str, toks: list[tuple[int, int, str]], i: int
    ) -> tuple[WordMatch, int] | None:
        # Single letters (or leet digits) with separators between: "f.u-c k".
        if not _spelled_letter(toks[i][2]):
            return None
        # Only from the start of a run: "B-A-S-S" is bass, not "a-s-s".
        if (
            i
            and _spelled_letter(toks[i - 1][2])
            and _SPELLED_GAP.fullmatch(body[toks[i - 1][1] : toks[i][0]])
        ):
            return None
        j = i + 1
        while j < len(toks) and j - i < _MAX_SPELLED:
            gap = body[toks[j - 1][1] : toks[j][0]]
            if not _spelled_letter(toks[j][2]) or not _SPELLED_GAP.fullmatch(gap):
                break
            j += 1
        # Longest spelled word first; three letters at least ("a s s"), two of
        # them real letters ("2 + 2" is sums).
        for end in range(j, i + 2, -1):
            letters = "".join(t for _, _, t in toks[i:end])
            if sum(c.isalpha() for c in letters) < 2:
                continue
            word = fold_leet(letters)
            for form in self._index.get(_collapse(word), ()):
                if len(form.words) == 1 and form.words[0].fullmatch(word):
                    start, stop = toks[i][0], toks[end - 1][1]
                    span = Span(start, stop, body[start:stop])
                    return WordMatch(span, form.entry, disguised=True), end - i
        return None

    def _swapped_at(
        self, body: str, toks: list[tuple[int, int, str]], i: int
    ) -> tuple[WordMatch, int] | None:
        start, end, word = toks[i]
        entry = self._swapped.get(word)
        if entry is None:
            return None
        span = Span(start, end, body[start:end])
        return WordMatch(span, entry, disguised=True), 1

    def _split_at_invisibles(
        self, body: str, token: tuple[int, int, str]
    ) -> list[WordMatch]:
        # "fuck\u200bthis": the zero-width space may be a space after all.
        start, end, _ = token
        if not _INVISIBLE_SPACE.search(body, start, end):
            return []
        homoglyphs = latin_context(body)
        pieces = []
        at = start
        for m in _INVISIBLE_SPACE.finditer(body, start, end):
            if m.start() > at:
                pieces.append(
                    (at, m.start(), fold_token(body[at : m.start()], homoglyphs))
                )
            at = m.end()
        if end > at:
            pieces.append((at, end, fold_token(body[at:end], homoglyphs)))
        found = []
        for k in range(len(pieces)):
            match = self._match_at(body, pieces, k)
            if match is not None:
                found.append(replace(match[0], disguised=True))
        return found

    def _masked_at(
        self, body: str, toks: list[tuple[int, int, str]], i: int
    ) -> tuple[WordMatch, int] | None:
        start, end, word = toks[i]
        if ("*" not in word and "#" not in word) or len(word) > _MAX_SPELLED:
            return None
        letters = [c for c in word if c not in _MASKS]
        if len(letters) < 2 or not word[0].isalpha():
            return None
        # A run of k masks stands for 1 to k+1 letters: "f**k", "f*k", "f***ing".
        pattern = re.compile(
            "".join(
                f"[^\\W\\d_]{{1,{len(part) + 1}}}"
                if part[0] in _MASKS
                else re.escape(part)
                for part in re.findall(r"[*#]+|[^*#]+", word)
            )
        )
        candidates = [
            entry
            for form, entry in self._by_first.get(word[0], ())
            if pattern.fullmatch(form)
        ]
        # "f*u*c*k": masks between single letters are separators, not letters.
        plain = "".join(letters)
        for form in self._index.get(_collapse(plain), ()):
            if len(form.words) == 1 and form.words[0].fullmatch(plain):
                candidates.append(form.entry)
        if not candidates:
            return None
        # Several words may fit the mask; name the best attested one.
        entry = max(candidates, key=lambda e: (len(e.sources), e.severity))
        span = Span(start, end, body[start:end])
        return WordMatch(span, entry, masked=True, disguised=True), 1


def _entry_from_json(item: dict[str, object]) -> WordEntry:
    def strings(key: str) -> tuple[str, ...]:
        value = item.get(key) or []
        assert isinstance(value, list)
        return tuple(str(v) for v in value)

    return WordEntry(
        term=str(item["term"]),
        forms=strings("forms"),
        action=Action(str(item["action"])),
        severity=int(str(item["severity"])),
        category=str(item.get("category", "")),
        sources=strings("sources"),
        exceptions=strings("exceptions"),
    )


@lru_cache(maxsize=1)
def shipped_entries() -> tuple[WordEntry, ...]:
    """The shipped word list, read once."""
    with WORDLIST_PATH.open(encoding="utf-8") as f:
        return tuple(_entry_from_json(item) for item in json.load(f))


def site_entries(words: Sequence[str], action: Action) -> tuple[WordEntry, ...]:
    """Entries for a site's own words or phrases."""
    return tuple(
        WordEntry(term=w.strip(), forms=(w,), action=action, sources=("site",))
        for w in words
        if fold_phrase(w)
    )


@lru_cache(maxsize=64)
def matcher_for(
    banned: tuple[str, ...] = (), suspect: tuple[str, ...] = ()
) -> WordMatcher:
    """A matcher for the shipped list plus a site's extra words, built once."""
    return WordMatcher(
        shipped_entries()
        + site_entries(banned, Action.REJECT)
        + site_entries(suspect, Action.HOLD)
    )


def find_words(
    body: str, entries: Iterable[WordEntry] | None = None
) -> list[WordMatch]:
    """Listed words in body (the shipped list unless entries are given)."""
    matcher = matcher_for() if entries is None else WordMatcher(entries)
    return matcher.find(body)


@lru_cache(maxsize=256)
def _matches_for(
    body: str, banned: tuple[str, ...], suspect: tuple[str, ...]
) -> tuple[WordMatch, ...]:
    # The banned and suspect rules look at the same matches: find them once.
    return tuple(matcher_for(banned, suspect).find(body))


def word_matches(body: str) -> tuple[WordMatch, ...]:
    """The shipped list's words in body, found once per body."""
    return _matches_for(body, (), ())


def rule_features(text: str) -> dict[str, float]:
    """The rule signals the screen's heads read, each 0..1, keyed as in
    patterns.FEATURES: the patterns' own, plus the shipped list's words in text."""
    words = word_matches(text)
    features = patterns.pattern_features(text)
    slurs = [m.entry.severity for m in words if m.action is Action.REJECT]
    profane = sum(1 for m in words if m.action is Action.HOLD)
    features["slur"] = max(slurs, default=0) / 4
    features["profanity"] = min(1.0, profane / 3)
    features["disguised"] = max(
        features["disguised"], float(any(m.disguised for m in words))
    )
    return {name: features[name] for name in patterns.FEATURES}


def _policy_matches(draft: Draft, policy: Policy) -> tuple[WordMatch, ...]:
    return _matches_for(
        draft.body, tuple(policy.banned_words), tuple(policy.suspect_words)
    )


def _quoted(matches: Sequence[WordMatch]) -> str:
    # A disguised word is named as listed too: "f.u-c k" (fuck).
    seen = dict.fromkeys(
        f'"{m.span.text}" ({m.entry.term})' if m.disguised else f'"{m.span.text}"'
        for m in matches
    )
    return ", ".join(seen)


def banned_words(draft: Draft, policy: Policy) -> RuleHit | None:
    """A banned word (a slur, a site's banned term) rejects the comment."""
    found = [m for m in _policy_matches(draft, policy) if m.action is Action.REJECT]
    if not found:
        return None
    label = "banned word" if len(found) == 1 else "banned words"
    spans = tuple(m.span for m in found)
    return RuleHit("banned_word", Action.REJECT, f"{label}: {_quoted(found)}", spans)


def suspect_words(draft: Draft, policy: Policy) -> RuleHit | None:
    """Profanity and masked words hold the comment for a moderator."""
    found = [m for m in _policy_matches(draft, policy) if m.action is Action.HOLD]
    if not found:
        return None
    label = "suspect word" if len(found) == 1 else "suspect words"
    spans = tuple(m.span for m in found)
    return RuleHit("suspect_word", Action.HOLD, f"{label}: {_quoted(found)}", spans)


_TLDS = (
    "com|net|org|info|biz|io|co|uk|de|fr|ru|cn|nl|eu|ca|au|xyz|top|online|site|"
    "shop|store|app|dev|tv|ly|gov|edu|club|live|link|click"
)
# Schemes and www. always; bare domains only with a known TLD, so that "e.g.",
# "U.S." and "i.e." are not links. Not after "@": an email address is no link.
LINK = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+"
    r"|(?<![@\w.\-])(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+"
    rf"(?:{_TLDS})\b(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
_LINK_TRAIL = ".,;:!?)]}'\""


def find_links(body: str) -> list[Span]:
    """Spans of the links in body, trailing punctuation left out."""
    spans = []
    for m in LINK.finditer(body):
        start, end = m.span()
        while end > start and body[end - 1] in _LINK_TRAIL:
            end -= 1
        spans.append(Span(start, end, body[start:end]))
    return spans


def too_many_links(draft: Draft, policy: Policy) -> RuleHit | None:
    """Link-heavy comments are mostly spam."""
    links = find_links(draft.body)
    if len(links) <= policy.link_limit:
        return None
    reason = f"{len(links)} links (limit {policy.link_limit})"
    return RuleHit("links", Action.HOLD, reason, tuple(links))


def repeat(draft: Draft, policy: Policy) -> RuleHit | None:
    """The same text posted again in one thread is held."""
    if not draft.is_repeat:
        return None
    return RuleHit("repeat", Action.HOLD, "same text already posted in this thread")


# Spam thresholds, set well above anything in ordinary comments: news comments
# quote acronyms (NATO, U.S.) and use "!!!" and "...".
SHOUT_MIN_LETTERS = 40
SHOUT_RATIO = 0.85
CHAR_RUN = 12
WORD_RUN = 6
LONG_STRING = 80
_CHAR_RUN = re.compile(rf"(\S)\1{{{CHAR_RUN - 1},}}")
_WORD_RUN = re.compile(rf"\b(\w+)(?:\W+\1\b){{{WORD_RUN - 1},}}", re.IGNORECASE)
_LONG = re.compile(rf"\S{{{LONG_STRING},}}")


def spam_signals(draft: Draft, policy: Policy) -> RuleHit | None:
    """Shouting, long runs of one character or word, and long unbroken strings."""
    body = draft.body
    reasons: list[str] = []
    spans: list[Span] = []
    cased = [c for c in body if c.isupper() or c.islower()]
    if len(cased) >= SHOUT_MIN_LETTERS:
        upper = sum(c.isupper() for c in cased) / len(cased)
        if upper >= SHOUT_RATIO:
            reasons.append(f"shouting ({upper:.0%} capitals)")
    links = find_links(body)
    for pattern, what in (
        (_CHAR_RUN, "character repeated {n} times"),
        (_WORD_RUN, "word repeated many times"),
        (_LONG, "unbroken string of {n} characters"),
    ):
        for m in pattern.finditer(body):
            # Inside a URL it is the link rule's business.
            if any(s.start <= m.start() < s.end for s in links):
                continue
            reasons.append(what.format(n=len(m.group())))
            spans.append(Span(m.start(), m.end(), m.group()))
    if not reasons:
        return None
    reason = "; ".join(dict.fromkeys(reasons))
    return RuleHit("spam", Action.HOLD, reason, tuple(spans))


def threats(draft: Draft, policy: Policy) -> RuleHit | None:
    """Threats: intent to harm, wishing harm, knowing where someone lives."""
    return patterns.pattern_hit(draft.body, "threat")


def dehumanisation(draft: Draft, policy: Policy) -> RuleHit | None:
    """A protected group compared to vermin, disease, filth or animals."""
    return patterns.pattern_hit(draft.body, "dehumanisation")


def group_harm(draft: Draft, policy: Policy) -> RuleHit | None:
    """Calls for violence against, or exclusion of, a protected group."""
    return patterns.pattern_hit(draft.body, "group_harm")


Rule = Callable[[Draft, Policy], RuleHit | None]

RULES: tuple[Rule, ...] = (
    banned_words,
    suspect_words,
    threats,
    dehumanisation,
    group_harm,
    too_many_links,
    repeat,
    spam_signals,
)


def apply_rules(draft: Draft, policy: Policy) -> list[RuleHit]:
    """Run every rule on a draft; the hits, in rule order."""
    return [hit for rule in RULES if (hit := rule(draft, policy)) is not None]


_NOT_WORD = re.compile(r"[\W_]+")


def normalise_for_repeat(body: str) -> str:
    """The body as the repeat rule compares it: casefolded, punctuation ignored.

    A body without letters ("}", "😍", "+1") keeps its symbols, spacing aside:
    ignoring them would make every such body a repeat of every other.
    """
    text = unicodedata.normalize("NFKC", body).casefold()
    words = " ".join(_NOT_WORD.sub(" ", text).split())
    if any(character.isalpha() for character in words):
        return words
    return " ".join(text.split())
