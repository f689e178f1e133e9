"""The calls that ended lately: their line-down report may still come.

The PBX reports every line that goes down, the lines the engine hung up too. A call
the engine finished is kept here until that report comes, so the report is taken
for what it is (the end of a known call) and not counted as a stray. Beyond
`ENDED_KEPT` ended calls the oldest are forgotten: a report that late counts as
stray.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

ENDED_KEPT = 10_000
"""Ended calls remembered until the PBX reports their line down (`CallerHungUp`)."""


class EndedCalls:
    """Ended calls awaiting their line-down report, oldest first."""

    __slots__ = ("_ids",)

    def __init__(self, ids: Iterable[str] = ()) -> None:
        # An OrderedDict forgets its oldest in O(1); a dict's first key is found by
        # walking over the slots of the keys already deleted before it.
        self._ids: OrderedDict[str, None] = OrderedDict.fromkeys(ids)

    def add(self, call_id: str) -> None:
        """The call ended; forget the oldest if over the limit."""
        ids = self._ids
        ids[call_id] = None
        if len(ids) > ENDED_KEPT:
            ids.popitem(last=False)

    def settle(self, call_id: str) -> bool:
        """The call's line-down report came: whether it was one of these calls
        (then it is forgotten: one report per ended call)."""
        if call_id not in self._ids:
            return False
        del self._ids[call_id]
        return True

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._ids

    def ids(self) -> list[str]:
        """The ended calls, oldest first."""
        return list(self._ids)
