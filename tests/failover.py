"""Processes for the state and failover tests: a real redis-server (tests/redis_server),
`acd pbx` with its simulated people, and one or two `acd serve --redis`, all on
127.0.0.1, in compressed time. Tests kill, pause and restart them as an operator's
worst day would.

Nothing here waits a fixed time: a test waits for what it needs to see, read from a
signal with a bounded deadline (`Surge.wait_for`): a line in an engine's log, the
read model and journal in Redis (`Floor`), or what the PBX shows over its ARI
(`Pbx.talks`, `Pbx.day_time`)."""

from __future__ import annotations

import base64
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import redis

from acd.config.loader import load_site
from acd.softphone_sim.people import day_start

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "live"
SITE = str(FIXTURES / "consistency.yaml")
CURVE = str(FIXTURES / "consistency.csv")
SITE_NAME = "consistency"
QUEUE = "gen"
CLI = [sys.executable, "-m", "acd.cli.main"]
ENV = dict(os.environ, ACD_ARI_USER="acd", ACD_ARI_PASSWORD="pw")
POLL_SECONDS = 0.05
"""Wall seconds between two looks at a condition."""

T = TypeVar("T")


class Pbx:
    """`acd pbx` on a free port: callers from 10:00 for `minutes`, at `speed`."""

    def __init__(self, tmp: Path, *, speed: float = 60.0, minutes: int = 20) -> None:
        self.json = tmp / "pbx.json"
        self.err_path = tmp / "pbx.err"
        with self.err_path.open("w") as err:  # a file: a pipe nobody reads could fill up
            self.proc = subprocess.Popen(
                [*CLI, "pbx", SITE, "--listen", "127.0.0.1:0", "--curve", CURVE,
                 "--speed", str(speed), "--seed", "1", "--start", "10:00",
                 "--duration", str(minutes), "--json", str(self.json)],
                cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=err, text=True,
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("listening on "), f"{line!r}; stderr:\n{self.err_path.read_text()}"
        self.url = line.split()[-1]
        self._day_start = day_start(load_site(SITE))

    def get(self, path: str) -> Any:
        """The JSON answer of `GET /ari/<path>` (raises on an HTTP error)."""
        token = base64.b64encode(f"{ENV['ACD_ARI_USER']}:{ENV['ACD_ARI_PASSWORD']}".encode())
        request = urllib.request.Request(
            f"{self.url}/ari/{path}", headers={"Authorization": "Basic " + token.decode()}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)

    def day_time(self) -> float:
        """The PBX's virtual time now, in seconds since local midnight of the simulated
        day: the unit of the call records' `placed_at`, `answered_at`, `ended_at`."""
        stamp = self.get("asterisk/ping")["timestamp"]  # 2026-06-09T01:04:02.123+0000
        now = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
        return now - self._day_start

    def talks(self) -> set[str]:
        """The conversations up now: a mixing bridge with people in it is a caller
        talking to an agent; named by the bridge and its channels (an agent's bridge
        serves one call after another)."""
        return {
            f"{b['id']}:{','.join(sorted(b['channels']))}"
            for b in self.get("bridges")
            if b["bridge_type"] == "mixing" and b["channels"]
        }

    def wait(self, timeout: float = 240) -> dict[str, Any]:
        self.proc.wait(timeout=timeout)
        assert self.proc.returncode == 0, self.err_path.read_text()[-3000:]
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
        """The first match of `pattern` in the log, once it is there; fails with the
        log's tail if it is not there within `timeout` or the engine exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.log())
            if found:
                return found
            if self.proc.poll() is not None:
                break
            time.sleep(POLL_SECONDS)
        raise AssertionError(f"{self.name}: no {pattern!r} in its log:\n{self.log()[-3000:]}")

    def holds(self, lease: tuple[int, str] | None) -> bool:
        """Whether `lease` (as `Floor.lease` reads it) is this engine's: the owner
        the engine writes is `<host>:<pid>`."""
        return lease is not None and lease[1].endswith(f":{self.proc.pid}")

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


def _text(value: object) -> str:
    """A Redis reply as text (redis-py types its replies loosely)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    raise TypeError(f"expected text from Redis, got {value!r}")


class Floor:
    """What the site's keys in Redis show (README "The queue state in Redis"): the
    read model a wallboard would show, the journal, the lease. Every method is one
    read; none waits."""

    def __init__(self, redis_url: str) -> None:
        self.client = redis.Redis.from_url(redis_url)
        self.prefix = f"acd:{{{SITE_NAME}}}:"

    def waiting(self, queue: str = QUEUE) -> list[str]:
        """The call ids waiting in `queue`, in service order."""
        return [_text(m) for m in self.client.zrange(f"{self.prefix}waiting:{queue}", 0, -1)]

    def journal_last(self) -> tuple[int, int] | None:
        """(epoch, n) of the last journal entry written (ids are `<epoch>-<n>`, n counting
        from 1 in each epoch, so n is the count of entries the epoch wrote even after
        snapshots trimmed them); None while there is no journal."""
        try:
            info = self.client.xinfo_stream(f"{self.prefix}journal")
        except redis.ResponseError:  # no such key
            return None
        epoch, _, n = _text(info["last-generated-id"]).partition("-")
        return int(epoch), int(n)

    def journal_epochs(self) -> set[int]:
        """The epochs of the entries now in the journal."""
        entries = cast(list[tuple[bytes, Any]], self.client.xrange(f"{self.prefix}journal"))
        ids = [_text(i) for i, _ in entries]
        return {int(i.partition("-")[0]) for i in ids}

    def lease(self) -> tuple[int, str] | None:
        """(fencing epoch, owner) of the lease, or None when nobody holds it."""
        value = self.client.get(f"{self.prefix}lease")
        if value is None:
            return None
        epoch, _, owner = _text(value).partition(":")
        return int(epoch), owner

    def close(self) -> None:
        self.client.close()


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

    def wait_for(self, what: str, condition: Callable[[], T], *, timeout: float = 60) -> T:
        """`condition()` once it is truthy, polled every POLL_SECONDS. Fails naming
        `what` (and the last value seen) if the surge is over first (the PBX exited:
        what the test waited for can no longer happen in the story it tells) or after
        `timeout` wall seconds."""
        deadline = time.monotonic() + timeout
        while True:
            seen = condition()
            if seen:
                return seen
            if self.pbx.proc.poll() is not None:
                raise AssertionError(f"the surge was over before {what} (last seen: {seen!r})")
            if time.monotonic() >= deadline:
                raise AssertionError(f"no {what} within {timeout} s (last seen: {seen!r})")
            time.sleep(POLL_SECONDS)

    def __enter__(self) -> Surge:
        return self

    def __exit__(self, *exc: object) -> None:
        for engine in self.engines:
            engine.close()
        self.pbx.close()
