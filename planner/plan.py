"""`acd plan`: the fewest seat-hours of the site's shifts that meet a target, found
from Erlang C and corrected by replaying the day.

Method
------
1. **Arrivals and handle times from the replay.** The site as configured is replayed
   on the planning seeds (`softphone_sim.replay.replay`, on every core:
   `planner.runner`): per interval, the calls that joined each queue (redials
   included), and per queue the handle time (talk plus after-call work, as the
   replay draws them by branch and queue) plus the agent's time to answer the ring
   (the replay holds the agent while it rings); means over the seeds.
2. **Per-interval Erlang C** (`softphone_sim.erlang`): for each interval, all its
   calls as one queue (every agent able to take every call: the fewest agents Erlang
   C can ask for) at their mean seat time; the agents needed for the target. An
   answer-rate target needs abandonment, so Erlang A with the callers' mean patience
   stands in for it there. This is what workforce tools do, interval by interval.
3. **Covering.** That need is covered with the fewest seat-hours of the site's shifts
   (`planner.covering`, an exact integer program): shifts on duty at the same hours
   of the planned day are one pattern, and its head-count is shared among its groups
   (pool and skills, `planner.roster`) in the configured proportions, within each
   pool's cap (`size_by_distancing_level` and the surge stages). This is the
   Erlang C roster.
4. **Correction by replaying**, round by round on the planning seeds. An interval is
   judged on a seed when at least `min_calls` calls were offered in it. A judged
   interval that misses the target gets one more agent in the cheapest shift (fewest
   seat-hours) covering it, of the group whose skills serve the queues that fell
   short most (only while the target does not hold); a shift whose intervals all meet
   the target on every seed loses one agent (from the group furthest above its
   configured share). A cut is undone when the next round no longer holds with a
   judged miss in its hours, or when an interval in its hours too small to judge
   misses (so that night shifts are not cut to nothing); a group whose cut alone was
   undone is not cut again, and after several undone at once the shifts cut in one
   round do not overlap (so that the next miss has one to blame). The target holds
   when at least `REQUIRED_SHARE` of the judged intervals of all planning seeds meet
   it (per day: the day's figure on every planning seed), and each queue's calls over
   the day meet it too: no small queue (a language, a specialist skill) sinks unseen
   under the others in the totals. A queue short over the day gets agents where it
   fell shortest, and its groups are not cut.
   Rounds go on until nothing changes, or `max_rounds`; the plan is the roster with
   the fewest seat-hours that held.
5. **Check** on fresh seeds (not used in planning): the share of judged intervals
   meeting the target per seed and overall, and a one-sided 95 % lower confidence
   bound of the mean share over seeds (Student t: seeds are independent days, the
   intervals of one day are not). The Erlang C roster and the configured one are
   checked on the same seeds.
6. **Marginal value** of each shift (pool and shift): one more agent in it (its
   largest group), replayed on the check seeds against the roster on the same seeds:
   the answered calls gained among those that joined in its hours and the hour after
   (mean and standard error) and per seat-hour, for the plan and for the roster as
   configured. It says where an agent more answers calls and where it answers none
   (hours without calls, a pool at its cap).

Vendors are left as configured (seats, caps, hours): a plan changes agents only.
"""

from __future__ import annotations

import datetime
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import msgspec

from acd.config.schema import SiteConfig
from acd.planner.covering import Pattern, cover
from acd.planner.result import (
    Check,
    GroupRow,
    IntervalRow,
    Marginal,
    Plan,
    RosterCheck,
    RosterRow,
    RoundRow,
    RunInfo,
    SeedCheck,
)
from acd.planner.result import Roster as RosterOut
from acd.planner.roster import (
    ALL_DAY,
    Group,
    coverage,
    groups_of,
    on_duty_minutes,
    pool_caps,
    windows_text,
    with_counts,
)
from acd.planner.runner import Replayed, Runner
from acd.planner.target import ZERO, Target
from acd.planner.text import pct, seed_list
from acd.softphone_sim.bound import mean_patience
from acd.softphone_sim.curves import Curve
from acd.softphone_sim.erlang import Target as ErlangTarget
from acd.softphone_sim.erlang import Traffic, agents_needed
from acd.softphone_sim.people import day_start

REQUIRED_SHARE = 0.95
"""Per interval: the share of judged intervals that must meet the target."""
MIN_CALLS = 10
"""Default: an interval with fewer offered calls on a seed is not judged on that seed.
With a handful of calls one late answer moves the figure by 10-20 points: the
interval says more about chance than about staffing."""
MAX_ROUNDS = 60
"""Default bound on the correction rounds."""

