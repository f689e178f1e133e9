"""The engine's timers: one heap of timer records, and when each kind still matters.

A timer is `(at, seq, kind, key, token)`: due at `at`, `seq` breaking ties in the
order armed, `kind` naming what it is for, `key` the call, agent or vendor it
concerns, `token` the version of that thing it was armed for. Nothing is ever
cancelled: a timer whose thing has moved on (the call was answered, the wrap-up cut
short) is dropped unfired when its turn comes, by the kind's liveness test. So arming
is one heap push, and a driver is never woken for a timer that means nothing
(`next_deadline` drops them first).

Most timers of a waiting caller fall due a fixed time after something every caller
of a queue goes through in turn (joining, an announcement): armed in one line
(`arm_in_line`), they fall due in the order armed, so only the line's first timer
needs a place in the heap; the next takes its place when it leaves. The heap stays
as small as the number of lines plus the other timers, and the timers fire in
exactly the order one heap of them all would give: a line's first timer is the
least `(at, seq)` of its line.

The part owns the heap, the lines and the sequence (`TimerState`, persisted as it
is); the engine gives it a liveness test and a handler per kind (`states.TimerKind`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping

from acd.engine.state import Timer, TimerLine, TimerState
from acd.engine.states import TimerKind

Test = Callable[[str, int], bool]
"""Whether a timer (key, token) of one kind still means something."""

Handler = Callable[[str, int], None]
"""What a live timer (key, token) of one kind does when it fires."""

_COMPACT = 256
"""A line drops its fired entries once this many (and half of it) have fired."""


class Timers:
    """The engine's timers: arm, fire the due ones, say when the next live one is due."""

    __slots__ = ("_firsts", "_handlers", "_live", "state")

    def __init__(
        self,
        live: Mapping[TimerKind, Test],
        handlers: Mapping[TimerKind, Handler],
        state: TimerState,
    ) -> None:
        self._live = dict(live)
        self._handlers = dict(handlers)
        self.state = state
        self._firsts: dict[int, str] = {
            line.entries[line.head][1]: name
            for name, line in state.lines.items()
            if line.head < len(line.entries)
        }
        """The seq of each line's timer in the heap -> the line's name."""

    def arm(self, at: float, kind: TimerKind, key: str, token: int = 0) -> None:
        """Fire `kind` for (`key`, `token`) at `at`, if it still means something then."""
        state = self.state
        seq = state.seq + 1
        state.seq = seq
        heapq.heappush(state.heap, (at, seq, kind, key, token))

    def arm_in_line(self, line: str, at: float, kind: TimerKind, key: str, token: int) -> None:
        """As `arm`, in `line`: timers armed in one line should fall due in the order
        armed (a fixed time after the moment they are armed, or after something that
        happens to the line's callers in turn). One that would fall due before the
        line's last is armed on its own: the order of firing is the same either way."""
        state = self.state
        seq = state.seq + 1
        state.seq = seq
        timer = (at, seq, kind, key, token)
        found = state.lines.get(line)
        if found is None:
            found = state.lines[line] = TimerLine()
        entries = found.entries
        if found.head == len(entries):  # an empty line: its first timer goes in the heap
            heapq.heappush(state.heap, timer)
            self._firsts[seq] = line
            entries.append(timer)
        elif entries[-1][0] <= at:
            entries.append(timer)
        else:
            heapq.heappush(state.heap, timer)

    def _pop(self) -> Timer:
        """The heap's least timer, off the heap; if it was a line's first, the line's
        next one takes its place."""
        state = self.state
        heap = state.heap
        timer = heapq.heappop(heap)
        firsts = self._firsts
        if firsts:
            name = firsts.pop(timer[1], None)
            if name is not None:
                line = state.lines[name]
                entries = line.entries
                head = line.head + 1
                if head == len(entries):
                    entries.clear()
                    head = 0
                else:
                    if head >= _COMPACT and 2 * head >= len(entries):
                        del entries[:head]
                        head = 0
                    after = entries[head]
                    heapq.heappush(heap, after)
                    firsts[after[1]] = name
                line.head = head
        return timer

    def fire_due(self, now: float) -> None:
        """Fire, in time order, every live timer due at or before `now`; a handler
        may arm more, and those fire too if due."""
        heap = self.state.heap
        if not heap or heap[0][0] > now:  # nearly every event: nothing due
            return
        live, handlers = self._live, self._handlers
        while heap and heap[0][0] <= now:
            _, _, kind, key, token = self._pop()
            if live[kind](key, token):
                handlers[kind](key, token)

    def next_deadline(self) -> float | None:
        """When the next live timer is due, or None; dead ones at the top are dropped."""
        heap, live = self.state.heap, self._live
        while heap:
            _, _, kind, key, token = heap[0]
            if live[kind](key, token):
                return heap[0][0]
            self._pop()
        return None
