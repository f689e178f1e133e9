"""Time windows as a schedule or a vendor's hours read them, minute by minute.

A window is checked against its plain meaning, written out minute by minute over a
whole week: from `start` on each of its days, for `end - start` minutes (a window
whose end is before its start runs past midnight into the next day).
"""

from __future__ import annotations

import msgspec
import pytest

from acd.config.schema import DAYS, Hours, TimeWindow
from acd.engine.localtime import LocalTime, OpenHours, Window, clock_minutes

OFFSET = 9 * 3600.0  # Seoul
MONDAY = 1_780_272_000.0 - OFFSET  # 2026-06-01 00:00 local, a Monday
WEEK = 7 * 1440


def covered(window: TimeWindow) -> set[int]:
    """The minutes of the week (Monday 00:00 is 0) the window covers, by its words."""
    start, end = clock_minutes(window.start), clock_minutes(window.end)
    length = end - start if start < end else 1440 - start + end
    return {
        (DAYS.index(day) * 1440 + start + m) % WEEK
        for day in window.days
        for m in range(length)
    }


WINDOWS = [
    TimeWindow(days=["mon", "tue", "wed", "thu", "fri"], start="09:00", end="18:00"),
    TimeWindow(days=["fri", "sun"], start="18:00", end="01:00"),  # the evening shift
    TimeWindow(days=["sat"], start="00:00", end="24:00"),
    TimeWindow(days=["sun"], start="22:30", end="00:00"),  # ends at midnight
]


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: f"{','.join(w.days)} {w.start}-{w.end}")
def test_a_window_holds_exactly_the_minutes_it_names(window: TimeWindow) -> None:
    compiled = Window(window)
    inside = covered(window)
    held = {m for m in range(WEEK) if compiled.contains(LocalTime(MONDAY + m * 60, OFFSET))}
    assert held == inside


def test_hours_are_closed_on_a_holiday_and_name_their_next_edge() -> None:
    hours = msgspec.convert(
        {"open": [{"days": list(DAYS), "start": "09:00", "end": "18:00"}],
         "holidays": ["2026-06-03"]},
        Hours,
    )
    open_hours = OpenHours(hours)
    wednesday_noon = MONDAY + 2 * 86400 + 12 * 3600
    assert LocalTime(wednesday_noon, OFFSET).date == "2026-06-03"
    assert not open_hours.is_open(LocalTime(wednesday_noon, OFFSET))
    assert open_hours.is_open(LocalTime(wednesday_noon + 86400, OFFSET))
    # At 12:00 the next edge is the 18:00 close; after it, midnight (holidays change there).
    assert open_hours.next_edge(wednesday_noon, OFFSET) == wednesday_noon + 6 * 3600
    assert open_hours.next_edge(wednesday_noon + 7 * 3600, OFFSET) == MONDAY + 3 * 86400
