"""A load run for people: the terminal summary, and a self-contained HTML page (no
scripts, no network references) with the per-interval plot of calls placed against
calls a person answered, and the live-vs-replay comparison."""

from __future__ import annotations

import html
from collections.abc import Sequence

from acd.load.compare import PredictedInterval
from acd.load.outcomes import Figures
from acd.load.run import LoadResult


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None, unit: str = "", digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}{unit}"


def comparison_rows(r: LoadResult) -> list[tuple[str, str, str]]:
    """(figure, live, replay) for the comparison table."""
    t, p = r.totals, r.predicted
    return [
        ("calls placed (redials included)", f"{t.placed:,}", f"{p.calls:,}"),
        ("answered by a person", f"{t.connected:,}", f"{p.answered:,}"),
        ("answer rate", _pct(t.answer_rate), _pct(p.answer_rate)),
        (f"service level ({r.sl_seconds:.0f} s)", _pct(t.service_level), _pct(p.service_level)),
        ("ASA", _num(t.asa_seconds, " s"), _num(p.asa_seconds, " s")),
        ("abandoned on hold", f"{t.abandoned:,}", f"{p.abandoned:,}"),
    ]


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def _interval_row(start: str, f: Figures, replay: PredictedInterval | None) -> list[str]:
    return [
        start, f"{f.placed}", f"{f.reached_ivr}", f"{f.connected}", f"{f.abandoned}",
        f"{f.turned_away}", f"{sum(f.failed.values())}", _pct(f.answer_rate),
        "–" if replay is None else _pct(replay.answer_rate),
        _pct(f.service_level), _num(f.first_prompt_ms["p95"], " ms"),
        _num(f.to_agent_seconds["p50"], " s"), _num(f.to_agent_seconds["p95"], " s"),
    ]  # fmt: skip


INTERVAL_HEAD = (
    "interval", "placed", "IVR", "answered", "abandoned", "turned away", "failed",
    "answer rate", "(replay)", "SL", "prompt p95", "to agent p50", "to agent p95",
)  # fmt: skip


def _rows(r: LoadResult) -> list[list[str]]:
    """The per-interval rows with the replay's answer rate beside, then TOTAL."""
    replay = {i.start: i for i in r.predicted.intervals}
    rows = [_interval_row(i.start, i.figures, replay.get(i.start)) for i in r.intervals]
    total = PredictedInterval(
        start="TOTAL", calls=r.predicted.calls, answered=r.predicted.answered,
        answer_rate=r.predicted.answer_rate,
    )  # fmt: skip
    return [*rows, _interval_row("TOTAL", r.totals, total)]


def summary(r: LoadResult) -> str:
    """The end-of-run summary for the terminal."""
    t = r.totals
    parts = [
        f"{r.site}: {r.curve}, window {r.window}, seed {r.seed}: {r.persons:,} callers, "
        f"{r.agents_logged_in} agents logged in, {r.wall_seconds:,.0f} s",
        "",
        _table(INTERVAL_HEAD, _rows(r)),
        "",
        _table(("", "live (SIP)", "replay"), comparison_rows(r)),
        "",
        f"answered by agents {r.answered_by_agent:,}, by vendors {r.answered_by_vendor:,}; "
        f"rings missed {r.agent_misses:,}; ended by the PBX unanswered {t.ended_by_pbx:,}; "
        f"SIP failures {t.failed or 'none'}; unfinished {t.unfinished:,}",
        "time to first prompt (INVITE -> 200 OK) "
        + ", ".join(f"{k} {_num(v, ' ms')}" for k, v in t.first_prompt_ms.items())
        + "; time to agent (INVITE -> a person answered) "
        + ", ".join(f"{k} {_num(v, ' s', 1)}" for k, v in t.to_agent_seconds.items()),
        "CPU seconds: "
        + ", ".join(f"{name} {sec:.1f}" for name, sec in r.cpu_seconds.items())
        + (f"; generator per call {_generator_ms(r):.2f} ms" if t.placed else "")
        + ("" if r.taskprocessor_warnings is None
           else f"; Asterisk task-processor warnings {r.taskprocessor_warnings}"),
        "Live callers do not accept callback offers or hang up on an announced wait "
        "(they cannot hear prompts); the replay's callers do.",
    ]
    if r.late_starts:
        parts.append(f"{r.late_starts} calls left more than 100 ms late: the generator lagged")
    return "\n".join(parts)


def _generator_ms(r: LoadResult) -> float:
    used = r.cpu_seconds.get("acd load", 0.0) + r.cpu_seconds.get("sipp", 0.0)
    return used * 1000.0 / max(r.totals.placed, 1)


def _bars(r: LoadResult) -> str:
    """Calls placed (outline) and answered by a person (filled), per interval, with
    the replay's answered calls as a tick."""
    replay = {i.start: i.answered for i in r.predicted.intervals}
    n = max(len(r.intervals), 1)
    top = max([i.figures.placed for i in r.intervals] + list(replay.values()) + [1])
    width, height, left, bottom = 900.0, 240.0, 50.0, 30.0
    slot = (width - left - 10) / n
    out = [
        f'<svg viewBox="0 0 {width:.0f} {height + bottom:.0f}" width="100%" '
        'role="img" aria-label="calls placed and answered per interval">'
    ]
    for k, i in enumerate(r.intervals):
        x = left + k * slot
        for value, style in (
            (i.figures.placed, 'fill="none" stroke="#0072B2"'),
            (i.figures.connected, 'fill="#009E73"'),
        ):
            h = value / top * (height - 20)
            out.append(
                f'<rect x="{x + 4:.1f}" y="{height - h:.1f}" width="{slot - 8:.1f}" '
                f'height="{h:.1f}" {style}/>'
            )
        if i.start in replay:
            y = height - replay[i.start] / top * (height - 20)
            out.append(
                f'<line x1="{x + 2:.1f}" x2="{x + slot - 2:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                'stroke="#E69F00" stroke-width="3"/>'
            )
        out.append(
            f'<text x="{x + slot / 2:.1f}" y="{height + 18:.0f}" font-size="11" '
            f'text-anchor="middle">{html.escape(i.start)}</text>'
        )
    out.append(f'<text x="4" y="14" font-size="11">{top:,} calls</text></svg>')
    return "".join(out)


