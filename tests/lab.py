"""A floor on a real Asterisk: `acd serve` (a process, as an operator runs it) attached
to an Asterisk of the test's own (tests/asterisk.py), SIPp phones for the agents and
SIPp callers (tests/sipp.py), all on 127.0.0.1.

Asterisk and SIPp live in real time, so a test waits for what it can observe (a step
in a phone's log, a channel in Asterisk, a line `acd serve` prints) within a bound
that only turns a call that never gets there into a clear failure."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests import polling
from tests.asterisk import PASSWORD, AsteriskServer, Peers, free_udp_port, require
from tests.sipp import Key, Sipp, caller_scenario, feature_scenario, phone_scenario

FIXTURES = Path(__file__).parent / "fixtures" / "asterisk"
SITE = FIXTURES / "site.yaml"
AGENTS = ("1001", "1002", "1003")
CALLER_PORTS = 4
WITHIN = 60.0
"""Wall seconds a lab test waits for a step before it fails (calls here take a few)."""


def until(condition: Callable[[], bool], what: str, within: float = WITHIN) -> None:
    """`tests.polling.until` with the lab's bound."""
    polling.until(condition, what, within)


class Lab:
    """See the module's docstring. Use as a context manager (tests/conftest `lab`)."""

    def __init__(self, home: Path, *, registering: bool = False) -> None:
        """`registering`: the agents' phones register (as in production, `acd load`'s
        phones) instead of being SIPp user agents at fixed contacts."""
        require()
        self.home = home
        self.caller_ports = [free_udp_port() for _ in range(CALLER_PORTS)]
        self.agent_ports = {agent: 0 if registering else free_udp_port() for agent in AGENTS}
        self.citizen_port = free_udp_port()
        self.vendor_port = free_udp_port()
        self.asterisk = AsteriskServer(
            home / "asterisk",
            Peers(callers=tuple(self.caller_ports), agents=self.agent_ports,
                  citizen=self.citizen_port, vendors={"vendor-a": self.vendor_port}),
        )
        self.sipps: list[Sipp] = []
        self.serve: subprocess.Popen[str] | None = None
        self.stats_path = home / "serve-stats.json"
        self._callers = 0
        self._starts = 0
        self.serve_log_path = home / "serve-0.log"

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ people

    def phone(self, agent: str, **behaviour: Any) -> Sipp:
        """Agent `agent`'s phone: a SIPp UAS on the port its AOR names."""
        sipp = Sipp(self.home, f"agent{agent}", phone_scenario(**behaviour),
                    self.agent_ports[agent], free_udp_port())
        self.sipps.append(sipp)
        return sipp

    def citizen(self, **behaviour: Any) -> Sipp:
        """The phone a callback reaches (the carrier's AOR contact)."""
        sipp = Sipp(self.home, "citizen", phone_scenario(**behaviour), self.citizen_port,
                    free_udp_port())
        self.sipps.append(sipp)
        return sipp

    def vendor(self, **behaviour: Any) -> Sipp:
        """Vendor A's floor (the `vendor-a` trunk's AOR contact)."""
        sipp = Sipp(self.home, "vendor-a", phone_scenario(**behaviour), self.vendor_port,
                    free_udp_port())
        self.sipps.append(sipp)
        return sipp

    def login(self, *agents: str) -> None:
        """Each agent dials *51 from a phone of its own and hears the confirmation."""
        for agent in agents:
            scenario = feature_scenario(f"agent{agent}", PASSWORD, "*51")
            sipp = Sipp(self.home, f"login{agent}", scenario, free_udp_port(), free_udp_port(),
                        target=self.target, service="*51")
            self.sipps.append(sipp)
            sipp.wait_for("1 ended by far end")

    def call(self, keys: tuple[Key, ...] = (), patience: float | None = 60.0,
             number: str = "01012345678", dnis: str = "120") -> Sipp:
        """A caller from `number` dialling `dnis` through the carrier."""
        port = self.caller_ports[self._callers % CALLER_PORTS]
        self._callers += 1
        sipp = Sipp(self.home, f"caller{self._callers}", caller_scenario(number, keys, patience),
                    port, free_udp_port(), target=self.target, service=dnis)
        self.sipps.append(sipp)
        return sipp

    def calls(self, count: int, rate: float, keys: tuple[Key, ...] = (),
              patience: float | None = 60.0) -> Sipp:
        """`count` callers from one SIPp, `rate` new calls per second (a loaded run)."""
        port = self.caller_ports[self._callers % CALLER_PORTS]
        self._callers += 1
        sipp = Sipp(self.home, f"callers{self._callers}",
                    caller_scenario("01012345678", keys, patience), port, free_udp_port(),
                    target=self.target, service="120", calls=count, rate=rate)
        self.sipps.append(sipp)
        return sipp

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.asterisk.sip_port}"

    # ------------------------------------------------------------------ the engine

    def start_engine(self, site: Path = SITE, *extra: str) -> None:
        """`acd serve` against this Asterisk; returns once its app is registered."""
        env = dict(os.environ, ACD_ARI_USER="acd", ACD_ARI_PASSWORD=PASSWORD)
        self._starts += 1
        self.serve_log_path = self.home / f"serve-{self._starts}.log"
        self.serve = subprocess.Popen(
            [sys.executable, "-m", "acd.cli.main", "serve", str(site),
             "--ari-url", self.asterisk.ari_url, "--stats-json", str(self.stats_path),
             "--log-level", "INFO", *extra],
            env=env, stdout=subprocess.DEVNULL,
            stderr=self.serve_log_path.open("w"), text=True,
        )
        # Connected and reconciled with what Asterisk holds (a successor's first act).
        until(lambda: "reconciled:" in self.serve_log(), "acd serve connected to Asterisk")

    def app_registered(self, app: str = "acd") -> bool:
        """Whether Asterisk has an application `app` (someone listens for its events)."""
        try:
            return bool(self.asterisk.get(f"/applications/{app}"))
        except (OSError, urllib.error.URLError):
            return False

    def stop_engine(self) -> dict[str, Any]:
        """SIGTERM `acd serve`, wait for it (exit 0), and return its --stats-json."""
        assert self.serve is not None
        self.serve.send_signal(signal.SIGTERM)
        code = self.serve.wait(timeout=WITHIN)
        self.serve = None
        assert code == 0, self.serve_log()
        stats: dict[str, Any] = json.loads(self.stats_path.read_text())
        return stats

    def serve_log(self) -> str:
        """What the running (or last) `acd serve` logged so far."""
        path = self.serve_log_path
        if self.serve is not None and self.serve.poll() is not None:
            raise AssertionError(f"acd serve exited {self.serve.returncode}: "
                                 f"{path.read_text(errors='replace')[-4000:]}")
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def kill_engine(self) -> None:
        """SIGKILL `acd serve`: no shutdown, no goodbye (a crash)."""
        assert self.serve is not None
        self.serve.kill()
        self.serve.wait()
        self.serve = None

    # ------------------------------------------------------------------ Asterisk's side

    def channels(self) -> list[str]:
        return [c["name"] for c in self.asterisk.channels()]

    def bridges(self) -> list[str]:
        return [b["id"] for b in self.asterisk.bridges()]

    def until_no_channels(self) -> None:
        until(lambda: self.channels() == [], "every channel gone from Asterisk")

    def close(self) -> None:
        """Stop every process this lab started, by its pid."""
        if self.serve is not None and self.serve.poll() is None:
            self.serve.kill()
            self.serve.wait()
        for sipp in self.sipps:
            sipp.stop()
        self.asterisk.close()


def lab_at(home: Path) -> Iterator[Lab]:
    with Lab(home) as lab:
        yield lab
