"""The result of a plan: what `acd plan --json` writes and its report reads.

Everything outside `run` depends only on the configuration, the curve, the target and
the options (seeds, rounds, judging): two runs compare equal once `run` is removed.
"""

from __future__ import annotations

import msgspec

from acd.planner.target import Target


class GroupRow(msgspec.Struct, kw_only=True):
    """A group of alike agents (an `agent_groups` entry, or a run of alike agents)."""

    first_id: str
    """The id of its first configured agent: names the group in the configuration."""
    skills: str
    """"skill level, ..." as configured."""
    configured: int
    head_count: int


class RosterRow(msgspec.Struct, kw_only=True):
    """One shift of one pool: the plan's decision variable."""

    shift: str
    """The shift's key in `shifts:` ("(no shift)": on duty all day)."""
    hours: str
    """On duty on the planned day: "09:00-18:00" (two stretches for a shift across
    midnight: yesterday's runs into the day's first hours)."""
    hours_on_duty: float
    """Hours on duty on the planned day: what one agent costs in seat-hours."""
    pool: str
    head_count: int
    configured: int
    seat_hours: float
    groups: list[GroupRow]


class Roster(msgspec.Struct, kw_only=True):
    rows: list[RosterRow]
    head_count: int
    seat_hours: float
    """Head-count times hours on duty, summed: agents on standby (over a pool's cap)
    count, they are paid."""


class SeedCheck(msgspec.Struct, kw_only=True):
    seed: int
    judged: int
    """Intervals judged (enough calls offered)."""
    met: int
    """Of those, meeting the target."""
    share: float | None
    day_figure: float | None
    """The target's figure for the whole day."""
    day_met: bool


class Check(msgspec.Struct, kw_only=True):
    """A roster replayed on seeds not used to plan it."""

    seeds: list[int]
    answer_rate: float | None
    """The days' answered / offered, all seeds together."""
    per_seed: list[SeedCheck]
    judged: int
    met: int
    share: float | None
    """Met / judged over all the seeds' intervals."""
    mean_share: float | None
    """The mean of the per-seed shares."""
    lower_bound: float | None
    """One-sided 95 % lower confidence bound of the mean share (or, per day, of the
    mean day figure) over seeds (Student t; None with one seed)."""
    seeds_meeting: int
    """Seeds on which the target held (per interval: in at least the required share of
    judged intervals; per day: the day's figure)."""
    holds: bool
    """The check's verdict: per interval, `share` at least the required share; per day,
    the day's figure met on every seed; and no queue short over the day."""
    queues: dict[str, float | None]
    """Each queue's figure over the check seeds' calls together (None: too few calls)."""
    queues_short: list[str]
    """Queues whose figure over the day falls short of the target."""
    statement: str


class RosterCheck(msgspec.Struct, kw_only=True):
    name: str
    roster: Roster
    check: Check


class Marginal(msgspec.Struct, kw_only=True):
    """One more agent in one shift of one pool, replayed on the check seeds. The gain
    counts the calls that joined a queue while the shift is on duty and in the hour
    after it: the replayed day takes another course once the agent logs in, and the
    hours the agent never works would add only noise to the difference."""

    shift: str
    pool: str
    hours: str
    hours_on_duty: float
    group: str
    """The group the agent joins (its first agent's id): the shift's largest."""
    gain_per_seed: list[int]
    """Answered calls with the agent less without, seed by seed (same seeds), of the
    calls that joined in the shift's hours and the hour after."""
    gain: float
    """Their mean."""
    stderr: float | None
    per_seat_hour: float
    note: str = ""
    """Why it adds nothing, where the roster says so (a pool at its cap, no calls)."""


class IntervalRow(msgspec.Struct, kw_only=True):
    start: str
    calls: float
    """Calls that joined a queue, mean over the planning seeds (site as configured)."""
    seat_seconds: float | None
    """The calls' mean time holding an agent: handle time plus the time to answer."""
    erlang_need: int
    """Agents per-interval Erlang C (or Erlang A) staffing asks for."""
    erlang_staffed: float
    """Agents in service by the Erlang C roster (pool caps applied)."""
    planned_staffed: float
    configured_staffed: float
    check_met: int
    """Check seeds on which the planned roster met the target in this interval."""
    check_judged: int
    """Check seeds on which this interval was judged."""


class RoundRow(msgspec.Struct, kw_only=True):
    round: int
    seat_hours: float
    share: float | None
    """Judged intervals meeting the target on the planning seeds."""
    holds: bool
    added: list[str] = []
    removed: list[str] = []
    undone: list[str] = []
    """Removals of the round before undone (the target stopped holding), by shift."""


class RunInfo(msgspec.Struct, kw_only=True):
    wall_seconds: float
    replays: int
    jobs: int


class Plan(msgspec.Struct, kw_only=True):
    config: str
    curve: str
    date: str
    weekday: str
    target: Target
    target_text: str
    """The target, its definition, and per what, in one sentence."""
    min_calls: int
    """Intervals with fewer offered calls on a seed are not judged on that seed."""
    required_share: float
    """Per interval: the share of judged intervals that must meet the target."""
    planning_seeds: list[int]
    check_seeds: list[int]
    model: str
    """"Erlang C" or "Erlang A (mean patience N s)": the per-interval start."""
    erlang_need_seat_hours: float
    """The per-interval need summed: seat-hours if agents could come and go each interval."""
    reached: bool
    """A roster met the target on the planning seeds within the rounds allowed."""
    planned: RosterCheck
    erlang: RosterCheck
    """The per-interval need covered by the site's shifts at the fewest seat-hours."""
    configured: RosterCheck
    rounds: list[RoundRow]
    marginal: list[Marginal]
    """One more agent in each shift of the planned roster."""
    marginal_configured: list[Marginal]
    """One more agent in each shift of the roster as configured."""
    intervals: list[IntervalRow]
    notes: list[str]
    run: RunInfo
