"""Processes for the state and failover tests: a real redis-server (tests/redis_server),
`acd pbx` with its simulated people, and one or two `acd serve --redis`, all on
127.0.0.1, in compressed time. Tests kill, pause and restart them as an operator's
worst day would."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "live"
SITE = str(FIXTURES / "consistency.yaml")
CURVE = str(FIXTURES / "consistency.csv")
CLI = [sys.executable, "-m", "acd.cli.main"]
ENV = dict(os.environ, ACD_ARI_USER="acd", ACD_ARI_PASSWORD="pw")


class Pbx:
    """`acd pbx` on a free port: callers from 10:00 for `minutes`, at `speed`."""

    def __init__(self, tmp: Path, *, speed: float = 60.0, minutes: int = 20) -> None:
        self.json = tmp / "pbx.json"
        self.proc = subprocess.Popen(
            [*CLI, "pbx", SITE, "--listen", "127.0.0.1:0", "--curve", CURVE,
             "--speed", str(speed), "--seed", "1", "--start", "10:00",
             "--duration", str(minutes), "--json", str(self.json)],
            cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("listening on "), line
        self.url = line.split()[-1]

    def wait(self, timeout: float = 240) -> dict[str, Any]:
        self.proc.wait(timeout=timeout)
        assert self.proc.returncode == 0
        result: dict[str, Any] = json.loads(self.json.read_text())
        return result

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Engine:
    """`acd serve --redis` against the PBX; its log goes to a file to read back."""

    def __init__(
        self, tmp: Path, name: str, pbx: Pbx, redis_url: str, *, standby: bool = False,
        lease_ms: int = 1500, speed: float = 60.0,
    ) -> None:
        self.name = name
        self.log_path = tmp / f"{name}.log"
        self.stats = tmp / f"{name}.json"
        self._log = self.log_path.open("w")
        args = [*CLI, "serve", SITE, "--ari-url", pbx.url, "--speed", str(speed),
                "--start", "pbx", "--seed", "1", "--redis", redis_url,
                "--lease-ms", str(lease_ms), "--stats-json", str(self.stats),
                "--snapshot-every", "300", "--log-level", "INFO"]
        if standby:
            args.append("--standby")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=ENV, stdout=self._log,
                                     stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_log(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.log())
            if found:
                return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{self.name}: no {pattern!r} in its log:\n{self.log()[-3000:]}")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self._log.close()
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()

    def report(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.stats.read_text())
        return result


class Surge:
    """One compressed surge: the PBX and the engines started against it, all killed on
    leaving (SIGKILL also ends a stopped process)."""

    def __init__(self, tmp: Path, redis_url: str, *, minutes: int = 20) -> None:
        self.tmp = tmp
        self.redis_url = redis_url
        self.pbx = Pbx(tmp, minutes=minutes)
        self.engines: list[Engine] = []

    def engine(self, name: str, **options: Any) -> Engine:
        started = Engine(self.tmp, name, self.pbx, self.redis_url, **options)
        self.engines.append(started)
        return started

    def __enter__(self) -> Surge:
        return self

    def __exit__(self, *exc: object) -> None:
        for engine in self.engines:
            engine.close()
        self.pbx.close()


def log_time(match_line: str) -> float:
    """Epoch seconds of a log line's asctime ("2026-11-21 22:59:34,133 ...")."""
    stamp = match_line[:23]
    return time.mktime(time.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S")) + int(stamp[20:]) / 1000
