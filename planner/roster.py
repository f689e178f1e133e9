"""The roster a plan changes: the site's agents as groups of alike agents, each with a
pool and a shift, the shifts' hours on the planned day, the pools' caps, and the site
rebuilt with other head-counts.

The loader folds `agent_groups` into `agents` (config/loader.py), so a group here is a
run of consecutive agents with the same pool, shift and skills: an `agent_groups`
entry gives one, and a listed agent unlike its neighbours one of its own. A plan
changes how many agents each group has; `with_counts` builds the site with those
counts as a copy of the user's (the file is never touched): a group keeps its first
agents, ids and all, and gets new ones right after them, ids `<first id>-plan<n>`.

Pure: no IO, and the same inputs give the same site.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from acd.config.schema import Agent, SiteConfig
from acd.engine import LocalTime, Window, parse_offset

ALL_DAY = "(no shift)"
"""How an agent without a shift (on duty all day) is named in a roster."""


@dataclass(frozen=True)
class Group:
    """A run of alike agents in the site's roster."""

    index: int
    pool: str
    shift: str | None
    skills: tuple[tuple[str, int], ...]
    """(skill, level) in the order the configuration gives them."""
    agents: tuple[Agent, ...]
    """The configured agents, in roster order."""

    @property
    def configured(self) -> int:
        return len(self.agents)

    @property
    def first_id(self) -> str:
        return self.agents[0].id

    @property
    def skill_levels(self) -> dict[str, int]:
        return dict(self.skills)


def groups_of(site: SiteConfig) -> list[Group]:
    """The site's agents as runs of consecutive agents alike in pool, shift and skills."""
    groups: list[Group] = []
    run: list[Agent] = []

    def key(agent: Agent) -> tuple[str, str | None, tuple[tuple[str, int], ...]]:
        return agent.pool, agent.shift, tuple((g.skill, g.level) for g in agent.skills)

    for agent in [*site.agents, None]:
        if run and (agent is None or key(agent) != key(run[0])):
            pool, shift, skills = key(run[0])
            groups.append(Group(len(groups), pool, shift, skills, tuple(run)))
            run = []
        if agent is not None:
            run.append(agent)
    return groups


def with_counts(site: SiteConfig, groups: Sequence[Group], counts: Sequence[int]) -> SiteConfig:
    """A copy of `site` whose group `g` has `counts[g]` agents (ValueError for a
    negative count or a count per group missing). The agents keep the roster's order,
    which the engine uses to break ties (who goes on standby first)."""
    if len(counts) != len(groups):
        raise ValueError(f"expected {len(groups)} head-counts, got {len(counts)}")
    taken = {a.id for a in site.agents}
    agents: list[Agent] = []
    for group, count in zip(groups, counts, strict=True):
        if count < 0:
            raise ValueError(f"group {group.index}: a head-count cannot be negative ({count})")
        agents.extend(group.agents[:count])
        template = group.agents[0]
        n = 0
        for _ in range(count - group.configured):
            n += 1
            new_id = f"{template.id}-plan{n}"
            while new_id in taken:
                n += 1
                new_id = f"{template.id}-plan{n}"
            taken.add(new_id)
            agents.append(
                msgspec.structs.replace(
                    template,
                    id=new_id,
                    endpoint=f"PJSIP/{new_id}",
                    name=f"{template.name} (planned {n})".strip(),
                )
            )
    return msgspec.structs.replace(site, agents=agents)


def on_duty_minutes(site: SiteConfig, shift: str | None, day_start: float) -> list[bool]:
    """Minute by minute of the local day from `day_start`, whether an agent of `shift`
    is on duty, as the replay logs agents in (softphone_sim/people.py `shift_logins`):
    a window's `days` name the day it starts on, so yesterday's evening shift runs
    into today's first hours. An agent without a shift works all day."""
    if shift is None:
        return [True] * 1440
    offset = parse_offset(site.site.utc_offset)
    windows = [Window(w) for w in site.shifts[shift].windows]
    return [
        any(w.contains(LocalTime(day_start + m * 60.0, offset)) for w in windows)
        for m in range(1440)
    ]


def coverage(minutes: Sequence[bool], interval_minutes: int) -> tuple[float, ...]:
    """The share of each whole interval of the day on duty (as the replay reports
    intervals: a last one cut short by midnight is left out)."""
    whole = 1440 // interval_minutes * interval_minutes
    return tuple(
        sum(minutes[s : s + interval_minutes]) / interval_minutes
        for s in range(0, whole, interval_minutes)
    )


def windows_text(minutes: Sequence[bool]) -> str:
    """The stretches on duty as "HH:MM-HH:MM, ..." ("" for none)."""
    spans: list[str] = []
    m = 0
    while m < 1440:
        if not minutes[m]:
            m += 1
            continue
        start = m
        while m < 1440 and minutes[m]:
            m += 1
        spans.append(f"{_hhmm(start)}-{_hhmm(m)}")
    return ", ".join(spans)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def pool_caps(site: SiteConfig, stages: Sequence[int]) -> dict[str, list[int | None]]:
    """Per pool and interval, how many of its logged-in agents may be in service, for
    the surge stage of each interval (None: all), as `Engine.pool_cap` reckons it:
    the pool's size at the site's distancing level (0 for a level its table leaves
    out) or a stage's size at or below the current stage, the larger."""
    caps: dict[str, list[int | None]] = {}
    level = site.site.distancing_level
    for name, pool in site.pools.items():
        row: list[int | None] = []
        for stage in stages:
            found: list[int] = []
            if pool.size_by_distancing_level is not None:
                found.append(pool.size_by_distancing_level.get(level, 0))
            found += [
                s.pool_sizes[name]
                for s in site.surge.stages
                if s.stage <= stage and name in s.pool_sizes
            ]
            row.append(max(found) if found else None)
        caps[name] = row
    return caps
