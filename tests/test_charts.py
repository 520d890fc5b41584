"""The SVG chart builders: well-formed, labelled, escaped, no inline styles."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from defusedxml.ElementTree import fromstring

from moderation.insights import charts

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & "quotes"'


def _parse(markup: str) -> ElementTree.Element:
    return fromstring(str(markup))


def _texts(root: ElementTree.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def _no_inline_style(markup: str) -> None:
    # CSP style-src 'self' forbids both when the SVG is inlined in the page.
    assert "style=" not in markup and "<style" not in markup


def test_stacked_bars_stack_series_and_label_everything():
    svg = charts.stacked_bars(
        "c1",
        "Comments per hour",
        "Two hours of comments.",
        ["10:00", "11:00"],
        [
            charts.Series("Published", [3, 1], "#009e73", "published"),
            charts.Series("Held", [2, 0], "#e69f00", "held"),
        ],
        x_label="Time (UTC)",
        y_label="Comments per hour",
    )
    root = _parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "Comments per hour"
    assert root.find(f"{SVG}desc").text == "Two hours of comments."
    texts = _texts(root)
    assert {"10:00", "11:00", "Time (UTC)", "Comments per hour", "Published"} <= set(
        texts
    )
    bars = [
        rect for rect in root.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None
    ]
    # Zero values draw nothing: 3, 1 and 2.
    assert sorted(rect.find(f"{SVG}title").text for rect in bars) == [
        "10:00: 2 Held",
        "10:00: 3 Published",
        "11:00: 1 Published",
    ]
    held = next(b for b in bars if b.find(f"{SVG}title").text == "10:00: 2 Held")
    published = next(
        b for b in bars if b.find(f"{SVG}title").text == "10:00: 3 Published"
    )
    # Held sits on top of published: its bottom edge is published's top edge.
    assert float(held.get("y")) + float(held.get("height")) == pytest.approx(
        float(published.get("y")), abs=0.2
    )
    _no_inline_style(svg)


def test_every_label_is_escaped():
    svg = charts.stacked_bars(
        HOSTILE,
        HOSTILE,
        HOSTILE,
        [HOSTILE],
        [charts.Series(HOSTILE, [1], '"><script>', HOSTILE)],
        x_label=HOSTILE,
        y_label=HOSTILE,
    )
    assert "<script>" not in svg
    root = _parse(svg)  # still well-formed XML
    assert root.find(f"{SVG}title").text == HOSTILE
    assert HOSTILE in _texts(root)
    line = charts.lines(
        "l",
        HOSTILE,
        HOSTILE,
        [0.5],
        [charts.Series(HOSTILE, [0.5])],
        x_domain=(0, 1),
        x_ticks=[(0.5, HOSTILE)],
        x_label=HOSTILE,
        y_label=HOSTILE,
        marker=charts.Marker(0.5, HOSTILE),
    )
    assert "<script>" not in line
    assert HOSTILE in _texts(_parse(line))
    histogram = charts.histogram(
        "h",
        HOSTILE,
        HOSTILE,
        [0, 0.5, 1],
        [1, 2],
        x_label=HOSTILE,
        y_label=HOSTILE,
        marker=charts.Marker(0.5, HOSTILE),
    )
    assert "<script>" not in histogram
    assert HOSTILE in _texts(_parse(histogram))


def test_lines_break_at_gaps_and_mark_points():
    svg = charts.lines(
        "c2",
        "Held rate",
        "Held share per hour.",
        [0.5, 1.5, 2.5, 3.5, 4.5],
        [charts.Series("Held", [0.1, 0.2, None, 0.4, 0.5])],
        x_domain=(0, 5),
        x_ticks=[(0.5, "a")],
        x_label="Time",
        y_label="Held",
        y_format=charts.percent,
        y_max=1.0,
    )
    root = _parse(svg)
    polylines = list(root.iter(f"{SVG}polyline"))
    assert len(polylines) == 2  # before and after the gap
    assert all(len(p.get("points").split()) == 2 for p in polylines)
    points = [c.find(f"{SVG}title").text for c in root.iter(f"{SVG}circle")]
    assert points == ["Held: 10%", "Held: 20%", "Held: 40%", "Held: 50%"]
    assert {"0%", "50%", "100%"} <= set(_texts(root))
    _no_inline_style(svg)


def test_histogram_marks_the_threshold_and_says_when_empty():
    edges = [i / 10 for i in range(11)]
    svg = charts.histogram(
        "c3",
        "Scores",
        "Score spread.",
        edges,
        [0] * 10,
        x_label="toxicity score",
        y_label="Comments",
        marker=charts.Marker(0.8, "holds at 0.80"),
    )
    root = _parse(svg)
    assert "No scores in this range" in _texts(root)
    assert "holds at 0.80" in _texts(root)
    marker = root.find(f".//{SVG}g[@class='marker']/{SVG}line")
    assert float(marker.get("x1")) == pytest.approx(
        charts.LEFT + 0.8 * (charts.WIDTH - charts.LEFT - charts.RIGHT)
    )
    _no_inline_style(svg)


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (0, [0.0, 1.0]),
        (4, [0, 1, 2, 3, 4]),
        (7, [0, 2, 4, 6, 8]),
        (130, [0, 50, 100, 150]),
        (0.9, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    ],
)
def test_ticks_are_round_and_cover_the_top(top, ticks):
    assert charts.nice_ticks(top) == pytest.approx(ticks)


def test_formats():
    assert charts.plain(1250) == "1,250"
    assert charts.plain(2.5) == "2.5"
    assert charts.percent(0.125) == "12.5%"
    assert charts.percent(0.25) == "25%"
