"""The discrete-event loop: virtual time for the engine (simpy's Environment idea).

A heap of `(time, sequence, item)`; `schedule` is one `heappush`. The loop pops the
earliest of its own items and the engine's next deadline, sets the clock to it and
delivers it: engine events go to `Engine.handle`, anything else (a caller's
patience running out, an agent's talk ending) goes to the behaviour model, which
decides what the person does. The engine's commands go back to the model. The
loop holds no routing logic: it is the clock, nothing more.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any, Protocol

from acd.engine import commands as cmd
from acd.engine import events as ev

_EVENT_TYPES = frozenset(ev.Event.__args__)
_TICK = ev.TimerFired()  # frozen: one instance serves every tick


class Driven(Protocol):
    """What the loop drives: an `Engine`, or anything that handles events as one does
    (a test's journalling wrapper)."""

    def handle(self, event: ev.Event, now: float) -> list[cmd.Command]: ...

    def next_deadline(self) -> float | None: ...


class VirtualTime:
    """Runs one engine against a behaviour model in virtual time."""

    def __init__(
        self,
        engine: Driven,
        start: float,
        on_command: Callable[[cmd.Command, float], None],
        on_item: Callable[[Any, float], None],
    ) -> None:
        self.engine = engine
        self.now = start
        self._heap: list[tuple[float, int, Any]] = []
        self._seq = 0
        self._on_command = on_command
        self._on_item = on_item
        self.delivered = 0

    def schedule(self, at: float, item: Any) -> None:
        """Deliver `item` at virtual time `at` (an engine event, or a model item)."""
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, item))

    def send(self, event: ev.Event) -> None:
        self.delivered += 1
        for command in self.engine.handle(event, self.now):
            self._on_command(command, self.now)

    def run(self, until: float) -> None:
        heap = self._heap
        engine = self.engine
        while True:
            deadline = engine.next_deadline()
            if heap and (deadline is None or heap[0][0] <= deadline):
                at = heap[0][0]
                if at > until:
                    break
                self.now = max(self.now, at)
                item = heapq.heappop(heap)[2]
                if type(item) in _EVENT_TYPES:
                    self.send(item)
                else:
                    self._on_item(item, self.now)
            elif deadline is not None and deadline <= until:
                self.now = max(self.now, deadline)
                self.send(_TICK)
            else:
                break
        self.now = max(self.now, until)
