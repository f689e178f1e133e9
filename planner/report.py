"""The report of a plan: the terminal summary and one self-contained HTML page.

`summary(plan)` prints what a planner reads first: the roster (shift, hours, pool,
head-count, seat-hours), its check on fresh seeds, the comparison with per-interval
Erlang C staffing, and the marginal value of one more agent in each shift.
`render_html(plan)` is the same as a page in the replay report's style (tables, and
one chart of the need against the agents in service, interval by interval), with no
scripts or external references: it opens from a file as it is.
"""

from __future__ import annotations

from acd.planner.result import Check, Marginal, Plan, Roster, RosterCheck
from acd.planner.text import pct, seed_list
from acd.softphone_sim.charts import (
    BLUE,
    GREEN,
    MUTED,
    VERMILLION,
    Chart,
    Key,
    align,
    escape,
    figure,
    max_of,
    page_head,
    table,
    tile,
)


def _hours(value: float) -> str:
    return f"{value:,.1f}"


ROSTER_HEADERS = ["shift", "hours", "pool", "head-count", "seat-hours", "configured"]


def _roster_rows(roster: Roster) -> list[list[str]]:
    rows = [
        [
            r.shift,
            r.hours,
            r.pool,
            f"{r.head_count:,}",
            _hours(r.seat_hours),
            f"{r.configured:,}",
        ]
        for r in roster.rows
    ]
    rows.append(
        [
            "TOTAL",
            "",
            "",
            f"{roster.head_count:,}",
            _hours(roster.seat_hours),
            f"{sum(r.configured for r in roster.rows):,}",
        ]
    )
    return rows


MARGINAL_HEADERS = [
    "shift",
    "pool",
    "hours",
    "planned: +answered",
    "± s.e.",
    "per seat-hour",
    "configured: +answered",
    "± s.e.",
    "per seat-hour",
    "note",
]


def _gain(m: Marginal) -> list[str]:
    return [
        f"{m.gain:+,.1f}",
        "-" if m.stderr is None else f"{m.stderr:,.1f}",
        f"{m.per_seat_hour:+,.2f}",
    ]


def _marginal_rows(plan: Plan) -> list[list[str]]:
    rows = []
    for planned, configured in zip(plan.marginal, plan.marginal_configured, strict=True):
        notes = []
        if planned.note:
            notes.append(f"planned: {planned.note}")
        if configured.note:
            notes.append(f"configured: {configured.note}")
        if planned.note and planned.note == configured.note:
            notes = [planned.note]
        rows.append(
            [planned.shift, planned.pool, planned.hours, *_gain(planned), *_gain(configured),
             "; ".join(notes)]
        )  # fmt: skip
    return rows


COMPARE_HEADERS = ["roster", "head-count", "seat-hours", "vs planned", "check"]


def _compare_rows(plan: Plan) -> list[list[str]]:
    planned = plan.planned.roster.seat_hours
    rows = []
    for rc in (plan.planned, plan.erlang, plan.configured):
        diff = rc.roster.seat_hours - planned
        rows.append(
            [
                rc.name,
                f"{rc.roster.head_count:,}",
                _hours(rc.roster.seat_hours),
                "-" if rc is plan.planned else f"{diff:+,.1f}",
                _check_short(plan, rc.check),
            ]
        )
    rows.append(
        [
            f"{plan.model} need, interval by interval",
            "-",
            _hours(plan.erlang_need_seat_hours),
            f"{plan.erlang_need_seat_hours - planned:+,.1f}",
            "not a roster: agents would come and go every interval",
        ]
    )
    return rows


def _check_short(plan: Plan, check: Check) -> str:
    if plan.target.per == "interval":
        text = (
            f"met in {pct(check.share)} of judged intervals, "
            f"{check.seeds_meeting}/{len(check.seeds)} seeds >= {plan.required_share:.0%}"
        )
    else:
        text = f"day met on {check.seeds_meeting}/{len(check.seeds)} seeds"
    if check.queues_short:
        text += "; short over the day: " + ", ".join(
            f"{q} {pct(check.queues[q])}" for q in check.queues_short
        )
    return text


