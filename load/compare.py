"""What `acd simulate` predicts for the window a load run placed: the same curve,
scale, seed and site through the replay, the curve emptied outside the window, so
the two runs place the same first calls."""

from __future__ import annotations

import msgspec

from acd.config.schema import SiteConfig
from acd.softphone_sim.curves import Curve
from acd.softphone_sim.replay import replay


class PredictedInterval(msgspec.Struct, kw_only=True):
    """One reporting interval of the replay: calls that reached the IVR in it (first
    calls and redials) and calls answered."""

    start: str
    calls: int
    answered: int
    answer_rate: float | None


class Predicted(msgspec.Struct, kw_only=True):
    """The replay's figures for the window (calls placed in it, redials included),
    in total and per reporting interval of the window."""

    calls: int
    answered: int
    abandoned: int
    answer_rate: float | None
    service_level: float | None
    asa_seconds: float | None
    intervals: list[PredictedInterval]


def window_curve(curve: Curve, start_minute: int, minutes: int) -> Curve:
    """`curve` with no calls outside [start, start + minutes)."""
    end = start_minute + minutes
    rows = tuple(
        (start, values if start_minute <= start < end else tuple(0.0 for _ in values))
        for start, values in curve.rows
    )
    return msgspec.structs.replace(curve, rows=rows)


def predict(
    site: SiteConfig, curve: Curve, seed: int, start_minute: int, minutes: int
) -> Predicted:
    """Replay the window (`curve` already scaled) and sum its figures."""
    result = replay(site, window_curve(curve, start_minute, minutes), seed)
    answered = result.outcomes.get("answered", 0)
    step = site.site.interval_minutes
    first, last = start_minute // step, (start_minute + minutes + step - 1) // step
    return Predicted(
        calls=result.calls,
        answered=answered,
        abandoned=result.outcomes.get("abandoned", 0),
        answer_rate=answered / result.calls if result.calls else None,
        service_level=result.service_level,
        asa_seconds=result.asa_seconds,
        intervals=[
            PredictedInterval(
                start=i.start,
                calls=i.arrivals,
                answered=i.figures.answered,
                answer_rate=i.figures.answered / i.arrivals if i.arrivals else None,
            )
            for i in result.intervals[first:last]
        ],
    )
