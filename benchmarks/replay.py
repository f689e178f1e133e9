"""Replay speed and memory: the 80,000-call stage-2 day with the reference deployment.

    python benchmarks/replay.py [--seed S] [--curve CSV] [--config YAML] [--runs N]

Prints, in one run:
- the peak memory (RSS) of fresh processes replaying the same day scaled to 25 %,
  50 % and 100 %: flat memory means the peak does not grow with the number of calls
  (only with how many are in the system at once);
- which engine runs (compiled with mypyc, or plain Python), and the in-process wall
  time of the day, in calls and engine events per second;
- the whole-process time of `acd simulate` on the day against a bare simpy M/M/c+M
  model of the same call count and agent count (`simpy_reference.py`), each run
  `--runs` times alternately, medians compared: the ratio is simpy's time over
  ours (1.0x: as fast as simpy; issue 13's goal, its moonshot 3x).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acd import native  # noqa: E402
from acd.config.loader import load_site  # noqa: E402
from acd.softphone_sim.curves import load_curve, scale  # noqa: E402
from acd.softphone_sim.replay import replay  # noqa: E402

DEFAULT_CONFIG = ROOT / "config" / "seoul120.yaml"
DEFAULT_CURVE = ROOT / "config" / "curves" / "surge-stage2-80k.csv"


def one(config: Path, curve_path: Path, seed: int, factor: float) -> tuple[float, int, int, float]:
    site = load_site(config)
    curve = load_curve(curve_path)
    if factor != 1.0:
        curve = scale(curve, factor=factor)
    started = time.perf_counter()
    result = replay(site, curve, seed)
    wall = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return wall, result.calls, result.run.events, rss_mb


def whole_process(args: list[str]) -> tuple[float, str]:
    """Wall time of a fresh process running `args`, and what it printed."""
    started = time.perf_counter()
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - started, out


def against_simpy(config: Path, curve_path: Path, seed: int, calls: int, runs: int) -> None:
    """`acd simulate` against the simpy reference, whole processes, alternately."""
    site = load_site(config)
    curve = load_curve(curve_path)
    spec = {
        "calls": calls,
        "agents": len(site.agents),
        "weights": curve.expected_per_interval(900.0),
        "interval_seconds": 900.0,
        "handle_seconds": 180.0,  # about the branches' median talk times
        "patience_seconds": 225.0,  # the mean of the site's lognormal patience
        "seed": seed,
    }
    acd = Path(sys.executable).parent / "acd"
    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        spec_file = Path(tmp) / "spec.json"
        spec_file.write_text(json.dumps(spec), encoding="utf-8")
        for _ in range(runs):
            wall, _out = whole_process(
                [str(acd), "simulate", str(config), "--curve", str(curve_path),
                 "--seed", str(seed), "--quiet"]
            )
            ours.append(wall)
            wall, out = whole_process(
                [sys.executable, str(ROOT / "benchmarks" / "simpy_reference.py"), str(spec_file)]
            )
            theirs.append(wall)
    answered, abandoned = (int(x) for x in out.split())
    mine, ref = statistics.median(ours), statistics.median(theirs)
    ratio = ref / mine
    print(
        f"whole process, median of {runs}: acd simulate {mine:.2f} s "
        f"(runs {', '.join(f'{t:.2f}' for t in ours)}); simpy M/M/c+M of {calls:,} calls and "
        f"{spec['agents']} agents {ref:.2f} s (runs {', '.join(f'{t:.2f}' for t in theirs)}; "
        f"it answered {answered:,}, lost {abandoned:,})"
    )
    print(
        f"speed against simpy: {ratio:.2f}x (goal 1.0x, moonshot 3x): "
        + ("goal met" if ratio >= 1.0 else f"goal MISSED (acd takes {mine / ref:.1f}x as long)")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--curve", type=Path, default=DEFAULT_CURVE)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="whole-process runs of each (3)")
    parser.add_argument("--factor", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.factor is not None:  # a child process measuring memory
        wall, calls, events, rss = one(args.config, args.curve, args.seed, args.factor)
        print(f"{calls} {events} {wall:.3f} {rss:.1f}")
        return
    # Memory first: a child's peak RSS starts from its parent's at fork (Linux), so
    # the children must be measured before this process has replayed a whole day.
    print("peak memory by day size (fresh process each):")
    for factor in (0.25, 0.5, 1.0):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--config",
                str(args.config),
                "--curve",
                str(args.curve),
                "--seed",
                str(args.seed),
                "--factor",
                str(factor),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        print(
            f"  {factor:>4.0%} of the day: {int(out[0]):>7,} calls, "
            f"peak RSS {float(out[3]):6.1f} MB"
        )

    wall, calls, events, rss = one(args.config, args.curve, args.seed, 1.0)
    print(native.describe())
    print(
        f"{args.curve.name} through {args.config.name}: {calls:,} calls, {events:,} engine events "
        f"in {wall:.2f} s wall: {calls / wall:,.0f} calls/s, {events / wall:,.0f} events/s "
        f"(goal: under 3 s, over 25,000 calls/s)"
    )
    met = wall < 3.0 and calls / wall > 25_000
    print("goal met" if met else "goal MISSED: " + ", ".join(
        what for what, missed in (
            (f"{wall:.2f} s is not under 3 s", wall >= 3.0),
            (f"{calls / wall:,.0f} calls/s is not over 25,000", calls / wall <= 25_000),
        ) if missed
    ))
    against_simpy(args.config, args.curve, args.seed, calls, args.runs)

if __name__ == "__main__":
    main()
