"""Small SVG charts drawn on the server: readable without JavaScript, safe under CSP.

The SVG is inlined in moderator pages whose policy is `style-src 'self'`, so no
`style=` attribute and no <style> element: colours are presentation attributes
(fill=, stroke=), which a class rule in insights.css may still override. Every
piece of text passes through `escape`: labels carry site names and score labels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 720
HEIGHT = 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 40, 56

# Colour-blind-safe (Okabe-Ito) and dark enough to read against white.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9")

Format = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    """One named run of values; None is a gap (nothing to show for that slot)."""

    name: str
    values: Sequence[float | None]
    colour: str = PALETTE[0]
    key: str = ""  # a CSS class suffix: series-<key>


@dataclass(frozen=True)
class Marker:
    """A vertical line at x, such as a site's threshold."""

    x: float
    label: str


def plain(value: float) -> str:
    """A count or measure as a person writes it: 1,250 or 2.5."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def percent(value: float) -> str:
    """A share as a percentage, with a decimal only where one is needed."""
    points = value * 100
    if abs(points - round(points)) < 1e-6:
        return f"{round(points)}%"
    return f"{points:.1f}%"


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least `top`: steps of 1, 2 or 5 times 10^k."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < top - 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


class _Frame:
    """Maps data to the plot area and draws the axes, titles and legend."""

    def __init__(
        self,
        chart_id: str,
        x_domain: tuple[float, float],
        y_ticks: Sequence[float],
        y_format: Format,
    ) -> None:
        self.chart_id = chart_id
        self.x0, self.x1 = x_domain
        self.y_ticks = list(y_ticks)
        self.y_top = self.y_ticks[-1] or 1.0
        self.y_format = y_format
        self.parts: list[str] = []

    def x(self, value: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return LEFT + (value - self.x0) / span * (WIDTH - LEFT - RIGHT)

    def y(self, value: float) -> float:
        return HEIGHT - BOTTOM - value / self.y_top * (HEIGHT - TOP - BOTTOM)

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def axes(
        self, x_ticks: Sequence[tuple[float, str]], x_label: str, y_label: str
    ) -> None:
        bottom, top = HEIGHT - BOTTOM, TOP
        self.add('<g class="grid" stroke="#d0d0d0" stroke-width="1">')
        for tick in self.y_ticks:
            y = self.y(tick)
            self.add(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            )
        self.add("</g>")
        self.add('<g class="axis" fill="#333" font-size="11">')
        for tick in self.y_ticks:
            self.add(
                f'<text x="{LEFT - 6}" y="{self.y(tick) + 4:.1f}" text-anchor="end">'
                f"{escape(self.y_format(tick))}</text>"
            )
        for value, label in x_ticks:
            x = self.x(value)
            self.add(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" '
                f'stroke="#333"/><text x="{x:.1f}" y="{bottom + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
        self.add(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{bottom}" y2="{bottom}" '
            f'stroke="#333"/><line x1="{LEFT}" x2="{LEFT}" y1="{top}" y2="{bottom}" '
            'stroke="#333"/>'
        )
        middle = (LEFT + WIDTH - RIGHT) / 2
        self.add(
            f'<text class="axis-label" x="{middle:.1f}" y="{HEIGHT - 12}" '
            f'text-anchor="middle" font-size="12">{escape(x_label)}</text>'
        )
        centre = (TOP + HEIGHT - BOTTOM) / 2
        self.add(
            f'<text class="axis-label" x="14" y="{centre:.1f}" text-anchor="middle" '
            f'font-size="12" transform="rotate(-90 14 {centre:.1f})">'
            f"{escape(y_label)}</text>"
        )
        self.add("</g>")

    def legend(self, entries: Sequence[tuple[str, str, bool]]) -> None:
        """Swatches above the plot: (name, colour, drawn as a line)."""
        x = LEFT
        self.add('<g class="legend" font-size="12" fill="#333">')
        for name, raw_colour, line in entries:
            colour = escape(raw_colour)
            if line:
                self.add(
                    f'<line x1="{x}" x2="{x + 14}" y1="14" y2="14" stroke="{colour}" '
                    'stroke-width="3"/>'
                )
            else:
                self.add(
                    f'<rect x="{x}" y="8" width="12" height="12" fill="{colour}"/>'
                )
            self.add(f'<text x="{x + 18}" y="18">{escape(name)}</text>')
            x += 30 + 7 * len(name)
        self.add("</g>")

    def marker(self, marker: Marker) -> None:
        x = self.x(marker.x)
        self.add(
            f'<g class="marker"><line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP - 6}" '
            f'y2="{HEIGHT - BOTTOM}" stroke="#b3261e" stroke-width="2" '
            f'stroke-dasharray="6 3"/><text x="{x + 4:.1f}" y="{TOP + 4}" '
            f'font-size="11" fill="#b3261e">{escape(marker.label)}</text></g>'
        )

    def empty(self, message: str) -> None:
        self.add(
            f'<text class="no-data" x="{(LEFT + WIDTH - RIGHT) / 2:.1f}" '
            f'y="{(TOP + HEIGHT - BOTTOM) / 2:.1f}" text-anchor="middle" '
            f'font-size="14" fill="#666">{escape(message)}</text>'
        )

    def svg(self, title: str, description: str) -> Markup:
        ident = escape(self.chart_id)
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{ident}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-labelledby="{ident}-title {ident}-desc">'
            f'<title id="{ident}-title">{escape(title)}</title>'
            f'<desc id="{ident}-desc">{escape(description)}</desc>'
        )
        return Markup(head + "".join(self.parts) + "</svg>")


def _thin(labels: Sequence[str], most: int = 12) -> list[tuple[float, str]]:
    """Every k-th label, centred on its slot, so that the axis stays readable."""
    step = max(1, math.ceil(len(labels) / most))
    return [(i + 0.5, label) for i, label in enumerate(labels) if i % step == 0]


def stacked_bars(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
) -> Markup:
    """One bar per label, each series stacked on the one before."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    frame = _Frame(
        chart_id, (0, max(len(labels), 1)), nice_ticks(max(totals, default=0)), plain
    )
    frame.axes(_thin(labels), x_label, y_label)
    width = frame.x(1) - frame.x(0)
    base = [0.0] * len(labels)
    for s in series:
        frame.add(
            f'<g class="series series-{escape(s.key)}" fill="{escape(s.colour)}">'
        )
        for i, value in enumerate(s.values):
            if not value:
                continue
            top = base[i] + value
            y = frame.y(top)
            height = frame.y(base[i]) - y
            frame.add(
                f'<rect x="{frame.x(i) + width * 0.1:.1f}" y="{y:.1f}" '
                f'width="{width * 0.8:.1f}" height="{height:.1f}">'
                f"<title>{escape(labels[i])}: {escape(plain(value))} "
                f"{escape(s.name)}</title></rect>"
            )
            base[i] = top
        frame.add("</g>")
    if not any(totals):
        frame.empty("No comments in this range")
    frame.legend([(s.name, s.colour, False) for s in series])
    return frame.svg(title, description)


