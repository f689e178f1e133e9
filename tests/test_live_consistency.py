"""Live and virtual time agree: the same curve and seed through `acd pbx` + `acd serve`
(real processes, real sockets, time compressed 120x) and through `acd simulate`
give the same answer rate within statistical error, and every answer the live
engine counted is an answer a simulated caller lived."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

from acd.config.loader import load_site
from acd.softphone_sim.curves import load_curve
from acd.softphone_sim.replay import replay

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "live"
SITE = str(FIXTURES / "consistency.yaml")
CURVE = str(FIXTURES / "consistency.csv")
SPEED = "120"


def test_live_and_replay_answer_rates_agree(tmp_path: Path) -> None:
    env = dict(os.environ, ACD_ARI_USER="acd", ACD_ARI_PASSWORD="pw")
    cli = [sys.executable, "-m", "acd.cli.main"]
    pbx = subprocess.Popen(
        [*cli, "pbx", SITE, "--listen", "127.0.0.1:0", "--curve", CURVE, "--speed", SPEED,
         "--seed", "1", "--start", "10:00", "--duration", "60",
         "--json", str(tmp_path / "pbx.json")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    serve = None
    try:
        assert pbx.stdout is not None
        line = pbx.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        serve = subprocess.Popen(
            [*cli, "serve", SITE, "--ari-url", url, "--speed", SPEED, "--start", "10:00",
             "--seed", "1", "--stats-json", str(tmp_path / "serve.json"),
             "--log-level", "WARNING"],
            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
        )
        pbx.wait(timeout=240)  # the hour (30 s) and its drain
        assert pbx.returncode == 0, pbx.stderr.read() if pbx.stderr else ""
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)
        assert serve.returncode == 0
    finally:
        for proc in (pbx, serve):
            if proc is not None and proc.poll() is None:
                proc.kill()
    live = json.loads((tmp_path / "pbx.json").read_text())["summary"]
    engine = json.loads((tmp_path / "serve.json").read_text())["engine"]["totals"]

    result = replay(load_site(SITE), load_curve(CURVE), 1)
    replayed = result.outcomes.get("answered", 0) / result.calls

    # Every answer a caller lived, the engine counted. The engine counts an answer when
    # it connects; a caller whose hang-up crossed the bridging is one it counts and
    # the caller did not live (a race any ACD has): a handful at most.
    assert 0 <= engine["answered"] - live["answered_by_agent"] <= 3
    assert live["in_progress"] == 0
    # Same arrivals (the seed is split as the replay splits it): within a few
    # percent, as redials depend on who gave up.
    assert abs(live["calls"] - result.calls) <= 0.05 * result.calls
    # The caller-side answer rates agree within 4 standard errors of a difference.
    p = (live["answer_rate"] + replayed) / 2
    se = math.sqrt(2 * p * (1 - p) / result.calls)
    assert abs(live["answer_rate"] - replayed) < 4 * se, (live["answer_rate"], replayed)
    assert abs(engine["answer_rate"] - result.answer_rate) < 4 * se
