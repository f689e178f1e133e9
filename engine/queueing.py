"""Joining a queue and waiting in it: the line, the matching, relaxation, announcements.

A flow of the engine (see `engine.core`). A caller joins a queue (or is turned away
when it is full), hears the join prompt, and takes a place in line. `_serve_call`
gives a caller the best available eligible agent at once, by the queue's strategy;
`serve_agent` gives an agent who becomes available the waiting
call with the highest queue weight, then priority, then the earliest arrival, across
their queues. Relaxation steps only widen who may take a call as time passes.
Position and expected wait are announced while the caller waits.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from acd.engine import commands as cmd
from acd.engine import facts as fact
from acd.engine.conditions import Conditions
from acd.engine.context import Context
from acd.engine.queues import QueueRuntime
from acd.engine.records import Agent, Call
from acd.engine.states import CallState
from acd.engine.surge import Surge

if TYPE_CHECKING:
    from acd.engine.callbacks import Callbacks
    from acd.engine.callers import Callers
    from acd.engine.offers import Offers
    from acd.engine.overflow import Overflow

C = CallState

DEFAULT_HANDLE_SECONDS = 180.0
"""Modelled: the handle time assumed for expected-wait estimates before a queue has
handled any call (the field facts give no handle time)."""


class Lines:
    """Callers in line, and matching them with available agents."""

    callbacks: Callbacks
    callers: Callers
    offers: Offers
    overflow: Overflow

    def __init__(self, ctx: Context, surge: Surge, conditions: Conditions) -> None:
        self.ctx = ctx
        self.surge = surge
        self.conditions = conditions

    def join(self, call: Call, queue_name: str, priority: int | None) -> None:
        q = self.ctx.queues.get(queue_name)
        if q is None:  # the loader refuses dangling queues; a bad reload may not
            self.ctx.anomaly("route to unknown queue")
            self.callers.close(call, [], "ivr_failed")
            return
        now = self.ctx.now
        timers = self.ctx.timers
        self.ctx.seq.queue += 1
        call.queue = q.name
        call.priority = q.cfg.priority if priority is None else priority
        call.seq = self.ctx.seq.queue
        call.enqueued_at = now
        call.interval = self.ctx.counting.interval_of(now)
        call.step = 0
        for c in self.ctx.counting.queue_counters(q.name, call.interval):
            c.joined += 1
            if call.callback:
                c.callbacks_requested += 1
        self.ctx.move(call, "queue")
        on_hold = len(q.waiting) - q.state.callbacks_in_line
        if q.cfg.max_waiting is not None and not call.callback and on_hold >= q.cfg.max_waiting:
            self.callers.close(call, q.cfg.full_prompt, "blocked")
            return
        facts = self.ctx.facts
        if facts is not None:
            facts.append(
                fact.CallEnteredQueue(
                    at=now,
                    call_id=call.id,
                    queue=q.name,
                    caller=call.caller,
                    position=q.waiting.position(call.priority, call.seq),
                )
            )
        if not call.callback:
            self.ctx.emit(cmd.Hold(call_id=call.id, queue=q.name, music_class=q.cfg.music_on_hold))
            media = [
                *q.cfg.join_prompt,
                *self.surge.announcement(),
                *self.conditions.announcement_for(q.name),
            ]
            if media:
                self.ctx.play(call, media, "info")
            announce = q.cfg.announce
            if announce is not None:
                at = now + announce.first_after_seconds
                timers.arm_in_line(q.announce_lines[0], at, "announce", call.id, call.seq)
        if q.steps > 1:
            timers.arm_in_line(q.relax_lines[1], now + q.step_after[1], "relax", call.id, 1)
        for wait, line in q.overflow_waits:
            timers.arm_in_line(line, now + wait, "overflow", call.id, call.seq)
        self.enter(call, q)
        if call.state is C.WAITING and not call.callback:
            self._route_on_predicted_wait(call, q)
        if call.state is C.WAITING and not call.callback:
            self.callbacks.maybe_offer(call, q)

    def _route_on_predicted_wait(self, call: Call, q: QueueRuntime) -> None:
        """The queue's `predicted_wait` rule (config.schema.PredictedWait): a caller
        whose predicted wait is over the share of the patience its queue's callers have
        shown gets now the reach the fixed seconds would give later."""
        rule = q.cfg.predicted_wait
        if rule is None:
            return
        patience = self.ctx.metrics.queues[q.name].mean_patience
        if patience is None or self.expected_wait(call, q) <= rule.share_of_patience * patience:
            return
        call.likely_to_give_up = rule.overflow
        if rule.relax and call.step < q.steps - 1:
            self.relax_step(call.id, q.steps - 1)
        if rule.overflow and call.state is C.WAITING and not call.ready_for_overflow:
            self.overflow.check(call, q)

    def enter(self, call: Call, q: QueueRuntime) -> None:
        """The call (already WAITING) takes its place in line, then is served if it can be."""
        call.version += 1
        q.waiting.add(call.step, call.priority, call.seq, call.id, call.version)
        if call.callback:
            q.state.callbacks_in_line += 1
        if call.ready_for_overflow:
            q.ready.add(call.priority, call.seq, call.id, call.version)
        self._serve_call(call, q)
        if call.state is C.WAITING and not call.ready_for_overflow and not call.callback:
            self.overflow.check(call, q)

    def leave(self, call: Call) -> None:
        q = self.ctx.queues[call.queue]
        q.waiting.leave(call.priority, call.seq)
        if call.callback:
            q.state.callbacks_in_line -= 1
        call.version += 1

    def _serve_call(self, call: Call, q: QueueRuntime) -> None:
        entry = q.agents.best(
            q.step_pools[call.step], q.step_min_level[call.step], self.ctx.roster.is_available
        )
        if entry is not None:
            self.offers.offer(call, self.ctx.agents[entry[1]], q)
        elif call.ready_for_overflow:
            self.overflow.drain_queue(q)

    def serve_agent(self, agent: Agent) -> None:
        """The agent is available: offer them the best waiting call of their queues."""
        best: tuple[tuple[int, int, int], QueueRuntime, str] | None = None
        current = self.ctx.is_waiting
        for q, _level, first in self.ctx.roster.routes(agent.id):
            for step in range(first, q.steps):
                head = q.waiting.head(step, current)
                if head is None:
                    continue
                key = (-q.weight, head[0], head[1])
                if best is None or key < best[0]:
                    best = (key, q, head[2])
        if best is not None:
            self.offers.offer(self.ctx.calls[best[2]], agent, best[1])

    def relax_step(self, call_id: str, step: int) -> None:
        call = self.ctx.calls[call_id]
        q = self.ctx.queues[call.queue]
        call.step = step
        if step + 1 < q.steps:
            at = call.enqueued_at + q.step_after[step + 1]
            self.ctx.timers.arm_in_line(q.relax_lines[step + 1], at, "relax", call.id, step + 1)
        if call.state is C.WAITING:
            call.version += 1
            q.waiting.restep(step, call.priority, call.seq, call.id, call.version)
            if call.ready_for_overflow:
                q.ready.add(call.priority, call.seq, call.id, call.version)
            self._serve_call(call, q)

    def expected_wait(self, call: Call, q: QueueRuntime) -> float:
        """Expected wait: callers ahead, served by the queue's staffed agents in
        rounds of the queue's average handle time (a simple, explainable estimate)."""
        position = q.waiting.position(call.priority, call.seq)
        aht = self.ctx.metrics.queues[q.name].aht_seconds or (
            DEFAULT_HANDLE_SECONDS + q.cfg.wrap_up_seconds
        )
        return math.ceil(position / max(1, q.state.staffed)) * aht

    def announce_due(self, call_id: str, seq: int) -> None:
        call = self.ctx.calls[call_id]
        q = self.ctx.queues[call.queue]
        announce = q.cfg.announce
        if announce is None:
            return
        at = self.ctx.now + announce.every_seconds
        self.ctx.timers.arm_in_line(q.announce_lines[1], at, "announce", call.id, seq)
        if call.state is not C.WAITING:
            return
        position = q.waiting.position(call.priority, call.seq)
        ewt = self.expected_wait(call, q)
        self.ctx.emit(
            cmd.AnnounceWait(
                call_id=call.id,
                queue=q.name,
                position=position if announce.position else None,
                expected_wait_seconds=int(ewt) if announce.expected_wait else None,
                language=call.language,
            )
        )
        self.callbacks.maybe_offer(call, q)
