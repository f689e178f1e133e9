"""Local time of a site, computed from the engine's `now` without reading any clock.

`now` is seconds since the Unix epoch (UTC) as the driver gives it. Sites have a
fixed UTC offset (Korea keeps no daylight saving; a site that does can reload its
configuration at the change). All functions here are pure arithmetic.
"""

from __future__ import annotations

import datetime

from acd.config.schema import DAYS, Hours, TimeWindow

_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday; Monday is 0


def parse_offset(text: str) -> float:
    """Seconds east of UTC for "+09:00" / "-05:30". The schema checked the shape."""
    sign = -1.0 if text.startswith("-") else 1.0
    hours, minutes = text[1:].split(":")
    return sign * (int(hours) * 3600 + int(minutes) * 60)


def clock_minutes(text: str) -> int:
    """Minutes since midnight for "HH:MM" ("24:00" is 1440)."""
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


class LocalTime:
    """The local calendar position of an instant, for one site's offset."""

    __slots__ = ("date", "day_number", "minute", "weekday")

    def __init__(self, now: float, offset: float) -> None:
        local = now + offset
        self.day_number = int(local // 86400)
        self.weekday = (self.day_number + _EPOCH_WEEKDAY) % 7
        self.minute = int((local - self.day_number * 86400) // 60)
        self.date = datetime.date.fromordinal(_EPOCH_ORDINAL + self.day_number).isoformat()


def in_window(window: TimeWindow, at: LocalTime) -> bool:
    """Whether `at` falls inside the window. A window whose end is before its start
    runs past midnight: its days name the day it starts on."""
    start, end = clock_minutes(window.start), clock_minutes(window.end)
    today = DAYS[at.weekday]
    if start < end:
        return today in window.days and start <= at.minute < end
    if today in window.days and at.minute >= start:
        return True
    yesterday = DAYS[(at.weekday - 1) % 7]
    return yesterday in window.days and at.minute < end


def is_open(hours: Hours, at: LocalTime) -> bool:
    if at.date in hours.holidays:
        return False
    return any(in_window(w, at) for w in hours.open)


def next_edge(hours: Hours, now: float, offset: float) -> float:
    """The next instant after `now` at which `hours` may open or close: the next
    window start or end, or the next midnight (holidays begin and end there)."""
    at = LocalTime(now, offset)
    day_start = at.day_number * 86400 - offset
    best = day_start + 86400
    for window in hours.open:
        for minute in (clock_minutes(window.start), clock_minutes(window.end) % 1440):
            edge = day_start + minute * 60
            if edge <= now:
                edge += 86400
            best = min(best, edge)
    return best
