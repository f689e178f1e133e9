"""Contact-centre metrics, defined once (see DESIGN.md, "Metrics, defined once").

- offered = calls that reached a queue, less short abandons;
- answer rate = answered / offered, where answered counts agents, vendors and
  completed callbacks (the public centres report this one);
- service level (T) = answered within T / (answered + abandoned after T); the
  Asterisk convention (answered within T / answered) is kept beside it;
- ASA = total wait of answered calls / answered;
- AHT = (talk + after-call work) / handled;
- occupancy = handling time / (handling + available time).

Counters are kept per queue, per pool, per vendor and per interval (15 minutes by
default, aligned to local time). A call counts in the interval in which it joined
its queue, whenever its outcome comes, as call-centre reports do: its wait, its
talk time and its after-call work all count there. Agent time (occupancy) is
split at interval boundaries as it passes. An event is counted in its queue's
counters since the start and in that interval's; the site's figures, and an
interval's as a whole, are rolled up from them when read (`roll_up`). The engine
counts through `engine.counting`; this module defines the counters and what is
derived from them.

Each queue's counters since the start also keep a histogram of waits by outcome
(`WaitHistogram`), in buckets whose bounds are fixed per site (`wait_bounds`): the
standard set plus every service-level threshold, so that a service level is one
ratio of buckets (as in Prometheus, a bucket counts waits `<=` its bound).
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from acd.config.schema import SiteConfig

STANDARD_WAIT_BOUNDS: tuple[float, ...] = (
    5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0, 1200.0, 1800.0
)
"""Upper bounds (seconds) of the wait buckets before a site adds its service-level
thresholds: short waits finely (service levels live there), long ones coarsely."""

WAIT_OUTCOMES: tuple[str, ...] = ("answered", "vendor_answered", "abandoned", "short_abandoned")
"""The queue outcomes whose waits are kept in the histograms. Blocked calls never
wait, and a failed callback's "wait" is the time to its last try, not a wait in line."""


def wait_bounds(config: SiteConfig) -> list[float]:
    """The site's wait bucket bounds, ascending: `STANDARD_WAIT_BOUNDS` plus the site's
    service-level threshold and every queue's own, so each T is a bucket bound."""
    found = set(STANDARD_WAIT_BOUNDS)
    found.add(float(config.site.service_level_seconds))
    for q in config.queues.values():
        if q.service_level_seconds is not None:
            found.add(float(q.service_level_seconds))
    return sorted(found)


class WaitHistogram(msgspec.Struct, kw_only=True):
    """The waits of one queue's calls by outcome, in buckets with fixed upper bounds.
    `counting.count_outcome` counts into it (one bisect, two additions)."""

    bounds: list[float]
    """Ascending upper bounds in seconds (the site's `Metrics.wait_bounds`)."""
    counts: dict[str, list[int]] = {}
    """Outcome -> calls per bucket, not cumulative: `counts[i]` waited more than
    `bounds[i - 1]` and at most `bounds[i]`; the last one, more than `bounds[-1]`."""
    sums: dict[str, float] = {}
    """Outcome -> the total of those waits, in seconds."""

    @classmethod
    def empty(cls, bounds: list[float]) -> WaitHistogram:
        """A histogram with a row of zeros for each of `WAIT_OUTCOMES` (the outcomes
        it counts are the ones it has a row for)."""
        return cls(
            bounds=bounds,
            counts={o: [0] * (len(bounds) + 1) for o in WAIT_OUTCOMES},
            sums=dict.fromkeys(WAIT_OUTCOMES, 0.0),
        )


class QueueCounters(msgspec.Struct, kw_only=True):
    joined: int = 0
    """Calls that reached the queue (including short abandons and blocked ones)."""
    short_abandoned: int = 0
    abandoned: int = 0
    answered: int = 0
    """Answered by one of our agents (callbacks included)."""
    vendor_answered: int = 0
    blocked: int = 0
    callback_failed: int = 0
    answered_within_sl: int = 0
    abandoned_after_sl: int = 0
    wait_answered_seconds: float = 0.0
    longest_wait_seconds: float = 0.0
    """Longest wait of a call whose outcome is known (answered or abandoned)."""
    overflowed: int = 0
    """Calls sent to a vendor at least once."""
    callbacks_requested: int = 0
    talk_seconds: float = 0.0
    wrap_up_seconds: float = 0.0
    handled: int = 0
    waits: WaitHistogram | None = None
    """Waits by outcome (`WAIT_OUTCOMES`): kept in the per-queue counters since the
    start (`Metrics.queues`) only; None in the site total and the intervals."""

    def outcomes(self) -> dict[str, int]:
        """Calls by queue outcome (`commands.Outcome`); "answered" is by our own agents
        here (in `summary()` it includes the vendors')."""
        return {
            "answered": self.answered,
            "vendor_answered": self.vendor_answered,
            "abandoned": self.abandoned,
            "short_abandoned": self.short_abandoned,
            "blocked": self.blocked,
            "callback_failed": self.callback_failed,
        }

    @property
    def offered(self) -> int:
        return self.joined - self.short_abandoned

    @property
    def answered_all(self) -> int:
        return self.answered + self.vendor_answered

    @property
    def answer_rate(self) -> float | None:
        return self.answered_all / self.offered if self.offered else None

    @property
    def service_level(self) -> float | None:
        denominator = self.answered_all + self.abandoned_after_sl
        return self.answered_within_sl / denominator if denominator else None

    @property
    def service_level_asterisk(self) -> float | None:
        return self.answered_within_sl / self.answered_all if self.answered_all else None

    @property
    def asa_seconds(self) -> float | None:
        return self.wait_answered_seconds / self.answered_all if self.answered_all else None

    @property
    def mean_patience(self) -> float | None:
        """Seconds callers of this queue wait before giving up, on average: the time
        all of them waited (answered, to a vendor, gone) over those who gave up, the
        maximum-likelihood mean of an exponential patience whose longer waits were cut
        short by an answer. None until someone gave up (or with no wait histogram)."""
        gave_up = self.abandoned + self.short_abandoned
        if not gave_up or self.waits is None:
            return None
        return sum(self.waits.sums.values()) / gave_up

    @property
    def aht_seconds(self) -> float | None:
        return (self.talk_seconds + self.wrap_up_seconds) / self.handled if self.handled else None

    def summary(self) -> dict[str, float | int | None]:
        """The derived figures beside the raw counters, for reports and wallboards."""
        return {
            "offered": self.offered,
            "answered": self.answered_all,
            "abandoned": self.abandoned,
            "short_abandoned": self.short_abandoned,
            "answer_rate": self.answer_rate,
            "service_level": self.service_level,
            "service_level_asterisk": self.service_level_asterisk,
            "asa_seconds": self.asa_seconds,
            "aht_seconds": self.aht_seconds,
            "longest_wait_seconds": self.longest_wait_seconds,
            "overflowed": self.overflowed,
            "callbacks_requested": self.callbacks_requested,
        }


