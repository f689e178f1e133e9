"""The report of a replay: one self-contained HTML page, and the terminal summary.

`render_html(result)` draws a whole surge day for a supervisor or a planner:
a note at the top when a pool sat idle while callers abandoned
(`Result.idle_while_abandoning`), headline tiles, seven inline SVG charts per
interval (arrivals against capacity with the surge stages shaded, service level
and answer rate, callers on the line, callbacks waiting, abandonment, vendor
use against the contract caps, occupancy per pool with the idle spans shaded),
the pooled limit when the result has it, one small chart per queue (its calls by
outcome, answer rate and service level per interval), and the per-queue,
per-pool, per-vendor and outcome tables. Labels of horizontal lines are placed
clear of the data. The page has no scripts, no external fonts or styles and no
network references: it opens from a file, mailed or archived, as it is.

`summary_table(result)` is the per-queue and per-pool tables as aligned plain
text for the terminal, with a TOTAL row each; `idle_line(result)` the one line
naming idle pools while callers abandoned, if any.

The figures are defined once in `engine/metrics.py`; this module only formats.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from acd.softphone_sim.result import (
    IDLE_ABANDONED_AT_LEAST,
    IDLE_ABANDONED_SHARE_AT_LEAST,
    IDLE_OCCUPANCY_BELOW,
    Bound,
    Figures,
    IdleSpan,
    PoolResult,
    Result,
)

RATE_MIN_OFFERED = 5
"""A queue's interval rates are drawn where at least this many calls were offered."""
SERVICE_TARGET = 0.8
"""The target line of the service-level chart (the trade's 80 %)."""

# Okabe-Ito: told apart with every common colour-vision deficiency.
BLUE = "#0072B2"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
YELLOW = "#F0E442"
INK = "#1d2430"
MUTED = "#5a6677"
GRID = "#e3e8ef"
SERIES = [BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, INK, YELLOW]
OTHER = "#b4bfcc"
"""Calls neither answered nor abandoned (short abandons, blocked, callbacks not reached)."""
IDLE_FILL = "#f7cdbd"
"""Behind the intervals in which a pool sat idle while callers abandoned."""
STAGE_FILL = ["#ffffff", "#fff1b8", "#ffd6a8", "#ffb3b3", "#f0a0d0"]
"""Background of each surge stage (0 is none); stages above the list use its last."""

OUTCOME_NOTES = {
    "answered": "an agent took it (callbacks included)",
    "vendor_answered": "overflowed and answered by a vendor",
    "abandoned": "hung up in a queue after the short-abandon threshold",
    "short_abandoned": "hung up in a queue within the threshold (not offered)",
    "blocked": "the queue was full",
    "callback_failed": "the callback was never answered",
    "ivr_abandoned": "hung up before reaching a queue",
    "self_served": "ended in the IVR by design (link sent, closed-hours message)",
    "ivr_failed": "no valid input after the retries",
}


# ---------------------------------------------------------------- formatting


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _int(n: int) -> str:
    return f"{n:,}"


def _pct(value: float | None, none: str = "–") -> str:
    return none if value is None or not math.isfinite(value) else f"{value * 100:.1f}%"


def _sec(value: float | None, none: str = "–", unit: str = " s") -> str:
    return none if value is None or not math.isfinite(value) else f"{value:,.0f}{unit}"


def _minutes(value: float | None) -> str:
    """ "4 min 12 s" for waits long enough that seconds are hard to read."""
    if value is None or not math.isfinite(value) or value < 60:
        return ""
    whole = round(value)
    return f"{whole // 60} min {whole % 60:02d} s"


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _stage_fill(stage: int) -> str:
    return STAGE_FILL[min(max(stage, 0), len(STAGE_FILL) - 1)]


def _parse_hhmm(text: str) -> int | None:
    """Minutes after midnight of "HH:MM" (or "HH:MM:SS"), or None."""
    parts = text.split(":")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        return None
    hours, minutes = int(parts[0]), int(parts[1])
    if hours > 24 or minutes > 59:
        return None
    return hours * 60 + minutes


def interval_minutes(result: Result) -> int:
    """The interval length, from the first two interval starts (15 if unknown)."""
    if len(result.intervals) >= 2:
        a = _parse_hhmm(result.intervals[0].start)
        b = _parse_hhmm(result.intervals[1].start)
        if a is not None and b is not None and (b - a) % 1440 > 0:
            return (b - a) % 1440
    return 15


# ---------------------------------------------------------------- SVG charts


@dataclass(frozen=True)
class _Key:
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


