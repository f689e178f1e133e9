"""The key layout of one site. `{site}` is a Redis Cluster hash tag: all of a site's
keys hash to one slot, so one Lua script may touch them all.

| key | type | holds |
|---|---|---|
| `acd:{S}:lease` | string, PX TTL | `<epoch>:<owner>` of the engine allowed to write |
| `acd:{S}:epoch` | integer | the last fencing epoch handed out (INCR) |
| `acd:{S}:journal` | stream | engine input events, ids `<epoch>-<n>`, field `e` = `JournalEntry` |
| `acd:{S}:snapshot` | string | `SnapshotRecord`: the engine state after journal id `last` |
| `acd:{S}:status` | hash | `owner`, `epoch`, `stage`, `command`, `updated_at`, `written_at`, ... |
| `acd:{S}:waiting:<queue>` | sorted set | waiting call ids, score = service order |
| `acd:{S}:call:<id>` | string | `CallView`; expires `ended_ttl` after the call ended |
| `acd:{S}:agents` | hash | agent id -> `AgentView` |
| `acd:{S}:figures` | hash | `queue:<q>`, `pool:<p>`, `vendor:<v>`, `site` -> `FiguresView` |
| `acd:{S}:live` | string | the engine's live `Snapshot` (engine/snapshot.py), each `live_every` |
| `acd:{S}:commands` | stream | supervisor commands, field `c` (the submitter's bytes), ~10,000 |
| `acd:{S}:answer:<command id>` | list | the engine's reply to a command; expires (60 s) |
| `acd:{S}:audit` | stream | audit records, field `a` (the caller's bytes), ~100,000 |

`status` `command` is the id of the last supervisor command the engine applied,
written with the journal entry of the event it became (see store/base.py).
"""

from __future__ import annotations

LAST_COMMAND = "command"
"""The `status` field holding the id of the last supervisor command applied."""


class Keys:
    """The keys of site `site`."""

    def __init__(self, site: str) -> None:
        if any(c in site for c in "{}"):
            raise ValueError(f"site name {site!r}: braces would break the hash tag")
        base = f"acd:{{{site}}}:"
        self.prefix = base
        self.lease = base + "lease"
        self.epoch = base + "epoch"
        self.journal = base + "journal"
        self.snapshot = base + "snapshot"
        self.status = base + "status"
        self.agents = base + "agents"
        self.figures = base + "figures"
        self.live = base + "live"
        self.commands = base + "commands"
        self.audit = base + "audit"

    def waiting(self, queue: str) -> str:
        return f"{self.prefix}waiting:{queue}"

    def call(self, call_id: str) -> str:
        return f"{self.prefix}call:{call_id}"

    def answer(self, command_id: str) -> str:
        return f"{self.prefix}answer:{command_id}"
