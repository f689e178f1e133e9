"""Brakes under overload: admit new callers only as Asterisk and the engine can serve them.

Past its knee, a PBX degrades for everyone at once: ARI requests queue up, prompts
start late, agents answer into silence, and of thousands of callers few reach anyone.
A centre is better served by turning the excess away at the door, politely and at
once, while every caller let in is served as if there were no overload.

`Brakes` decides, for each new inbound call, admit or turn away, from two signs:
- a **rate cap**: a token bucket of `max_new_calls_per_second` with `burst` (0: off),
  the knee an operator measured (benchmarks/asterisk_load.py);
- **ARI latency**: when the slowest tenth of the REST round trips of the last
  `LATENCY_SECONDS` takes longer than `max_ari_latency_ms`, Asterisk (or this process)
  is past its knee: no new caller is let in until that falls to half the bound, or
  no round trip is that recent (hysteresis, so the door does not flap; and a quiet
  minute reopens it).
Callers already in are never affected. Sans-IO: the caller passes the time; the
controller measures the round trips and carries out the decision.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from acd.config.schema import Admission

LATENCY_SECONDS = 5.0
"""How far back the latency sign looks: long enough to see a trend at a busy
centre's rate, short enough to reopen soon after the PBX recovers."""
MIN_SAMPLES = 10
"""Round trips needed before latency alone shuts the door (one slow request is not
an overload)."""

REPORT_EVERY = 10.0
"""Seconds between two log lines about callers turned away (one line, not one per call)."""


@dataclass
class Brakes:
    """The admission decision; see the module's docstring."""

    cfg: Admission
    admitted: int = 0
    turned_away: int = 0
    braking: bool = False
    """True while the latency sign holds the door shut."""
    _tokens: float = -1.0
    _refilled_at: float = 0.0
    _latencies: deque[tuple[float, float]] = field(default_factory=deque)
    """(when, seconds) of the recent round trips, oldest first."""
    _over: int = 0
    """How many of them took longer than `max_ari_latency_ms`."""
    _over_half: int = 0
    """How many took longer than half of it."""
    _away_since_report: int = 0
    _reported_at: float = float("-inf")

    def admit(self, now: float) -> bool:
        """Whether a caller arriving at `now` (seconds) is let in; counts either way."""
        self._forget(now)
        if self.braking and not self._latencies:
            self.braking = False  # nothing recent says the PBX is still slow
        if self.braking or not self._take_token(now):
            self.turned_away += 1
            self._away_since_report += 1
            return False
        self.admitted += 1
        return True

    def _take_token(self, now: float) -> bool:
        rate = self.cfg.max_new_calls_per_second
        if rate <= 0:
            return True
        capacity = float(max(self.cfg.burst, 1))
        if self._tokens < 0:  # first caller: the bucket starts full
            self._tokens, self._refilled_at = capacity, now
        self._tokens = min(capacity, self._tokens + (now - self._refilled_at) * rate)
        self._refilled_at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def round_trip(self, now: float, seconds: float) -> None:
        """An ARI request answered (or failed) at `now` took `seconds`."""
        bound = self.cfg.max_ari_latency_ms / 1000.0
        if bound <= 0:
            return
        self._latencies.append((now, seconds))
        self._over += seconds > bound
        self._over_half += seconds > bound / 2
        self._forget(now)
        # "The slowest tenth takes longer than x" is "more than a tenth take longer
        # than x": counted as they come, no sorting on the hot path.
        count = len(self._latencies)
        if not self.braking and count >= MIN_SAMPLES and self._over * 10 > count:
            self.braking = True
        elif self.braking and self._over_half * 10 <= count:
            self.braking = False

    def _forget(self, now: float) -> None:
        bound = self.cfg.max_ari_latency_ms / 1000.0
        while self._latencies and self._latencies[0][0] < now - LATENCY_SECONDS:
            _, seconds = self._latencies.popleft()
            self._over -= seconds > bound
            self._over_half -= seconds > bound / 2

    def slow_tenth(self) -> float:
        """The 90th percentile of the recent round trips, in seconds (0 with none)."""
        if not self._latencies:
            return 0.0
        ordered = sorted(seconds for _, seconds in self._latencies)
        return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]

    def report(self, now: float) -> str | None:
        """A line for the operator's log when callers were turned away since the last
        one (at most every `REPORT_EVERY` seconds), else None."""
        if not self._away_since_report or now - self._reported_at < REPORT_EVERY:
            return None
        why = (
            f"ARI p90 {self.slow_tenth() * 1000:.0f} ms over {self.cfg.max_ari_latency_ms} ms"
            if self.braking
            else f"over {self.cfg.max_new_calls_per_second:g} new calls/s"
        )
        line = (
            f"overload: {self._away_since_report} new callers turned away ({why}); "
            f"{self.turned_away} today, {self.admitted} admitted"
        )
        self._away_since_report = 0
        self._reported_at = now
        return line
