"""Replay speed and memory: the 80,000-call stage-2 day with the reference deployment.

    python benchmarks/replay.py [--seed S] [--curve CSV] [--config YAML]

Prints the wall time of the whole day, simulated calls and engine events per
second, then the peak memory (RSS) of fresh processes replaying the same day
scaled to 25 %, 50 % and 100 %: flat memory means the peak does not grow with the
number of calls (only with how many are in the system at once).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--curve", type=Path, default=DEFAULT_CURVE)
    parser.add_argument("--seed", type=int, default=1)
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

if __name__ == "__main__":
    main()
