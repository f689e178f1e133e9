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
