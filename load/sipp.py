"""SIPp as the load run's caller generator: one child process, stopped by its pid.

SIPp (Debian's `sip-tester`) opens one call per person at a steady pace; each call
waits its start delay (the scenario's first pause) before its first INVITE, so the
arrival times are the plan's to the millisecond whatever SIPp's opening pace. The
steps are read from its log file as it writes them (`tail`).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
from pathlib import Path
from typing import Final

OPEN_RATE: Final = 200
"""Calls SIPp opens per second: call i opens about i / OPEN_RATE seconds in and
then waits for its arrival time, so the pace only has to stay ahead of the plan."""


def media_pair_free(port: int) -> bool:
    """Whether UDP `port` and `port` + 2 on 127.0.0.1 can both be bound now: SIPp
    binds its media port (`-mp`) for audio and the one two above for video, and
    refuses to place calls ("Unable to bind video RTP socket") when either is taken,
    as happens beside a busy Asterisk."""
    with contextlib.ExitStack() as stack:
        for p in (port, port + 2):
            s = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


def free_media_port() -> int:
    """A media port for SIPp whose pair is free (`media_pair_free`)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port < 65534 and media_pair_free(port):
            return port
    raise OSError("no pair of free UDP ports for SIPp's media on 127.0.0.1")


class SippMissing(RuntimeError):
    """SIPp is not installed."""


def sipp_path() -> str:
    """Where `sipp` is; SippMissing with what to install if nowhere."""
    found = shutil.which("sipp")
    if found is None:
        raise SippMissing("SIPp is not installed: `apt install sip-tester` (Debian, Ubuntu)")
    return found


class SippCallers:
    """SIPp placing `calls` calls of `scenario` to `service`@`target` (host:port) from
    127.0.0.1:`port`, the data of call i from line i of `injection`; files in `home`."""

    def __init__(
        self,
        home: Path,
        scenario: str,
        injection: str,
        target: str,
        service: str,
        port: int,
        media_port: int,
        calls: int,
    ) -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.xml = home / "callers.xml"
        self.xml.write_text(scenario)
        self.csv = home / "callers.csv"
        self.csv.write_text(injection)
        self.log_file = home / "callers.log"
        self.log_file.write_text("")
        self.screen = home / "sipp-screen.txt"
        self.args = [
            sipp_path(), target, "-sf", str(self.xml), "-inf", str(self.csv),
            "-s", service, "-i", "127.0.0.1", "-p", str(port), "-mp", str(media_port),
            "-m", str(calls), "-r", str(OPEN_RATE), "-rp", "1000", "-l", str(calls + 1),
            "-nostdin", "-trace_logs", "-log_file", str(self.log_file),
            "-max_retrans", "5", "-trace_err", "-error_file", str(home / "errors.log"),
        ]  # fmt: skip
        self.process: asyncio.subprocess.Process | None = None
        self._read = 0

    async def start(self) -> None:
        with self.screen.open("w") as out:
            self.process = await asyncio.create_subprocess_exec(
                *self.args, cwd=self.home, stdin=asyncio.subprocess.DEVNULL,
                stdout=out, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip

    def new_lines(self) -> list[str]:
        """The complete log lines written since the last call."""
        with self.log_file.open("rb") as f:
            f.seek(self._read)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1
        self._read += end
        return chunk[:end].decode(errors="replace").splitlines()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def wait(self) -> int:
        assert self.process is not None
        return await self.process.wait()

    def output(self) -> str:
        """What SIPp printed (its last screen), for a failure message."""
        return self.screen.read_text(errors="replace")[-2000:] if self.screen.exists() else ""

    async def stop(self) -> None:
        """Stop SIPp by its pid (SIGTERM, then SIGKILL) and wait for it."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 5.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