def _to_agent(r: LoadResult) -> str:
    """Time to an agent per interval: p50 (green), p95 (blue), p99 (purple) lines."""
    series = [
        (q, colour, [i.figures.to_agent_seconds[q] for i in r.intervals])
        for q, colour in (("p50", "#009E73"), ("p95", "#0072B2"), ("p99", "#CC79A7"))
    ]
    top = max([v for _, _, vs in series for v in vs if v is not None] + [1.0])
    width, height, left = 900.0, 200.0, 50.0
    n = max(len(r.intervals), 1)
    slot = (width - left - 10) / n
    out = [f'<svg viewBox="0 0 {width:.0f} {height + 30:.0f}" width="100%" role="img" '
           'aria-label="time to an agent per interval">']  # fmt: skip
    for row, (q, colour, values) in enumerate(series):
        points = [
            f"{left + (k + 0.5) * slot:.1f},{height - v / top * (height - 20):.1f}"
            for k, v in enumerate(values) if v is not None
        ]  # fmt: skip
        if len(points) == 1:
            cx, cy = points[0].split(",")
            out.append(f'<circle cx="{cx}" cy="{cy}" r="4" fill="{colour}"/>')
        elif points:
            out.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                       'stroke-width="2"/>')  # fmt: skip
        out.append(f'<text x="{width - 60:.0f}" y="{14 + 14 * row}" font-size="11" '
                   f'fill="{colour}">{q}</text>')  # fmt: skip
    for k, i in enumerate(r.intervals):
        x = left + (k + 0.5) * slot
        out.append(f'<text x="{x:.1f}" y="{height + 18:.0f}" font-size="11" '
                   f'text-anchor="middle">{html.escape(i.start)}</text>')  # fmt: skip
    out.append(f'<text x="4" y="14" font-size="11">{top:,.0f} s</text></svg>')
    return "".join(out)


def _cpu(r: LoadResult) -> str:
    """CPU seconds per process during the calls, as bars with the share of one core
    over the run's wall time."""
    if not r.cpu_seconds:
        return "<p>No process was measured.</p>"
    top = max(max(r.cpu_seconds.values()), 1e-9)
    wall = max(r.wall_seconds, 1e-9)
    rows = []
    for k, (name, sec) in enumerate(r.cpu_seconds.items()):
        y = 8 + k * 26
        rows.append(
            f'<text x="0" y="{y + 13}" font-size="12">{html.escape(name)}</text>'
            f'<rect x="110" y="{y}" width="{sec / top * 600:.1f}" height="18" fill="#56B4E9"/>'
            f'<text x="{116 + sec / top * 600:.1f}" y="{y + 13}" font-size="12">{sec:,.1f} s '
            f"({sec / wall * 100:.0f} % of a core)</text>"
        )
    height = 16 + 26 * len(r.cpu_seconds)
    return (f'<svg viewBox="0 0 900 {height}" width="100%" role="img" '
            f'aria-label="CPU per process">{"".join(rows)}</svg>')  # fmt: skip


def render_html(r: LoadResult) -> str:
    """The report page."""
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in _rows(r)
    )
    compare = "".join(
        f"<tr><td>{html.escape(a)}</td><td>{b}</td><td>{c}</td></tr>"
        for a, b, c in comparison_rows(r)
    )
    head = "".join(f"<th>{html.escape(h)}</th>" for h in INTERVAL_HEAD)
    return f"""<!doctype html><html lang="en"><meta charset="utf-8">
<title>acd load: {html.escape(r.site)} {html.escape(r.window)}</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;color:#1d2430}}
table{{border-collapse:collapse}}td,th{{padding:3px 8px;border-bottom:1px solid #e3e8ef;
text-align:right}}td:first-child,th:first-child{{text-align:left}}</style>
<h1>Load run: {html.escape(r.site)}, {html.escape(r.curve)}, {html.escape(r.window)}</h1>
<p>{r.persons:,} callers (seed {r.seed}) placed as real SIP calls by SIPp; {r.agents_logged_in}
agents' phones; {r.wall_seconds:,.0f} s.</p>
<h2>Placed (blue outline) and answered by a person (green), per interval; the
replay's answered calls (orange)</h2>{_bars(r)}
<h2>Live against the replay (<code>acd simulate</code>, same window and seed)</h2>
<table><tr><th></th><th>live (SIP)</th><th>replay</th></tr>{compare}</table>
<p>Live callers do not accept callback offers or hang up on an announced wait (they
cannot hear prompts); the replay's callers do.</p>
<h2>Per interval</h2><table><tr>{head}</tr>{rows}</table>
<h2>Time to an agent (INVITE to a person answering), per interval</h2>{_to_agent(r)}
<h2>Health: CPU per process during the calls</h2>{_cpu(r)}
<p>Asterisk's task-processor warnings: {
        "not read (no --asterisk-log)" if r.taskprocessor_warnings is None
        else r.taskprocessor_warnings
    }; calls that left more than 100 ms late: {r.late_starts}.</p>
</html>
"""