Box = tuple[float, float, float, float]
"""(left, top, right, bottom) in pixels."""


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class _Chart:
    """One chart over the intervals of the day: x is the interval, y a quantity.

    What is drawn over the plot (bars, lines, horizontal lines) is recorded per
    interval as the vertical pixel ranges it covers, so that the labels of horizontal
    lines go where no data is (`_place_labels`), or into the legend when nowhere is."""

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
        legend: Sequence[_Key],
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
                    f'fill="{_stage_fill(stage)}"/>'
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
                f"<title>{_e(text)}</title></rect>"
            )

    # frame
    def _layout_legend(self) -> list[list[tuple[float, _Key]]]:
        rows: list[list[tuple[float, _Key]]] = [[]]
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
                    f'<text x="{_f(x + 28)}" y="{_f(y + 4)}" fill="{INK}">{_e(key.label)}</text>'
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
        minutes = [_parse_hhmm(s) for s in self.starts]
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
        labels, unplaced = self._place_labels()
        # A label with no free place joins the legend, which may then need another
        # row: everything under the legend moves down by as much.
        legend_height = max(len(self.legend_rows), 1)
        if unplaced:
            # A label the legend already has as a key (the target line's) is not repeated.
            known = {key.label for key in self.legend}
            self.legend += [_Key(t, c, "dash") for t, c in unplaced if t not in known]
            self.legend_rows = self._layout_legend()
        shift = (max(len(self.legend_rows), 1) - legend_height) * 20.0
        w, h = self.WIDTH, self.height + shift
        out = [
            f'<svg viewBox="0 0 {w:g} {_f(h)}" width="{w:g}" height="{_f(h)}" role="img" '
            f'font-family="system-ui, -apple-system, Segoe UI, Roboto, Noto Sans KR, '
            f'sans-serif" font-size="{self.FONT:g}">',
            f"<title>{_e(self.title)}</title>",
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
                f'fill="{MUTED}">{_e(self._tick_label(value))}</text>'
            )
        for y, text in self.right_axis:
            out.append(
                f'<text x="{_f(right + 6)}" y="{_f(y + 4)}" text-anchor="start" '
                f'fill="{MUTED}">{_e(text)}</text>'
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
                f'fill="{MUTED}">{_e(label)}</text>'
            )
        out.append(
            f'<text x="{_f(right)}" y="{_f(self.bottom + 38)}" text-anchor="end" '
            f'fill="{MUTED}">local time (interval start)</text>'
        )
        middle = self.top + self.PLOT_HEIGHT / 2
        out.append(
            f'<text transform="translate(16 {_f(middle)}) rotate(-90)" text-anchor="middle" '
            f'fill="{MUTED}">{_e(self.y_label)}</text>'
        )
        out += labels
        out += self.hover
        if shift:
            out.append("</g>")
        out += self._legend_svg()
        out.append("</svg>")
        return "\n".join(out)

    def _label_box(self, x_end: float, baseline: float, text: str) -> Box:
        """The box a right-anchored label covers, with a pixel to spare each side."""
        return (
            x_end - _text_width(text, self.FONT) - 1,
            baseline - self.FONT,
            x_end + 1,
            baseline + 4,
        )

    def _free(self, box: Box, taken: Sequence[Box]) -> bool:
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
        taken: list[Box] = []
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
                f'stroke-width="3" paint-order="stroke">{_e(text)}</text>'
            )
        return out, unplaced


class _SmallChart(_Chart):
    """A chart half as wide and about half as tall, for one of several side by side."""

    WIDTH = 500.0
    LEFT = 64.0
    RIGHT = 40.0
    PLOT_HEIGHT = 110.0
    MAX_X_LABELS = 7


def _peak(values: Sequence[float | None]) -> tuple[int, float] | None:
    best: tuple[int, float] | None = None
    for i, value in enumerate(values):
        if value is not None and math.isfinite(value) and (best is None or value > best[1]):
            best = (i, value)
    return best


def _max(*series: Sequence[float | None]) -> float:
    found = [v for s in series for v in s if v is not None and math.isfinite(v)]
    return max(found, default=0.0)