def histogram(
    chart_id: str,
    title: str,
    description: str,
    edges: Sequence[float],
    counts: Sequence[int],
    *,
    x_label: str,
    y_label: str,
    marker: Marker | None = None,
    colour: str = PALETTE[0],
) -> Markup:
    """Counts in bins [edges[i], edges[i+1]), with an optional vertical marker."""
    frame = _Frame(
        chart_id, (edges[0], edges[-1]), nice_ticks(max(counts, default=0)), plain
    )
    ticks = [(edge, f"{edge:.1f}") for i, edge in enumerate(edges) if i % 2 == 0]
    frame.axes(ticks, x_label, y_label)
    frame.add(f'<g class="series series-bins" fill="{escape(colour)}">')
    for i, count in enumerate(counts):
        if not count:
            continue
        left, right = frame.x(edges[i]), frame.x(edges[i + 1])
        y = frame.y(count)
        frame.add(
            f'<rect x="{left + 1:.1f}" y="{y:.1f}" width="{right - left - 2:.1f}" '
            f'height="{frame.y(0) - y:.1f}"><title>{edges[i]:.2f}–{edges[i + 1]:.2f}: '
            f"{escape(plain(count))}</title></rect>"
        )
    frame.add("</g>")
    if not any(counts):
        frame.empty("No scores in this range")
    if marker is not None:
        frame.marker(marker)
    return frame.svg(title, description)


def lines(
    chart_id: str,
    title: str,
    description: str,
    xs: Sequence[float],
    series: Sequence[Series],
    *,
    x_domain: tuple[float, float],
    x_ticks: Sequence[tuple[float, str]],
    x_label: str,
    y_label: str,
    y_format: Format = plain,
    y_max: float | None = None,
    marker: Marker | None = None,
) -> Markup:
    """Lines through (xs[i], values[i]); a None value breaks the line there."""
    values = [v for s in series for v in s.values if v is not None]
    top = y_max if y_max is not None else max(values, default=0)
    ticks = [y_max * i / 4 for i in range(5)] if y_max is not None else nice_ticks(top)
    frame = _Frame(chart_id, x_domain, ticks, y_format)
    frame.axes(x_ticks, x_label, y_label)
    for s in series:
        colour = escape(s.colour)
        frame.add(f'<g class="series series-{escape(s.key)}">')
        runs: list[list[tuple[float, float]]] = [[]]
        for x, value in zip(xs, s.values, strict=True):
            if value is None:
                runs.append([])
            else:
                runs[-1].append((frame.x(x), frame.y(value)))
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
                frame.add(
                    f'<polyline points="{points}" fill="none" stroke="{colour}" '
                    'stroke-width="2"/>'
                )
        for x, value in zip(xs, s.values, strict=True):
            if value is not None:
                frame.add(
                    f'<circle cx="{frame.x(x):.1f}" cy="{frame.y(value):.1f}" r="3" '
                    f'fill="{colour}"><title>{escape(s.name)}: '
                    f"{escape(y_format(value))}</title></circle>"
                )
        frame.add("</g>")
    if not values:
        frame.empty("Nothing to show in this range")
    if marker is not None:
        frame.marker(marker)
    frame.legend([(s.name, s.colour, True) for s in series])
    return frame.svg(title, description)


def hourly_ticks(labels: Sequence[str], most: int = 12) -> list[tuple[float, str]]:
    """Axis ticks for slots 0..n-1 drawn at their centres, at most `most` of them."""
    return _thin(labels, most)
