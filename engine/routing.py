"""Routing indexes: who is free to take what, found without scanning.

A routing decision must cost O(skills of the call + queues of the agent), not
O(agents) or O(calls): a surge floor has hundreds of agents and thousands of
waiting callers, and the same code replays whole days in seconds.

- `AvailableAgents` (one per queue): available agents split by (pool, skill level),
  each part a heap ordered by the queue's strategy key. A call admits some pools and
  a minimum level; its best agent is the least key among at most
  |pools| x 5 heap heads.
- `WaitingCalls` (one per queue): waiting calls split by relaxation step, each part a
  heap ordered by (-priority, arrival sequence). An agent is eligible from some step
  on (relaxation only widens), so its best call is among a few heads per queue.
  A sorted list of the same keys gives a caller's position in O(log n).

Entries are never removed in place: each carries the version of its agent or call
at insertion, and an entry whose version is stale is dropped when it reaches the
top (lazy deletion, as `heapq`'s documentation suggests for priority queues).
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Sequence
from typing import TypeVar

LEVELS = 5

AgentEntry = tuple[tuple[float, ...], str, int]
"""(strategy key, agent id, agent version)."""
CallEntry = tuple[int, int, str, int]
"""(-priority, arrival sequence, call id, call version)."""

IsCurrent = Callable[[str, int], bool]
"""Tells whether an index entry (id, version) still stands."""
E = TypeVar("E", AgentEntry, CallEntry)


def _live_head(heap: list[E], current: IsCurrent) -> E | None:
    """The heap's least entry that still stands, dropping stale ones on the way.
    Every entry ends in (id, version)."""
    while heap:
        entry = heap[0]
        if current(entry[-2], entry[-1]):
            return entry
        heapq.heappop(heap)
    return None


AgentHeaps = dict[str, list[list[AgentEntry]]]
"""Per pool, one heap per skill level (index level - 1)."""


def agent_heaps(pools: Sequence[str]) -> AgentHeaps:
    """Empty heaps for `pools`."""
    return {pool: [[] for _ in range(LEVELS)] for pool in pools}


class AvailableAgents:
    """Available agents of one queue, by pool and level, ordered by strategy key.
    The heaps are the caller's (a queue's state): this index orders them."""

    __slots__ = ("_heaps",)

    def __init__(self, heaps: AgentHeaps) -> None:
        self._heaps = heaps

    def add(
        self, pool: str, level: int, key: tuple[float, ...], agent_id: str, version: int
    ) -> None:
        heapq.heappush(self._heaps[pool][level - 1], (key, agent_id, version))

    def best(self, pools: Sequence[str], min_level: int, current: IsCurrent) -> AgentEntry | None:
        """The least-key current entry among `pools` at `min_level` or above, or None.
        The entry stays in the index: the caller reserves the agent, which makes the
        entry stale."""
        found: AgentEntry | None = None
        for pool in pools:
            levels = self._heaps.get(pool)
            if levels is None:
                continue
            for heap in levels[min_level - 1 :]:
                if not heap:
                    continue
                head = _live_head(heap, current)
                if head is not None and (found is None or head < found):
                    found = head
        return found


class WaitingCalls:
    """Waiting calls of one queue, by relaxation step, in service order."""

    __slots__ = ("_order", "buckets")

    def __init__(self, buckets: list[list[CallEntry]], order: list[tuple[int, int]]) -> None:
        """`buckets`: one heap per relaxation step; `order`: the sorted (-priority,
        seq) of every waiting call. Both are the caller's (a queue's state)."""
        self.buckets = buckets
        self._order = order

    def add(self, step: int, priority: int, seq: int, call_id: str, version: int) -> None:
        """A call starts (or resumes) waiting at `step`; `seq` keeps its place."""
        heapq.heappush(self.buckets[step], (-priority, seq, call_id, version))
        bisect.insort(self._order, (-priority, seq))

    def restep(self, step: int, priority: int, seq: int, call_id: str, version: int) -> None:
        """A waiting call moved to another step: index it there (its old entry is stale)."""
        heapq.heappush(self.buckets[step], (-priority, seq, call_id, version))

    def leave(self, priority: int, seq: int) -> None:
        """A call stops waiting (offered, answered elsewhere, gone)."""
        key = (-priority, seq)
        i = bisect.bisect_left(self._order, key)
        if i < len(self._order) and self._order[i] == key:
            del self._order[i]

    def position(self, priority: int, seq: int) -> int:
        """1-based place in line among waiting calls."""
        return bisect.bisect_left(self._order, (-priority, seq)) + 1

    def __len__(self) -> int:
        return len(self._order)

    def head(self, step: int, current: IsCurrent) -> CallEntry | None:
        return _live_head(self.buckets[step], current)


class ReadyForOverflow:
    """Calls of one queue that qualify for a vendor, in service order."""

    __slots__ = ("_heap",)

    def __init__(self, heap: list[CallEntry]) -> None:
        self._heap = heap  # the caller's (a queue's state)

    def add(self, priority: int, seq: int, call_id: str, version: int) -> None:
        heapq.heappush(self._heap, (-priority, seq, call_id, version))

    def head(self, current: IsCurrent) -> CallEntry | None:
        return _live_head(self._heap, current)
