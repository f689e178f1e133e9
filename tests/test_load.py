"""`acd load` against a real Asterisk 22 with `acd serve` attached: a one-minute
window of a curve placed as real SIP calls (SIPp), the agents' phones registering
and logging in as in production, and what the callers lived checked against the
phones, the engine and the replay. Bad input is refused before any call.

Asterisk, SIPp and both `acd` commands are real processes on 127.0.0.1; each is
stopped by its pid (the lab's close, `acd load`'s own clean-up)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis

from acd.softphone_sim.curves import Curve, write_curve
from acd.store.keys import Keys
from acd.store.records import CallView
from tests.asterisk import free_udp_port, require
from tests.lab import FIXTURES, Lab
from tests.redis_server import RedisServer

SITE = FIXTURES / "load.yaml"
WINDOW = "10:00-10:01"
CALLS_PER_MINUTE = {"general": 36.0, "link": 4.0}


def one_minute_curve(path: Path) -> Path:
    """A day of 1-minute intervals with calls only at 10:00."""
    columns = {b: [0.0] * 1440 for b in CALLS_PER_MINUTE}
    for branch, calls in CALLS_PER_MINUTE.items():
        columns[branch][600] = calls
    write_curve(Curve.from_columns("load-test", 1, columns), path)
    return path


def acd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acd.cli.main", *args], capture_output=True, text=True,
        timeout=600, env=env, check=False,
    )  # fmt: skip


class LoadLab(Lab):
    """The lab, its agents' phones registering instead of fixed SIPp contacts."""

    def __init__(self, home: Path) -> None:
        super().__init__(home, registering=True)
        self.carrier_port = self.caller_ports[0]

    @property
    def agents_conf(self) -> Path:
        return self.asterisk.home / "etc" / "pjsip_agents.conf"


@pytest.fixture
def load_lab(tmp_path: Path) -> Iterator[LoadLab]:
    lab = LoadLab(tmp_path)
    with lab:
        yield lab


def engine_calls(redis_url: str) -> dict[str, list[CallView]]:
    """The engine's record of every call (the read model's call views, ended ones
    kept an hour), by caller number, in order of arrival."""
    client = redis.Redis.from_url(redis_url)
    try:
        views = []
        for key in client.scan_iter(match=Keys("load-lab").call("*")):
            raw = client.get(key)
            assert isinstance(raw, bytes)
            views.append(msgspec.msgpack.decode(raw, type=CallView))
    finally:
        client.close()
    by_number: dict[str, list[CallView]] = {}
    for view in sorted(views, key=lambda v: v.since):
        by_number.setdefault(view.caller, []).append(view)
    return by_number


