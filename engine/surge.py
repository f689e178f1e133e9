"""The rolling inbound rate that switches surge stages automatically.

Arrivals are counted per minute in a ring of `window_minutes` buckets; the rate is
expressed in calls a day, the unit of the field facts' surge plan (stage 1 at
60,000 calls a day, stage 2 at 80,000). Going down a stage needs the rate to fall
below a lower threshold (hysteresis), so a floor does not flap between stages.
"""

from __future__ import annotations

from acd.config.schema import SurgeStage


class InboundRate:
    __slots__ = ("_buckets", "_minute", "_total", "window_minutes")

    def __init__(self, window_minutes: int) -> None:
        self.window_minutes = window_minutes
        self._buckets = [0] * window_minutes
        self._minute = 0
        self._total = 0

    def _advance(self, now: float) -> None:
        minute = int(now // 60)
        gap = minute - self._minute
        if gap <= 0:
            return
        if gap >= self.window_minutes:
            self._buckets = [0] * self.window_minutes
            self._total = 0
        else:
            for m in range(self._minute + 1, minute + 1):
                i = m % self.window_minutes
                self._total -= self._buckets[i]
                self._buckets[i] = 0
        self._minute = minute

    def record(self, now: float) -> None:
        self._advance(now)
        self._buckets[self._minute % self.window_minutes] += 1
        self._total += 1

    def peek_calls_per_day(self, now: float) -> float:
        """`calls_per_day(now)` without moving the window (for read-only views)."""
        minute = int(now // 60)
        gap = minute - self._minute
        if gap <= 0:
            return self._total * 1440.0 / self.window_minutes
        if gap >= self.window_minutes:
            return 0.0
        gone = sum(
            self._buckets[m % self.window_minutes] for m in range(self._minute + 1, minute + 1)
        )
        return (self._total - gone) * 1440.0 / self.window_minutes

    def calls_per_day(self, now: float) -> float:
        self._advance(now)
        return self._total * 1440.0 / self.window_minutes


def stage_for(rate: float, current: int, stages: list[SurgeStage]) -> int:
    """The stage the rate calls for, starting from `current`: up to the highest stage
    whose entry threshold the rate reaches, or down while it is below the current
    stage's exit threshold."""
    target = current
    for stage in stages:
        if rate >= stage.enter_at_calls_per_day:
            target = max(target, stage.stage)
    by_number = {s.stage: s for s in stages}
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
