"""The sans-IO core of the ACD: events in, commands out, no clock, no sockets.

from acd.engine import Engine
engine = Engine(site_config, rng=random.Random(seed))
commands = engine.handle(events.CallArrived(call_id="c1", caller="0101234"), now)

The engine's face, all that its adapters (the live controller, the replay, the store,
the web part, the planners) may import, is this package's names below and the data
modules `events`, `commands`, `snapshot` and `facts`; the other modules are the
engine's own, and import-linter refuses an adapter that imports one of them
(pyproject.toml, contract "engine-face").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from acd.engine.core import Engine as Engine
    from acd.engine.localtime import LocalTime as LocalTime
    from acd.engine.localtime import OpenHours as OpenHours
    from acd.engine.localtime import Window as Window
    from acd.engine.localtime import in_window as in_window
    from acd.engine.localtime import parse_offset as parse_offset
    from acd.engine.metrics import WAIT_OUTCOMES as WAIT_OUTCOMES
    from acd.engine.metrics import Interval as Interval
    from acd.engine.metrics import QueueCounters as QueueCounters
    from acd.engine.metrics import wait_bounds as wait_bounds
    from acd.engine.persist import EngineState as EngineState
    from acd.engine.persist import StateMismatch as StateMismatch
    from acd.engine.persist import decode_state as decode_state
    from acd.engine.persist import export_state as export_state
    from acd.engine.persist import replay as replay
    from acd.engine.persist import restore as restore
    from acd.engine.records import Call as Call
    from acd.engine.states import BUSY_STATES as BUSY_STATES
    from acd.engine.states import HANDLING_STATES as HANDLING_STATES
    from acd.engine.states import SHOWN_STATES as SHOWN_STATES
    from acd.engine.states import STAFFED_STATES as STAFFED_STATES
    from acd.engine.states import AgentState as AgentState
    from acd.engine.states import CallState as CallState
    from acd.engine.states import shown as shown

_FACE = {
    "Engine": "core",
    # the states a call and an agent can be in, as views and snapshots show them
    "AgentState": "states",
    "CallState": "states",
    "BUSY_STATES": "states",
    "HANDLING_STATES": "states",
    "STAFFED_STATES": "states",
    # an agent's state and reason as supervisors and the queue_log name them
    "SHOWN_STATES": "states",
    "shown": "states",
    "Call": "records",
    # the counters a replay reads per queue and interval, and the wait histograms
    "Interval": "metrics",
    "QueueCounters": "metrics",
    "WAIT_OUTCOMES": "metrics",
    "wait_bounds": "metrics",
    # export and restore, and the journal's replay onto a restored engine
    "EngineState": "persist",
    "StateMismatch": "persist",
    "decode_state": "persist",
    "export_state": "persist",
    "restore": "persist",
    "replay": "persist",
    # the site's local time and time windows, as the engine reads them
    "LocalTime": "localtime",
    "Window": "localtime",
    "OpenHours": "localtime",
    "in_window": "localtime",
    "parse_offset": "localtime",
}
"""Name -> the module of this package that defines it."""


def __getattr__(name: str) -> Any:
    # Lazy, so that a tool which needs one helper (the virtual PBX reads shift
    # windows) does not load the whole engine, and `acd --help` stays quick.
    module = _FACE.get(name)
    if module is None:
        raise AttributeError(name)
    return getattr(importlib.import_module(f"acd.engine.{module}"), name)


__all__ = sorted(_FACE)
