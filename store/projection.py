"""The read model: what other tools (wallboards, reports, an operator's redis-cli) read
without the engine. Written as `Op`s, so Redis and the memory store apply the same.

- per queue, the waiting calls in service order: a sorted set whose score is
  (-priority, arrival sequence) packed in one float (exact below 2^53);
- per call, a `CallView`; an ended call's view expires after `ended_ttl`;
- per agent, an `AgentView`: state and since when;
- figures per queue, pool, vendor and the site, and the surge stage in `status`
  (rewritten at most every `figures_every` seconds of the loop's clock, `loop_time()`:
  they change with every event);
- the engine's whole live snapshot (`engine.snapshot`, the typed `Snapshot` a
  wallboard shows) in `live`, rewritten at most every `live_every` seconds of
  `loop_time()` and only when something happened since (an event handled, a call or
  agent changed): a wallboard server beside the engine serves it as it is;
- in `status`, the engine's clock at that write (`updated_at`, epoch seconds written
  exactly, the clock every `since` is on) and this machine's wall clock then
  (`written_at`, to the millisecond): a
  reader tells from the two whether the engine runs on the wall clock or on a
  compressed one (`acd serve --speed`), and measures durations on the right one.
"""

from __future__ import annotations

import math
import time

import msgspec

from acd.engine import Call, CallState, Engine, shown
from acd.store.base import Op, loop_time
from acd.store.keys import Keys
from acd.store.records import AgentView, CallView, FiguresView

_ENCODE = msgspec.msgpack.encode
SEQ_RANGE = 1 << 40


def order_score(priority: int, seq: int) -> float:
    """The service order of a waiting call as one sortable number."""
    return float(-priority * SEQ_RANGE + seq)


def call_view(call: Call) -> CallView:
    return CallView(
        id=call.id,
        caller=call.caller,
        state=call.state.value,
        since=call.enqueued_at if call.queue else call.arrived_at,
        queue=call.queue,
        priority=call.priority,
        agent=call.agent_id,
        vendor=call.vendor,
        callback=call.callback,
        outcome=call.outcome,
    )