def _figure(chart: _Chart, caption: str) -> str:
    return (
        f"<figure><h3>{_e(chart.title)}</h3>\n{chart.render()}\n"
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _charts(result: Result) -> list[str]:
    ivs = result.intervals
    starts = [iv.start for iv in ivs]
    step = interval_minutes(result)
    stages = [iv.stage for iv in ivs]
    per = f"per {step} min"
    made: list[str] = []

    def at(i: int) -> str:
        return starts[i] if 0 <= i < len(starts) else "?"

    # 1. arrivals against capacity, surge stages shaded
    arrivals: list[float | None] = [float(iv.arrivals) for iv in ivs]
    capacity: list[float | None] = [iv.capacity_calls for iv in ivs]
    expected: list[float | None] = [iv.expected for iv in ivs]
    keys = [
        _Key("arrivals", SKY),
        _Key("answering capacity", VERMILLION, "line", 2.5),
        _Key("expected (curve)", INK, "line", 1.2),
    ]
    keys += [_Key(f"surge stage {s}", _stage_fill(s), "band") for s in sorted(set(stages)) if s > 0]
    chart = _Chart(
        starts,
        _max(arrivals, capacity, expected),
        title="Arrivals against answering capacity",
        y_label=f"calls {per}",
        legend=keys,
        step_minutes=step,
    )
    chart.bands(stages)
    chart.bars(arrivals, SKY)
    chart.line(expected, INK, 1.2)
    chart.line(capacity, VERMILLION, 2.5)
    chart.tooltips(
        [
            f"{iv.start}: {iv.arrivals:,} arrivals, expected {iv.expected:,.0f}, capacity "
            f"{iv.capacity_calls:,.0f} ({iv.agents_staffed:,} agents), stage {iv.stage}"
            for iv in ivs
        ]
    )
    over = sum(1 for iv in ivs if iv.arrivals > iv.capacity_calls)
    peak = _peak(arrivals)
    caption = (
        "Calls reaching the IVR in each interval (first calls and redials) against what the "
        "staffed agents could answer at the day's AHT; the thin line is what the curve asked "
        "for. Shaded bands are the surge stages."
    )
    if peak is not None:
        caption += (
            f" Peak {_e(_int(int(peak[1])))} arrivals at {_e(at(peak[0]))}; arrivals exceeded "
            f"capacity in {over} of {len(ivs)} intervals."
        )
    made.append(_figure(chart, caption))

    # 2. service level and answer rate
    sl: list[float | None] = [iv.figures.service_level for iv in ivs]
    ar: list[float | None] = [iv.figures.answer_rate for iv in ivs]
    chart = _Chart(
        starts,
        1.0,
        title="Service level and answer rate",
        y_label="% of calls",
        legend=[
            _Key("service level", BLUE, "line", 2.5),
            _Key("answer rate", GREEN, "line", 2.5),
            _Key(f"target {SERVICE_TARGET * 100:.0f}%", VERMILLION, "dash"),
        ],
        percent=True,
        step_minutes=step,
    )
    chart.hline(SERVICE_TARGET, VERMILLION, f"target {SERVICE_TARGET * 100:.0f}%")
    chart.line(ar, GREEN, 2.5)
    chart.line(sl, BLUE, 2.5)
    chart.tooltips(
        [
            f"{iv.start}: service level {_pct(iv.figures.service_level)}, answer rate "
            f"{_pct(iv.figures.answer_rate)}, offered {iv.figures.offered:,}"
            for iv in ivs
        ]
    )
    below = sum(1 for v in sl if v is not None and v < SERVICE_TARGET)
    gaps = sum(1 for v in sl if v is None)
    caption = (
        "Per interval of joining: service level = answered within the threshold / (answered "
        "+ abandoned after it); answer rate = answered (agents, vendors, callbacks) / offered. "
        f"Service level below target in {below} of {len(ivs)} intervals."
    )
    if gaps:
        caption += f" Gaps: {gaps} intervals with no call to measure."
    made.append(_figure(chart, caption))

    # 3. longest queue: callers on the line. Callbacks waiting (their line down) get
    # their own chart: counted together they made a backlog of callbacks look like
    # callers on hold, thousands at 09:00 and hundreds at midnight.
    on_line: list[float | None] = [float(iv.longest_queue_on_line) for iv in ivs]
    callbacks: list[float | None] = [float(iv.most_callbacks_waiting) for iv in ivs]
    def counts(values: list[float | None], title: str, y_label: str, key: _Key,
               tips: list[str]) -> _Chart:
        """A bar per interval of `values`, the stages shaded behind."""
        chart = _Chart(starts, _max(values), title=title, y_label=y_label, legend=[key],
                       step_minutes=step)
        chart.bands(stages)
        chart.bars(values, key.colour)
        chart.tooltips(tips)
        return chart

    chart = counts(
        on_line, "Longest queue: callers on the line", "callers on hold",
        _Key("most callers on the line at once (callbacks not counted)", PURPLE),
        [
            f"{iv.start}: up to {iv.longest_queue_on_line:,} callers on the line (and up to "
            f"{iv.most_callbacks_waiting:,} callbacks waiting)"
            for iv in ivs
        ],
    )
    caption = (
        "Most callers on the line at once in each interval: on hold, all queues, sampled "
        "each minute. Callbacks waiting for their turn are not counted here (the caller "
        "has hung up and waits at home): they are the next chart."
    )
    peak = _peak(on_line)
    if peak is not None:
        caption += f" Peak {_e(_int(int(peak[1])))} at {_e(at(peak[0]))}."
    made.append(_figure(chart, caption))

    # 4. callbacks waiting for their turn
    chart = counts(
        callbacks, "Callbacks waiting for their turn", "callbacks",
        _Key("most callbacks waiting at once", BLUE),
        [
            f"{iv.start}: up to {iv.most_callbacks_waiting:,} callbacks waiting; "
            f"{iv.longest_queue:,} calls in line at most with the callers on the line"
            for iv in ivs
        ],
    )
    caption = (
        "Callbacks keep the caller's place in line while the caller waits at home: most "
        "of them waiting at once in each interval (sampled each minute with the callers "
        "on the line, all queues)."
    )
    cb_peak = _peak(callbacks)
    if cb_peak is not None and cb_peak[1] > 0:
        caption += (
            f" Peak {_e(_int(int(cb_peak[1])))} at {_e(at(cb_peak[0]))}; "
            f"{_e(_int(ivs[-1].most_callbacks_waiting))} still waiting in the last interval."
        )
    together = _peak([float(iv.longest_queue) for iv in ivs])
    if together is not None and cb_peak is not None and cb_peak[1] > 0:
        caption += (
            " Counted together with the callers on the line (the JSON's longest_queue) "
            f"the line would peak at {_e(_int(int(together[1])))} at {_e(at(together[0]))}."
        )
    made.append(_figure(chart, caption))

    # 5. abandonment
    abandoned: list[float | None] = [float(iv.figures.abandoned) for iv in ivs]
    short: list[float | None] = [float(iv.figures.short_abandoned) for iv in ivs]
    chart = _Chart(
        starts,
        _max([(a or 0) + (s or 0) for a, s in zip(abandoned, short, strict=True)]),
        title="Abandonment",
        y_label=f"calls {per}",
        legend=[_Key("abandoned", VERMILLION), _Key("short abandoned (not offered)", ORANGE)],
        step_minutes=step,
    )
    chart.bands(stages)
    tops = chart.bars(abandoned, VERMILLION)
    chart.bars(short, ORANGE, tops)
    chart.tooltips(
        [
            f"{iv.start}: {iv.figures.abandoned:,} abandoned, {iv.figures.short_abandoned:,} "
            f"short abandoned, of {iv.figures.calls:,} calls"
            for iv in ivs
        ]
    )
    made.append(
        _figure(
            chart,
            "Callers who hung up in a queue, stacked: abandoned after the short-abandon "
            "threshold (counted in offered) and short abandons (not offered). "
            f"Day: {_int(result.total.abandoned)} abandoned, "
            f"{_int(result.total.short_abandoned)} short.",
        )
    )

    # 6. vendor use against the caps
    names = list(result.vendors)
    colours = {name: SERIES[i % len(SERIES)] for i, name in enumerate(names)}
    for iv in ivs:  # vendors seen in intervals but missing from the totals
        for name in iv.vendor_calls:
            if name not in colours:
                colours[name] = SERIES[len(colours) % len(SERIES)]
                names.append(name)
    scale = step / 60
    caps: dict[str, float] = {}
    for name in names:
        vendor = result.vendors.get(name)
        if vendor is not None and vendor.max_per_hour is not None:
            caps[name] = vendor.max_per_hour * scale
    series = {name: [float(iv.vendor_calls.get(name, 0)) for iv in ivs] for name in names}
    keys = []
    for name in names:
        keys.append(_Key(f"{name} calls", colours[name], "line", 2.5))
        if name in caps:
            keys.append(_Key(f"{name} cap", colours[name], "dash"))
    chart = _Chart(
        starts,
        _max(*series.values(), list(caps.values())) * 1.08,
        title="Vendor use against the contract caps",
        y_label=f"calls sent {per}",
        legend=keys,
        step_minutes=step,
    )
    chart.bands(stages)
    for name in names:
        if name in caps:
            hourly = result.vendors[name].max_per_hour
            chart.hline(
                caps[name], colours[name], f"{name}: {hourly:,}/h = {caps[name]:,.4g} {per}"
            )
    for name in names:
        chart.line(list(series[name]), colours[name], 2.5, step=True)
    chart.tooltips(
        [
            f"{iv.start}: "
            + (", ".join(f"{n} {iv.vendor_calls.get(n, 0):,}" for n in names) or "no vendor")
            for iv in ivs
        ]
    )
    caption = (
        "Calls sent to each vendor in each interval. The dashed lines are the contracts' "
        f"per-hour caps scaled to the {step}-minute interval (cap × {step}/60), so a line "
        "above its dashes means the hourly pace of the contract was exceeded in that "
        "interval."
    )
    daily = [
        f"{_e(n)} {_int(v.dialled)} of {_int(v.max_per_day)} a day"
        for n, v in result.vendors.items()
        if v.max_per_day is not None
    ]
    if daily:
        caption += " Daily caps: " + "; ".join(daily) + "."
    if not names:
        caption += " No vendor in this configuration."
    made.append(_figure(chart, caption))

    # 7. occupancy per pool, the spans where a pool sat idle while callers abandoned shaded
    pools = list(result.pools)
    for iv in ivs:
        for name in iv.occupancy:
            if name not in pools:
                pools.append(name)
    spans = result.idle_while_abandoning
    keys = [_Key(name, SERIES[i % len(SERIES)], "line", 2.5) for i, name in enumerate(pools)]
    idle_at: dict[int, list[str]] = {}  # interval -> the pools idle in it
    index = {start: i for i, start in enumerate(starts)}
    for span in spans:
        first = index.get(span.start)
        if first is None:
            continue
        for i in range(first, min(first + span.intervals, len(ivs))):
            idle_at.setdefault(i, []).append(span.pool)
    if spans:
        idle_pools = ", ".join(dict.fromkeys(span.pool for span in spans))
        keys.append(_Key(f"{idle_pools} idle while callers abandoned", IDLE_FILL, "band"))
    chart = _Chart(
        starts,
        1.0,
        title="Agent occupancy per pool",
        y_label="occupancy",
        legend=keys,
        percent=True,
        step_minutes=step,
    )
    for first, last in _runs(sorted(idle_at)):
        chart.shade(first, last, IDLE_FILL)
    if spans:
        chart.hline(
            IDLE_OCCUPANCY_BELOW, MUTED, f"idle: under {IDLE_OCCUPANCY_BELOW * 100:.0f}%", "2 3"
        )
    for i, name in enumerate(pools):
        chart.line([iv.occupancy.get(name) for iv in ivs], SERIES[i % len(SERIES)], 2.5)
    chart.tooltips(
        [
            f"{iv.start}: "
            + (", ".join(f"{n} {_pct(iv.occupancy.get(n))}" for n in pools) or "no pool")
            + f"; {iv.agents_staffed:,} agents staffed"
            + (
                f"; {', '.join(idle_at[i])} idle while {iv.figures.abandoned:,} callers abandoned"
                if i in idle_at
                else ""
            )
            for i, iv in enumerate(ivs)
        ]
    )
    caption = (
        "Share of the logged-in agents' time spent handling calls (ringing, talking, "
        "after-call work) rather than waiting for one. Gaps: no agent of the pool "
        "logged in."
    )
    if spans:
        caption += (
            f" Shaded: a pool under {IDLE_OCCUPANCY_BELOW * 100:.0f}% occupancy while callers "
            f"abandoned ({_e(_spans_text(spans))}); see the note at the top."
        )
    made.append(_figure(chart, caption))
    if result.bound is not None:
        made.append(_bound_chart(result, result.bound, starts, step))
    return made


def _runs(indexes: Sequence[int]) -> list[tuple[int, int]]:
    """Ascending indexes as runs of consecutive ones: [(first, last), ...]."""
    runs: list[tuple[int, int]] = []
    for i in indexes:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _spans_text(spans: Sequence[IdleSpan]) -> str:
    return "; ".join(f"{s.pool} {s.start}-{s.end}" for s in spans)


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest:02d} min" if rest else "")


