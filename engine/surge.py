"""Surge stages: the rolling inbound rate, and the stage it or a supervisor sets.

Arrivals are counted per minute in a ring of `window_minutes` buckets; the rate is
expressed in calls a day, the unit of the field facts' surge plan (stage 1 at
60,000 calls a day, stage 2 at 80,000). Going down a stage needs the rate to fall
below a lower threshold (hysteresis), so a floor does not flap between stages. A
supervisor may pin a stage; releasing the pin hands the stage back to the rate.

The part owns its state (`SurgeState`, persisted as it is) and decides; the engine
carries out what a new stage means (pool sizes, overflow rules, announcements).
"""

from __future__ import annotations

from acd.config.schema import Surge as SurgeConfig
from acd.config.schema import SurgeStage
from acd.engine.state import InboundRate, SurgeState


def stage_for(rate: float, current: int, by_number: dict[int, SurgeStage]) -> int:
    """The stage the rate calls for, starting from `current`: up to the highest stage
    whose entry threshold the rate reaches, or down while it is below the current
    stage's exit threshold. `by_number`: the site's stages by number."""
    target = current
    for stage in by_number.values():
        if rate >= stage.enter_at_calls_per_day:
            target = max(target, stage.stage)
    while target > 0:
        found = by_number.get(target)
        if found is None:
            break
        leave = found.leave_below_calls_per_day
        if leave is None:
            leave = int(found.enter_at_calls_per_day * 0.9)
        if rate >= leave:
            break
        target -= 1
    return target


class Surge:
    """The surge stage of a site: what the rate calls for, or what a supervisor pinned."""

    __slots__ = ("_by_number", "cfg", "state")

    def __init__(self, cfg: SurgeConfig, state: SurgeState) -> None:
        self.cfg = cfg
        self.state = state
        self._by_number = {s.stage: s for s in cfg.stages}

    @property
    def stage(self) -> int:
        return self.state.stage

    @property
    def pinned(self) -> int | None:
        return self.state.pinned

    def knows(self, stage: int) -> bool:
        """Whether `stage` is one of the site's stages (0 is: no surge)."""
        return stage == 0 or stage in self._by_number

    def arrived(self, now: float) -> None:
        """Count a caller's arrival in the rolling rate (automatic stages only)."""
        ring = self.state.inbound
        _advance(ring, now)
        ring.buckets[ring.minute % len(ring.buckets)] += 1
        ring.total += 1

    def called_for(self, now: float) -> int | None:
        """The stage the rate calls for now, if it is another than the current one;
        None otherwise (asked only while no supervisor has pinned a stage)."""
        state = self.state
        ring = state.inbound
        _advance(ring, now)
        rate = ring.total * 1440.0 / len(ring.buckets)
        target = stage_for(rate, state.stage, self._by_number)
        return target if target != state.stage else None

    def arm_look(self) -> bool:
        """Whether the minute's look at the rate must be armed now (a stage is up and
        no look is armed); if so, it counts as armed from now."""
        state = self.state
        if state.stage > 0 and not state.armed:
            state.armed = True
            return True
        return False

    def look_due(self) -> bool:
        """The minute's look fired: whether the rate must be looked at again."""
        self.state.armed = False
        return self.cfg.auto and self.state.stage > 0

    def set(self, stage: int, now: float) -> None:
        """The site is at `stage` from `now` on."""
        self.state.stage = stage
        self.state.log.append((now, stage))

    def pin(self, stage: int | None) -> None:
        """A supervisor pins `stage` (None: releases the pin)."""
        self.state.pinned = stage

    def announcement(self) -> list[str]:
        """The media of the highest stage reached that has an announcement."""
        media: list[str] = []
        for stage in self.cfg.stages:
            if stage.stage <= self.state.stage:
                media = stage.announcement or media
        return media

    @property
    def log(self) -> list[tuple[float, int]]:
        """(when, stage) for every change of stage, oldest first (do not change it)."""
        return self.state.log

    def since(self) -> float | None:
        """When the site reached its current stage (None: never changed)."""
        return self.state.log[-1][0] if self.state.log else None

    def rate(self, now: float) -> float:
        """The rolling inbound rate at `now` in calls a day (reading changes nothing)."""
        ring = self.state.inbound
        window = len(ring.buckets)
        minute = int(now // 60)
        gap = minute - ring.minute
        if gap <= 0:
            return ring.total * 1440.0 / window
        if gap >= window:
            return 0.0
        gone = sum(ring.buckets[m % window] for m in range(ring.minute + 1, minute + 1))
        return (ring.total - gone) * 1440.0 / window


def _advance(ring: InboundRate, now: float) -> None:
    """Move the ring on to `now`'s minute, emptying the minutes it passes."""
    minute = int(now // 60)
    gap = minute - ring.minute
    if gap <= 0:
        return
    window = len(ring.buckets)
    if gap >= window:
        ring.buckets = [0] * window
        ring.total = 0
    else:
        for m in range(ring.minute + 1, minute + 1):
            i = m % window
            ring.total -= ring.buckets[i]
            ring.buckets[i] = 0
    ring.minute = minute