class Projection:
    """Turns the engine's changes into read-model writes."""

    def __init__(
        self,
        keys: Keys,
        engine: Engine,
        *,
        ended_ttl: int = 3600,
        figures_every: float = 0.5,
        live_every: float = 1.0,
        speed: float = 1.0,
    ) -> None:
        self.keys = keys
        self.speed = speed
        """The engine clock's speed against the wall, written into the live snapshot."""
        self.engine = engine
        self.ended_ttl = ended_ttl
        self.figures_every = figures_every
        self.live_every = live_every
        self._waiting_in: dict[str, str] = {}
        """Call id -> the queue whose waiting set holds it (as last written)."""
        self._last_views: dict[str, CallView] = {}
        self._figures_at = -math.inf
        """When the figures were last written (`loop_time()`); never yet: the first
        changes carry them. Not 0.0: a loop's clock may start at 0 (a virtual one
        does), and the figures would then wait `figures_every` for their first write."""
        self._figures_stale = True
        self._live_at = -math.inf
        """When the live snapshot was last written (`loop_time()`); never yet, as
        `_figures_at`."""
        self._live_stale = True
        engine.track_changes()

    def touched(self) -> None:
        """The engine handled events (a supervisor's stage, a timer: not every event
        changes a call or an agent): the figures and the live snapshot are stale."""
        self._figures_stale = True
        self._live_stale = True

    def changes(self) -> list[Op]:
        """The writes for what changed since the last call (the engine's changes are
        drained)."""
        calls, agents = self.engine.drain_changes()
        return self._writes_for(calls, agents)

    def _writes_for(self, calls: set[str], agents: set[str]) -> list[Op]:
        """The views of `calls` and `agents` as they are now, then what is due."""
        engine = self.engine
        ops: list[Op] = []
        for call_id in calls:
            self._call_ops(call_id, ops)
        for agent_id in agents:
            agent = engine.agents[agent_id]
            state, reason = shown(agent.state, agent.reason)
            view = AgentView(
                id=agent.id,
                pool=agent.pool,
                state=state,
                since=agent.state_since,
                reason=reason,
                call=agent.call_id,
            )
            ops.append(("hset", self.keys.agents, agent.id, _ENCODE(view)))
        if ops:
            self.touched()
        return ops + self.catch_up()

    def figures_due(self) -> bool:
        """Something changed since the figures or the live snapshot were last written
        (a quiet floor's writer writes them on its lease tick: `catch_up`)."""
        return self._figures_stale or self._live_stale

    def catch_up(self) -> list[Op]:
        """What is stale of the figures and the live snapshot and due by their
        intervals (the lease tick of a quiet floor: the last changes' figures and
        snapshot would otherwise wait for the next event; a tick that comes too soon
        leaves them to the next one, so a busy floor's ticks add no writes)."""
        now = loop_time()
        ops: list[Op] = []
        if self._figures_stale and now - self._figures_at >= self.figures_every:
            ops += self.figures()
        if self._live_stale and now - self._live_at >= self.live_every:
            ops.append(self.live())
        return ops

    def live(self) -> Op:
        """The engine's live snapshot at its own clock's now (its last event)."""
        self._live_at = loop_time()
        self._live_stale = False
        engine = self.engine
        snapshot = engine.snapshot(engine.now)
        snapshot.speed = self.speed
        return ("set", self.keys.live, _ENCODE(snapshot))

    def _call_ops(self, call_id: str, ops: list[Op]) -> None:
        call = self.engine.calls.get(call_id)
        was_in = self._waiting_in.get(call_id)
        if call is None:
            if was_in is not None:
                ops.append(("zrem", self.keys.waiting(was_in), call_id))
                del self._waiting_in[call_id]
            last = self._last_views.pop(call_id, None)
            if last is not None:
                last.ended = True
                ops.append(("setex", self.keys.call(call_id), _ENCODE(last), self.ended_ttl))
            return
        view = call_view(call)
        self._last_views[call_id] = view
        ops.append(("set", self.keys.call(call_id), _ENCODE(view)))
        waiting = call.state is CallState.WAITING
        if waiting and was_in != call.queue:
            if was_in is not None:
                ops.append(("zrem", self.keys.waiting(was_in), call_id))
            score = order_score(call.priority, call.seq)
            ops.append(("zadd", self.keys.waiting(call.queue), score, call_id))
            self._waiting_in[call_id] = call.queue
        elif not waiting and was_in is not None:
            ops.append(("zrem", self.keys.waiting(was_in), call_id))
            del self._waiting_in[call_id]

    def figures(self) -> list[Op]:
        """Every figure now, and the status (stage, when it was written)."""
        self._figures_at = loop_time()
        self._figures_stale = False
        engine, k = self.engine, self.keys
        m = engine.metrics
        site = FiguresView(figures=m.total.summary())
        ops: list[Op] = [("hset", k.figures, "site", _ENCODE(site))]
        for name, q in m.queues.items():
            view = FiguresView(figures=q.summary())
            ops.append(("hset", k.figures, f"queue:{name}", _ENCODE(view)))
        for name, p in m.pools.items():
            figures: dict[str, float | int | None] = {
                "answered": p.answered,
                "handled": p.handled,
                "occupancy": p.occupancy,
            }
            ops.append(("hset", k.figures, f"pool:{name}", _ENCODE(FiguresView(figures=figures))))
        for name, v in m.vendors.items():
            figures = {
                "dialled": v.dialled,
                "answered": v.answered,
                "failed": v.failed,
                "active": engine.vendors[name].active,
            }
            ops.append(("hset", k.figures, f"vendor:{name}", _ENCODE(FiguresView(figures=figures))))
        ops.append(("hset", k.status, "stage", engine.surge.stage))
        ops.append(("hset", k.status, "updated_at", repr(engine.now)))
        ops.append(("hset", k.status, "written_at", f"{time.time():.3f}"))
        return ops

    def everything(self) -> list[Op]:
        """A full rewrite: after a Redis restart, or on taking over."""
        engine, k = self.engine, self.keys
        ops: list[Op] = [("del", k.waiting(name)) for name in engine.queues]
        ops.append(("del", k.agents))
        self._waiting_in.clear()
        # Calls that ended since their view was written (during an outage, say) are
        # among `_last_views`: they get their ended view, with its expiry.
        calls, agents = engine.drain_changes()
        calls.update(engine.calls)
        calls.update(self._last_views)
        agents.update(engine.agents)
        # The rewrite carries the figures and the live snapshot, however recent.
        self._figures_at = self._live_at = -math.inf
        self.touched()
        ops += self._writes_for(calls, agents)
        ops.append(("hset", k.status, "rewritten_at", f"{engine.now:.3f}"))
        return ops
