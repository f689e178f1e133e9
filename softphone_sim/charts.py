"""The HTML toolkit of the reports: inline SVG charts over the intervals of a day,
headline tiles, tables, and the page's style sheet.

The replay's report (`report.py`) and the plan's (`planner/report.py`) draw with it,
so both pages look alike. What it makes is plain text to join into one page: no
scripts, no external fonts, styles or network references, so the page opens from a
file, mailed or archived, as it is. Text given as a label, title, cell or tooltip is
escaped here; a caption, a tile's `sub` line and colours are inserted as given (the
caller escapes what it interpolates into a caption or `sub`). The same input gives
the same bytes.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

# Okabe-Ito: told apart with every common colour-vision deficiency.
BLUE = "#0072B2"
"""Okabe-Ito blue: service level, the second comparison line."""
ORANGE = "#E69F00"
"""Okabe-Ito orange."""
SKY = "#56B4E9"
"""Okabe-Ito sky blue: arrivals."""
GREEN = "#009E73"
"""Okabe-Ito bluish green: answered calls, the planned roster; a good tile's border."""
VERMILLION = "#D55E00"
"""Okabe-Ito vermillion: abandoned calls, capacity and need, target lines."""
PURPLE = "#CC79A7"
"""Okabe-Ito reddish purple."""
YELLOW = "#F0E442"
"""Okabe-Ito yellow (last in `SERIES`: faint on white)."""
INK = "#1d2430"
"""The text colour, also a series (the curve's expected calls, answer rate)."""
MUTED = "#5a6677"
"""Axes, tick labels and secondary lines."""
GRID = "#e3e8ef"
"""The grid lines behind the data."""
SERIES = [BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, INK, YELLOW]
"""The colours in the order series take them (vendors, pools): the i-th series is
`SERIES[i % len(SERIES)]`."""

STAGE_FILL = ["#ffffff", "#fff1b8", "#ffd6a8", "#ffb3b3", "#f0a0d0"]
"""Background of each surge stage (0 is none); stages above the list use its last."""


# ---------------------------------------------------------------- formatting


def escape(text: object) -> str:
    """`str(text)` safe in HTML text and in a quoted attribute value: &, <, >, " and '
    escaped (`html.escape` with quote=True)."""
    return html.escape(str(text), quote=True)


def stage_fill(stage: int) -> str:
    """The background colour of surge stage `stage` from `STAGE_FILL`: a stage below 0
    as 0 (white, none), one above the list as its last."""
    return STAGE_FILL[min(max(stage, 0), len(STAGE_FILL) - 1)]


def parse_hhmm(text: str) -> int | None:
    """Minutes after midnight of "HH:MM" (or "HH:MM:SS"), 0 to 1499; None when the
    text is not such a time (hours above 24 or minutes above 59 included)."""
    parts = text.split(":")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        return None
    hours, minutes = int(parts[0]), int(parts[1])
    if hours > 24 or minutes > 59:
        return None
    return hours * 60 + minutes


# ---------------------------------------------------------------- SVG charts


@dataclass(frozen=True)
class Key:
    """One entry of a chart's legend: `label` (escaped when drawn) beside a sample of
    `colour` drawn as `kind`; `width` is the stroke's, for line and dash."""

    label: str
    colour: str
    kind: str = "bar"
    """bar (filled square), line (a stroke), band (a shaded square) or dash (dashed stroke)."""
    width: float = 2.0


def _text_width(text: str, size: float) -> float:
    """A generous estimate of a label's width in a sans-serif face."""
    return len(text) * size * 0.6


def _nice_ticks(top: float, integer: bool) -> list[float]:
    if not math.isfinite(top) or top <= 0:
        top = 1.0
    raw = top / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = 10 * magnitude
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        candidate = m * magnitude
        if integer and candidate != int(candidate):
            continue
        if candidate >= raw:
            step = candidate
            break
    if integer:
        step = max(1.0, step)
    count = math.ceil(top / step - 1e-9)
    return [i * step for i in range(count + 1)]


def _f(value: float) -> str:
    return f"{value:.1f}"


