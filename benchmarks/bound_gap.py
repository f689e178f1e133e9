"""How far the routing is from the best any routing could do: issue 14's bars.

    python benchmarks/bound_gap.py [--seeds 1-5] [--jobs N] [--config YAML] [--share F]

Replays the three reference days on each seed twice, in the same run: with the
configuration's routing on each caller's predicted wait (`predicted_wait` in its
queues, or `--share F` on every queue), and with the fixed seconds alone (every
`predicted_wait` removed). For each it prints the engine's answer rate beside the
fully pooled Erlang-A limit for the staffing actually on duty (`softphone_sim/
bound.py`: every agent on duty, and the vendors' seats while their contracts are
open, able to take every call), and the gap in points. The bars, for the
predicted-wait routing: on the 80k day within 5 points of the limit with vendor
seats (moonshot 2); on the 60k day within 2 points of the in-house limit; the normal
weekday no worse than with the fixed seconds. Says "bar met" or "bar MISSED".
"""

from __future__ import annotations

import argparse
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402

from acd.config.loader import load_site  # noqa: E402
from acd.config.schema import PredictedWait, SiteConfig  # noqa: E402
from acd.softphone_sim.curves import load_curve  # noqa: E402
from acd.softphone_sim.replay import replay  # noqa: E402

CURVES = ROOT / "config" / "curves"
DAYS = {
    # day: (curve, the limit the bar is measured against, bar in points)
    "normal": ("normal-weekday.csv", "with_vendors", None),
    "60k": ("surge-stage1-60k.csv", "in_house", 2.0),
    "80k": ("surge-stage2-80k.csv", "with_vendors", 5.0),
}
VARIANTS = ("predicted wait", "fixed seconds")


def routed(site: SiteConfig, variant: str, share: float | None) -> SiteConfig:
    """The site with every queue's `predicted_wait` as the variant wants it."""
    if variant == "fixed seconds":
        rule = None
    elif share is not None:
        rule = PredictedWait(share_of_patience=share)
    else:
        return site
    queues = {n: msgspec.structs.replace(q, predicted_wait=rule) for n, q in site.queues.items()}
    return msgspec.structs.replace(site, queues=queues)


def one(
    config: str, day: str, seed: int, variant: str, share: float | None
) -> tuple[str, str, int, float, float, float]:
    """(day, variant, seed, answer rate, limit in-house, limit with vendors)."""
    site = routed(load_site(config), variant, share)
    assert site.simulation is not None
    curve = load_curve(str(CURVES / DAYS[day][0]), known_branches=tuple(site.simulation.branches))
    result = replay(site, curve, seed)
    bound = result.bound
    assert bound is not None and result.answer_rate is not None
    return (day, variant, seed, result.answer_rate, bound.in_house or 0.0,
            bound.with_vendors or 0.0)


def seeds_of(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(ROOT / "config" / "seoul120.yaml"))
    parser.add_argument("--seeds", default="1-5", help="a seed or a range, e.g. 1-5")
    parser.add_argument("--days", default=",".join(DAYS), help="normal,60k,80k")
    parser.add_argument("--share", type=float, default=None,
                        help="predicted_wait.share_of_patience for every queue "
                        "(default: the configuration's own)")
    parser.add_argument("--jobs", type=int, default=None, help="processes (default: cores)")
    args = parser.parse_args()
    days = args.days.split(",")
    work = [(args.config, day, seed, variant, args.share)
            for day in days for seed in seeds_of(args.seeds) for variant in VARIANTS]
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(one, *zip(*work, strict=True)))
    print(f"{'day':<7} {'routing':<15} {'seed':>4} {'answered':>9} {'limit in-house':>15} "
          f"{'limit w/ vendors':>17} {'gap (points)':>13}")
    means: dict[tuple[str, str], tuple[float, float]] = {}
    for day in days:
        against = DAYS[day][1]
        for variant in VARIANTS:
            mine = [r for r in rows if r[0] == day and r[1] == variant]
            gaps = []
            for _, _, seed, rate, in_house, vendors in mine:
                limit = in_house if against == "in_house" else vendors
                gaps.append((limit - rate) * 100)
                print(f"{day:<7} {variant:<15} {seed:>4} {rate:>9.1%} {in_house:>15.1%} "
                      f"{vendors:>17.1%} {gaps[-1]:>13.1f}")
            means[day, variant] = (statistics.fmean(r[3] for r in mine), statistics.fmean(gaps))
    print()
    for day in days:
        (rate, gap), (fixed_rate, fixed_gap) = means[day, VARIANTS[0]], means[day, VARIANTS[1]]
        against = DAYS[day][1].replace("_", "-")
        bar = DAYS[day][2]
        if bar is None:
            met = rate >= fixed_rate - 0.001
            verdict = f"answered {rate:.1%} against {fixed_rate:.1%} with the fixed seconds"
        else:
            met = gap <= bar
            verdict = (f"mean gap to the {against} limit {gap:.1f} points (bar {bar:g}; "
                       f"{fixed_gap:.1f} with the fixed seconds); answered {rate:.1%} "
                       f"against {fixed_rate:.1%}")
        print(f"{day:<7} {'bar met' if met else 'bar MISSED'}: {verdict}")


if __name__ == "__main__":
    main()
