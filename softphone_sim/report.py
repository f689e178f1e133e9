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

The figures are defined once in `engine/metrics.py`; this module only formats. The
charts, tiles, tables and page style are `charts.py`'s, which the plan's report shares.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from acd.softphone_sim.charts import (
    BLUE,
    GREEN,
    INK,
    MUTED,
    ORANGE,
    PURPLE,
    SERIES,
    SKY,
    VERMILLION,
    Chart,
    Key,
    SmallChart,
    align,
    escape,
    figure,
    max_of,
    page_head,
    parse_hhmm,
    stage_fill,
    table,
    tile,
)
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

OTHER = "#b4bfcc"
"""Calls neither answered nor abandoned (short abandons, blocked, callbacks not reached)."""
IDLE_FILL = "#f7cdbd"
"""Behind the intervals in which a pool sat idle while callers abandoned."""

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


def interval_minutes(result: Result) -> int:
    """The interval length, from the first two interval starts (15 if unknown)."""
    if len(result.intervals) >= 2:
        a = parse_hhmm(result.intervals[0].start)
        b = parse_hhmm(result.intervals[1].start)
        if a is not None and b is not None and (b - a) % 1440 > 0:
            return (b - a) % 1440
    return 15


# ---------------------------------------------------------------- SVG charts