def _occupancy_range(span: IdleSpan, dash: str = "–") -> str:
    low, high = _pct(span.occupancy_min), _pct(span.occupancy_max)
    return low if low == high else f"{low}{dash}{high}"


def _idle_callout(result: Result) -> str:
    """The note at the top of the page when a pool sat idle while callers abandoned;
    "" on a day without."""
    spans = result.idle_while_abandoning
    if not spans:
        return ""
    step = interval_minutes(result)
    items = []
    for span in spans:
        queues = list(span.abandoned_by_queue.items())
        named = ", ".join(f"{q} {n:,}" for q, n in queues[:4])
        if len(queues) > 4:
            named += f" and {sum(n for _, n in queues[4:]):,} in {len(queues) - 4} more"
        items.append(
            f"<li><strong>{_e(span.pool)}</strong>: {span.agents:,} agents on duty were busy "
            f"only {_e(_occupancy_range(span))} of their time from <strong>{_e(span.start)} "
            f"to {_e(span.end)}</strong> ({_e(_duration(span.intervals * step))}), while "
            f"<strong>{span.abandoned:,} callers abandoned</strong> in those intervals "
            f"({_e(_pct(_share(span.abandoned, span.offered)))} of {span.offered:,} offered"
            + (f": {_e(named)}" if named else "")
            + ").</li>"
        )
    return (
        '<section class="alert" role="note">'
        "<h2>Agents sat idle while callers abandoned</h2>"
        f"<ul>{''.join(items)}</ul>"
        f"<p>An interval counts when a pool with agents on duty is under "
        f"{IDLE_OCCUPANCY_BELOW * 100:.0f}% occupancy while at least "
        f"{IDLE_ABANDONED_AT_LEAST} callers, and at least "
        f"{IDLE_ABANDONED_SHARE_AT_LEAST * 100:.0f}% of the calls offered, abandoned in "
        "it. Those agents were free but not matched with the callers: look at which of "
        "these queues the pool serves, and from when (skills, relaxation steps, "
        "overflow rules). Shaded on the occupancy chart.</p>"
        "</section>"
    )


