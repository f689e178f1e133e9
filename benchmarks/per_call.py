"""What one caller costs the engine: events handled and timers armed per call, by kind.

    python benchmarks/per_call.py [--config YAML] [--curve CSV] [--seed S]

Replays the day (the 80,000-call stage-2 day by default) and prints, per call:
- the engine events handled, by type, and how many of them produced no command;
- the timers armed, by kind, and how many fired (the others were dropped unfired:
  their call or agent had moved on);
- the largest the timer heap grew during the day.

It runs the engine as plain Python (`ACD_PURE=1`), the only way to count inside it;
the compiled engine handles the same events and timers (`tests/test_native.py`).
Issue 13 measured 11.8 events and 6.9 timers armed per call (3.05 never firing)
before its work.
"""

from __future__ import annotations

import os

os.environ["ACD_PURE"] = "1"  # before acd is imported: count inside plain Python

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acd.config.loader import load_site  # noqa: E402
from acd.engine import commands as cmd  # noqa: E402
from acd.engine import events as ev  # noqa: E402
from acd.engine.core import Engine  # noqa: E402
from acd.engine.state import TimerState  # noqa: E402
from acd.engine.states import TimerKind  # noqa: E402
from acd.engine.timers import Handler, Test, Timers  # noqa: E402
from acd.softphone_sim.curves import load_curve  # noqa: E402
from acd.softphone_sim.replay import replay  # noqa: E402

events: Counter[str] = Counter()
silent: Counter[str] = Counter()
armed: Counter[str] = Counter()
fired: Counter[str] = Counter()
heap_peak = [0]


def count_events() -> None:
    handle = Engine.handle

    def counted(self: Engine, event: ev.Event, now: float) -> list[cmd.Command]:
        out = handle(self, event, now)
        events[type(event).__name__] += 1
        if not out:
            silent[type(event).__name__] += 1
        return out

    Engine.handle = counted  # type: ignore[method-assign]


def count_timers() -> None:
    init, arm, arm_in_line = Timers.__init__, Timers.arm, Timers.arm_in_line

    def counted_init(
        self: Timers,
        live: Mapping[TimerKind, Test],
        handlers: Mapping[TimerKind, Handler],
        state: TimerState,
    ) -> None:
        def counting(kind: TimerKind, handler: Handler) -> Handler:
            def fire(key: str, token: int) -> None:
                fired[kind] += 1
                handler(key, token)

            return fire

        init(self, live, {k: counting(k, h) for k, h in handlers.items()}, state)

    def peak(self: Timers) -> None:
        heap_peak[0] = max(heap_peak[0], len(self.state.heap))

    def counted_arm(self: Timers, at: float, kind: TimerKind, key: str, token: int = 0) -> None:
        armed[kind] += 1
        arm(self, at, kind, key, token)
        peak(self)

    def counted_line(
        self: Timers, line: str, at: float, kind: TimerKind, key: str, token: int
    ) -> None:
        armed[kind] += 1
        arm_in_line(self, line, at, kind, key, token)
        peak(self)

    Timers.__init__ = counted_init  # type: ignore[method-assign]
    Timers.arm = counted_arm  # type: ignore[method-assign]
    Timers.arm_in_line = counted_line  # type: ignore[method-assign]


def table(title: str, rows: Mapping[str, int], calls: int, other: Callable[[str], str]) -> None:
    print(f"{title}: {sum(rows.values()) / calls:.2f} per call")
    for name, n in sorted(rows.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<22} {n / calls:6.2f}  {other(name)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "seoul120.yaml")
    parser.add_argument(
        "--curve", type=Path, default=ROOT / "config" / "curves" / "surge-stage2-80k.csv"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    count_events()
    count_timers()
    result = replay(load_site(args.config), load_curve(args.curve), args.seed)
    calls = result.calls
    print(f"{args.curve.name} through {args.config.name}, seed {args.seed}: {calls:,} calls")
    table("engine events", events, calls,
          lambda n: f"({silent[n] / calls:.2f} with no command)")
    table("timers armed", armed, calls,
          lambda k: f"({fired[k] / calls:.2f} fired)")
    never = sum(armed.values()) - sum(fired.values())
    print(f"timers dropped unfired: {never / calls:.2f} per call")
    print(f"largest timer heap: {heap_peak[0]:,} timers")


if __name__ == "__main__":
    main()
