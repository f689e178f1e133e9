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

    __slots__ = ("day_number", "minute", "weekday")

    def __init__(self, now: float, offset: float) -> None:
        local = now + offset
        self.day_number = int(local // 86400)
        """Local days since 1970-01-01."""
        self.weekday = (self.day_number + _EPOCH_WEEKDAY) % 7
        """Monday is 0."""
        self.minute = int((local - self.day_number * 86400) // 60)
        """Minutes since local midnight."""

    @property
    def date(self) -> str:
        """The local date, ISO ("2026-06-09")."""
        return datetime.date.fromordinal(_EPOCH_ORDINAL + self.day_number).isoformat()


def day_number(date: str) -> int:
    """Days since 1970-01-01 of an ISO date (`LocalTime.day_number`)."""
    return datetime.date.fromisoformat(date).toordinal() - _EPOCH_ORDINAL


class Window:
    """A `TimeWindow` compiled once to minutes and weekday numbers: the engine tests
    windows per call (schedules, vendor hours), the configuration's text once."""

    __slots__ = ("days", "end", "start")

    def __init__(self, window: TimeWindow) -> None:
        self.start = clock_minutes(window.start)
        self.end = clock_minutes(window.end)
        self.days = frozenset(DAYS.index(d) for d in window.days)

    def contains(self, at: LocalTime) -> bool:
        """Whether `at` falls inside the window. A window whose end is before its
        start runs past midnight: its days name the day it starts on."""
        start, end, minute = self.start, self.end, at.minute
        if start < end:
            return at.weekday in self.days and start <= minute < end
        if at.weekday in self.days and minute >= start:
            return True
        return (at.weekday - 1) % 7 in self.days and minute < end


class OpenHours:
    """`Hours` compiled once (`Window`s, holidays as day numbers)."""

    __slots__ = ("_edges", "holidays", "windows")

    def __init__(self, hours: Hours) -> None:
        self.windows = [Window(w) for w in hours.open]
        self.holidays = frozenset(day_number(d) for d in hours.holidays)
        self._edges = sorted({m for w in self.windows for m in (w.start, w.end % 1440)})

    def is_open(self, at: LocalTime) -> bool:
        if at.day_number in self.holidays:
            return False
        return any(w.contains(at) for w in self.windows)

    def next_edge(self, now: float, offset: float) -> float:
        """The next instant after `now` at which the hours may open or close: the next
        window start or end, or the next midnight (holidays begin and end there)."""
        day_start = LocalTime(now, offset).day_number * 86400 - offset
        best = day_start + 86400
        for minute in self._edges:
            edge = day_start + minute * 60
            if edge <= now:
                edge += 86400
            best = min(best, edge)
        return best


def in_window(window: TimeWindow, at: LocalTime) -> bool:
    """Whether `at` falls inside the window (`Window.contains`; compile a window that
    is tested often)."""
    return Window(window).contains(at)
