"""Mark the words a rule matched inside a comment's raw body, escaping the rest."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from markupsafe import Markup, escape


def highlight(body: str, spans: Iterable[Sequence[Any]]) -> Markup:
    """The body as escaped text with each [start, end) span in a <mark>."""
    ranges = sorted(
        (int(start), int(end))
        for start, end, *_ in spans
        if 0 <= int(start) < int(end) <= len(body)
    )
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    parts: list[str] = []
    position = 0
    for start, end in merged:
        parts.append(str(escape(body[position:start])))
        parts.append(f"<mark>{escape(body[start:end])}</mark>")
        position = end
    parts.append(str(escape(body[position:])))
    return Markup("".join(parts))
