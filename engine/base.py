"""The engine's shared state, declared once for all its parts.

`Engine` (`engine.core`) is assembled from mixins, one idea per file; each mixin is a
subclass of `EngineBase`, which declares the attributes they share (set in
`Engine.__init__`) and, for the type checker only, the methods one part calls on
another. It holds no behaviour: at run time the declarations do not exist (the
attributes live on the instance, the methods on the parts). Method look-ups go
through CPython's type cache as in a single class; only a cache miss walks the
longer method resolution order (at most about 1 % more instructions on
benchmarks/routing.py, measured with callgrind).

One declaration has a value at run time: `facts` is None on the class, so that an
engine reports no facts (`engine.facts`) until a driver sets a list on it.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from acd.config.schema import SiteConfig
from acd.engine import commands as cmd
from acd.engine.conditions import Conditions
from acd.engine.ended import EndedCalls
from acd.engine.facts import Fact
from acd.engine.ivr import IvrFlow
from acd.engine.metrics import Metrics
from acd.engine.queues import QueueRuntime
from acd.engine.records import Agent, Call
from acd.engine.roster import Roster
from acd.engine.sequences import Sequences
from acd.engine.states import AgentTrigger, CallTrigger, PromptKind
from acd.engine.surge import Surge
from acd.engine.timers import Timers
from acd.engine.vendors import VendorContract


class EngineBase:
    """The state every part of the engine reads and writes (see `Engine.__init__`)."""

    config: SiteConfig
    rng: random.Random
    offset: float
    ivr: IvrFlow
    metrics: Metrics
    queues: dict[str, QueueRuntime]
    vendors: dict[str, VendorContract]
    roster: Roster
    agents: dict[str, Agent]
    """The roster's agents (`Roster.agents`)."""
    calls: dict[str, Call]
    surge: Surge
    conditions: Conditions
    anomalies: dict[str, int]
    _ended: EndedCalls
    timers: Timers
    seq: Sequences
    _now: float
    started_at: float
    handled: int
    _out: list[cmd.Command]
    tracking: bool
    changed_calls: set[str]
    changed_agents: set[str]
    facts: list[Fact] | None = None
    """Off (None) unless a driver sets a list: the engine then appends what happened
    (`engine.facts`) and the driver takes the list's contents after each `handle`."""

    if TYPE_CHECKING:
        # Methods one part calls on another, by the file that defines them.

        # engine/core.py
        def _anomaly(self, what: str) -> None: ...
        def _emit(self, command: cmd.Command) -> None: ...
        def _call(self, call_id: str, what: str) -> Call | None: ...
        def _agent(self, agent_id: str, what: str) -> Agent | None: ...
        def _move(self, call: Call, trigger: CallTrigger) -> None: ...
        def _can(self, call: Call, trigger: str) -> bool: ...
        def _play(self, call: Call, media: list[str], kind: PromptKind) -> int: ...
        def _call_current(self, call_id: str, version: int) -> bool: ...

        # engine/callers.py
        def _close(self, call: Call, media: list[str], outcome: str) -> None: ...
        def _finish(self, call: Call, outcome: str | None) -> None: ...
        def _record_outcome(self, call: Call, outcome: str) -> None: ...

        # engine/queueing.py
        def _join(self, call: Call, queue_name: str, priority: int | None) -> None: ...
        def _enter_waiting(self, call: Call, q: QueueRuntime) -> None: ...
        def _leave_waiting(self, call: Call) -> None: ...
        def _serve_agent(self, agent: Agent) -> None: ...
        def _expected_wait(self, call: Call, q: QueueRuntime) -> float: ...

        # engine/offers.py
        def _offer(self, call: Call, agent: Agent, q: QueueRuntime) -> None: ...
        def _connect(self, call: Call) -> None: ...
        def _end_connected(self, call: Call) -> None: ...
        def _end_agent_call(self, agent: Agent, call: Call) -> None: ...
        def _after_wrap(self, agent: Agent, trigger: AgentTrigger) -> None: ...
        def _close_wrap(self, agent: Agent) -> None: ...
        def _offer_cancelled(self, agent: Agent) -> None: ...

        # engine/overflow.py
        def _check_overflow(self, call: Call, q: QueueRuntime) -> None: ...
        def _drain_queue(self, q: QueueRuntime) -> None: ...
        def _drain_vendor(self, vendor: VendorContract) -> None: ...

        # engine/callbacks.py
        def _maybe_offer_callback(self, call: Call, q: QueueRuntime) -> None: ...
        def _accept_callback(self, call: Call, confirm: list[str]) -> None: ...
        def _dial_back(self, call: Call, agent: Agent) -> None: ...
        def _callback_not_reached(self, call: Call, cause: str) -> None: ...

        # engine/agent_states.py
        def _agent_to(self, agent: Agent, trigger: AgentTrigger, reason: str = "") -> None: ...
        def _logout(self, agent: Agent) -> None: ...

        # engine/pools.py
        def _over_cap_demote(self, agent: Agent) -> bool: ...
        def _apply_pool_cap(self, pool: str) -> None: ...
        def _evaluate_stage(self) -> None: ...
