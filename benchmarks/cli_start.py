"""How long `acd --help` takes, whole process, against Python starting and doing
nothing, measured in the same run (median of `--runs`, wall time).

    .venv/bin/python benchmarks/cli_start.py [--runs 20]

Goal (issue 13): `acd --help` under 0.15 s; said plainly when missed. Also prints
`acd check config/seoul120.yaml` (the YAML loader and schema loaded) for scale.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 0.15


def median_wall(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    acd = [sys.executable, "-m", "acd.cli.main"]
    bare = median_wall([sys.executable, "-c", "pass"], args.runs)
    help_ = median_wall([*acd, "--help"], args.runs)
    check = median_wall([*acd, "check", str(ROOT / "config" / "seoul120.yaml")], args.runs)
    print(f"python -c pass:           {bare * 1000:6.0f} ms (reference)")
    print(f"acd --help:               {help_ * 1000:6.0f} ms ({help_ / bare:.1f}x the reference)"
          + ("" if help_ < GOAL_SECONDS else f" -- goal (< {GOAL_SECONDS} s) MISSED"))
    print(f"acd check seoul120.yaml:  {check * 1000:6.0f} ms ({check / bare:.1f}x the reference)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
