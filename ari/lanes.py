"""Lanes: one FIFO of ARI work per call, the calls' lanes running concurrently.

One call's requests run in the engine's order (the channel is answered before a
prompt plays, the caller is on hold before an agent is bridged with them); a slow
request for one call holds up no other call.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger("acd.controller")


class Lanes:
    """Per-call FIFO of REST work: one call's requests run in the engine's order (the
    channel is answered before a prompt plays), different calls run concurrently."""

    def __init__(self, spawn: Callable[[Coroutine[Any, Any, None]], object]) -> None:
        self._spawn = spawn
        self._queues: dict[str, deque[Callable[[], Awaitable[None]]]] = {}
        self.idle = asyncio.Event()
        self.idle.set()

    def submit(self, key: str, op: Callable[[], Awaitable[None]]) -> None:
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(op)
            return
        self._queues[key] = deque([op])
        self.idle.clear()
        self._spawn(self._drain(key))

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                try:
                    await queue[0]()
                except Exception:  # a bug in one op must not stop the call's lane
                    log.exception("ARI work for %s failed", key)
                queue.popleft()
        finally:
            del self._queues[key]
            if not self._queues:
                self.idle.set()

    def __len__(self) -> int:
        return len(self._queues)

    def busy(self, key: str) -> bool:
        """Work for `key` is queued or running."""
        return key in self._queues