def idle_line(result: Result) -> str | None:
    """One line for the terminal naming where a pool sat idle while callers abandoned
    (`Result.idle_while_abandoning`); None on a day without."""
    spans = result.idle_while_abandoning
    if not spans:
        return None
    parts = [
        f"{s.pool} {s.start}-{s.end} ({s.agents} agents busy {_occupancy_range(s, '-')}"
        f", {s.abandoned:,} callers abandoned)"
        for s in spans
    ]
    return (
        f"Idle while callers abandoned (pool under {IDLE_OCCUPANCY_BELOW * 100:.0f}% "
        f"occupancy): {'; '.join(parts)}."
    )


def _queue_intervals(result: Result) -> str:
    """Per queue, one small chart of the calls that joined it in each interval by
    outcome, with the interval's answer rate and service level."""
    ivs = result.intervals
    starts = [iv.start for iv in ivs]
    step = interval_minutes(result)
    names = list(result.queues)
    for iv in ivs:
        names += [name for name in iv.queues if name not in names]
    made: list[str] = []
    quiet: list[str] = []
    for name in names:
        per = [iv.queues.get(name) for iv in ivs]
        if not any(f is not None and f.calls for f in per):
            quiet.append(name)
            continue
        answered = [float(f.answered) if f else 0.0 for f in per]
        abandoned = [float(f.abandoned) if f else 0.0 for f in per]
        other = [float(max(f.calls - f.answered - f.abandoned, 0)) if f else 0.0 for f in per]
        chart = _SmallChart(
            starts,
            _max([float(f.calls) if f else 0.0 for f in per]),
            title=f"{name}: calls per interval, answer rate and service level",
            y_label=f"calls per {step} min",
            legend=[],
            step_minutes=step,
        )
        tops = chart.bars(answered, GREEN)
        tops = chart.bars(abandoned, VERMILLION, tops)
        chart.bars(other, OTHER, tops)
        chart.percent_right([0.0, 0.5, 1.0])
        # A rate of two or three calls swings from 0 to 100 %: drawn only where enough
        # calls were offered for it to say something (the tooltips give every one).
        rated = [f if f is not None and f.offered >= RATE_MIN_OFFERED else None for f in per]
        chart.line_right([f.answer_rate if f else None for f in rated], INK, 1.5)
        chart.line_right([f.service_level if f else None for f in rated], BLUE, 1.5)
        chart.tooltips(
            [
                f"{iv.start} {name}: "
                + (
                    f"offered {f.offered:,}, answered {f.answered:,}, abandoned "
                    f"{f.abandoned:,}, answer rate {_pct(f.answer_rate)}, service level "
                    f"{_pct(f.service_level)}"
                    if f
                    else "no call"
                )
                for iv, f in zip(ivs, per, strict=True)
            ]
        )
        day = result.queues.get(name)
        caption = (
            f"Day: {day.offered:,} offered, answer rate {_pct(day.answer_rate)}, service "
            f"level {_pct(day.service_level)}."
            if day is not None
            else ""
        )
        lows = [
            (f.answer_rate, iv.start)
            for iv, f in zip(ivs, rated, strict=True)
            if f is not None and f.answer_rate is not None
        ]
        if lows:
            low, when = min(lows)
            caption += f" Lowest answer rate {_pct(low)} at {when}."
        made.append(
            f'<figure class="small"><h3>{_e(name)}</h3>\n{chart.render()}\n'
            f"<figcaption>{_e(caption)}</figcaption></figure>"
        )
    keys = "".join(
        f'<span class="key"><span class="box" style="background:{colour}"></span>'
        f"{_e(text)}</span>"
        for colour, text in (
            (GREEN, "answered (agents, vendors, callbacks)"),
            (VERMILLION, "abandoned"),
            (OTHER, "other (short abandons, blocked, callbacks failed)"),
        )
    ) + "".join(
        f'<span class="key"><span class="stroke" style="border-color:{colour}"></span>'
        f"{_e(text)}</span>"
        for colour, text in ((INK, "answer rate"), (BLUE, "service level"))
    )
    intro = (
        f'<p class="keys">{keys}</p>'
        '<p class="note">Per queue, the calls that joined it in each interval, by outcome '
        "(bars, left axis, each queue on its own scale), and the interval's answer rate "
        f"and service level (lines, right axis, 0 to 100%; drawn where at least "
        f"{RATE_MIN_OFFERED} calls were offered). Summed over the queues they "
        "are the interval figures of the charts above; the JSON has them per interval "
        "under <code>queues</code>.</p>"
    )
    if not made:
        intro = '<p class="note">No call joined a queue.</p>'
    note = (
        f'<p class="note">No call in any interval: {_e(", ".join(quiet))}.</p>'
        if quiet and made
        else ""
    )
    return intro + '<div class="smalls">' + "\n".join(made) + "</div>" + note


