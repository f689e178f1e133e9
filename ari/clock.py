"""The live drivers' time: epoch seconds running `speed` times as fast as the event loop.

One clock for everything live: the controller feeds the engine its `now()` and arms
the engine's deadline on it, and the virtual PBX times its people with it. It reads
only the running asyncio loop's clock (`loop.time()`, monotonic in production), never
the wall: `now() = start + (loop.time() - t0) * speed`. So a test that runs the loop
on a virtual clock (tests/vtime.py) runs the whole floor in virtual time, and
`speed` > 1 compresses a demo.

The clock is anchored on the running loop the first time it is used from inside that
loop. Before that (e.g. while a test builds its objects) `now()` is `start`. Timers are
plain `loop.call_at` handles at the scaled loop time, so they fire in time order and
cost nothing while waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Clock:
    """A speed-scaled clock on the running asyncio loop (`phones.Clock` for the PBX).

    `speed` > 0: virtual seconds per wall second. `start`: virtual epoch seconds at the
    anchor (default: the wall clock when the clock is built). All methods must be called
    from the loop's thread; `call_at`/`call_later` need a running loop.
    """

    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = float(speed)
        self.start = time.time() if start is None else float(start)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0 = 0.0

    def _anchor(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # First use (or a new loop, e.g. a second asyncio.run): virtual time goes on
            # from where it stood, so it never runs backwards.
            self.start = self.now() if self._loop is not None else self.start
            self._loop = loop
            self._t0 = loop.time()
        return loop

    def now(self) -> float:
        """Current virtual time (epoch seconds)."""
        if self._loop is None:
            try:
                self._anchor()
            except RuntimeError:
                return self.start  # no loop yet: time stands still
        assert self._loop is not None
        return self.start + (self._loop.time() - self._t0) * self.speed

    def restart(self, start: float) -> None:
        """Virtual time is `start` now (time stood still until now). Only before any
        timer is set: timers already set keep their wall deadlines."""
        loop = self._anchor()
        self.start = float(start)
        self._t0 = loop.time()

    def sync(self, now: float) -> None:
        """The time is `now` from here on, never earlier than it already is (the
        controller takes a virtual PBX's time on every connection)."""
        self.restart(max(now, self.now()))

    def to_wall(self, seconds: float) -> float:
        """Loop seconds that `seconds` of this clock's time take (never negative)."""
        return max(seconds, 0.0) / self.speed

    def call_at(self, when: float, fn: Callable[[], None]) -> Callable[[], None]:
        """Run `fn` at virtual time `when` (at once, i.e. on the next loop turn, if past);
        returns a cancel function (idempotent)."""
        loop = self._anchor()
        loop_when = self._t0 + (when - self.start) / self.speed
        handle = loop.call_at(max(loop_when, loop.time()), fn)
        return handle.cancel

    def call_later(self, delay: float, fn: Callable[[], None]) -> Callable[[], None]:
        """Run `fn` after `delay` virtual seconds; returns a cancel function."""
        loop = self._anchor()
        handle = loop.call_later(max(delay, 0.0) / self.speed, fn)
        return handle.cancel

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of virtual time."""
        self._anchor()
        await asyncio.sleep(max(seconds, 0.0) / self.speed)
