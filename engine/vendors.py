"""Vendor contracts: how much more an outsourced vendor may take, right now.

A contract caps concurrent calls, calls per local clock hour and calls per local
day, and may have opening hours. A vendor whose trunk just refused a call (busy,
congestion, no answer) is rested for `FAILURE_REST_SECONDS` before it is tried
again, so one full vendor does not turn every waiting call into a failed dial.
"""

from __future__ import annotations

from acd.config.schema import Vendor
from acd.engine.localtime import LocalTime, is_open, next_edge

FAILURE_REST_SECONDS = 30.0
"""Modelled: long enough for a vendor's own ACD to free a seat, short in a surge."""


class VendorContract:
    """The live usage of one vendor contract."""

    __slots__ = (
        "active",
        "cfg",
        "day_count",
        "day_index",
        "hour_count",
        "hour_index",
        "name",
        "queues",
        "rest_until",
    )

    def __init__(self, name: str, cfg: Vendor) -> None:
        self.name = name
        self.cfg = cfg
        self.active = 0
        self.hour_index = -1
        self.hour_count = 0
        self.day_index = -1
        self.day_count = 0
        self.rest_until = 0.0
        self.queues: list[str] = []
        """Queues whose overflow rules name this vendor (filled by the engine)."""

    def _roll(self, now: float, offset: float) -> None:
        hour = int((now + offset) // 3600)
        if hour != self.hour_index:
            self.hour_index, self.hour_count = hour, 0
        day = int((now + offset) // 86400)
        if day != self.day_index:
            self.day_index, self.day_count = day, 0

    def available_at(self, now: float, offset: float) -> float | None:
        """None when the vendor can take a call now; otherwise the earliest time worth
        asking again (a cap that only a call ending can lift gives +inf)."""
        self._roll(now, offset)
        cfg = self.cfg
        if now < self.rest_until:
            return self.rest_until
        if cfg.hours is not None and not is_open(cfg.hours, LocalTime(now, offset)):
            return next_edge(cfg.hours, now, offset)
        if cfg.max_per_day is not None and self.day_count >= cfg.max_per_day:
            return (self.day_index + 1) * 86400 - offset
        if cfg.max_per_hour is not None and self.hour_count >= cfg.max_per_hour:
            return (self.hour_index + 1) * 3600 - offset
        if self.active >= cfg.max_concurrent:
            return float("inf")
        return None

    def usage(self, now: float, offset: float) -> tuple[int, int]:
        """Calls sent this local hour and this local day (read-only)."""
        hour = self.hour_count if int((now + offset) // 3600) == self.hour_index else 0
        day = self.day_count if int((now + offset) // 86400) == self.day_index else 0
        return hour, day

    def take(self, now: float, offset: float) -> None:
        self._roll(now, offset)
        self.active += 1
        self.hour_count += 1
        self.day_count += 1

    def release(self, failed: bool, now: float) -> None:
        self.active -= 1
        if failed:
            self.rest_until = now + FAILURE_REST_SECONDS
