"""The queue_log on disk, and the driver-side object that feeds it from an engine.

    log = QueueLog(engine, QueueLogFile("/var/log/asterisk/queue_log"), now)
    commands = engine.handle(event, now)
    log.drain()                  # after each handle: the facts' lines, one batch
    log.reopen(now)              # on SIGHUP, after logrotate moved the file away
    log.close()

`QueueLogFile` appends lines as Asterisk's logger does (`fopen(..., "a")`, one
`fflush` per batch rather than per line: a batch is what one event did), so a
reporting tool reading the file live sees each event's lines whole. It raises
`OSError` for a path it cannot open or write; the caller says so in one line.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from acd.queue_log.lines import QueueLogLines

if TYPE_CHECKING:
    from acd.engine import Engine


class QueueLogFile:
    """A queue_log file open for appending (or, with `fresh`, emptied first: a
    replayed day's log). Raises OSError when `path` cannot be opened."""

    def __init__(self, path: str | os.PathLike[str], *, fresh: bool = False) -> None:
        self.path = os.fspath(path)
        self._file: TextIO | None = self._open("w" if fresh else "a")

    def _open(self, mode: str) -> TextIO:
        file = open(self.path, mode, encoding="utf-8", newline="\n")  # noqa: SIM115
        assert isinstance(file, io.TextIOWrapper)
        return file

    def write(self, lines: Sequence[str]) -> None:
        """Append `lines` (without their newlines) and flush them: one batch.
        OSError when the disk refuses them; ValueError after `close`."""
        if not lines:
            return
        if self._file is None:
            raise ValueError(f"queue log {self.path} is closed")
        self._file.write("\n".join(lines) + "\n")
        self._file.flush()

    def reopen(self) -> None:
        """Open the path again (logrotate moved the file away: a new one is made).
        When the path cannot be opened, OSError, and lines keep going to the file
        open until now, so none is lost."""
        fresh = self._open("a")
        old, self._file = self._file, fresh
        if old is not None:
            old.close()

    def close(self) -> None:
        """Close the file (lines are already flushed); closing twice does nothing."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> QueueLogFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class QueueLog:
    """The queue_log of one engine: turns the engine's facts on (`engine.facts`),
    writes QUEUESTART at `now` (epoch seconds: the driver's clock), and after each
    handled event `drain()` writes that event's lines to `file` as one batch.

    `peer(call_id)`, if given, names the uniqueid of the channel a call is bridged
    to, for CONNECT (see `QueueLogLines`). OSError from the file passes through."""

    def __init__(
        self,
        engine: Engine,
        file: QueueLogFile,
        now: float,
        *,
        peer: Callable[[str], str] | None = None,
    ) -> None:
        self.engine = engine
        self.file = file
        self.lines = QueueLogLines.for_site(engine.config, peer)
        if engine.facts is None:
            engine.facts = []
        self._facts = engine.facts
        self.written = 0
        """Lines written so far, QUEUESTART included."""
        self._write([self.lines.queue_start(now)])

    def _write(self, lines: list[str]) -> None:
        self.file.write(lines)
        self.written += len(lines)

    def drain(self) -> int:
        """Take the engine's facts and write their lines (one batch, flushed);
        how many lines were written."""
        facts = self._facts
        if not facts:
            return 0
        lines = self.lines.lines(facts)
        facts.clear()
        self._write(lines)
        return len(lines)

    def reopen(self, now: float) -> None:
        """For SIGHUP after logrotate: reopen the path, and write CONFIGRELOAD at
        `now` into it, as Asterisk's `logger reload` does. OSError as
        `QueueLogFile.reopen`."""
        self.drain()
        self.file.reopen()
        self._write([self.lines.config_reload(now)])

    def close(self) -> None:
        """Write what is left, turn the engine's facts off and close the file."""
        try:
            self.drain()
        finally:
            if self.engine.facts is self._facts:
                self.engine.facts = None
            self.file.close()
