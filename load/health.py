"""The servers' health during a load run: CPU seconds of named processes, read from
/proc (Linux), found by their command line unless given by pid."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process `pid` so far, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def find_servers() -> dict[str, int]:
    """The pids of the processes a load run watches when not told: Asterisk (the
    `asterisk` binary) and `acd serve` (a Python process whose arguments hold `serve`
    after an `acd` module or script). The first of each found; none is fine."""
    found: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv if a]
        if not words:
            continue
        if Path(words[0]).name == "asterisk" and "-rx" not in words and "-r" not in words:
            found.setdefault("asterisk", int(entry.name))
        elif "serve" in words and any("acd" in w for w in words[: words.index("serve")]):
            found.setdefault("acd serve", int(entry.name))
    return found


class CpuWatch:
    """CPU seconds each watched process used since `start()`; a process that ended
    keeps what it had used when last read."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = dict(pids)
        self._start: dict[str, float] = {}
        self._last: dict[str, float] = {}

    def start(self) -> None:
        for name, pid in self.pids.items():
            used = cpu_seconds(pid)
            if used is not None:
                self._start[name] = self._last[name] = used

    def read(self) -> dict[str, float]:
        """name -> CPU seconds since start()."""
        for name, pid in self.pids.items():
            used = cpu_seconds(pid)
            if used is not None and name in self._start:
                self._last[name] = used
        return {name: self._last[name] - self._start[name] for name in self._start}


class LogWatch:
    """Asterisk's task-processor warnings ("... task processor queue reached 500
    scheduled tasks": Asterisk falling behind) written to its log file since
    `start()`; None when there is no file to read."""

    MARK = "task processor queue reached"

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._offset = 0

    def start(self) -> None:
        if self.path is not None:
            try:
                self._offset = self.path.stat().st_size
            except OSError:
                self.path = None

    def read(self) -> int | None:
        if self.path is None:
            return None
        try:
            with self.path.open("rb") as f:
                f.seek(self._offset)
                text = f.read().decode(errors="replace")
        except OSError:
            return None
        return sum(self.MARK in line for line in text.splitlines())