_T95 = (6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812,
        1.796, 1.782, 1.771, 1.761, 1.753, 1.746, 1.740, 1.734, 1.729, 1.725,
        1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701, 1.699, 1.697)  # fmt: skip
"""Student t, one-sided 95 %, for 1 to 30 degrees of freedom (1.645 beyond)."""


@dataclass(frozen=True)
class Slot:
    """One shift of one pool: the groups it holds and its hours on the planned day."""

    pool: str
    shift: str | None
    groups: tuple[int, ...]
    coverage: tuple[float, ...]
    hours: float
    windows: str

    @property
    def name(self) -> str:
        return f"{self.shift or ALL_DAY}/{self.pool}"


@dataclass
class Judgement:
    """A roster's days on some seeds, judged interval by interval."""

    judged: int
    met: int
    holds: bool
    missed: list[bool]
    """Judged and missed on some seed."""
    slack: list[bool]
    """Met (or nothing to judge) on every seed."""
    small_missed: list[bool]
    """Too few calls to judge, and missed on some seed."""
    failing: set[str]
    """Queues whose calls over the day, all seeds together, missed the target."""

    @property
    def share(self) -> float | None:
        return self.met / self.judged if self.judged else None


@dataclass
class Planner:
    """One plan's inputs and what it derives from them before the rounds."""

    site: SiteConfig
    curve: Curve
    target: Target
    seeds: tuple[int, ...]
    check_seeds: tuple[int, ...]
    min_calls: int = MIN_CALLS
    max_rounds: int = MAX_ROUNDS
    progress: Callable[[str], None] = lambda line: None
    groups: list[Group] = field(init=False)
    slots: list[Slot] = field(init=False)
    off_today: list[Slot] = field(init=False)
    slot_of: dict[int, Slot] = field(init=False)
    n: int = field(init=False)
    interval_seconds: float = field(init=False)

    def __post_init__(self) -> None:
        self.user_default = self.site.site.service_level_seconds
        self.user_queues = dict(self.site.queues)
        self.site = measuring_site(self.site, self.target)
        self.groups = groups_of(self.site)
        step = self.site.site.interval_minutes
        self.n = 1440 // step
        self.interval_seconds = step * 60.0
        start = day_start(self.site)
        by_key: dict[tuple[str, str | None], list[int]] = {}
        for g in self.groups:
            by_key.setdefault((g.pool, g.shift), []).append(g.index)
        minutes = {s: on_duty_minutes(self.site, s, start) for _, s in by_key}
        slots = [
            Slot(
                pool,
                shift,
                tuple(members),
                coverage(minutes[shift], step),
                sum(minutes[shift]) / 60.0,
                windows_text(minutes[shift]),
            )
            for (pool, shift), members in by_key.items()
        ]
        self.slots = [s for s in slots if s.hours > 0]
        self.off_today = [s for s in slots if s.hours == 0]
        self.slot_of = {g: s for s in slots for g in s.groups}
        self.configured = tuple(g.configured for g in self.groups)
        self.caps: dict[str, list[int | None]] = {}
        self.serves = {
            (g.index, q): self.eligible(g, q) for g in self.groups for q in self.site.queues
        }

    # ------------------------------------------------------------------ rosters

    def build(self, counts: Sequence[int]) -> Callable[[], SiteConfig]:
        return lambda: with_counts(self.site, self.groups, counts)

    def seat_hours(self, counts: Sequence[int]) -> float:
        return math.fsum(counts[g] * self.slot_of[g].hours for g in range(len(self.groups)))

    def on_duty(self, counts: Sequence[int]) -> dict[str, list[float]]:
        """Per pool and interval, agents on duty (logged in) by the roster."""
        duty = {name: [0.0] * self.n for name in self.site.pools}
        for slot in self.slots:
            heads = sum(counts[g] for g in slot.groups)
            if heads:
                row = duty[slot.pool]
                for i, share in enumerate(slot.coverage):
                    row[i] += heads * share
        return duty

    def in_service(self, counts: Sequence[int]) -> list[float]:
        """Per interval, agents in service by the roster: on duty, within pool caps."""
        duty = self.on_duty(counts)
        total = [0.0] * self.n
        for pool, row in duty.items():
            caps = self.caps.get(pool) or [None] * self.n
            for i, heads in enumerate(row):
                cap = caps[i]
                total[i] += heads if cap is None else min(heads, float(cap))
        return total

    def roster(self, counts: Sequence[int]) -> RosterOut:
        rows = []
        for slot in self.slots:
            heads = sum(counts[g] for g in slot.groups)
            rows.append(
                RosterRow(
                    shift=slot.shift or ALL_DAY,
                    hours=slot.windows,
                    hours_on_duty=slot.hours,
                    pool=slot.pool,
                    head_count=heads,
                    configured=sum(self.groups[g].configured for g in slot.groups),
                    seat_hours=heads * slot.hours,
                    groups=[
                        GroupRow(
                            first_id=self.groups[g].first_id,
                            skills=", ".join(f"{s} {lv}" for s, lv in self.groups[g].skills),
                            configured=self.groups[g].configured,
                            head_count=counts[g],
                        )
                        for g in slot.groups
                    ],
                )
            )
        return RosterOut(
            rows=rows,
            head_count=sum(r.head_count for r in rows),
            seat_hours=self.seat_hours(counts),
        )

    # ------------------------------------------------------------------ judging

    def judge(self, days: Sequence[Replayed]) -> Judgement:
        t = self.target
        judged = met = 0
        missed = [False] * self.n
        slack = [True] * self.n
        small = [False] * self.n
        for day in days:
            for i, iv in enumerate(day.intervals[: self.n]):
                ok = t.met(iv.total)
                if ok is False:
                    slack[i] = False
                if ok is not None and iv.total.offered >= self.min_calls:
                    judged += 1
                    met += ok
                    missed[i] |= not ok
                elif ok is False:
                    small[i] = True
        if t.per == "interval":
            holds = judged == 0 or met >= REQUIRED_SHARE * judged - 1e-9
        else:
            holds = all(t.met(day.total) is not False for day in days)
        failing = {q for q, f in self.queue_figures(days).items() if f is not None and f < t.share}
        return Judgement(judged, met, holds and not failing, missed, slack, small, failing)

    def queue_figures(self, days: Sequence[Replayed]) -> dict[str, float | None]:
        """Each queue's figure over the days' calls together (None: fewer than
        `min_calls` offered in all, too few to judge). No queue is left behind: a
        roster holds only where every judged queue meets the target over the day,
        so that a small queue (a language, a specialist skill) cannot sink unseen
        under the others in the interval totals."""
        found: dict[str, float | None] = {}
        for q in self.site.queues:
            total = ZERO
            for day in days:
                for iv in day.intervals:
                    c = iv.queues.get(q)
                    if c is not None:
                        total = total + c
            judged = total.offered >= max(self.min_calls, 1)
            found[q] = self.target.fraction(total) if judged else None
        return found

    def check(self, days: Sequence[Replayed]) -> Check:
        """The roster's days on the check seeds, and what they say with what confidence."""
        t = self.target
        per_seed = []
        for day in days:
            j = self.judge([day])
            per_seed.append(
                SeedCheck(
                    seed=day.seed,
                    judged=j.judged,
                    met=j.met,
                    share=j.share,
                    day_figure=t.fraction(day.total),
                    day_met=t.met(day.total) is not False,
                )
            )
        judged = sum(s.judged for s in per_seed)
        met = sum(s.met for s in per_seed)
        share = met / judged if judged else None
        if t.per == "interval":
            values = [s.share for s in per_seed if s.share is not None]
            meeting = sum(1 for s in per_seed if s.share is None or s.share >= REQUIRED_SHARE)
            holds = share is None or share >= REQUIRED_SHARE
        else:
            values = [s.day_figure for s in per_seed if s.day_figure is not None]
            meeting = sum(1 for s in per_seed if s.day_met)
            holds = meeting == len(per_seed)
        mean = statistics.fmean(values) if values else None
        bound = None
        if len(values) > 1 and mean is not None:
            dof = len(values) - 1
            tq = _T95[dof - 1] if dof <= len(_T95) else 1.645
            bound = mean - tq * statistics.stdev(values) / math.sqrt(len(values))
        offered = sum(d.total.offered for d in days)
        queues = self.queue_figures(days)
        short = [q for q, f in queues.items() if f is not None and f < t.share]
        check = Check(
            seeds=[d.seed for d in days],
            answer_rate=sum(d.total.answered for d in days) / offered if offered else None,
            per_seed=per_seed,
            judged=judged,
            met=met,
            share=share,
            mean_share=mean if t.per == "interval" else share,
            lower_bound=bound,
            seeds_meeting=meeting,
            holds=holds and not short,
            queues=queues,
            queues_short=short,
            statement="",
        )
        check.statement = self.statement(check)
        return check

    def statement(self, c: Check) -> str:
        seeds = _seed_span(c.seeds)
        n = len(c.seeds)
        if self.target.per == "interval":
            shares = [s.share for s in c.per_seed if s.share is not None]
            spread = (
                f" (per seed {pct(min(shares))} to {pct(max(shares))})" if len(shares) > 1 else ""
            )
            text = (
                f"On {n} fresh seed{'s' if n != 1 else ''} ({seeds}, not used in planning) the "
                f"target was met in {pct(c.share)} of the {c.judged:,} judged intervals"
                f"{spread}; {c.seeds_meeting} of {n} seed{'s' if n != 1 else ''} at or above "
                f"{REQUIRED_SHARE:.0%}."
            )
            if c.lower_bound is not None:
                text += (
                    f" With 95 % confidence the mean share of intervals meeting the target is at "
                    f"least {pct(c.lower_bound)} (one-sided Student t over the {n} seeds, "
                    "independent days; intervals within a day are not independent)."
                )
            else:
                text += " One seed gives no confidence bound."
            return text + self._queues_sentence(c)
        figures = [s.day_figure for s in c.per_seed if s.day_figure is not None]
        text = (
            f"On {n} fresh seed{'s' if n != 1 else ''} ({seeds}, not used in planning) the "
            f"day's {self.target.figure_name()} was "
            + ", ".join(pct(f) for f in figures)
            + f"; the target met on {c.seeds_meeting} of {n}."
        )
        if c.lower_bound is not None:
            text += (
                f" With 95 % confidence the mean day figure is at least {pct(c.lower_bound)}"
                f" (one-sided Student t over the {n} seeds)."
            )
        return text + self._queues_sentence(c)

    def _queues_sentence(self, c: Check) -> str:
        judged = {q: f for q, f in c.queues.items() if f is not None}
        if not judged:
            return ""
        if not c.queues_short:
            worst = min(judged, key=lambda q: judged[q] or 0.0)
            return (
                f" Every queue's calls over the day met the target (the lowest: {worst} "
                f"{pct(judged[worst])})."
            )
        return " Over the day, short of the target: " + ", ".join(
            f"{q} {pct(judged[q])}" for q in c.queues_short
        ) + "."

    # ------------------------------------------------------------------ the start

    def erlang_need(
        self, baseline: Sequence[Replayed]
    ) -> tuple[list[int], list[float], list[float | None], str]:
        """Per interval: agents needed (per-interval Erlang C, or Erlang A for an
        answer rate), mean calls, mean seat time per call; and the model's name."""
        sim = self.site.simulation
        assert sim is not None
        ring = (sim.agents.answer_min_seconds + sim.agents.answer_max_seconds) / 2
        aht: dict[str, float] = {}
        for q in self.site.queues:
            found = [d.aht[q] for d in baseline if q in d.aht]
            if found:
                aht[q] = statistics.fmean(found)
        fallback = statistics.fmean(aht.values()) if aht else 180.0
        t = self.target
        patience: float | None = None
        if t.kind == "answered":
            patience = mean_patience(sim.patience)
            goal = ErlangTarget(min_answer_rate=t.share)
            model = f"Erlang A (mean patience {patience:.0f} s)"
        else:
            within = t.within_seconds or self.site.site.service_level_seconds
            goal = ErlangTarget(service_level=t.share, within_seconds=within)
            model = "Erlang C"
        seeds = len(baseline)
        need: list[int] = []
        calls: list[float] = []
        seat: list[float | None] = []
        for i in range(self.n):
            by_queue: dict[str, float] = {}
            for d in baseline:
                for q, c in d.intervals[i].queues.items():
                    by_queue[q] = by_queue.get(q, 0.0) + c.calls / seeds
            total = sum(by_queue.values())
            calls.append(total)
            if total <= 0:
                need.append(0)
                seat.append(None)
                continue
            seconds = sum(c * (aht.get(q, fallback) + ring) for q, c in by_queue.items()) / total
            seat.append(seconds)
            traffic = Traffic(total / self.interval_seconds, seconds, patience)
            need.append(agents_needed(traffic, goal).agents)
        return need, calls, seat, model

    def covering(self, need: Sequence[int]) -> list[int]:
        """The need covered by the site's shifts at the fewest seat-hours, split among
        each pattern's groups; groups off duty on the day keep their configured count."""
        patterns: dict[tuple[float, ...], list[Slot]] = {}
        for slot in self.slots:
            patterns.setdefault(slot.coverage, []).append(slot)
        keys = list(patterns)
        room: dict[tuple[float, ...], dict[str, float]] = {}
        for key in keys:
            room[key] = {}
            for slot in patterns[key]:
                caps = self.caps.get(slot.pool) or [None] * self.n
                on = [caps[i] for i, a in enumerate(key) if a > 0]
                bounded = [c for c in on if c is not None]
                room[key][slot.pool] = (
                    math.inf if len(bounded) < len(on) or not on else float(min(bounded))
                )
        uppers = [sum(room[k].values()) for k in keys]
        found = cover(
            [float(v) for v in need],
            [
                Pattern(
                    cost=patterns[k][0].hours,
                    coverage=k,
                    upper=None if u == math.inf else int(u),
                )
                for k, u in zip(keys, uppers, strict=True)
            ],
        )
        counts = list(self.configured)
        for key, heads in zip(keys, found.counts, strict=True):
            members = [
                g for slot in patterns[key] if room[key][slot.pool] > 0 for g in slot.groups
            ]
            for g in (g for slot in patterns[key] for g in slot.groups):
                counts[g] = 0
            for g, share in _apportion(heads, [self.groups[g].configured for g in members]):
                counts[members[g]] = share
        self._fit_caps(counts)
        return counts

    def _fit_caps(self, counts: list[int]) -> None:
        """Move agents a pool's cap would put on standby to other pools of the same
        hours (or drop them when there are none)."""
        for _ in range(10_000):
            duty = self.on_duty(counts)
            over = None
            for pool, row in duty.items():
                caps = self.caps.get(pool) or [None] * self.n
                for i, heads in enumerate(row):
                    cap = caps[i]
                    if cap is not None and heads > cap + 1e-9:
                        over = (pool, i)
                        break
                if over:
                    break
            if over is None:
                return
            pool, i = over
            slot = max(
                (s for s in self.slots if s.pool == pool and s.coverage[i] > 0
                 and any(counts[g] for g in s.groups)),
                key=lambda s: sum(counts[g] for g in s.groups),
            )  # fmt: skip
            g = max(slot.groups, key=lambda g: (counts[g], g))
            counts[g] -= 1
            others = [
                h
                for s in self.slots
                if s.coverage == slot.coverage and s.pool != pool
                and (self.caps.get(s.pool) or [None] * self.n)[i] is None
                for h in s.groups
            ]  # fmt: skip
            if others:
                counts[max(others, key=lambda h: (self.groups[h].configured, -h))] += 1

    # ------------------------------------------------------------------ corrections

    def eligible(self, group: Group, queue: str) -> bool:
        """Whether the group's agents may take calls of `queue` before the target's
        wait is up (a service-level target: T; an answer rate: any relaxation)."""
        q = self.site.queues[queue]
        wait = math.inf
        if self.target.kind == "sl":
            wait = (
                self.target.within_seconds
                or q.service_level_seconds
                or self.site.site.service_level_seconds
            )
        pools = set(q.pools)
        level = q.min_level
        for step in q.relax:
            if step.after_seconds <= wait:
                pools.update(step.pools)
                if step.min_level is not None:
                    level = step.min_level
        return group.pool in pools and group.skill_levels.get(q.skill, 0) >= level

    def additions(
        self, days: Sequence[Replayed], j: Judgement, counts: list[int], handled: set[int]
    ) -> list[tuple[int, str]]:
        """One agent more per interval that missed, or in which a queue that missed over
        the day fell short (by shortfall, the largest first), in the cheapest shift
        covering it, of the group that serves the most of what fell short; intervals a
        chosen shift covers, for the queues its group serves, are then handled.
        Changes `counts`; returns (group, why) for each agent added."""
        t = self.target
        short: dict[tuple[int, str], float] = {}
        for i in range(self.n):
            if i in handled:
                continue
            for day in days:
                for q, c in day.intervals[i].queues.items():
                    if not (j.missed[i] or q in j.failing):
                        continue
                    s = t.short(c)
                    if s > 0:
                        short[(i, q)] = short.get((i, q), 0.0) + s
        added: list[tuple[int, str]] = []
        done: set[tuple[int, str]] = set()
        serves = self.serves
        for (i, q), _s in sorted(short.items(), key=lambda kv: (-kv[1], kv[0])):
            if (i, q) in done:
                continue
            duty = self.on_duty(counts)
            candidates = []
            for g in self.groups:
                slot = self.slot_of[g.index]
                if slot.hours == 0 or slot.coverage[i] <= 0 or not serves[(g.index, q)]:
                    continue
                cap = (self.caps.get(g.pool) or [None] * self.n)[i]
                if cap is not None and duty[g.pool][i] + 1 > cap + 1e-9:
                    continue  # the pool is full then: the agent would stand by
                served = sum(
                    v for (i2, q2), v in short.items()
                    if (i2, q2) not in done and slot.coverage[i2] > 0 and serves[(g.index, q2)]
                )  # fmt: skip
                candidates.append((slot.hours, -served, g.index))
            if not candidates:
                continue
            _, _, chosen = min(candidates)
            counts[chosen] += 1
            slot = self.slot_of[chosen]
            added.append((chosen, f"{slot.name} for {q} at {_start(i, self.interval_seconds)}"))
            done |= {
                (i2, q2) for (i2, q2) in short if slot.coverage[i2] > 0 and serves[(chosen, q2)]
            }
        return added

    def removals(
        self,
        days: Sequence[Replayed],
        j: Judgement,
        counts: list[int],
        tabu: set[int],
        touched: set[str],
        apart: bool = False,
    ) -> dict[str, int]:
        """One agent fewer in each shift with slack (not cut before and undone, nor added
        to this round), from its group furthest above its configured share; with
        `apart`, only in shifts whose hours do not overlap, those with the most slack
        first (so that a miss after the cut has one shift to blame). Per interval, a
        shift has slack when every interval in its hours met the target on every seed;
        per day, when the calls of its hours together did. Its slack is the least
        margin over the target there. A group whose cut was undone, or that serves a
        queue short of the target over the day, loses none. Changes `counts`; returns
        slot -> group."""
        found: list[tuple[float, int, Slot]] = []
        for order, slot in enumerate(self.slots):
            if slot.name in touched or not self._cuttable(slot, counts, j, tabu):
                continue
            hours_on = [i for i, a in enumerate(slot.coverage) if a > 0]
            if self.target.per == "interval":
                if not all(j.slack[i] for i in hours_on):
                    continue
                figures = [
                    self.target.fraction(day.intervals[i].total) for day in days for i in hours_on
                ]
            else:
                figures = [
                    self.target.fraction(sum((day.intervals[i].total for i in hours_on), ZERO))
                    for day in days
                ]
            margins = [f - self.target.share for f in figures if f is not None]
            margin = min(margins) if margins else math.inf
            if margin >= -1e-12:
                found.append((margin, -order, slot))
        removed: dict[str, int] = {}
        taken: list[Slot] = []
        for _, _, slot in sorted(found, key=lambda f: (f[0], f[1]), reverse=True):
            if apart and any(_overlap(slot, other) for other in taken):
                continue
            taken.append(slot)
            members = self._cuttable(slot, counts, j, tabu)
            g = max(members, key=lambda g: (counts[g] / self.groups[g].configured, g))
            counts[g] -= 1
            removed[slot.name] = g
        return removed

    def _cuttable(
        self, slot: Slot, counts: Sequence[int], j: Judgement, tabu: set[int]
    ) -> list[int]:
        """The slot's groups that may lose an agent."""
        return [
            g for g in slot.groups
            if counts[g] > 0 and g not in tabu
            and not any(self.serves[(g, q)] for q in j.failing)
        ]  # fmt: skip

    # ------------------------------------------------------------------ the whole plan

    def run(self, runner: Runner, config_name: str = "") -> Plan:
        started = time.perf_counter()
        configured = self.configured
        baseline = runner.days([(configured, self.build(configured))], self.seeds)[configured]
        stages = [max(d.intervals[i].stage for d in baseline) for i in range(self.n)]
        self.caps = pool_caps(self.site, stages)
        need, calls, seat, model = self.erlang_need(baseline)
        erlang = tuple(self.covering(need))
        notes = self._notes()
        self.progress(
            f"per-interval {model}: {sum(need) * self.interval_seconds / 3600:,.0f} seat-hours of "
            f"need; covered by the shifts: {self.seat_hours(erlang):,.0f} seat-hours"
        )

        counts = list(erlang)
        tabu: set[int] = set()
        apart = False
        last_removed: dict[str, int] = {}
        rounds: list[RoundRow] = []
        best: tuple[float, tuple[int, ...]] | None = None
        closest: tuple[float, tuple[int, ...]] = (-1.0, erlang)
        for k in range(self.max_rounds):
            key = tuple(counts)
            days = runner.days([(key, self.build(key))], self.seeds)[key]
            j = self.judge(days)
            hours = self.seat_hours(key)
            if j.holds and (best is None or hours < best[0] - 1e-9):
                best = (hours, key)
            share = j.share if j.share is not None else 1.0
            if share > closest[0]:
                closest = (share, key)
            undone: list[str] = []
            blamed: list[int] = []
            handled: set[int] = set()
            for name, g in last_removed.items():
                slot = self.slot_of[g]
                hours_on = [i for i, a in enumerate(slot.coverage) if a > 0]
                broke = any(j.missed[i] for i in hours_on) or any(
                    self.serves[(g, q)] for q in j.failing
                )
                if (not j.holds and broke) or any(j.small_missed[i] for i in hours_on):
                    counts[g] += 1
                    undone.append(name)
                    blamed.append(g)
                    handled.update(hours_on)
            # One cut undone is to blame: its group is not cut again. Several undone at
            # once cannot be told apart: from now on shifts cut in one round do not overlap.
            if len(blamed) == 1:
                tabu.update(blamed)
            elif blamed:
                apart = True
            # A round that undid removals is back at (or near) a roster that held: it is
            # judged again before anything is added.
            added = self.additions(days, j, counts, handled) if not (j.holds or undone) else []
            touched = {self.slot_of[g].name for g, _ in added} | set(undone)
            removed = self.removals(days, j, counts, tabu, touched, apart=apart)
            rounds.append(
                RoundRow(
                    round=k,
                    seat_hours=hours,
                    share=j.share,
                    holds=j.holds,
                    added=[why for _, why in added],
                    removed=sorted(removed),
                    undone=undone,
                )
            )
            self.progress(
                f"round {k}: {hours:,.0f} seat-hours, target met in {pct(j.share)} of judged "
                f"intervals{' (holds)' if j.holds else ''}; +{len(added)} -{len(removed)}"
                + (f", {len(undone)} undone" if undone else "")
            )
            last_removed = removed
            if not added and not removed and not undone:
                break
        reached = best is not None
        final = best[1] if best is not None else closest[1]

        check_seeds = self.check_seeds
        trials = self._marginal_trials(final)
        trials_configured = self._marginal_trials(configured)
        everything = runner.days(
            [
                (final, self.build(final)),
                (erlang, self.build(erlang)),
                (configured, self.build(configured)),
                *((key, self.build(key)) for _, key in trials + trials_configured),
            ],
            check_seeds,
        )
        planned_days = everything[final]
        planned = RosterCheck(
            name="planned", roster=self.roster(final), check=self.check(planned_days)
        )
        erlang_check = RosterCheck(
            name="Erlang C roster" if model == "Erlang C" else "Erlang A roster",
            roster=self.roster(erlang),
            check=self.check(everything[erlang]),
        )
        configured_check = RosterCheck(
            name="configured",
            roster=self.roster(configured),
            check=self.check(everything[configured]),
        )
        marginal = [
            self._marginal(slot, final, planned_days, everything[key], calls)
            for slot, key in trials
        ]
        marginal_configured = [
            self._marginal(slot, configured, everything[configured], everything[key], calls)
            for slot, key in trials_configured
        ]
        planned_staffed = self.in_service(final)
        erlang_staffed = self.in_service(erlang)
        configured_staffed = self.in_service(configured)
        intervals = []
        for i in range(self.n):
            judged_on = [
                d for d in planned_days
                if d.intervals[i].total.offered >= self.min_calls
                and self.target.met(d.intervals[i].total) is not None
            ]  # fmt: skip
            intervals.append(
                IntervalRow(
                    start=_start(i, self.interval_seconds),
                    calls=round(calls[i], 3),
                    seat_seconds=None if seat[i] is None else round(seat[i] or 0.0, 1),
                    erlang_need=need[i],
                    erlang_staffed=round(erlang_staffed[i], 3),
                    planned_staffed=round(planned_staffed[i], 3),
                    configured_staffed=round(configured_staffed[i], 3),
                    check_met=sum(1 for d in judged_on if self.target.met(d.intervals[i].total)),
                    check_judged=len(judged_on),
                )
            )
        sim = self.site.simulation
        assert sim is not None
        date = datetime.date.fromisoformat(sim.date)
        return Plan(
            config=config_name,
            curve=self.curve.name,
            date=sim.date,
            weekday=date.strftime("%A"),
            target=self.target,
            target_text=self.target.describe(self._thresholds()),
            min_calls=self.min_calls,
            required_share=REQUIRED_SHARE,
            planning_seeds=list(self.seeds),
            check_seeds=list(check_seeds),
            model=model,
            erlang_need_seat_hours=sum(need) * self.interval_seconds / 3600,
            reached=reached,
            planned=planned,
            erlang=erlang_check,
            configured=configured_check,
            rounds=rounds,
            marginal=marginal,
            marginal_configured=marginal_configured,
            intervals=intervals,
            notes=notes,
            run=RunInfo(
                wall_seconds=round(time.perf_counter() - started, 1),
                replays=runner.replays,
                jobs=runner.jobs,
            ),
        )

    def _marginal_trials(self, final: tuple[int, ...]) -> list[tuple[Slot, tuple[int, ...]]]:
        trials = []
        for slot in self.slots:
            g = max(slot.groups, key=lambda g: (self.groups[g].configured, -g))
            more = list(final)
            more[g] += 1
            trials.append((slot, tuple(more)))
        return trials

    def _marginal(
        self,
        slot: Slot,
        final: tuple[int, ...],
        base: Sequence[Replayed],
        more: Sequence[Replayed],
        calls: Sequence[float],
    ) -> Marginal:
        hours_on = [i for i, a in enumerate(slot.coverage) if a > 0]
        # Counted over the calls that joined while the shift is on duty, and in the hour
        # after it (callers it leaves in line): the day diverges once the agent logs in,
        # and the hours it never works would add only noise to the difference.
        after = round(3600 / self.interval_seconds)
        window = sorted({k for i in hours_on for k in range(i, min(i + after + 1, self.n))})
        gains = [
            sum(m.intervals[i].total.answered - b.intervals[i].total.answered for i in window)
            for b, m in zip(base, more, strict=True)
        ]
        mean = statistics.fmean(gains)
        stderr = statistics.stdev(gains) / math.sqrt(len(gains)) if len(gains) > 1 else None
        caps = self.caps.get(slot.pool) or [None] * self.n
        duty = self.on_duty(final)[slot.pool]
        note = ""
        if all((c := caps[i]) is not None and duty[i] + 1 > c + 1e-9 for i in hours_on):
            c0 = min(c for i in hours_on if (c := caps[i]) is not None)
            note = (
                f"the {slot.pool} pool is at its cap ({c0} in service at distancing level "
                f"{self.site.site.distancing_level}) all through these hours: the agent stands by"
            )
        elif sum(calls[i] for i in hours_on) < 1:
            note = "no calls in these hours"
        g = max(slot.groups, key=lambda g: (self.groups[g].configured, -g))
        return Marginal(
            shift=slot.shift or ALL_DAY,
            pool=slot.pool,
            hours=slot.windows,
            hours_on_duty=slot.hours,
            group=self.groups[g].first_id,
            gain_per_seed=gains,
            gain=mean,
            stderr=stderr,
            per_seat_hour=mean / slot.hours,
            note=note,
        )

    def _thresholds(self) -> str:
        if self.target.kind != "sl":
            return ""
        own = {
            name: q.service_level_seconds
            for name, q in self.user_queues.items()
            if q.service_level_seconds is not None
        }
        if self.target.within_seconds is None:
            return ""
        if not own and self.user_default == self.target.within_seconds:
            return ""
        listed = ", ".join(f"{name} {v:g} s" for name, v in own.items())
        return (
            f"counted at {self.target.within_seconds:g} s for every queue (the site's own "
            f"thresholds: {self.user_default:g} s" + (f"; {listed}" if listed else "") + ")"
        )

    def _notes(self) -> list[str]:
        notes = []
        if self.off_today:
            sim = self.site.simulation
            assert sim is not None
            day = datetime.date.fromisoformat(sim.date).strftime("%a %Y-%m-%d")
            listed = ", ".join(
                f"{s.name} ({sum(self.groups[g].configured for g in s.groups)})"
                for s in self.off_today
            )
            notes.append(f"Not on duty on {day}, left as configured: {listed}.")
        for slot in self.slots:
            caps = self.caps.get(slot.pool) or [None] * self.n
            if all(caps[i] == 0 for i, a in enumerate(slot.coverage) if a > 0):
                notes.append(
                    f"{slot.name}: the {slot.pool} pool may have no agent in service at "
                    f"distancing level {self.site.site.distancing_level} and the day's surge "
                    "stages, so the plan gives this shift none (its agents would stand by)."
                )
        if self.site.vendors:
            listed = ", ".join(
                f"{name} ({v.max_concurrent} seats)" for name, v in self.site.vendors.items()
            )
            notes.append(f"Vendors left as configured: {listed}; the plan changes agents only.")
        return notes


