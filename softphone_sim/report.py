"""The report of a replay: one self-contained HTML page, and the terminal summary.

`render_html(result)` draws a whole surge day for a supervisor or a planner:
headline tiles, six inline SVG charts per interval (arrivals against capacity with
the surge stages shaded, service level and answer rate, longest queue,
abandonment, vendor use against the contract caps, occupancy per pool), and the
per-queue, per-pool, per-vendor and outcome tables. The page has no scripts, no
external fonts or styles and no network references: it opens from a file, mailed
or archived, as it is.

`summary_table(result)` is the per-queue and per-pool tables as aligned plain
text for the terminal, with a TOTAL row each.

The figures are defined once in `engine/metrics.py`; this module only formats.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from acd.softphone_sim.result import Bound, Figures, PoolResult, Result

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


class _Chart:
    """One chart over the intervals of the day: x is the interval, y a quantity."""

    WIDTH = 1000.0
    LEFT = 72.0
    RIGHT = 30.0
    PLOT_HEIGHT = 220.0
    FONT = 12.0

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
        rows = max(len(self.legend_rows), 1)
        self.top = 12.0 + rows * 20.0 + 8.0
        self.height = self.top + self.PLOT_HEIGHT + 46.0
        self.plot_width = self.WIDTH - self.LEFT - self.RIGHT
        self.slot = self.plot_width / max(self.n, 1)
        self.back: list[str] = []
        self.body: list[str] = []
        self.labels: list[tuple[float, str, str]] = []
        """Right-hand labels of horizontal lines: (y, text, colour)."""
        self.hover: list[str] = []

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
        for i, value in enumerate(values):
            if value is None or not math.isfinite(value):
                if current:
                    segments.append(current)
                current = []
                continue
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
        self.body.append(
            f'<line x1="{_f(self.LEFT)}" x2="{_f(self.WIDTH - self.RIGHT)}" y1="{_f(y)}" '
            f'y2="{_f(y)}" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>'
        )
        if label:
            self.labels.append((y, label, colour))

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
        every = next((h for h in (1, 2, 3, 4, 6, 12) if span_hours / h <= 13), 24)
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
        w, h = self.WIDTH, self.height
        out = [
            f'<svg viewBox="0 0 {w:g} {_f(h)}" width="{w:g}" height="{_f(h)}" role="img" '
            f'font-family="system-ui, -apple-system, Segoe UI, Roboto, Noto Sans KR, '
            f'sans-serif" font-size="{self.FONT:g}">',
            f"<title>{_e(self.title)}</title>",
            f'<rect x="0" y="0" width="{w:g}" height="{_f(h)}" fill="#ffffff"/>',
            *self.back,
        ]
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
        out += self._line_labels()
        out += self._legend_svg()
        out += self.hover
        out.append("</svg>")
        return "\n".join(out)

    def _line_labels(self) -> list[str]:
        """Labels of horizontal lines at the right, above their line, pushed apart so
        none overlaps another."""
        out: list[str] = []
        placed: list[float] = []
        for y, text, colour in sorted(self.labels):
            baseline = max(y - 5, self.top + 12)
            for other in placed:
                if abs(baseline - other) < 15:
                    baseline = other + 15
            placed.append(baseline)
            out.append(
                f'<text x="{_f(self.WIDTH - self.RIGHT - 4)}" y="{_f(baseline)}" '
                f'text-anchor="end" fill="{colour}" font-weight="600" stroke="#ffffff" '
                f'stroke-width="3" paint-order="stroke">{_e(text)}</text>'
            )
        return out


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

    # 3. longest queue
    queue: list[float | None] = [float(iv.longest_queue) for iv in ivs]
    chart = _Chart(
        starts,
        _max(queue),
        title="Longest queue",
        y_label="callers waiting",
        legend=[_Key("most callers waiting at once", PURPLE)],
        step_minutes=step,
    )
    chart.bands(stages)
    chart.bars(queue, PURPLE)
    chart.tooltips([f"{iv.start}: up to {iv.longest_queue:,} callers waiting" for iv in ivs])
    peak = _peak(queue)
    caption = "Most callers waiting at once in each interval (sampled each minute), all queues."
    if peak is not None:
        caption += f" Peak {_e(_int(int(peak[1])))} at {_e(at(peak[0]))}."
    made.append(_figure(chart, caption))

    # 4. abandonment
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

    # 5. vendor use against the caps
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

    # 6. occupancy per pool
    pools = list(result.pools)
    for iv in ivs:
        for name in iv.occupancy:
            if name not in pools:
                pools.append(name)
    chart = _Chart(
        starts,
        1.0,
        title="Agent occupancy per pool",
        y_label="occupancy",
        legend=[_Key(name, SERIES[i % len(SERIES)], "line", 2.5) for i, name in enumerate(pools)],
        percent=True,
        step_minutes=step,
    )
    for i, name in enumerate(pools):
        chart.line([iv.occupancy.get(name) for iv in ivs], SERIES[i % len(SERIES)], 2.5)
    chart.tooltips(
        [
            f"{iv.start}: "
            + (", ".join(f"{n} {_pct(iv.occupancy.get(n))}" for n in pools) or "no pool")
            + f"; {iv.agents_staffed:,} agents staffed"
            for iv in ivs
        ]
    )
    made.append(
        _figure(
            chart,
            "Share of the logged-in agents' time spent handling calls (ringing, talking, "
            "after-call work) rather than waiting for one. Gaps: no agent of the pool "
            "logged in.",
        )
    )
    if result.bound is not None:
        made.append(_bound_chart(result, result.bound, starts, step))
    return made


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
        _tiles(r),
        _stages(r),
        "</header>",
        "<section>",
        "<h2>The day, interval by interval</h2>",
        *_charts(r),
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
