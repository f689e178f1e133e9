"""`acd load` against a real Asterisk 22 with `acd serve` attached: the knee of new
calls per second, and the peak hour of the 80k day, callers' figures against the
replay's.

    ACD_ASTERISK_PREFIX=/opt/acd-asterisk python benchmarks/sip_load.py ramp \\
        [--rates 10,20,30,40,60] [--step-seconds 30] [--agents 400]
    ACD_ASTERISK_PREFIX=/opt/acd-asterisk python benchmarks/sip_load.py peak \\
        [--scale 1] [--window 10:00-11:00] [--redis]

Both start a fresh Asterisk from the project's samples (tests/asterisk.py, the
agents registering as in production), `acd serve` (its own process) and `acd load`
(its own process: SIPp for the callers, the agents' phones on asyncio), all on
127.0.0.1, and stop every one by its pid.

- `ramp`: a small site (one menu, one queue, `--agents` agents, 6 s talks); `acd
  load --ramp` raises the rate step by step until calls fail or are turned away,
  and prints each step's CPU per process. Goal: the load generator (acd load +
  SIPp) under 20 % of one core at the knee, said plainly when missed.
- `peak`: config/seoul120.yaml and config/curves/surge-stage2-80k.csv over the window
  at `--scale`, in real time (an hour for the default window), vendor floors
  answering: the summary table and the live-vs-replay comparison `acd load` prints.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acd.config.loader import load_site  # noqa: E402
from tests.asterisk import PASSWORD, AsteriskServer, Peers, free_udp_port, require  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

RAMP_SITE = """
site: {{name: sip-load, utc_offset: "+09:00", default_language: en}}
skills: {{gen: {{}}}}
pools: {{floor: {{kind: in_house}}}}
queues:
  gen: {{skill: gen, pools: [floor], wrap_up_seconds: 1, ring_timeout_seconds: 10}}
ivr:
  entry: menu
  nodes:
    menu: {{kind: menu, prompt: ["sound:beep"], options: {{"1": {{queue: gen}}}},
            timeout_seconds: 6}}
agent_groups:
  - {{count: {agents}, first_id: 10000, pool: floor, skills: [{{skill: gen, level: 3}}]}}
simulation:
  date: "2026-06-09"
  dnis: "120"
  branches:
    general: {{keys: ["1"], talk: {{median_seconds: 6, sigma: 0.3}}}}
  patience: {{kind: lognormal, median_seconds: 300, sigma: 0.3}}
  agents: {{answer_min_seconds: 0.3, answer_max_seconds: 1.0, miss_probability: 0.0}}
"""
RAMP_CURVE = "start,general\n" + "".join(f"{h:02d}:00,100\n" for h in range(24))


def serve(asterisk: AsteriskServer, site: Path, start: str, home: Path,
          redis: RedisServer | None) -> subprocess.Popen[bytes]:
    env = dict(os.environ, ACD_ARI_USER="acd", ACD_ARI_PASSWORD=PASSWORD)
    cmd = [sys.executable, "-m", "acd.cli.main", "serve", str(site), "--ari-url",
           asterisk.ari_url, "--log-level", "WARNING", "--start", start]
    if redis is not None:
        cmd += ["--redis", redis.url]
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                               stderr=(home / "serve.log").open("w"))
    deadline = time.monotonic() + 30
    while not asterisk.get("/applications"):
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit(f"acd serve did not attach: {(home / 'serve.log').read_text()}")
        time.sleep(0.05)
    return process


def run(args: argparse.Namespace, home: Path) -> int:
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
    carrier = free_udp_port()
    if args.mode == "ramp":
        site = home / "site.yaml"
        site.write_text(RAMP_SITE.format(agents=args.agents))
        curve = home / "curve.csv"
        curve.write_text(RAMP_CURVE)
        window, start, vendors = "10:00-11:00", "2026-06-09T10:00", {}
    else:
        site = ROOT / "config" / "seoul120.yaml"
        curve = ROOT / "config" / "curves" / "surge-stage2-80k.csv"
        window = args.window
        start = f"2026-06-09T{window.split('-')[0]}"
        vendors = {"vendor-a": free_udp_port(), "vendor-b": free_udp_port()}
    agents = {a.id: 0 for a in load_site(site).agents}
    asterisk = AsteriskServer(home / "asterisk",
                              Peers(callers=(carrier,), agents=agents, vendors=vendors))
    redis = RedisServer() if args.redis else None
    engine = None
    try:
        engine = serve(asterisk, site, start, home, redis)
        cmd = [sys.executable, "-m", "acd.cli.main", "load", str(site), "--curve", str(curve),
               "--pbx", f"127.0.0.1:{asterisk.sip_port}", "--window", window,
               "--agents-conf", str(asterisk.home / "etc" / "pjsip_agents.conf"),
               "--caller-port", str(carrier), "--sounds", str(asterisk.home / "data" / "sounds"),
               "--json", str(Path(args.keep or home) / "load.json"),
               "--keep-files", str(args.keep or home / "sipp"),
               "--asterisk-log", str(asterisk.home / "log" / "messages.log")]
        for trunk, port in vendors.items():
            cmd += ["--vendor", f"{trunk}={port}"]
        if args.mode == "ramp":
            cmd += ["--ramp", args.rates, "--step-seconds", str(args.step_seconds)]
        else:
            cmd += ["--scale", str(args.scale), "--report", str(args.report),
                    "--drain", str(args.drain)]
        return subprocess.run(cmd, check=False).returncode
    finally:
        if engine is not None and engine.poll() is None:
            engine.send_signal(signal.SIGTERM)
            try:
                engine.wait(timeout=60)
            except subprocess.TimeoutExpired:
                engine.kill()
        asterisk.close()
        if redis is not None:
            redis.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["ramp", "peak"])
    parser.add_argument("--rates", default="10,20,30,40,60")
    parser.add_argument("--step-seconds", type=float, default=30.0)
    parser.add_argument("--agents", type=int, default=400)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--window", default="10:00-11:00")
    parser.add_argument("--drain", type=float, default=20.0,
                        help="minutes the last callers and redials may go on (acd load --drain)")
    parser.add_argument("--report", default="sip-load-peak.html")
    parser.add_argument("--redis", action="store_true")
    parser.add_argument("--keep", metavar="DIR", help="keep SIPp's files (and logs) here")
    args = parser.parse_args()
    require()
    with tempfile.TemporaryDirectory(prefix="acd-sip-load-") as tmp:
        return run(args, Path(tmp))


if __name__ == "__main__":
    raise SystemExit(main())
