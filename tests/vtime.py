"""Run a test's coroutine on a virtual loop clock (looptime).

The event loop's `time()` is virtual: when every task waits and only timers are left,
the loop jumps straight to the next timer instead of sleeping. Everything live reads
that clock (the controller and the virtual PBX through `acd.ari.clock.Clock`, aiohttp's
timeouts, `asyncio.sleep`), so a floor scripted in seconds, minutes or hours takes
only the CPU time it needs, and a loaded machine slows the test down without changing
what happens in it. I/O on 127.0.0.1 between the two ends in the same loop takes no
virtual time; looptime polls it a few dozen times (its `noop_cycles`) before it moves
the clock, which is what lets a written request reach its server first.

Only for tests whose other ends run in the same loop: a separate process (Redis, a
subprocess) lives in real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import looptime

T = TypeVar("T")

IDLE_TIMEOUT = 30.0
"""Wall seconds the loop may wait for outside I/O with no timer left before it gives
up (IdleTimeoutError): a test that hangs on a socket nobody writes to fails instead."""


def run_virtual(main: Coroutine[Any, Any, T], *, start: float = 0.0, end: float | None = None) -> T:
    """Run `main` to completion on a fresh loop whose clock starts at `start` virtual
    seconds; with `end`, every task fails with looptime's `LoopTimeoutError` once the
    virtual clock reaches it (a bound on scenarios that would otherwise run forever)."""

    def factory() -> asyncio.AbstractEventLoop:
        return looptime.new_event_loop(start=start, end=end, idle_timeout=IDLE_TIMEOUT)

    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