def _bound_chart(result: Result, bound: Bound, starts: list[str], step: int) -> str:
    """Answered per interval against the pooled limit, in-house and with vendor seats."""
    answered: list[float | None] = [float(iv.figures.answered) for iv in result.intervals]
    in_house: list[float | None] = [b.answered_in_house for b in bound.intervals]
    vendors: list[float | None] = [b.answered_with_vendors for b in bound.intervals]
    chart = _Chart(
        starts,
        _max(answered, in_house, vendors),
        title="Answered against the pooled limit",
        y_label=f"calls per {step} min",
        legend=[
            _Key("answered", GREEN),
            _Key("limit, in-house agents", VERMILLION, "line", 2.5),
            _Key("limit, with vendor seats", PURPLE, "line", 2.0),
        ],
        step_minutes=step,
    )
    chart.bars(answered, GREEN)
    chart.line(in_house, VERMILLION, 2.5)
    chart.line(vendors, PURPLE, 2.0)
    chart.tooltips(
        [
            f"{b.start}: answered {iv.figures.answered:,}; limit {b.answered_in_house:,.0f} "
            f"in-house ({b.agents} agents), {b.answered_with_vendors:,.0f} with "
            f"{b.vendor_seats} vendor seats"
            for iv, b in zip(result.intervals, bound.intervals, strict=True)
        ]
    )
    gaps = [
        (b.answered_with_vendors - iv.figures.answered, b.start)
        for iv, b in zip(result.intervals, bound.intervals, strict=True)
    ]
    widest = max(gaps, default=(0.0, ""))
    caption = (
        "The most any routing could answer with the staffing on duty: every agent able to "
        "take every call (Erlang A per interval with its arrivals, the agents on duty, the "
        f"day's AHT of {bound.aht_seconds:,.0f} s and the mean patience of "
        f"{bound.patience_seconds:,.0f} s), without and with the seats of the vendors "
        "whose contracts are open. Where the bars fall short of the lines, routing lost "
        "calls; where the lines fall short of the arrivals, staffing did. Each interval is "
        "a steady state: callers queued in a busier interval and answered in the next can "
        "lift the bars above the line there."
    )
    if widest[0] > 0:
        caption += f" The widest gap: {widest[0]:,.0f} calls at {_e(widest[1])}."
    return _figure(chart, caption)


# ---------------------------------------------------------------- HTML parts


def _tile(label: str, value: str, sub: str = "", tone: str = "") -> str:
    tone_class = f" {tone}" if tone else ""
    sub_html = f'<div class="s">{sub}</div>' if sub else ""
    return (
        f'<div class="tile{tone_class}"><div class="l">{_e(label)}</div>'
        f'<div class="v">{_e(value)}</div>{sub_html}</div>'
    )


def _tone(rate: float | None) -> str:
    if rate is None:
        return ""
    if rate >= SERVICE_TARGET:
        return "good"
    return "warn" if rate >= SERVICE_TARGET - 0.15 else "bad"