class PoolCounters(msgspec.Struct, kw_only=True):
    answered: int = 0
    handled: int = 0
    talk_seconds: float = 0.0
    wrap_up_seconds: float = 0.0
    handling_seconds: float = 0.0
    """Reserved (ringing), on a call, and in after-call work."""
    available_seconds: float = 0.0

    @property
    def occupancy(self) -> float | None:
        total = self.handling_seconds + self.available_seconds
        return self.handling_seconds / total if total else None


class VendorCounters(msgspec.Struct, kw_only=True):
    dialled: int = 0
    answered: int = 0
    failed: int = 0
    peak_concurrent: int = 0


class IvrCounters(msgspec.Struct, kw_only=True):
    arrived: int = 0
    ivr_abandoned: int = 0
    self_served: int = 0
    ivr_failed: int = 0
    links_sent: int = 0


def roll_up(parts: Iterable[QueueCounters]) -> QueueCounters:
    """The counters of several queues as one (the site's, or an interval's as a
    whole): every count and time summed, the longest wait the longest. The wait
    histograms stay per queue (None here)."""
    total = QueueCounters()
    for part in parts:
        for name in _SUMMED:
            setattr(total, name, getattr(total, name) + getattr(part, name))
        total.longest_wait_seconds = max(total.longest_wait_seconds, part.longest_wait_seconds)
    return total


_SUMMED = tuple(
    name
    for name in QueueCounters.__struct_fields__
    if name not in ("longest_wait_seconds", "waits")
)


class Interval(msgspec.Struct, kw_only=True):
    """The counters of one interval: a call counts in the interval it joined in."""

    start: float
    """Epoch seconds at which the interval starts."""
    arrived: int = 0
    queues: dict[str, QueueCounters] = msgspec.field(default_factory=dict)
    pools: dict[str, PoolCounters] = msgspec.field(default_factory=dict)

    @property
    def total(self) -> QueueCounters:
        """The interval's queues as one, rolled up when read (`roll_up`)."""
        return roll_up(self.queues.values())


class Metrics(msgspec.Struct, kw_only=True):
    """All counters of a site since the engine started (or was restored)."""

    interval_seconds: float
    offset: float
    """The site's UTC offset: intervals are aligned to local time."""
    queues: dict[str, QueueCounters] = msgspec.field(default_factory=dict)
    pools: dict[str, PoolCounters] = msgspec.field(default_factory=dict)
    vendors: dict[str, VendorCounters] = msgspec.field(default_factory=dict)
    ivr: IvrCounters = msgspec.field(default_factory=IvrCounters)
    intervals: dict[int, Interval] = msgspec.field(default_factory=dict)
    wait_bounds: list[float] = msgspec.field(default_factory=lambda: list(STANDARD_WAIT_BOUNDS))
    """The site's wait bucket bounds (`wait_bounds(config)`); a state stored before the
    histograms existed decodes with the standard set (see `adopt_wait_bounds`)."""

    @property
    def total(self) -> QueueCounters:
        """The site's queues as one, rolled up when read (`roll_up`)."""
        return roll_up(self.queues.values())

    def adopt_wait_bounds(self, bounds: list[float]) -> None:
        """Use the site's `bounds` for the wait histograms. A no-op for a state made with
        them; a state stored before the histograms existed starts them empty now (its
        outcome counters then run ahead of the histograms' counts by the calls before)."""
        if bounds == self.wait_bounds:
            return
        self.wait_bounds = list(bounds)
        for q in self.queues.values():
            q.waits = None  # started again, with the new bounds, at the queue's next event
