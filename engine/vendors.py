"""Vendor contracts: how much more an outsourced vendor may take, right now.

A contract caps concurrent calls, calls per local clock hour and calls per local
day, and may have opening hours. A vendor whose trunk just refused a call (busy,
congestion, no answer) is rested for `FAILURE_REST_SECONDS` before it is tried
again, so one full vendor does not turn every waiting call into a failed dial.
"""

from __future__ import annotations

from acd.config.schema import Vendor
from acd.engine.localtime import LocalTime, OpenHours
from acd.engine.state import VendorState

FAILURE_REST_SECONDS = 30.0
"""Modelled: long enough for a vendor's own ACD to free a seat, short in a surge."""


class VendorContract:
    """One vendor contract: its terms (`cfg`) and its usage (`state`)."""

    __slots__ = ("_hours", "cfg", "name", "queues", "state")

    def __init__(self, name: str, cfg: Vendor, state: VendorState | None = None) -> None:
        self.name = name
        self.cfg = cfg
        self.state = state if state is not None else VendorState()
        self._hours = OpenHours(cfg.hours) if cfg.hours is not None else None
        self.queues: list[str] = []
        """Queues whose overflow rules name this vendor (filled by the engine)."""

    @property
    def active(self) -> int:
        """Calls on the vendor's trunk now."""
        return self.state.active

    @property
    def rest_until(self) -> float:
        return self.state.rest_until

    def _roll(self, now: float, offset: float) -> None:
        s = self.state
        hour = int((now + offset) // 3600)
        if hour != s.hour_index:
            s.hour_index, s.hour_count = hour, 0
        day = int((now + offset) // 86400)
        if day != s.day_index:
            s.day_index, s.day_count = day, 0

    def available_at(self, now: float, offset: float) -> float | None:
        """None when the vendor can take a call now; otherwise the earliest time worth
        asking again (a cap that only a call ending can lift gives +inf)."""
        self._roll(now, offset)
        cfg, s = self.cfg, self.state
        if now < s.rest_until:
            return s.rest_until
        hours = self._hours
        if hours is not None and not hours.is_open(LocalTime(now, offset)):
            return hours.next_edge(now, offset)
        if cfg.max_per_day is not None and s.day_count >= cfg.max_per_day:
            return (s.day_index + 1) * 86400 - offset
        if cfg.max_per_hour is not None and s.hour_count >= cfg.max_per_hour:
            return (s.hour_index + 1) * 3600 - offset
        if s.active >= cfg.max_concurrent:
            return float("inf")
        return None

    def usage(self, now: float, offset: float) -> tuple[int, int]:
        """Calls sent this local hour and this local day (read-only)."""
        s = self.state
        hour = s.hour_count if int((now + offset) // 3600) == s.hour_index else 0
        day = s.day_count if int((now + offset) // 86400) == s.day_index else 0
        return hour, day

    def take(self, now: float, offset: float) -> None:
        self._roll(now, offset)
        s = self.state
        s.active += 1
        s.hour_count += 1
        s.day_count += 1

    def wake(self, at: float) -> bool:
        """Whether the engine should arm a look at the vendor for `at` (a
        `vendor_free` timer): not when one is armed for `at` or earlier already, since
        that look arms the next one if the vendor still cannot take calls. Every
        caller who finds the vendor capped asks, so this spares a timer per caller."""
        s = self.state
        if s.wake_at is not None and s.wake_at <= at:
            return False
        s.wake_at = at
        return True

    def woken(self, now: float) -> None:
        """The engine looks at the vendor now (a `vendor_free` timer fired)."""
        s = self.state
        if s.wake_at is not None and s.wake_at <= now:
            s.wake_at = None

    def release(self, failed: bool, now: float) -> None:
        s = self.state
        s.active -= 1
        if failed:
            s.rest_until = now + FAILURE_REST_SECONDS
