"""The engine's timers: one heap of timer records, and when each kind still matters.

A timer is `(at, seq, kind, key, token)`: due at `at`, `seq` breaking ties in the
order armed, `kind` naming what it is for, `key` the call, agent or vendor it
concerns, `token` the version of that thing it was armed for. Nothing is ever
cancelled: a timer whose thing has moved on (the call was answered, the wrap-up cut
short) is dropped unfired when its turn comes, by the kind's liveness test. So arming
is one heap push, and a driver is never woken for a timer that means nothing
(`next_deadline` drops them first).

The part owns the heap and its sequence (`TimerState`, persisted as it is); the
engine gives it a liveness test and a handler per kind (`states.TimerKind`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping

from acd.engine.state import TimerState
from acd.engine.states import TimerKind

Test = Callable[[str, int], bool]
"""Whether a timer (key, token) of one kind still means something."""

Handler = Callable[[str, int], None]
"""What a live timer (key, token) of one kind does when it fires."""


class Timers:
    """The engine's timers: arm, fire the due ones, say when the next live one is due."""

    __slots__ = ("_handlers", "_live", "state")

    def __init__(
        self,
        live: Mapping[TimerKind, Test],
        handlers: Mapping[TimerKind, Handler],
        state: TimerState,
    ) -> None:
        self._live = dict(live)
        self._handlers = dict(handlers)
        self.state = state

    def arm(self, at: float, kind: TimerKind, key: str, token: int = 0) -> None:
        """Fire `kind` for (`key`, `token`) at `at`, if it still means something then."""
        state = self.state
        seq = state.seq + 1
        state.seq = seq
        heapq.heappush(state.heap, (at, seq, kind, key, token))

    def fire_due(self, now: float) -> None:
        """Fire, in time order, every live timer due at or before `now`; a handler
        may arm more, and those fire too if due."""
        heap = self.state.heap
        if not heap or heap[0][0] > now:  # nearly every event: nothing due
            return
        live, handlers = self._live, self._handlers
        while heap and heap[0][0] <= now:
            _, _, kind, key, token = heapq.heappop(heap)
            if live[kind](key, token):
                handlers[kind](key, token)

    def next_deadline(self) -> float | None:
        """When the next live timer is due, or None; dead ones at the top are dropped."""
        heap, live = self.state.heap, self._live
        while heap:
            _, _, kind, key, token = heap[0]
            if live[kind](key, token):
                return heap[0][0]
            heapq.heappop(heap)
        return None