def verdict(plan: Plan) -> str:
    """One line: the plan's roster against per-interval Erlang C, and its check."""
    planned, erlang = plan.planned.roster.seat_hours, plan.erlang.roster.seat_hours
    saving = (erlang - planned) / erlang if erlang else 0.0
    holds = "holds" if plan.planned.check.holds else "does NOT hold"
    return (
        f"Planned roster: {planned:,.1f} seat-hours, {abs(saving):.1%} "
        f"{'fewer' if saving >= 0 else 'more'} than the {plan.erlang.name} "
        f"({erlang:,.1f}); the target {holds} on the check seeds "
        f"({_check_short(plan, plan.planned.check)})."
    )


def summary(plan: Plan) -> str:
    """The plan for the terminal."""
    out = [
        f"acd plan: {plan.config}, curve {plan.curve}, {plan.weekday} {plan.date}",
        f"target: {plan.target_text}.",
    ]
    if plan.target.per == "interval":
        out.append(
            f"judged: intervals with at least {plan.min_calls} offered calls on a seed; the "
            f"target holds when at least {plan.required_share:.0%} of judged intervals meet it."
        )
    out.append(
        f"planning seeds {seed_list(plan.planning_seeds)}: {len(plan.rounds)} rounds from the "
        f"{plan.erlang.name} ({plan.erlang.roster.seat_hours:,.1f} seat-hours)."
    )
    out += plan.notes
    if not plan.reached:
        last = plan.rounds[-1] if plan.rounds else None
        out.append(
            f"NOT REACHED: no roster met the target on the planning seeds within "
            f"{len(plan.rounds)} rounds (closest: {pct(last.share if last else None)}); the "
            "roster below is the closest. More --max-rounds may help, or the site's shifts "
            "and skills cannot meet this target."
        )
    out += ["", "Roster"]
    out += align(ROSTER_HEADERS, _roster_rows(plan.planned.roster), text=(0, 1, 2))
    out += ["", "Check", plan.planned.check.statement]
    out += ["", f"Against per-interval {plan.model} staffing (the check on the same fresh seeds)"]
    out += align(COMPARE_HEADERS, _compare_rows(plan), text=(0, 4))
    out += [verdict(plan)]
    out += [
        "",
        "Marginal value: answered calls gained by one more agent in a shift, of the calls that "
        "joined in its hours and the hour after",
        f"(mean over the {len(plan.check_seeds)} check seeds, each paired with the roster's own "
        "day; ± one standard error)",
    ]
    out += align(MARGINAL_HEADERS, _marginal_rows(plan), text=(0, 1, 2, 9))
    out.append(answer_line(plan))
    return "\n".join(out)


def answer_line(plan: Plan) -> str:
    """Where one more agent answers calls and where none, at the roster as configured
    and at the plan: the council's question, why ten more agents did not raise the
    answered calls. A gain within two standard errors of zero is called chance."""
    parts = []
    for name, marginal, check in (
        ("As configured", plan.marginal_configured, plan.configured.check),
        ("With the planned roster", plan.marginal, plan.planned.check),
    ):
        if not marginal:
            continue
        ranked = sorted(marginal, key=lambda m: -m.per_seat_hour)
        real = [m for m in ranked if m.gain > 0.5 and (m.stderr is None or m.gain > 2 * m.stderr)]
        nothing = [m for m in ranked if m.note]
        chance = [m for m in ranked if m not in real and not m.note]
        text = f"{name} (answer rate {pct(check.answer_rate)} on the check seeds)"
        if real:
            text += ", one more agent answers " + ", ".join(
                f"{m.gain:+,.1f} calls in {m.shift}/{m.pool} ({m.per_seat_hour:+,.2f} a "
                "seat-hour)"
                for m in real
            )
        else:
            text += ", no shift gains more than chance from one more agent"
        if real and chance:
            text += "; no more than chance in " + ", ".join(f"{m.shift}/{m.pool}" for m in chance)
        if nothing:
            text += "; nothing in " + ", ".join(f"{m.shift}/{m.pool} ({m.note})" for m in nothing)
        parts.append(text + ".")
    return " ".join(parts)


# ---------------------------------------------------------------- HTML


