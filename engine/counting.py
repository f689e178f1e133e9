"""Counting into the metrics: where each event's figures go, as it happens.

`engine.metrics` defines the counters (msgspec Structs, persisted in the engine's
state) and the figures derived from them when read; this part is the engine's one
writer of them. It is apart so that mypyc compiles it with the rest of the engine's
logic (`acd.native`): a module that defines Structs stays plain Python, and this
code runs on nearly every event.

A call counts in the interval in which it joined its queue (`Call.interval`),
whenever its outcome comes; agent time is split at interval boundaries as it passes
(see `engine.metrics`).
"""

from __future__ import annotations

from bisect import bisect_left

from acd.engine.metrics import Interval, Metrics, PoolCounters, QueueCounters, WaitHistogram


class Counting:
    """Counts into one `Metrics` record (the engine's)."""

    __slots__ = ("_last", "_last_index", "metrics")

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        # Nearly every look-up is for the current interval: kept at hand (not state).
        self._last_index = -(1 << 62)
        self._last = Interval(start=0.0)

    def interval_of(self, t: float) -> int:
        """The number of the interval (local time) that holds time `t`."""
        m = self.metrics
        return int((t + m.offset) // m.interval_seconds)

    def interval(self, index: int) -> Interval:
        """Interval `index`'s counters, made when first counted into."""
        if index == self._last_index:
            return self._last
        m = self.metrics
        found = m.intervals.get(index)
        if found is None:
            found = m.intervals[index] = Interval(start=index * m.interval_seconds - m.offset)
        self._last_index, self._last = index, found
        return found

    def queue_counters(self, queue: str, interval: int) -> tuple[QueueCounters, QueueCounters]:
        """The counters one queue event updates: the queue's since the start, and the
        queue's in the interval. The site's and an interval's as a whole are rolled up
        from them when read (`metrics.roll_up`)."""
        slot = self.interval(interval)
        per_queue = slot.queues.get(queue)
        if per_queue is None:
            per_queue = slot.queues[queue] = QueueCounters()
        m = self.metrics
        day = m.queues[queue]
        if day.waits is None:  # once per queue: its wait histogram, with the site's bounds
            day.waits = WaitHistogram.empty(m.wait_bounds)
        return (day, per_queue)

    def pool_counters(self, pool: str, interval: int) -> tuple[PoolCounters, PoolCounters]:
        """The counters one pool event updates: the pool's, and the interval's."""
        slot = self.interval(interval)
        per_pool = slot.pools.get(pool)
        if per_pool is None:
            per_pool = slot.pools[pool] = PoolCounters()
        return (self.metrics.pools[pool], per_pool)

    def add_agent_time(self, pool: str, handling: bool, start: float, end: float) -> None:
        """Credit `end - start` seconds of handling (or available) time to the pool,
        split at interval boundaries so per-interval occupancy is exact."""
        if end <= start:
            return
        m = self.metrics
        index = self.interval_of(start)
        if end <= (index + 1) * m.interval_seconds - m.offset:  # the usual case
            for counters in self.pool_counters(pool, index):
                if handling:
                    counters.handling_seconds += end - start
                else:
                    counters.available_seconds += end - start
            return
        t = start
        while t < end:
            index = self.interval_of(t)
            boundary = (index + 1) * m.interval_seconds - m.offset
            upto = min(end, boundary)
            for counters in self.pool_counters(pool, index):
                if handling:
                    counters.handling_seconds += upto - t
                else:
                    counters.available_seconds += upto - t
            t = upto


def count_outcome(c: QueueCounters, outcome: str, wait: float, service_level: float) -> None:
    """Count one queue outcome (see `commands.Outcome`) after `wait` seconds in line."""
    waits = c.waits
    if waits is not None:  # kept for the queue's day only: one bisect, two additions
        row = waits.counts.get(outcome)
        if row is not None:
            row[bisect_left(waits.bounds, wait)] += 1  # the first bound >= wait
            waits.sums[outcome] += wait
    if outcome == "answered" or outcome == "vendor_answered":
        if outcome == "answered":
            c.answered += 1
        else:
            c.vendor_answered += 1
        c.wait_answered_seconds += wait
        if wait <= service_level:
            c.answered_within_sl += 1
        if wait > c.longest_wait_seconds:
            c.longest_wait_seconds = wait
    elif outcome == "abandoned":
        c.abandoned += 1
        if wait > service_level:
            c.abandoned_after_sl += 1
        if wait > c.longest_wait_seconds:
            c.longest_wait_seconds = wait
    elif outcome == "short_abandoned":
        c.short_abandoned += 1
    elif outcome == "blocked":
        c.blocked += 1
    elif outcome == "callback_failed":
        c.callback_failed += 1