_Box = tuple[float, float, float, float]
"""(left, top, right, bottom) in pixels."""


def _overlaps(a: _Box, b: _Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class Chart:
    """One chart over the intervals of the day: x is the interval, y a quantity.

    What is drawn over the plot (bars, lines, horizontal lines) is recorded per
    interval as the vertical pixel ranges it covers, so that the labels of horizontal
    lines go where no data is (`_place_labels`), or into the legend when nowhere is.

    Made with the interval starts ("HH:MM", labelling the time axis at whole hours) and
    the largest value to show (`y_max`, rounded up to a tick; ignored when `percent`,
    whose axis is 0 to 100 % of shares 0 to 1); then drawn on, layer by layer, in the
    order the layers should stack; then `render()` once. Values outside the axis are
    clipped to it; None, NaN and infinities are not drawn."""

    WIDTH = 1000.0
    LEFT = 72.0
    RIGHT = 30.0
    PLOT_HEIGHT = 220.0
    FONT = 12.0
    MAX_X_LABELS = 13
    """Hour labels on the time axis at most (each needs about 70 px)."""

    def __init__(
        self,
        starts: Sequence[str],
        y_max: float,
        *,
        title: str,
        y_label: str,
        legend: Sequence[Key],
        percent: bool = False,
        integer: bool = True,
        step_minutes: int = 15,
    ) -> None:
        self.starts = list(starts)
        self.n = len(self.starts)
        self.title = title
        self.y_label = y_label
        self.legend = list(legend)
        self.percent = percent
        self.integer = integer and not percent
        self.step_minutes = step_minutes
        if percent:
            self.ticks = [i / 5 for i in range(6)]
        else:
            self.ticks = _nice_ticks(y_max, self.integer)
        self.y_top = self.ticks[-1]
        self.legend_rows = self._layout_legend()
        rows = len(self.legend_rows)
        # Without a legend, just room for the top tick's label.
        self.top = 12.0 + rows * 20.0 + 8.0 if rows else 14.0
        self.height = self.top + self.PLOT_HEIGHT + 46.0
        self.plot_width = self.WIDTH - self.LEFT - self.RIGHT
        self.slot = self.plot_width / max(self.n, 1)
        self.back: list[str] = []
        self.body: list[str] = []
        self.labels: list[tuple[float, str, str]] = []
        """Labels of horizontal lines: (y of the line, text, colour)."""
        self.hover: list[str] = []
        self.occupied: list[list[tuple[float, float]]] = [[] for _ in range(self.n)]
        """Per interval, the (top, bottom) pixel ranges covered by data: no label there."""
        self.right_axis: list[tuple[float, str]] = []
        """Labels of a right-hand axis: (y, text)."""

    # coordinates
    def x(self, i: float) -> float:
        return self.LEFT + i * self.slot

    def xc(self, i: int) -> float:
        return self.LEFT + (i + 0.5) * self.slot

    def y(self, value: float) -> float:
        value = min(max(value, 0.0), self.y_top)
        return self.top + self.PLOT_HEIGHT * (1 - value / self.y_top)

    @property
    def bottom(self) -> float:
        return self.top + self.PLOT_HEIGHT

    def _occupy(self, i: int, y0: float, y1: float, pad: float = 1.0) -> None:
        if 0 <= i < self.n:
            self.occupied[i].append((min(y0, y1) - pad, max(y0, y1) + pad))

    # layers
    def bands(self, stages: Sequence[int]) -> None:
        """Shade each run of intervals at a surge stage above 0."""
        i = 0
        while i < len(stages):
            stage = stages[i]
            j = i
            while j + 1 < len(stages) and stages[j + 1] == stage:
                j += 1
            if stage > 0:
                self.back.append(
                    f'<rect x="{_f(self.x(i))}" y="{_f(self.top)}" '
                    f'width="{_f(self.x(j + 1) - self.x(i))}" height="{_f(self.PLOT_HEIGHT)}" '
                    f'fill="{stage_fill(stage)}"/>'
                )
            i = j + 1

    def bars(
        self, values: Sequence[float | None], colour: str, base: Sequence[float] | None = None
    ) -> list[float]:
        """Bars from `base` (stacking); returns the new tops (None counts as 0)."""
        tops: list[float] = []
        width = max(self.slot * 0.78, 1.0)
        pad = (self.slot - width) / 2
        for i, value in enumerate(values):
            below = base[i] if base is not None and i < len(base) else 0.0
            if value is None or not math.isfinite(value) or value <= 0:
                tops.append(below)
                continue
            top = below + value
            y0, y1 = self.y(below), self.y(top)
            self._occupy(i, y1, y0)
            self.body.append(
                f'<rect x="{_f(self.x(i) + pad)}" y="{_f(y1)}" width="{_f(width)}" '
                f'height="{_f(max(y0 - y1, 0.0))}" fill="{colour}"/>'
            )
            tops.append(top)
        return tops

    def line(
        self,
        values: Sequence[float | None],
        colour: str,
        width: float = 2.0,
        dash: str = "",
        step: bool = False,
    ) -> None:
        """A line through the intervals; None leaves a gap. `step` draws each value
        flat across its interval (counts per interval), else through the centres."""
        segments: list[list[tuple[float, float]]] = []
        current: list[tuple[float, float]] = []
        previous: float | None = None
        for i, value in enumerate(values):
            if value is None or not math.isfinite(value):
                if current:
                    segments.append(current)
                current = []
                previous = None
                continue
            # The stroke covers this interval at its value and, joining the previous
            # value, the span between the two in both intervals (step and slope alike).
            y = self.y(value)
            self._occupy(i, y, y, max(width, 3.0))
            if previous is not None:
                self._occupy(i - 1, previous, y, width)
                self._occupy(i, previous, y, width)
            previous = y
            if step:
                current += [(self.x(i), self.y(value)), (self.x(i + 1), self.y(value))]
            else:
                current.append((self.xc(i), self.y(value)))
        if current:
            segments.append(current)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        for segment in segments:
            if len(segment) == 1:
                ((px, py),) = segment
                self.body.append(
                    f'<circle cx="{_f(px)}" cy="{_f(py)}" r="{_f(max(width, 1.5))}" '
                    f'fill="{colour}"/>'
                )
                continue
            points = " L".join(f"{_f(px)} {_f(py)}" for px, py in segment)
            self.body.append(
                f'<path d="M{points}" fill="none" stroke="{colour}" '
                f'stroke-width="{width:g}" stroke-linejoin="round"{dash_attr}/>'
            )

    def hline(self, value: float, colour: str, label: str, dash: str = "6 4") -> None:
        """A dashed line across the plot at `value`; `label` ("" for none) is placed by
        `render` clear of the data, or goes into the legend."""
        y = self.y(value)
        for i in range(self.n):
            self._occupy(i, y, y)
        self.body.append(
            f'<line x1="{_f(self.LEFT)}" x2="{_f(self.WIDTH - self.RIGHT)}" y1="{_f(y)}" '
            f'y2="{_f(y)}" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>'
        )
        if label:
            self.labels.append((y, label, colour))

    def shade(self, first: int, last: int, fill: str) -> None:
        """Shade the intervals `first` to `last` (included) behind the data (what they
        are is for the legend, and for the tooltips, which lie over them)."""
        self.back.append(
            f'<rect x="{_f(self.x(first))}" y="{_f(self.top)}" '
            f'width="{_f(self.x(last + 1) - self.x(first))}" height="{_f(self.PLOT_HEIGHT)}" '
            f'fill="{fill}"/>'
        )

    def percent_right(self, ticks: Sequence[float]) -> None:
        """A right-hand axis from 0 to 100 % over the whole plot height, labelled at
        `ticks` (shares); `line_right` draws on it."""
        self.right_axis = [(self.y_share(t), f"{t * 100:.0f}%") for t in ticks]

    def y_share(self, share: float) -> float:
        return self.top + self.PLOT_HEIGHT * (1 - min(max(share, 0.0), 1.0))

    def line_right(self, values: Sequence[float | None], colour: str, width: float = 2.0) -> None:
        """A line of shares (0 to 1) on the right-hand axis, through the interval centres."""
        scale = self.y_top
        self.line([None if v is None else v * scale for v in values], colour, width)

    def tooltips(self, texts: Sequence[str]) -> None:
        """A hover title per interval (the browser shows it over the column)."""
        for i, text in enumerate(texts):
            self.hover.append(
                f'<rect x="{_f(self.x(i))}" y="{_f(self.top)}" width="{_f(self.slot)}" '
                f'height="{_f(self.PLOT_HEIGHT)}" fill="transparent">'
                f"<title>{escape(text)}</title></rect>"
            )

    # frame
    def _layout_legend(self) -> list[list[tuple[float, Key]]]:
        rows: list[list[tuple[float, Key]]] = [[]]
        x = self.LEFT
        limit = self.WIDTH - self.RIGHT
        for key in self.legend:
            width = 22 + 6 + _text_width(key.label, self.FONT) + 22
            if rows[-1] and x + width > limit:
                rows.append([])
                x = self.LEFT
            rows[-1].append((x, key))
            x += width
        return [row for row in rows if row]

    def _legend_svg(self) -> list[str]:
        out: list[str] = []
        for r, row in enumerate(self.legend_rows):
            y = 12.0 + r * 20.0 + 8.0
            for x, key in row:
                if key.kind in ("line", "dash"):
                    dash = ' stroke-dasharray="6 4"' if key.kind == "dash" else ""
                    out.append(
                        f'<line x1="{_f(x)}" x2="{_f(x + 22)}" y1="{_f(y)}" y2="{_f(y)}" '
                        f'stroke="{key.colour}" stroke-width="{max(key.width, 1.5):g}"{dash}/>'
                    )
                else:
                    stroke = f' stroke="{MUTED}" stroke-width="0.5"' if key.kind == "band" else ""
                    out.append(
                        f'<rect x="{_f(x + 4)}" y="{_f(y - 7)}" width="14" height="14" rx="2" '
                        f'fill="{key.colour}"{stroke}/>'
                    )
                out.append(
                    f'<text x="{_f(x + 28)}" y="{_f(y + 4)}" fill="{INK}">'
                    f"{escape(key.label)}</text>"
                )
        return out

    def _tick_label(self, value: float) -> str:
        if self.percent:
            return f"{value * 100:.0f}%"
        if self.integer or value == int(value):
            return f"{value:,.0f}"
        return f"{value:,.1f}"

    def _x_ticks(self) -> list[tuple[float, str]]:
        """Labelled ticks at whole hours, every 1, 2, 3, 4, 6 or 12 hours so that
        no more than 13 labels share the axis; by position when times do not parse."""
        minutes = [parse_hhmm(s) for s in self.starts]
        if self.n == 0:
            return []
        span_hours = self.n * self.step_minutes / 60
        every = next(
            (h for h in (1, 2, 3, 4, 6, 12) if span_hours / h < self.MAX_X_LABELS), 24
        )
        if all(m is not None for m in minutes):
            ticks: list[tuple[float, str]] = []
            for i, m in enumerate(minutes):
                assert m is not None
                if m % 60 == 0 and (m // 60) % every == 0:
                    ticks.append((self.x(i), f"{m // 60 % 24:02d}:00"))
            last = minutes[-1]
            assert last is not None
            end = last + self.step_minutes
            if end % 60 == 0 and (end // 60) % every == 0:
                ticks.append((self.x(self.n), f"{end // 60:02d}:00"))
            if ticks:
                return ticks
        stride = max(1, math.ceil(self.n / 12))
        return [(self.x(i), self.starts[i]) for i in range(0, self.n, stride)]

    def render(self) -> str:
        """The chart as one `<svg>` element, with its title, axes, legend, what was drawn
        and the labels of its horizontal lines. Call once: a label with no free place is
        added to the legend here."""
        labels, unplaced = self._place_labels()
        # A label with no free place joins the legend, which may then need another
        # row: everything under the legend moves down by as much.
        legend_height = max(len(self.legend_rows), 1)
        if unplaced:
            # A label the legend already has as a key (the target line's) is not repeated.
            known = {key.label for key in self.legend}
            self.legend += [Key(t, c, "dash") for t, c in unplaced if t not in known]
            self.legend_rows = self._layout_legend()
        shift = (max(len(self.legend_rows), 1) - legend_height) * 20.0
        w, h = self.WIDTH, self.height + shift
        out = [
            f'<svg viewBox="0 0 {w:g} {_f(h)}" width="{w:g}" height="{_f(h)}" role="img" '
            f'font-family="system-ui, -apple-system, Segoe UI, Roboto, Noto Sans KR, '
            f'sans-serif" font-size="{self.FONT:g}">',
            f"<title>{escape(self.title)}</title>",
            f'<rect x="0" y="0" width="{w:g}" height="{_f(h)}" fill="#ffffff"/>',
        ]
        if shift:
            out.append(f'<g transform="translate(0 {_f(shift)})">')
        out += self.back
        right = self.WIDTH - self.RIGHT
        for value in self.ticks:
            y = self.y(value)
            out.append(
                f'<line x1="{_f(self.LEFT)}" x2="{_f(right)}" y1="{_f(y)}" y2="{_f(y)}" '
                f'stroke="{GRID}" stroke-width="1"/>'
            )
            out.append(
                f'<text x="{_f(self.LEFT - 8)}" y="{_f(y + 4)}" text-anchor="end" '
                f'fill="{MUTED}">{escape(self._tick_label(value))}</text>'
            )
        for y, text in self.right_axis:
            out.append(
                f'<text x="{_f(right + 6)}" y="{_f(y + 4)}" text-anchor="start" '
                f'fill="{MUTED}">{escape(text)}</text>'
            )
        x_ticks = self._x_ticks()
        for x, _ in x_ticks:
            out.append(
                f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(self.top)}" y2="{_f(self.bottom)}" '
                f'stroke="{GRID}" stroke-width="1"/>'
            )
        if self.n == 0:
            out.append(
                f'<text x="{_f(self.LEFT + self.plot_width / 2)}" '
                f'y="{_f(self.top + self.PLOT_HEIGHT / 2)}" text-anchor="middle" '
                f'fill="{MUTED}">no intervals</text>'
            )
        out += self.body
        # axes over the data
        out.append(
            f'<path d="M{_f(self.LEFT)} {_f(self.top)} L{_f(self.LEFT)} {_f(self.bottom)} '
            f'L{_f(right)} {_f(self.bottom)}" fill="none" stroke="{MUTED}" stroke-width="1"/>'
        )
        for x, label in x_ticks:
            out.append(
                f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(self.bottom)}" '
                f'y2="{_f(self.bottom + 5)}" stroke="{MUTED}" stroke-width="1"/>'
            )
            out.append(
                f'<text x="{_f(x)}" y="{_f(self.bottom + 19)}" text-anchor="middle" '
                f'fill="{MUTED}">{escape(label)}</text>'
            )
        out.append(
            f'<text x="{_f(right)}" y="{_f(self.bottom + 38)}" text-anchor="end" '
            f'fill="{MUTED}">local time (interval start)</text>'
        )
        middle = self.top + self.PLOT_HEIGHT / 2
        out.append(
            f'<text transform="translate(16 {_f(middle)}) rotate(-90)" text-anchor="middle" '
            f'fill="{MUTED}">{escape(self.y_label)}</text>'
        )
        out += labels
        out += self.hover
        if shift:
            out.append("</g>")
        out += self._legend_svg()
        out.append("</svg>")
        return "\n".join(out)

    def _label_box(self, x_end: float, baseline: float, text: str) -> _Box:
        """The box a right-anchored label covers, with a pixel to spare each side."""
        return (
            x_end - _text_width(text, self.FONT) - 1,
            baseline - self.FONT,
            x_end + 1,
            baseline + 4,
        )

    def _free(self, box: _Box, taken: Sequence[_Box]) -> bool:
        """Inside the plot, clear of the data and of the labels already placed."""
        left, top, right, bottom = box
        if left < self.LEFT + 2 or top < self.top or bottom > self.bottom:
            return False
        first = max(int((left - self.LEFT) // self.slot), 0)
        last = min(int((right - self.LEFT) // self.slot), self.n - 1)
        for i in range(first, last + 1):
            for y0, y1 in self.occupied[i]:
                if y0 < bottom and top < y1:
                    return False
        return not any(_overlaps(box, other) for other in taken)

    def _place_labels(self) -> tuple[list[str], list[tuple[str, str]]]:
        """The labels of horizontal lines, each just above or just below its line,
        as far right as it goes without touching the data or another label; those
        that fit nowhere are returned, (text, colour), for the legend."""
        out: list[str] = []
        unplaced: list[tuple[str, str]] = []
        taken: list[_Box] = []
        right = self.WIDTH - self.RIGHT - 4
        step = max(self.slot / 2, 4.0)
        for y, text, colour in sorted(self.labels):
            found: tuple[float, float] | None = None
            x_end = right
            while found is None and x_end - _text_width(text, self.FONT) >= self.LEFT + 2:
                for baseline in (y - 5, y + self.FONT + 3):  # above the line, then below
                    box = self._label_box(x_end, baseline, text)
                    if self._free(box, taken):
                        found = (x_end, baseline)
                        taken.append(box)
                        break
                x_end -= step
            if found is None:
                unplaced.append((text, colour))
                continue
            out.append(
                f'<text x="{_f(found[0])}" y="{_f(found[1])}" '
                f'text-anchor="end" fill="{colour}" font-weight="600" stroke="#ffffff" '
                f'stroke-width="3" paint-order="stroke">{escape(text)}</text>'
            )
        return out, unplaced


class SmallChart(Chart):
    """A chart half as wide and about half as tall, for one of several side by side."""

    WIDTH = 500.0
    LEFT = 64.0
    RIGHT = 40.0
    PLOT_HEIGHT = 110.0
    MAX_X_LABELS = 7


def max_of(*series: Sequence[float | None]) -> float:
    """The largest finite value in all of `series` (None, NaN and infinities skipped);
    0.0 when there is none: a chart's `y_max`."""
    found = [v for s in series for v in s if v is not None and math.isfinite(v)]
    return max(found, default=0.0)


def page_head(title: str) -> list[str]:
    """The lines of a report page up to its `<body>`: the doctype, the character set,
    the viewport, `title` (escaped here) and the style sheet."""
    return [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
    ]


def figure(chart: Chart, caption: str) -> str:
    """`chart` rendered in a `<figure>`, under its title as a heading and over
    `caption`, which is HTML inserted as given (escape what it interpolates)."""
    return (
        f"<figure><h3>{escape(chart.title)}</h3>\n{chart.render()}\n"
        f"<figcaption>{caption}</figcaption></figure>"
    )


# ---------------------------------------------------------------- HTML parts


def tile(label: str, value: str, sub: str = "", tone: str = "") -> str:
    """A headline tile: `label` over `value` (both escaped here), then `sub`, HTML
    inserted as given (escape what it interpolates; "" for none). `tone` is "good",
    "warn" or "bad" (the border's colour, in `CSS`) or "" for none. Tiles go in a
    `<div class="tiles">`."""
    tone_class = f" {tone}" if tone else ""
    sub_html = f'<div class="s">{sub}</div>' if sub else ""
    return (
        f'<div class="tile{tone_class}"><div class="l">{escape(label)}</div>'
        f'<div class="v">{escape(value)}</div>{sub_html}</div>'
    )


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    total: int = -1,
    text: Sequence[int] = (0,),
) -> str:
    """An HTML table in a horizontally scrolling wrapper, `headers` over `rows`.

    Cells are escaped here; `total` is the index of a row to set as a total; the
    columns in `text` are left-aligned (the others are figures, right-aligned)."""

    def cell(tag: str, i: int, content: str) -> str:
        cls = ' class="t"' if i in text else ""
        return f"<{tag}{cls}>{escape(content)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = []
    for r, row in enumerate(rows):
        cls = ' class="total"' if r == total else ""
        body.append(f"<tr{cls}>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>")
    return (
        '<div class="wrap"><table><thead><tr>'
        + head
        + "</tr></thead><tbody>"
        + "\n".join(body)
        + "</tbody></table></div>"
    )


CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f3f5f8; color: #1d2430;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans KR", sans-serif; }
main { max-width: 1064px; margin: 0 auto; padding: 20px 16px 32px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 0 0 4px; }
.meta { color: #5a6677; margin: 0; }
.meta b { color: #1d2430; font-weight: 600; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(176px, 1fr));
  gap: 10px; margin: 16px 0 8px; }
.tile { background: #fff; border-radius: 8px; padding: 10px 12px;
  border-left: 5px solid #c5cfdb; box-shadow: 0 1px 2px rgba(0, 0, 0, .08); }
.tile .l { color: #5a6677; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.tile .v { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.tile .s { color: #5a6677; font-size: 12px; }
.tile.good { border-left-color: #009E73; }
.tile.warn { border-left-color: #E69F00; }
.tile.bad { border-left-color: #D55E00; }
.stages { margin: 8px 0; }
.chip { display: inline-block; padding: 1px 8px; margin: 2px 2px; border-radius: 10px;
  border: 1px solid #d5c9a8; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { background: #fff; border-radius: 8px; margin: 14px 0; padding: 12px 16px 10px;
  box-shadow: 0 1px 2px rgba(0, 0, 0, .08); }
figure svg { display: block; width: 100%; height: auto; }
figcaption { color: #5a6677; font-size: 13px; margin-top: 2px; }
.wrap { overflow-x: auto; background: #fff; border-radius: 8px;
  box-shadow: 0 1px 2px rgba(0, 0, 0, .08); }
table { border-collapse: collapse; width: 100%; font-size: 13px;
  font-variant-numeric: tabular-nums; }
th, td { padding: 5px 6px; text-align: right; border-bottom: 1px solid #e3e8ef; }
td { white-space: nowrap; }
th { background: #edf1f6; font-weight: 600; vertical-align: bottom; }
th.t, td.t { text-align: left; }
td.t:last-child { white-space: normal; }
tr.total td { font-weight: 700; border-top: 2px solid #5a6677; }
.note { color: #5a6677; font-size: 13px; }
.alert { background: #fff4ef; border: 1px solid #e9b39c; border-left: 6px solid #D55E00;
  border-radius: 8px; padding: 10px 16px; margin: 14px 0 4px; }
.alert h2 { margin: 0 0 6px; color: #9a3a00; }
.alert ul { margin: 0 0 6px; padding-left: 20px; }
.alert p { margin: 0; color: #5a6677; font-size: 13px; }
.smalls { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr));
  gap: 0 14px; }
figure.small { margin: 7px 0; padding: 10px 12px 8px; }
.keys { margin: 6px 0; font-size: 13px; }
.key { display: inline-block; margin-right: 14px; white-space: nowrap; }
.key .box { display: inline-block; width: 12px; height: 12px; border-radius: 2px;
  margin-right: 6px; vertical-align: -1px; }
.key .stroke { display: inline-block; width: 20px; border-top: 2px solid; margin-right: 6px;
  vertical-align: 4px; }
footer { color: #5a6677; font-size: 12px; margin-top: 28px; border-top: 1px solid #d5dce5;
  padding-top: 8px; }
@media print { body { background: #fff; } figure, .wrap, .tile { box-shadow: none; } }
"""
"""The style sheet of a report page, for a `<style>` element in its head: the classes
the tiles, tables and figures here use, and the page's own (meta, stages, chip, note,
alert, smalls, keys, footer)."""


def align(
    headers: Sequence[str], rows: Sequence[Sequence[str]], text: Sequence[int] = (0,)
) -> list[str]:
    """A table for the terminal: columns as wide as their widest cell, those in `text`
    left-aligned, figures right-aligned."""
    widths = [max(len(r[c]) for r in [headers, *rows]) for c in range(len(headers))]
    return [
        "  ".join(
            cell.ljust(w) if c in text else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in [headers, *rows]
    ]