def _tiles(r: Result) -> str:
    t = r.total
    asa_long = _minutes(r.asa_seconds)
    tiles = [
        _tile(
            "calls", _int(r.calls), f"{_int(r.first_calls)} first calls · {_int(r.redials)} redials"
        ),
        _tile("offered", _int(r.offered), "reached a queue, less short abandons"),
        _tile("answered", _int(r.answered), f"{_int(t.vendor_answered)} by vendors"),
        _tile("answer rate", _pct(r.answer_rate), "answered / offered", _tone(r.answer_rate)),
        _tile(
            "service level",
            _pct(r.service_level),
            f"Asterisk convention {_e(_pct(r.service_level_asterisk))}",
            _tone(r.service_level),
        ),
        _tile(
            "ASA",
            _sec(r.asa_seconds),
            _e(asa_long) if asa_long else "average speed of answer",
        ),
        _tile(
            "abandoned",
            _int(r.abandoned),
            f"{_e(_pct(_share(r.abandoned, r.offered)))} of offered · "
            f"{_int(t.short_abandoned)} short",
        ),
        _tile(
            "overflowed",
            _int(t.overflowed),
            f"{_e(_pct(_share(t.overflowed, r.offered)))} of offered went to a vendor",
        ),
        _tile("callbacks", _int(t.callbacks), "requested (virtual hold or referral)"),
    ]
    if r.bound is not None:
        tiles.append(
            _tile(
                "pooled limit",
                _pct(r.bound.with_vendors),
                f"of the calls any routing could answer ({_e(_pct(r.bound.in_house))} "
                f"in-house only); this run {_e(_pct(_share(r.answered, r.calls)))}",
            )
        )
    return '<div class="tiles">' + "\n".join(tiles) + "</div>"


def _stages(r: Result) -> str:
    if not r.stages:
        stage = r.intervals[0].stage if r.intervals else 0
        return f'<p class="stages">Surge stage: {stage} all day, no change.</p>'
    highest = max(s for _, s in r.stages)
    first_at = next(t for t, s in r.stages if s == highest)
    chips = [
        f'<span class="chip" style="background:{_stage_fill(s)}">{_e(t)} → stage {s}</span>'
        for t, s in r.stages
    ]
    return (
        f'<p class="stages"><strong>Surge stages:</strong> highest stage {highest}, '
        f"first reached at {_e(first_at)}. {' '.join(chips)}</p>"
    )


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    total: int = -1,
    text: Sequence[int] = (0,),
) -> str:
    """Cells are escaped here; `total` is the index of a row to set as a total; the
    columns in `text` are left-aligned (the others are figures, right-aligned)."""

    def cell(tag: str, i: int, content: str) -> str:
        cls = ' class="t"' if i in text else ""
        return f"<{tag}{cls}>{_e(content)}</{tag}>"

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


_SHY = "\u00ad"  # a soft hyphen: long headers may break there, so the table fits 1000 px
QUEUE_HEADERS = [
    "queue", "calls", "offered", "answered", f"aban{_SHY}doned", "answer rate", "SL",
    "SL Asterisk", "ASA (s)", "AHT (s)", "longest wait (s)", f"over{_SHY}flowed",
    "vendor answered", f"call{_SHY}backs", "blocked",
]  # fmt: skip
POOL_HEADERS = ["pool", "kind", "agents", "answered", "handled", "occupancy", "AHT (s)"]


def _queue_cells(name: str, f: Figures, unit: str, none: str) -> list[str]:
    return [
        name,
        _int(f.calls),
        _int(f.offered),
        _int(f.answered),
        _int(f.abandoned),
        _pct(f.answer_rate, none),
        _pct(f.service_level, none),
        _pct(f.service_level_asterisk, none),
        _sec(f.asa_seconds, none, unit),
        _sec(f.aht_seconds, none, unit),
        _sec(f.longest_wait_seconds, none, unit),
        _int(f.overflowed),
        _int(f.vendor_answered),
        _int(f.callbacks),
        _int(f.blocked),
    ]


def _pool_total(pools: dict[str, PoolResult]) -> tuple[int, int, int, float | None]:
    agents = sum(p.agents for p in pools.values())
    answered = sum(p.answered for p in pools.values())
    handled = sum(p.handled for p in pools.values())
    # AHT is handling seconds / handled, so the total is the handled-weighted mean.
    weighted = [(p.aht_seconds, p.handled) for p in pools.values() if p.aht_seconds is not None]
    counted = sum(h for _, h in weighted)
    aht = sum(a * h for a, h in weighted) / counted if counted else None
    return agents, answered, handled, aht


def _pool_rows(r: Result, unit: str, none: str) -> list[list[str]]:
    rows = [
        [
            name,
            p.kind,
            _int(p.agents),
            _int(p.answered),
            _int(p.handled),
            _pct(p.occupancy, none),
            _sec(p.aht_seconds, none, unit),
        ]
        for name, p in r.pools.items()
    ]
    agents, answered, handled, aht = _pool_total(r.pools)
    rows.append(
        ["TOTAL", "", _int(agents), _int(answered), _int(handled), none, _sec(aht, none, unit)]
    )
    return rows


def _vendor_table(r: Result) -> str:
    headers = [
        "vendor", "dialled", "answered", "failed", "answered %", "peak concurrent",
        "max concurrent", "max per hour", "max per day", "day cap used",
    ]  # fmt: skip
    rows = []
    for name, v in r.vendors.items():
        at_cap = " (at cap)" if v.peak_concurrent >= v.max_concurrent else ""
        rows.append(
            [
                name,
                _int(v.dialled),
                _int(v.answered),
                _int(v.failed),
                _pct(_share(v.answered, v.dialled)),
                f"{_int(v.peak_concurrent)}{at_cap}",
                _int(v.max_concurrent),
                "–" if v.max_per_hour is None else _int(v.max_per_hour),
                "–" if v.max_per_day is None else _int(v.max_per_day),
                "–" if v.max_per_day is None else _pct(_share(v.dialled, v.max_per_day)),
            ]
        )
    if not rows:
        return "<p>No vendor in this configuration.</p>"
    return _table(headers, rows)