def _need_chart(plan: Plan) -> str:
    ivs = plan.intervals
    starts = [iv.start for iv in ivs]
    step = 1440 // len(ivs) if ivs else 15
    need: list[float | None] = [float(iv.erlang_need) for iv in ivs]
    planned: list[float | None] = [iv.planned_staffed for iv in ivs]
    erlang: list[float | None] = [iv.erlang_staffed for iv in ivs]
    configured: list[float | None] = [iv.configured_staffed for iv in ivs]
    chart = Chart(
        starts,
        max_of(need, planned, erlang, configured),
        title="Need against agents in service",
        y_label="agents",
        legend=[
            Key("planned roster, in service", GREEN),
            Key(f"per-interval {plan.model} need", VERMILLION, "line", 2.5),
            Key(f"{plan.erlang.name}, in service", BLUE, "line", 2.0),
            Key("configured, in service", MUTED, "dash", 1.5),
        ],
        step_minutes=step,
    )
    chart.bars(planned, GREEN)
    chart.line(need, VERMILLION, 2.5, step=True)
    chart.line(erlang, BLUE, 2.0, step=True)
    chart.line(configured, MUTED, 1.5, dash="5 4", step=True)
    chart.tooltips(
        [
            f"{iv.start}: {iv.calls:,.0f} calls; need {iv.erlang_need}; planned "
            f"{iv.planned_staffed:,.0f}, {plan.erlang.name} {iv.erlang_staffed:,.0f}, configured "
            f"{iv.configured_staffed:,.0f}; target met on {iv.check_met} of {iv.check_judged} "
            "judged check seeds"
            for iv in ivs
        ]
    )
    missed = [iv.start for iv in ivs if iv.check_judged and iv.check_met < iv.check_judged]
    caption = (
        f"Bars: agents in service by the planned roster (on duty, within the pools' caps). "
        f"Red: the agents per-interval {escape(plan.model)} asks for, all the interval's calls as "
        f"one queue at their mean handle time. Blue: the {escape(plan.erlang.name)} (that need "
        "covered by the site's shifts at the fewest seat-hours); grey: the site as configured."
    )
    if missed:
        caption += (
            f" Intervals that missed the target on at least one check seed: "
            f"{escape(', '.join(missed))}."
        )
    return figure(chart, caption)


def _check_table(plan: Plan, rc: RosterCheck) -> str:
    c = rc.check
    if plan.target.per == "interval":
        headers = ["seed", "judged intervals", "met", "share"]
        rows = [[str(s.seed), f"{s.judged:,}", f"{s.met:,}", pct(s.share)] for s in c.per_seed]
        rows.append(["ALL", f"{c.judged:,}", f"{c.met:,}", pct(c.share)])
    else:
        headers = ["seed", f"day's {plan.target.figure_name()}", "met"]
        rows = [
            [str(s.seed), pct(s.day_figure), "yes" if s.day_met else "no"] for s in c.per_seed
        ]
        rows.append(["ALL", pct(c.share), f"{c.seeds_meeting}/{len(c.seeds)}"])
    return table(headers, rows, total=len(rows) - 1)


def _rounds_table(plan: Plan) -> str:
    rows = [
        [
            str(r.round),
            _hours(r.seat_hours),
            pct(r.share),
            "yes" if r.holds else "no",
            "; ".join(r.added) or "-",
            ", ".join(r.removed) or "-",
            ", ".join(r.undone) or "-",
        ]
        for r in plan.rounds
    ]
    return table(
        ["round", "seat-hours", "met", "holds", "added", "removed", "undone"],
        rows,
        text=(4, 5, 6),
    )