def test_a_window_placed_as_sip_calls_matches_phones_engine_and_replay(
    load_lab: LoadLab, redis_server: RedisServer, tmp_path: Path
) -> None:
    lab = load_lab
    lab.start_engine(SITE, "--start", "2026-06-09T10:00", "--redis", redis_server.url)
    out = tmp_path / "load.json"
    report = tmp_path / "load.html"
    done = acd(
        "load", str(SITE), "--curve", str(one_minute_curve(tmp_path / "curve.csv")),
        "--pbx", lab.target, "--window", WINDOW, "--seed", "3",
        "--agents-conf", str(lab.agents_conf), "--caller-port", str(lab.carrier_port),
        "--sounds", str(lab.asterisk.home / "data" / "sounds"),
        "--asterisk-log", str(lab.asterisk.home / "log" / "messages.log"),
        "--drain", "3", "--json", str(out), "--report", str(report), "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    result: dict[str, Any] = json.loads(out.read_text())
    totals = result["totals"]
    assert result["agents_logged_in"] == 3
    # Every call placed ended one way or another; nothing left in Asterisk.
    assert totals["unfinished"] == 0, totals
    assert totals["failed"] == {}, totals
    assert totals["placed"] >= result["persons"] > 0
    assert totals["reached_ivr"] == totals["placed"]
    assert totals["ended_by_pbx"] >= 1  # the callers who pressed 9 heard goodbye
    lab.until_no_channels()
    # Every caller a person answered was answered by one of the agents' phones: the
    # phones' answered calls are the callers' connected calls.
    # (a phone that answered as its caller hung up is the race below, at most one)
    assert 0 <= result["answered_by_agent"] - totals["connected"] <= 1
    # Call by call: each call placed is one call in the engine, from the same number;
    # each call a person answered is one the engine counted answered, and the phone
    # that answered it is that of the agent the engine chose.
    engine = lab.stop_engine()["engine"]["totals"]
    by_number = engine_calls(redis_server.url)
    placed: dict[str, list[dict[str, Any]]] = {}
    for call in result["calls"]:
        placed.setdefault(call["number"], []).append(call)
    assert sum(len(v) for v in by_number.values()) == totals["placed"]
    crossed = []
    for number, calls in placed.items():
        seen = by_number.get(number, [])
        assert len(seen) == len(calls), (number, calls, seen)
        for call, view in zip(calls, seen, strict=True):
            assert view.ended
            if call["outcome"] == "connected":
                assert view.outcome == "answered", (call, view)
                assert call["answered_by"] == f"agent{view.agent}", (call, view)
            elif view.outcome == "answered":
                # The caller's hang-up crossed the bridging: the engine counted the
                # answer, the caller had gone (a race any ACD has).
                assert call["outcome"] == "abandoned", (call, view)
                crossed.append(call)
    assert len(crossed) <= 1, crossed
    assert engine["answered"] == totals["connected"] + len(crossed), (engine, totals)
    # Live and replay: the same first calls (seed split alike), answer rates within
    # four standard errors of a difference.
    predicted = result["predicted"]
    assert abs(totals["placed"] - predicted["calls"]) <= max(3, 0.15 * predicted["calls"])
    live, replayed = totals["answer_rate"], predicted["answer_rate"]
    p = (live + replayed) / 2
    se = math.sqrt(2 * p * (1 - p) / predicted["calls"])
    assert abs(live - replayed) < 4 * se, (live, replayed)
    assert totals["to_agent_seconds"]["p50"] is not None
    assert result["taskprocessor_warnings"] == 0  # Asterisk kept up (its log was read)
    assert "Live against the replay" in report.read_text()
    assert "answer rate" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--window", "25:00-26:00"], "--window"),
        (["--window", "10:00-09:00"], "ends before it starts"),
        (["--scale", "0"], "--scale"),
        (["--scale", "-2"], "--scale"),
        (["--scale", "nan"], "--scale"),
        (["--drain", "nan"], "--drain"),
        (["--ramp", "10,5"], "--ramp"),
        (["--ramp", "5", "--report", "r.html"], "--report"),
        (["--pbx", "nowhere"], "--pbx"),
        (["--vendor", "vendor-z=5090"], "--vendor"),
        (["--agents-conf", "/nonexistent/pjsip_agents.conf"], "/nonexistent/pjsip_agents.conf"),
    ],
)
def test_bad_input_is_refused_before_any_call(
    tmp_path: Path, args: list[str], message: str
) -> None:
    require()
    base = ["load", str(SITE), "--curve", str(one_minute_curve(tmp_path / "c.csv")),
            "--pbx", "127.0.0.1:9", "--window", WINDOW]  # fmt: skip
    done = acd(*base, *args)
    assert done.returncode == 1, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_pbx_where_nothing_listens_is_named_and_nothing_is_left(tmp_path: Path) -> None:
    require()
    port = free_udp_port()
    done = acd(
        "load", str(SITE), "--curve", str(one_minute_curve(tmp_path / "c.csv")),
        "--pbx", f"127.0.0.1:{port}", "--window", WINDOW, "--agents", "1",
        "--agents-conf", str(FIXTURES / "agents.conf"),
    )  # fmt: skip
    assert done.returncode == 1
    assert f"127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_sipp_missing_is_said_plainly(tmp_path: Path) -> None:
    env = dict(os.environ, PATH=str(Path(sys.executable).parent))
    done = acd(
        "load", str(SITE), "--curve", str(one_minute_curve(tmp_path / "c.csv")),
        "--pbx", "127.0.0.1:5060", "--window", WINDOW, env=env,
    )  # fmt: skip
    assert done.returncode == 1
    assert "SIPp is not installed" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_ramp_stops_where_the_brakes_turn_callers_away(
    load_lab: LoadLab, tmp_path: Path
) -> None:
    """The engine lets in 3 new callers a second (a bucket of 3): at 1/s every call
    is clean, at 8/s callers hear busy (486), so the knee is 1/s and the ramp stops
    there without trying 16/s."""
    lab = load_lab
    site = tmp_path / "braked.yaml"
    site.write_text(
        SITE.read_text()
        + "live: {admission: {max_new_calls_per_second: 3, burst: 3, turn_away: busy}}\n"
    )
    lab.start_engine(site, "--start", "2026-06-09T10:00")
    out = tmp_path / "ramp.json"
    done = acd(
        "load", str(site), "--curve", str(one_minute_curve(tmp_path / "curve.csv")),
        "--pbx", lab.target, "--window", WINDOW, "--ramp", "1,8,16", "--step-seconds", "6",
        "--agents-conf", str(lab.agents_conf), "--caller-port", str(lab.carrier_port),
        "--json", str(out), "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    ramp = json.loads(out.read_text())
    steps = {s["rate"]: s for s in ramp["steps"]}
    assert list(steps) == [1.0, 8.0]
    assert steps[1.0]["clean"] and steps[1.0]["failed"] == 0
    assert steps[8.0]["turned_away"] > 0 and not steps[8.0]["clean"]
    assert ramp["knee"] == 1.0
    assert "knee: 1 new calls/s clean" in done.stdout
    assert steps[8.0]["cpu_seconds"]["asterisk"] > 0
    lab.until_no_channels()


def test_a_window_with_no_caller_is_said_before_any_phone_registers(tmp_path: Path) -> None:
    require()
    done = acd(
        "load", str(SITE), "--curve", str(one_minute_curve(tmp_path / "c.csv")),
        "--pbx", "127.0.0.1:9", "--window", "03:00-04:00",
    )  # fmt: skip
    assert done.returncode == 1
    assert "no caller falls in the window" in done.stderr
    assert "registered" not in done.stderr


def sipp_processes(marker: str) -> list[int]:
    """Pids of running SIPp processes whose command line holds `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"sipp") and any(marker.encode() in a for a in argv):
            found.append(int(entry.name))
    return found


def test_ctrl_c_stops_the_callers_and_the_phones(load_lab: LoadLab, tmp_path: Path) -> None:
    """An operator's Ctrl-C in the middle of a run: one line, exit 1, SIPp stopped
    (no process left), the phones unregistered, and the calls end in Asterisk."""
    lab = load_lab
    lab.start_engine(SITE, "--start", "2026-06-09T10:00")
    keep = tmp_path / "keep"
    load = subprocess.Popen(
        [sys.executable, "-m", "acd.cli.main", "load", str(SITE),
         "--curve", str(one_minute_curve(tmp_path / "curve.csv")), "--pbx", lab.target,
         "--window", WINDOW, "--agents-conf", str(lab.agents_conf),
         "--caller-port", str(lab.carrier_port), "--keep-files", str(keep)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert load.stderr is not None
        for line in load.stderr:  # the first progress line: SIPp is placing calls
            if "placed" in line:
                break
        assert sipp_processes(str(keep))
        load.send_signal(signal.SIGINT)
        _, err = load.communicate(timeout=60)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    assert load.returncode == 1
    assert "interrupted" in err and "Traceback" not in err
    assert sipp_processes(str(keep)) == []
    registered = lab.asterisk.rx("pjsip show contacts")
    assert "agent1001" not in registered, registered
    lab.until_no_channels()
