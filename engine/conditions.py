"""What supervisors set for the whole floor: the distancing level and the emergency
announcement.

The distancing level picks pool sizes (`config.Pool.size_by_distancing_level`); the
announcement plays to every caller joining one of its queues (all queues when it
names none), after the queue's join prompt and the surge stage's announcement.
State, persisted as it is.
"""

from __future__ import annotations

import msgspec


class Conditions(msgspec.Struct, kw_only=True):
    distancing_level: str
    announcement: list[str] = msgspec.field(default_factory=list)
    """The emergency announcement's media (empty: none)."""
    announcement_queues: list[str] = msgspec.field(default_factory=list)
    """The queues it plays in, sorted (empty: all)."""

    def announcement_for(self, queue: str) -> list[str]:
        """The announcement a caller joining `queue` hears (empty: none)."""
        if self.announcement and (
            not self.announcement_queues or queue in self.announcement_queues
        ):
            return self.announcement
        return []

    def announce(self, media: list[str], queues: list[str]) -> None:
        """Play `media` to callers joining `queues` (all when empty); no media: stop."""
        self.announcement = list(media)
        self.announcement_queues = sorted(set(queues))