def _outcome_table(r: Result) -> str:
    total = sum(r.outcomes.values())
    order = [o for o in OUTCOME_NOTES if o in r.outcomes]
    order += sorted(o for o in r.outcomes if o not in OUTCOME_NOTES)
    rows = [
        [o, _int(r.outcomes[o]), _pct(_share(r.outcomes[o], total)), OUTCOME_NOTES.get(o, "")]
        for o in order
    ]
    rows.append(["TOTAL", _int(total), _pct(_share(total, total)), "every call, one outcome"])
    return _table(["outcome", "calls", "share", "meaning"], rows, total=len(rows) - 1, text=(0, 3))


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


def render_html(result: Result) -> str:
    """The whole report as one self-contained HTML page."""
    r = result
    step = interval_minutes(r)
    first = r.intervals[0].start if r.intervals else "–"
    last = r.intervals[-1].start if r.intervals else "–"
    queue_rows = [_queue_cells(name, f, "", "–") for name, f in r.queues.items()]
    queue_rows.append(_queue_cells("TOTAL", r.total, "", "–"))
    run = r.run
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(f'Replay {r.date}: {r.config}, {r.curve}, seed {r.seed}')}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body><main>",
        "<header>",
        f"<h1>Surge replay, {_e(r.date)}</h1>",
        f'<p class="meta">configuration <b>{_e(r.config)}</b> · curve <b>{_e(r.curve)}</b> · '
        f"seed <b>{_e(r.seed)}</b> · date <b>{_e(r.date)}</b> · {len(r.intervals)} intervals "
        f"of {step} min, {_e(first)} to {_e(last)}</p>",
        _idle_callout(r),
        _tiles(r),
        _stages(r),
        "</header>",
        "<section>",
        "<h2>The day, interval by interval</h2>",
        *_charts(r),
        "</section>",
        "<section>",
        "<h2>Queues, interval by interval</h2>",
        _queue_intervals(r),
        "</section>",
        "<section>",
        "<h2>Queues</h2>",
        _table(QUEUE_HEADERS, queue_rows, total=len(queue_rows) - 1),
        '<p class="note">Offered = calls that reached the queue less short abandons. Service '
        "level = answered within the threshold / (answered + abandoned after it); the Asterisk "
        "convention divides by answered only. ASA counts answered calls; AHT is talk plus "
        "after-call work per handled call.</p>",
        "<h2>Pools</h2>",
        _table(POOL_HEADERS, _pool_rows(r, "", "–"), total=len(r.pools), text=(0, 1)),
        '<p class="note">Agents who worked some part of the day. Occupancy = handling time / '
        "(handling + available time); the total AHT is weighted by calls handled.</p>",
        "<h2>Vendors</h2>",
        _vendor_table(r),
        "<h2>Outcomes</h2>",
        _outcome_table(r),
        "</section>",
        "<footer>",
        f"<p>Run: {run.wall_seconds:,.1f} s wall clock, {_int(run.events)} events "
        f"({run.events_per_second:,.0f} events/s, {run.calls_per_second:,.0f} calls/s), "
        f"peak memory {run.peak_rss_mb:,.0f} MB.</p>",
        "<p>Every figure outside “run” is reproducible: the same configuration, curve "
        f"and seed ({_e(r.seed)}) give the same report.</p>",
        "</footer>",
        "</main></body></html>",
        "",
    ]
    return "\n".join(parts)


# ---------------------------------------------------------------- terminal


def _align(
    headers: Sequence[str], rows: Sequence[Sequence[str]], text: Sequence[int] = (0,)
) -> list[str]:
    """Columns as wide as their widest cell; those in `text` left-aligned, figures right."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        padded = (
            cell.ljust(widths[i]) if i in text else cell.rjust(widths[i])
            for i, cell in enumerate(cells)
        )
        return "  ".join(padded).rstrip()

    out = [line(headers)]
    out += [line(row) for row in rows]
    return out


SUMMARY_QUEUE_HEADERS = [
    "queue", "calls", "offered", "answered", "abandoned", "answer%", "SL", "SL(ast)",
    "ASA s", "AHT s", "max wait s", "overflow", "vendor", "callbacks", "blocked",
]  # fmt: skip
SUMMARY_POOL_HEADERS = ["pool", "kind", "agents", "answered", "handled", "occupancy", "AHT s"]


def summary_table(result: Result) -> str:
    """The per-queue and per-pool tables as aligned plain text, each with a TOTAL row:
    percentages with one decimal, seconds rounded, "-" where a figure is undefined."""
    r = result
    queues = [_queue_cells(name, f, "", "-") for name, f in r.queues.items()]
    queues.append(_queue_cells("TOTAL", r.total, "", "-"))
    lines = _align(SUMMARY_QUEUE_HEADERS, queues)
    lines.append("")
    lines += _align(SUMMARY_POOL_HEADERS, _pool_rows(r, "", "-"), text=(0, 1))
    return "\n".join(lines) + "\n"