def _peak(values: Sequence[float | None]) -> tuple[int, float] | None:
    best: tuple[int, float] | None = None
    for i, value in enumerate(values):
        if value is not None and math.isfinite(value) and (best is None or value > best[1]):
            best = (i, value)
    return best


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
        Key("arrivals", SKY),
        Key("answering capacity", VERMILLION, "line", 2.5),
        Key("expected (curve)", INK, "line", 1.2),
    ]
    keys += [Key(f"surge stage {s}", stage_fill(s), "band") for s in sorted(set(stages)) if s > 0]
    chart = Chart(
        starts,
        max_of(arrivals, capacity, expected),
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
            f" Peak {escape(_int(int(peak[1])))} arrivals at {escape(at(peak[0]))}; arrivals "
            f"exceeded capacity in {over} of {len(ivs)} intervals."
        )
    made.append(figure(chart, caption))

    # 2. service level and answer rate
    sl: list[float | None] = [iv.figures.service_level for iv in ivs]
    ar: list[float | None] = [iv.figures.answer_rate for iv in ivs]
    chart = Chart(
        starts,
        1.0,
        title="Service level and answer rate",
        y_label="% of calls",
        legend=[
            Key("service level", BLUE, "line", 2.5),
            Key("answer rate", GREEN, "line", 2.5),
            Key(f"target {SERVICE_TARGET * 100:.0f}%", VERMILLION, "dash"),
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
    made.append(figure(chart, caption))

    # 3. longest queue: callers on the line. Callbacks waiting (their line down) get
    # their own chart: counted together they made a backlog of callbacks look like
    # callers on hold, thousands at 09:00 and hundreds at midnight.
    on_line: list[float | None] = [float(iv.longest_queue_on_line) for iv in ivs]
    callbacks: list[float | None] = [float(iv.most_callbacks_waiting) for iv in ivs]
    def counts(values: list[float | None], title: str, y_label: str, key: Key,
               tips: list[str]) -> Chart:
        """A bar per interval of `values`, the stages shaded behind."""
        chart = Chart(starts, max_of(values), title=title, y_label=y_label, legend=[key],
                       step_minutes=step)
        chart.bands(stages)
        chart.bars(values, key.colour)
        chart.tooltips(tips)
        return chart

    chart = counts(
        on_line, "Longest queue: callers on the line", "callers on hold",
        Key("most callers on the line at once (callbacks not counted)", PURPLE),
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
        caption += f" Peak {escape(_int(int(peak[1])))} at {escape(at(peak[0]))}."
    made.append(figure(chart, caption))

    # 4. callbacks waiting for their turn
    chart = counts(
        callbacks, "Callbacks waiting for their turn", "callbacks",
        Key("most callbacks waiting at once", BLUE),
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
            f" Peak {escape(_int(int(cb_peak[1])))} at {escape(at(cb_peak[0]))}; "
            f"{escape(_int(ivs[-1].most_callbacks_waiting))} still waiting in the last interval."
        )
    together = _peak([float(iv.longest_queue) for iv in ivs])
    if together is not None and cb_peak is not None and cb_peak[1] > 0:
        caption += (
            " Counted together with the callers on the line (the JSON's longest_queue) "
            f"the line would peak at {escape(_int(int(together[1])))} at {escape(at(together[0]))}."
        )
    made.append(figure(chart, caption))

    # 5. abandonment
    abandoned: list[float | None] = [float(iv.figures.abandoned) for iv in ivs]
    short: list[float | None] = [float(iv.figures.short_abandoned) for iv in ivs]
    chart = Chart(
        starts,
        max_of([(a or 0) + (s or 0) for a, s in zip(abandoned, short, strict=True)]),
        title="Abandonment",
        y_label=f"calls {per}",
        legend=[Key("abandoned", VERMILLION), Key("short abandoned (not offered)", ORANGE)],
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
        figure(
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
        keys.append(Key(f"{name} calls", colours[name], "line", 2.5))
        if name in caps:
            keys.append(Key(f"{name} cap", colours[name], "dash"))
    chart = Chart(
        starts,
        max_of(*series.values(), list(caps.values())) * 1.08,
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
        f"{escape(n)} {_int(v.dialled)} of {_int(v.max_per_day)} a day"
        for n, v in result.vendors.items()
        if v.max_per_day is not None
    ]
    if daily:
        caption += " Daily caps: " + "; ".join(daily) + "."
    if not names:
        caption += " No vendor in this configuration."
    made.append(figure(chart, caption))

    # 7. occupancy per pool, the spans where a pool sat idle while callers abandoned shaded
    pools = list(result.pools)
    for iv in ivs:
        for name in iv.occupancy:
            if name not in pools:
                pools.append(name)
    spans = result.idle_while_abandoning
    keys = [Key(name, SERIES[i % len(SERIES)], "line", 2.5) for i, name in enumerate(pools)]
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
        keys.append(Key(f"{idle_pools} idle while callers abandoned", IDLE_FILL, "band"))
    chart = Chart(
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
            f"abandoned ({escape(_spans_text(spans))}); see the note at the top."
        )
    made.append(figure(chart, caption))
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
            f"<li><strong>{escape(span.pool)}</strong>: {span.agents:,} agents on duty were busy "
            f"only {escape(_occupancy_range(span))} of their time from "
            f"<strong>{escape(span.start)} to {escape(span.end)}</strong> "
            f"({escape(_duration(span.intervals * step))}), while "
            f"<strong>{span.abandoned:,} callers abandoned</strong> in those intervals "
            f"({escape(_pct(_share(span.abandoned, span.offered)))} of {span.offered:,} offered"
            + (f": {escape(named)}" if named else "")
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
        chart = SmallChart(
            starts,
            max_of([float(f.calls) if f else 0.0 for f in per]),
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
            f'<figure class="small"><h3>{escape(name)}</h3>\n{chart.render()}\n'
            f"<figcaption>{escape(caption)}</figcaption></figure>"
        )
    keys = "".join(
        f'<span class="key"><span class="box" style="background:{colour}"></span>'
        f"{escape(text)}</span>"
        for colour, text in (
            (GREEN, "answered (agents, vendors, callbacks)"),
            (VERMILLION, "abandoned"),
            (OTHER, "other (short abandons, blocked, callbacks failed)"),
        )
    ) + "".join(
        f'<span class="key"><span class="stroke" style="border-color:{colour}"></span>'
        f"{escape(text)}</span>"
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
        f'<p class="note">No call in any interval: {escape(", ".join(quiet))}.</p>'
        if quiet and made
        else ""
    )
    return intro + '<div class="smalls">' + "\n".join(made) + "</div>" + note


def _bound_chart(result: Result, bound: Bound, starts: list[str], step: int) -> str:
    """Answered per interval against the pooled limit, in-house and with vendor seats."""
    answered: list[float | None] = [float(iv.figures.answered) for iv in result.intervals]
    in_house: list[float | None] = [b.answered_in_house for b in bound.intervals]
    vendors: list[float | None] = [b.answered_with_vendors for b in bound.intervals]
    chart = Chart(
        starts,
        max_of(answered, in_house, vendors),
        title="Answered against the pooled limit",
        y_label=f"calls per {step} min",
        legend=[
            Key("answered", GREEN),
            Key("limit, in-house agents", VERMILLION, "line", 2.5),
            Key("limit, with vendor seats", PURPLE, "line", 2.0),
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
        caption += f" The widest gap: {widest[0]:,.0f} calls at {escape(widest[1])}."
    return figure(chart, caption)


# ---------------------------------------------------------------- HTML parts


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
        tile(
            "calls", _int(r.calls), f"{_int(r.first_calls)} first calls · {_int(r.redials)} redials"
        ),
        tile("offered", _int(r.offered), "reached a queue, less short abandons"),
        tile("answered", _int(r.answered), f"{_int(t.vendor_answered)} by vendors"),
        tile("answer rate", _pct(r.answer_rate), "answered / offered", _tone(r.answer_rate)),
        tile(
            "service level",
            _pct(r.service_level),
            f"Asterisk convention {escape(_pct(r.service_level_asterisk))}",
            _tone(r.service_level),
        ),
        tile(
            "ASA",
            _sec(r.asa_seconds),
            escape(asa_long) if asa_long else "average speed of answer",
        ),
        tile(
            "abandoned",
            _int(r.abandoned),
            f"{escape(_pct(_share(r.abandoned, r.offered)))} of offered · "
            f"{_int(t.short_abandoned)} short",
        ),
        tile(
            "overflowed",
            _int(t.overflowed),
            f"{escape(_pct(_share(t.overflowed, r.offered)))} of offered went to a vendor",
        ),
        tile("callbacks", _int(t.callbacks), "requested (virtual hold or referral)"),
    ]
    if r.bound is not None:
        tiles.append(
            tile(
                "pooled limit",
                _pct(r.bound.with_vendors),
                f"of the calls any routing could answer ({escape(_pct(r.bound.in_house))} "
                f"in-house only); this run {escape(_pct(_share(r.answered, r.calls)))}",
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
        f'<span class="chip" style="background:{stage_fill(s)}">{escape(t)} → stage {s}</span>'
        for t, s in r.stages
    ]
    return (
        f'<p class="stages"><strong>Surge stages:</strong> highest stage {highest}, '
        f"first reached at {escape(first_at)}. {' '.join(chips)}</p>"
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
    return table(headers, rows)


def _outcome_table(r: Result) -> str:
    total = sum(r.outcomes.values())
    order = [o for o in OUTCOME_NOTES if o in r.outcomes]
    order += sorted(o for o in r.outcomes if o not in OUTCOME_NOTES)
    rows = [
        [o, _int(r.outcomes[o]), _pct(_share(r.outcomes[o], total)), OUTCOME_NOTES.get(o, "")]
        for o in order
    ]
    rows.append(["TOTAL", _int(total), _pct(_share(total, total)), "every call, one outcome"])
    return table(["outcome", "calls", "share", "meaning"], rows, total=len(rows) - 1, text=(0, 3))


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
        *page_head(f'Replay {r.date}: {r.config}, {r.curve}, seed {r.seed}'),
        "<body><main>",
        "<header>",
        f"<h1>Surge replay, {escape(r.date)}</h1>",
        f'<p class="meta">configuration <b>{escape(r.config)}</b> · curve '
        f"<b>{escape(r.curve)}</b> · seed <b>{escape(r.seed)}</b> · date "
        f"<b>{escape(r.date)}</b> · {len(r.intervals)} intervals of {step} min, "
        f"{escape(first)} to {escape(last)}</p>",
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
        table(QUEUE_HEADERS, queue_rows, total=len(queue_rows) - 1),
        '<p class="note">Offered = calls that reached the queue less short abandons. Service '
        "level = answered within the threshold / (answered + abandoned after it); the Asterisk "
        "convention divides by answered only. ASA counts answered calls; AHT is talk plus "
        "after-call work per handled call.</p>",
        "<h2>Pools</h2>",
        table(POOL_HEADERS, _pool_rows(r, "", "–"), total=len(r.pools), text=(0, 1)),
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
        f"and seed ({escape(r.seed)}) give the same report.</p>",
        "</footer>",
        "</main></body></html>",
        "",
    ]
    return "\n".join(parts)


# ---------------------------------------------------------------- terminal


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
    lines = align(SUMMARY_QUEUE_HEADERS, queues)
    lines.append("")
    lines += align(SUMMARY_POOL_HEADERS, _pool_rows(r, "", "-"), text=(0, 1))
    return "\n".join(lines) + "\n"