def render_html(plan: Plan) -> str:
    """The plan as one self-contained HTML page."""
    p = plan
    check = p.planned.check
    planned_hours = p.planned.roster.seat_hours
    erlang_hours = p.erlang.roster.seat_hours
    saving = (erlang_hours - planned_hours) / erlang_hours if erlang_hours else 0.0
    tiles = [
        tile(
            "planned seat-hours",
            f"{planned_hours:,.0f}",
            f"{p.planned.roster.head_count:,} agents",
            "good" if p.reached else "bad",
        ),
        tile(
            p.erlang.name,
            f"{erlang_hours:,.0f}",
            f"{saving:+.1%} saved by the plan",
            "good" if saving >= 0 else "warn",
        ),
        tile(
            "check share" if p.target.per == "interval" else "check: days met",
            pct(check.share) if p.target.per == "interval" else
            f"{check.seeds_meeting}/{len(check.seeds)}",
            f"{len(check.seeds)} fresh seeds",
            "good" if check.holds else "bad",
        ),
        tile(
            "configured seat-hours",
            f"{p.configured.roster.seat_hours:,.0f}",
            f"{p.configured.roster.head_count:,} agents",
        ),
    ]
    roster_rows = _roster_rows(p.planned.roster)
    marginal_rows = _marginal_rows(p)
    compare_rows = _compare_rows(p)
    group_rows = [
        [r.shift, r.pool, g.first_id, g.skills, f"{g.configured:,}", f"{g.head_count:,}"]
        for r in p.planned.roster.rows
        for g in r.groups
    ]
    notes = "".join(f"<li>{escape(n)}</li>" for n in p.notes)
    parts = [
        *page_head(f'Staffing plan {p.date}: {p.config}, {p.curve}'),
        "<body><main>",
        "<header>",
        f"<h1>Staffing plan, {escape(p.weekday)} {escape(p.date)}</h1>",
        f'<p class="meta">configuration <b>{escape(p.config)}</b> · curve '
        f"<b>{escape(p.curve)}</b> · target <b>{escape(p.target.text)}</b> per "
        f"<b>{escape(p.target.per)}</b> · planning seeds "
        f"<b>{escape(seed_list(p.planning_seeds))}</b> · check seeds "
        f"<b>{escape(seed_list(p.check_seeds))}</b></p>",
        f'<p class="meta">Target: {escape(p.target_text)}.'
        + (
            f" Intervals with fewer than {p.min_calls} offered calls on a seed are not judged on"
            f" that seed; the target holds when at least {p.required_share:.0%} of the judged "
            "intervals meet it."
            if p.target.per == "interval"
            else ""
        )
        + "</p>",
        ""
        if p.reached
        else '<div class="alert"><h2>Target not reached</h2><p>No roster met the target on '
        f"the planning seeds within {len(p.rounds)} rounds; the roster shown is the closest."
        "</p></div>",
        '<div class="tiles">' + "".join(tiles) + "</div>",
        f"<p>{escape(verdict(p))}</p>",
        f"<ul class=\"note\">{notes}</ul>" if notes else "",
        "</header>",
        "<section>",
        "<h2>Roster</h2>",
        table(ROSTER_HEADERS, roster_rows, total=len(roster_rows) - 1, text=(0, 1, 2)),
        '<p class="note">Seat-hours: head-count times hours on duty on the planned day; agents '
        "on standby over a pool's cap count, they are paid. A shift's head-count is shared "
        "among its groups (below).</p>",
        _need_chart(p),
        "<h2>Check on fresh seeds</h2>",
        f"<p>{escape(check.statement)}</p>",
        _check_table(p, p.planned),
        f"<h2>Against per-interval {escape(p.model)} staffing</h2>",
        table(COMPARE_HEADERS, compare_rows, text=(0, 4)),
        f'<p class="note">The {escape(p.erlang.name)} is what a workforce tool schedules: per '
        f"interval, the agents {escape(p.model)} asks for with the interval's calls (all queues as "
        "one, at their mean handle time), covered by the site's shifts at the fewest "
        "seat-hours. It and the configured roster are checked on the same fresh seeds as the "
        "plan.</p>",
        "<h2>Marginal value of one more agent</h2>",
        table(MARGINAL_HEADERS, marginal_rows, text=(0, 1, 2, 9)),
        f'<p class="note">Answered calls with one more agent in the shift (its largest group) '
        "less without, of the calls that joined a queue in the shift's hours and the hour "
        f"after, replayed on the {len(p.check_seeds)} check seeds, each paired with the "
        "roster's own day on the same seed (the day takes another course once the agent logs "
        "in: the other hours would add only noise); ± one standard error.</p>",
        f"<p>{escape(answer_line(p))}</p>",
        "<h2>Groups</h2>",
        table(
            ["shift", "pool", "first agent", "skills", "configured", "planned"],
            group_rows,
            text=(0, 1, 2, 3),
        ),
        "<h2>Rounds</h2>",
        _rounds_table(p),
        "</section>",
        "<footer>",
        f"<p>Run: {p.run.wall_seconds:,.1f} s wall clock, {p.run.replays:,} replayed days on "
        f"{p.run.jobs} process{'es' if p.run.jobs != 1 else ''}.</p>",
        "<p>Method: planner/plan.py. Every figure outside “run” is reproducible from the "
        "configuration, the curve, the target and the seeds.</p>",
        "</footer>",
        "</main></body></html>",
        "",
    ]
    return "\n".join(parts)
