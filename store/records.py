"""What a store holds, as msgspec Structs (MessagePack on the wire).

A record that fails to decode is reported with its key and skipped by whoever reads
it (`decode_or_report`); it never stops an engine.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated, TypeVar

import msgspec

from acd.engine.events import Event
from acd.engine.snapshot import Snapshot

log = logging.getLogger("acd.store")

T = TypeVar("T")

Time = Annotated[float, msgspec.Meta(ge=-sys.float_info.max, le=sys.float_info.max)]
"""A time (epoch seconds, on the engine's clock): a finite number. An infinite or NaN one
is not the engine's (it writes none), and a reader measuring a wait from it would fail:
such a record does not decode, and is reported and skipped like any foreign one."""


class JournalEntry(msgspec.Struct, frozen=True, array_like=True):
    """One engine input, as it was handled: at `now`, by the holder of `epoch`."""

    epoch: int
    now: float
    event: Event


class SnapshotRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The engine state after journal entry `last` (a stream id `<epoch>-<n>`)."""

    epoch: int
    last: str
    taken_at: float
    state: msgspec.Raw
    """The engine's state (MessagePack) in the format its writer used: the engine
    reads its own formats (`engine.decode_state`)."""


class CallView(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A call as a wallboard shows it."""

    id: str
    caller: str
    state: str
    since: Time
    queue: str = ""
    priority: int = 0
    agent: str = ""
    vendor: str = ""
    callback: bool = False
    outcome: str = ""
    ended: bool = False


class AgentView(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    pool: str
    state: str
    since: Time
    reason: str = ""
    call: str = ""


class FiguresView(msgspec.Struct, kw_only=True):
    """Counters of a queue, pool, vendor or the site (names as in engine/metrics.py)."""

    figures: dict[str, float | int | None]


JOURNAL_ENCODER = msgspec.msgpack.Encoder()
JOURNAL_DECODER = msgspec.msgpack.Decoder(JournalEntry)
SNAPSHOT_DECODER = msgspec.msgpack.Decoder(SnapshotRecord)
LIVE_DECODER = msgspec.msgpack.Decoder(Snapshot)
"""The live snapshot (`keys.live`, `Store.live()`): the engine's own `Snapshot`."""
CALL_VIEW_DECODER = msgspec.msgpack.Decoder(CallView)


def decode_or_report(
    decoder: msgspec.msgpack.Decoder[T], data: bytes, key: str, problems: list[str]
) -> T | None:
    """The decoded record, or None with a report naming the key (corrupt or foreign
    data is skipped, never fatal)."""
    try:
        return decoder.decode(data)
    except msgspec.DecodeError as e:
        problem = f"{key}: undecodable record skipped ({e})"
        log.warning("%s", problem)
        problems.append(problem)
        return None
