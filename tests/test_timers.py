"""The engine's timers (`engine.timers`): timers armed in lines fire in exactly the
order one heap of every timer would give, drop the ones that no longer mean anything,
and carry on the same after their state is stored and read back."""

from __future__ import annotations

import random
from typing import get_args

import msgspec
import pytest

from acd.engine.state import TimerState
from acd.engine.states import TimerKind
from acd.engine.timers import Timers

Fired = list[tuple[float, str, int]]


def timers(state: TimerState, fired: Fired, dead: set[str], clock: list[float]) -> Timers:
    def handler(key: str, token: int) -> None:
        fired.append((clock[0], key, token))

    kinds = get_args(TimerKind)
    return Timers(
        dict.fromkeys(kinds, lambda key, _token: key not in dead),
        dict.fromkeys(kinds, handler),
        state,
    )


def script(seed: int) -> list[tuple[float, str | None, float, str]]:
    """(when armed, line or None, due, key): 1,500 callers joining four lines at random
    times, each timer due a fixed time after it is armed (so in order within its
    line), some armed out of order (a queue's settings changed), some on their own."""
    rng = random.Random(seed)
    now, steps = 0.0, []
    for n in range(1500):
        now += rng.expovariate(1.0)
        line = rng.choice(["a", "b", "c", "d", None])
        delay = {"a": 30.0, "b": 45.0, "c": 30.0, "d": 60.0, None: rng.uniform(0, 90)}[line]
        if n % 50 == 49:
            delay = 5.0  # falls due before others of its line: armed on its own
        steps.append((now, line, now + delay, f"k{n}"))
    return steps


def run(seed: int, lines: bool, store_at: int | None = None) -> Fired:
    fired: Fired = []
    dead = {f"k{n}" for n in range(0, 1500, 7)}  # their callers left: dropped unfired
    clock = [0.0]
    t = timers(TimerState(), fired, dead, clock)
    for i, (now, line, due, key) in enumerate(script(seed)):
        clock[0] = now
        t.fire_due(now)
        if i == store_at:  # a standby takes over from the stored state
            stored = msgspec.msgpack.encode(t.state)
            t = timers(msgspec.msgpack.decode(stored, type=TimerState), fired, dead, clock)
        if lines and line is not None:
            t.arm_in_line(line, due, "announce", key, 0)
        else:
            t.arm(due, "announce", key, 0)
    while (deadline := t.next_deadline()) is not None:
        clock[0] = deadline
        t.fire_due(deadline)
    return fired


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lines_fire_in_the_order_of_one_heap_of_every_timer(seed: int) -> None:
    reference = run(seed, lines=False)
    assert len(reference) == 1500 - len(range(0, 1500, 7))
    assert [due for due, _, _ in reference] == sorted(due for due, _, _ in reference)
    assert run(seed, lines=True) == reference


def test_lines_carry_on_the_same_after_a_store_and_read_back() -> None:
    assert run(4, lines=True, store_at=700) == run(4, lines=False)


def test_the_heap_holds_one_timer_per_line_plus_the_others() -> None:
    t = timers(TimerState(), [], set(), [0.0])
    for n in range(100):
        t.arm_in_line("joined", 30.0 + n, "announce", f"k{n}", 0)
        t.arm_in_line("step", 60.0 + n, "relax", f"k{n}", 1)
    t.arm(10.0, "ring", "a1", 0)
    assert len(t.state.heap) == 3
    assert t.next_deadline() == 10.0
