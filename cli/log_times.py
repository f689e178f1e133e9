"""Log lines stamped with the engine's clock.

`acd serve --speed 30 --start 10:00` runs the engine in compressed time: a log line
stamped with the wall clock would match nothing the engine records (the queue_log,
the journal, the wallboard, `--stats-json`), and a demo's "10:42" call would be
logged at 03:12. So lines are stamped with the engine's clock, in the site's local
time (`site.utc_offset`, as the wallboard and the reports show it). In production
(`--speed 1`, no `--start`) the engine's clock is the wall clock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
"""Every long-running sub-command's log line: time, level, logger, message."""


class EngineTime(logging.Formatter):
    """`FORMAT` with `%(asctime)s` read from `now()` (epoch seconds) shifted by
    `utc_offset` seconds.

    A record is stamped when it is formatted, which for the stream handler `acd serve`
    uses is when it is logged, on the same thread."""

    def __init__(self, now: Callable[[], float], utc_offset: float) -> None:
        super().__init__(FORMAT)
        self._now = now
        self._offset = utc_offset

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        now = self._now() + self._offset
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now))
        return f"{stamp},{int(now % 1 * 1000):03d}"


def stamp_with(now: Callable[[], float], utc_offset: float) -> None:
    """From here on, every handler of the root logger stamps its lines with `now()`,
    `utc_offset` seconds east of UTC."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(EngineTime(now, utc_offset))
