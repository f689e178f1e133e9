"""What a plan must achieve, and how a replayed interval is judged against it.

Two targets, each with the replay's own definition (engine/metrics.py, the figures of
softphone_sim/result.py `Figures` and the captions of its report), over the calls that
joined a queue in the interval (or the day), all queues together:

- `answered:X`: the answer rate, answered (by agents and vendors) / offered, where
  offered leaves out the short abandons (`site.short_abandon_seconds`);
- `sl:X/T`: the service level, answered within T seconds / (answered + abandoned
  after T): a caller who hung up before T is neither a success nor a failure (the
  project's convention; Asterisk's divides by answered only). Without `/T`, each
  queue's own threshold (`service_level_seconds`) counts.

`per interval`: the target must hold in each reporting interval; `per day`: for the
day's calls together.
"""

from __future__ import annotations

import math
from typing import Literal

import msgspec


class Counts(msgspec.Struct, frozen=True, array_like=True):
    """The counts behind both targets' figures, for one queue or all, in one interval
    or the day (`Figures` of softphone_sim/result.py)."""

    calls: int
    """Joined a queue."""
    offered: int
    answered: int
    within: int
    """Answered within the service-level threshold."""
    abandoned_after: int
    """Abandoned after the service-level threshold."""

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.calls + other.calls,
            self.offered + other.offered,
            self.answered + other.answered,
            self.within + other.within,
            self.abandoned_after + other.abandoned_after,
        )


ZERO = Counts(0, 0, 0, 0, 0)


class Target(msgspec.Struct, frozen=True, kw_only=True):
    kind: Literal["answered", "sl"]
    share: float
    """The fraction to reach, in (0, 1)."""
    within_seconds: float | None = None
    """T of a service-level target; None: each queue's own threshold."""
    per: Literal["interval", "day"] = "interval"
    text: str = ""
    """As given on the command line."""

    def fraction(self, c: Counts) -> float | None:
        """The target's figure for `c`; None when it is undefined (no denominator)."""
        numerator, denominator = self.terms(c)
        return numerator / denominator if denominator else None

    def terms(self, c: Counts) -> tuple[int, int]:
        """The figure's numerator and denominator."""
        if self.kind == "answered":
            return c.answered, c.offered
        return c.within, c.answered + c.abandoned_after

    def met(self, c: Counts) -> bool | None:
        """Whether `c` meets the target; None when its figure is undefined."""
        value = self.fraction(c)
        return None if value is None else value >= self.share - 1e-12

    def short(self, c: Counts) -> float:
        """The calls short of the target: how many more successes it would take."""
        numerator, denominator = self.terms(c)
        return max(0.0, self.share * denominator - numerator)

    def figure_name(self) -> str:
        return "answer rate" if self.kind == "answered" else "service level"

    def describe(self, thresholds: str = "") -> str:
        """One sentence: the figure, its definition, the share and per what."""
        share = f"{self.share:.0%}" if round(self.share * 100) == self.share * 100 else (
            f"{self.share:.1%}"
        )
        per = "in each interval" if self.per == "interval" else "over the day"
        if self.kind == "answered":
            return (
                f"answer rate at least {share} {per}: answered (agents and vendors) / offered "
                "(short abandons left out), of the calls that joined a queue"
            )
        t = (
            f"{self.within_seconds:g} s"
            if self.within_seconds is not None
            else "each queue's threshold"
        )
        sentence = (
            f"service level at least {share} {per}: answered within {t} / (answered + "
            f"abandoned after {t}), of the calls that joined a queue (the replay's service "
            "level, engine/metrics.py)"
        )
        return sentence + (f"; {thresholds}" if thresholds else "")


def parse_target(text: str, per: str = "interval") -> Target:
    """`answered:0.9`, `answered:90%`, `sl:0.8/20`, `sl:80%/20` or `sl:0.8` (each
    queue's own threshold). ValueError says what was expected (the caller names the
    flag)."""
    if per not in ("interval", "day"):
        raise ValueError(f"expected interval or day, got {per!r}")
    kind, sep, rest = text.strip().partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in ("answered", "sl"):
        raise ValueError(
            f"expected answered:X (answer rate) or sl:X/T (service level X within T "
            f"seconds), e.g. answered:0.9 or sl:0.8/20, got {text!r}"
        )
    share_text, slash, within_text = rest.partition("/")
    if kind == "answered" and slash:
        raise ValueError(f"an answer-rate target has no /T: write answered:X, got {text!r}")
    share = _fraction(share_text, text)
    within: float | None = None
    if slash:
        try:
            within = float(within_text.strip().removesuffix("s"))
        except ValueError:
            raise ValueError(
                f"expected T in seconds after '/', e.g. sl:0.8/20, got {text!r}"
            ) from None
        if not (math.isfinite(within) and 1 <= within <= 3600):
            raise ValueError(f"T must be 1 to 3600 seconds, got {within_text.strip()!r}")
    return Target(
        kind="answered" if kind == "answered" else "sl",
        share=share,
        within_seconds=within,
        per="day" if per == "day" else "interval",
        text=text.strip(),
    )


def _fraction(value: str, text: str) -> float:
    raw = value.strip()
    percent = raw.endswith("%")
    try:
        share = float(raw.removesuffix("%"))
    except ValueError:
        raise ValueError(
            f"expected a fraction such as 0.8 or 80%, got {raw!r} in {text!r}"
        ) from None
    if percent:
        share /= 100.0
    if not (math.isfinite(share) and 0 < share < 1):
        hint = f" (write {share / 100:g} or {share:g}%)" if 1 < share < 100 else ""
        raise ValueError(f"the share must be between 0 and 1{hint}, got {raw!r}")
    return share