def measuring_site(site: SiteConfig, target: Target) -> SiteConfig:
    """The site the plan replays: for a service-level target with its own T, every
    queue's threshold is T (the engine uses the thresholds only to count, never to
    route: engine/metrics.py), so the replay's service level is the target's."""
    planner_view = site
    if target.kind == "sl" and target.within_seconds is not None:
        planner_view = msgspec.structs.replace(
            site,
            site=msgspec.structs.replace(site.site, service_level_seconds=target.within_seconds),
            queues={
                name: msgspec.structs.replace(q, service_level_seconds=None)
                for name, q in site.queues.items()
            },
        )
    return planner_view


def _overlap(a: Slot, b: Slot) -> bool:
    return any(x > 0 and y > 0 for x, y in zip(a.coverage, b.coverage, strict=True))


def _apportion(total: int, weights: Sequence[int]) -> list[tuple[int, int]]:
    """`total` shared in proportion to `weights` (largest remainders, ties to the
    first): (index, share) for every weight."""
    if not weights:
        return []
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    shares = [math.floor(e) for e in exact]
    left = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda k: (-(exact[k] - shares[k]), k))
    for k in order[:left]:
        shares[k] += 1
    return list(enumerate(shares))


def _start(i: int, interval_seconds: float) -> str:
    minutes = int(i * interval_seconds // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _seed_span(seeds: Sequence[int]) -> str:
    return ("seed " if len(seeds) == 1 else "seeds ") + seed_list(seeds)
