"""Where the web part reads the floor and sends actions: the engine in this process, or
the store's read model (a wallboard server beside the engine).

A `Source` has one producer (`web.stream.Broadcaster`) polling it about once a second;
API reads are served from what that producer last built, so a thousand pages cost the
engine one snapshot a second, not a thousand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import msgspec

from acd.engine import CallState, Engine
from acd.engine import events as ev
from acd.engine.snapshot import Snapshot
from acd.store.base import Store, StoreError
from acd.store.projection import call_view
from acd.store.records import CallView
from acd.web.actions import Action, Result, perform
from acd.web.auth import Principal

QUIET_REFRESH = 5.0
"""Seconds between snapshots of a floor where nothing happens: waits grow, and alerts
on them must appear without an event."""


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One supervisor action, as the audit trail keeps it: who, what, when, result."""

    at: float
    """Wall-clock epoch seconds when the answer came."""
    engine_at: float
    """The engine's clock then (differs from `at` in a compressed demo)."""
    who: str
    role: str
    action: Action
    ok: bool
    status: int
    message: str


_AUDIT_DECODER = msgspec.msgpack.Decoder(AuditEntry)


class Source(Protocol):
    speed: float

    async def poll(self) -> Snapshot | None:
        """A fresh snapshot if anything changed since the last poll (or the floor has
        been quiet for QUIET_REFRESH seconds), else None."""
        ...

    async def waiting(self, queue: str, limit: int) -> list[CallView]:
        """The queue's waiting callers in service order (at most `limit`)."""
        ...

    async def act(self, action: Action, who: Principal) -> Result:
        """Carry out a supervisor's action; the answer is also in the audit trail."""
        ...

    async def audit_tail(self, count: int) -> list[AuditEntry]:
        """The newest `count` audit entries, newest first."""
        ...


class EngineSource:
    """The engine in this process (`acd serve --web`, `acd demo`).

    `now` is the live clock the engine runs on; `feed` hands an event to the engine the
    way the controller does (journaled); `store` keeps the audit trail."""

    def __init__(
        self,
        engine: Engine,
        now: Callable[[], float],
        feed: Callable[[ev.Event], None],
        store: Store,
        speed: float = 1.0,
    ) -> None:
        self.engine = engine
        self.now = now
        self.feed = feed
        self.store = store
        self.speed = speed
        self._seen = -1
        self._taken_at = -QUIET_REFRESH

    async def poll(self) -> Snapshot | None:
        now = self.now()
        if self.engine.handled == self._seen and now - self._taken_at < QUIET_REFRESH * self.speed:
            return None
        self._seen, self._taken_at = self.engine.handled, now
        snapshot = self.engine.snapshot(now)
        snapshot.speed = self.speed
        return snapshot

    async def waiting(self, queue: str, limit: int) -> list[CallView]:
        in_line = [
            c for c in self.engine.calls.values()
            if c.queue == queue and c.state is CallState.WAITING
        ]
        in_line.sort(key=lambda c: (-c.priority, c.seq))
        return [call_view(c) for c in in_line[:limit]]

    async def act(self, action: Action, who: Principal) -> Result:
        result = perform(self.engine, self.feed, action)
        await record(self.store, who, action, result, self.now())
        return result

    async def audit_tail(self, count: int) -> list[AuditEntry]:
        return await read_audit(self.store, count)


class StoreSource:
    """The store's read model, with no engine in this process (`acd wallboard`).

    The snapshot is the one the engine's state writer keeps there (at most a second
    old); actions go to the engine through the store's command stream
    (`web.commands`), which also writes their audit entries."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.speed = 1.0
        """As the engine's writer last said (`Snapshot.speed`)."""
        self._last = b""

    async def poll(self) -> Snapshot | None:
        try:
            data = await self.store.live()
        except StoreError:
            return None  # the store is away: the pages keep the last update meanwhile
        if data is None or data == self._last:
            return None
        try:
            snapshot = _SNAPSHOT_DECODER.decode(data)
        except msgspec.DecodeError as e:
            # A writer of another version, or someone else's data: keep the last good
            # one, and say so (once: the key is read every second).
            self.store.problems.report(
                f"{self.store.keys.live}: undecodable live snapshot skipped ({e}); the "
                "pages keep the last one read"
            )
            return None
        self._last = data
        self.speed = snapshot.speed
        return snapshot

    async def waiting(self, queue: str, limit: int) -> list[CallView]:
        views: list[CallView] = []
        for data in await self.store.waiting_calls(queue, limit):
            try:
                views.append(_CALL_DECODER.decode(data))
            except msgspec.DecodeError as e:
                self.store.problems.report(
                    f"{self.store.keys.waiting(queue)}: a waiting call's undecodable record "
                    f"skipped ({e})"
                )
        return views

    async def act(self, action: Action, who: Principal) -> Result:
        from acd.web.commands import submit

        return await submit(self.store, who, action)

    async def audit_tail(self, count: int) -> list[AuditEntry]:
        return await read_audit(self.store, count)


_SNAPSHOT_DECODER = msgspec.msgpack.Decoder(Snapshot)
_CALL_DECODER = msgspec.msgpack.Decoder(CallView)


async def record(
    store: Store, who: Principal, action: Action, result: Result, engine_at: float
) -> AuditEntry:
    """Append one action and its result to the audit trail."""
    entry = AuditEntry(
        at=time.time(), engine_at=engine_at, who=who.name, role=who.role, action=action,
        ok=result.ok, status=result.status, message=result.message,
    )
    await store.audit(msgspec.msgpack.encode(entry))
    return entry


async def read_audit(store: Store, count: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for entry_id, data in await store.audit_tail(count):
        try:
            entries.append(_AUDIT_DECODER.decode(data))
        except msgspec.DecodeError as e:  # someone else's data in the key: not ours to show
            store.problems.report(f"{store.keys.audit} {entry_id}: undecodable record "
                                  f"skipped ({e})")
    return entries
