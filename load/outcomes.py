"""What each caller of a load run lived, read from SIPp's log, and the run's figures.

SIPp logs one line per step (`load.scenarios`): `<call> <attempt> <step> [arg] <ms>`,
`<call>` being the person's line in the injection file (1-based) and `<ms>` SIPp's
clock. `read_attempts` turns them into one `AttemptRecord` per call placed; `figures`
counts them as a load tester reads them, per interval and in total.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Final

import msgspec

TURNED_AWAY_CODE: Final = 486
"""What a caller hears when the engine's brakes turn them away (busy)."""

# The end of an attempt, as the caller lived it.
CONNECTED: Final = "connected"
"""A person (agent or vendor) answered; the far end hung up after the talk."""
ABANDONED: Final = "abandoned"
"""The caller hung up on hold: patience ran out."""
ENDED: Final = "ended_by_pbx"
"""The PBX hung up before anyone answered: self-served, closed, full queue, a menu
failed, a callback taken."""
TURNED_AWAY: Final = "turned_away"
FAILED: Final = "failed"
"""Any other final answer than 200 to the INVITE (the code is kept)."""
UNFINISHED: Final = "unfinished"
"""No end logged: still up when the run stopped, or aborted by SIPp."""


class AttemptRecord(msgspec.Struct, kw_only=True):
    """One call placed. Times are seconds since SIPp started; None when the step did
    not happen."""

    person: int
    """0-based line of the injection file."""
    attempt: int
    """1 for a first call, 2... for redials."""
    invite: float
    answered: float | None = None
    """200 OK: the PBX took the call (the IVR starts)."""
    keys: list[float] = []
    connected: float | None = None
    end: float | None = None
    outcome: str = UNFINISHED
    code: int | None = None

    @property
    def hold_start(self) -> float | None:
        """When the caller started waiting: their last key (or the answer)."""
        if self.keys:
            return self.keys[-1]
        return self.answered

    @property
    def wait(self) -> float | None:
        """Seconds on hold until a person answered or the caller gave up."""
        start = self.hold_start
        stop = self.connected if self.connected is not None else self.end
        if start is None or stop is None or self.outcome not in (CONNECTED, ABANDONED):
            return None
        return max(0.0, stop - start)


def read_attempts(lines: Iterable[str]) -> list[AttemptRecord]:
    """The attempts in SIPp's log lines, in the order their INVITE left. Lines that
    are not steps (SIPp writes none, but a truncated last line may be) are skipped."""
    attempts: dict[tuple[int, int], AttemptRecord] = {}
    for line in lines:
        parts = line.split()
        if len(parts) < 4 or not (parts[0].isdigit() and parts[1].isdigit()):
            continue
        try:
            ms = float(parts[-1]) / 1000.0
        except ValueError:
            continue
        key = (int(parts[0]) - 1, int(parts[1]))
        step = parts[2]
        if step == "invite":
            attempts[key] = AttemptRecord(person=key[0], attempt=key[1], invite=ms)
            continue
        record = attempts.get(key)
        if record is None:
            continue
        if step == "answered":
            record.answered = ms
        elif step == "pressed":
            record.keys.append(ms)
        elif step == "connected":
            record.connected = ms
        elif step == "abandoned":
            record.end, record.outcome = ms, ABANDONED
        elif step == "ended":
            record.end = ms
            record.outcome = CONNECTED if record.connected is not None else ENDED
        elif step == "failed" and len(parts) == 5 and parts[3].isdigit():
            record.end, record.code = ms, int(parts[3])
            record.outcome = TURNED_AWAY if record.code == TURNED_AWAY_CODE else FAILED
    return sorted(attempts.values(), key=lambda r: r.invite)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The `q` quantile (0..1) by nearest rank, or None with no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class Figures(msgspec.Struct, kw_only=True):
    """A stretch of the run in the callers' figures.

    `answer_rate` is connected / placed (redials included), as `acd simulate`'s
    answer rate counts calls. `service_level` is connected within the threshold /
    (connected + abandoned on hold after the short-abandon threshold), waits counted
    from the caller's last key (the engine counts from the queue's start, a prompt
    later)."""

    placed: int
    reached_ivr: int
    connected: int
    abandoned: int
    """Hung up on hold after the site's short-abandon threshold (as the engine counts)."""
    short_abandoned: int
    abandoned_after_sl: int
    ended_by_pbx: int
    turned_away: int
    failed: dict[str, int]
    unfinished: int
    answer_rate: float | None
    service_level: float | None
    asa_seconds: float | None
    first_prompt_ms: dict[str, float | None]
    """INVITE -> 200 OK (Asterisk answers right before the first prompt): p50, p95, p99."""
    to_agent_seconds: dict[str, float | None]
    """INVITE -> a person answered: p50, p95, p99."""


QUANTILES: Final = (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))


def figures(
    attempts: Sequence[AttemptRecord], sl_seconds: float, short_abandon: float
) -> Figures:
    """The figures of `attempts` (see `Figures`); an abandon within `short_abandon`
    seconds of holding counts apart, as the engine counts it (not offered)."""
    by = {o: 0 for o in (CONNECTED, ABANDONED, ENDED, TURNED_AWAY, FAILED, UNFINISHED)}
    failed: dict[str, int] = {}
    waits: list[float] = []
    within = after = short = 0
    first_prompt: list[float] = []
    to_agent: list[float] = []
    for a in attempts:
        by[a.outcome] += 1
        if a.outcome == FAILED:
            failed[str(a.code)] = failed.get(str(a.code), 0) + 1
        if a.answered is not None:
            first_prompt.append((a.answered - a.invite) * 1000.0)
        wait = a.wait
        if a.outcome == CONNECTED and a.connected is not None:
            to_agent.append(a.connected - a.invite)
            if wait is not None:
                waits.append(wait)
                within += wait <= sl_seconds
        if a.outcome == ABANDONED and wait is not None:
            short += wait <= short_abandon
            after += wait > sl_seconds
    placed = len(attempts)
    offered = by[CONNECTED] + by[ABANDONED] - short
    return Figures(
        placed=placed,
        reached_ivr=sum(1 for a in attempts if a.answered is not None),
        connected=by[CONNECTED],
        abandoned=by[ABANDONED] - short,
        short_abandoned=short,
        abandoned_after_sl=after,
        ended_by_pbx=by[ENDED],
        turned_away=by[TURNED_AWAY],
        failed=failed,
        unfinished=by[UNFINISHED],
        answer_rate=by[CONNECTED] / placed if placed else None,
        service_level=within / offered if offered else None,
        asa_seconds=sum(waits) / len(waits) if waits else None,
        first_prompt_ms={name: percentile(first_prompt, q) for name, q in QUANTILES},
        to_agent_seconds={name: percentile(to_agent, q) for name, q in QUANTILES},
    )
