"""Joining a queue and waiting in it: the line, the matching, relaxation, announcements.

A part of `Engine` (see `engine.core` for the contract). A caller joins a queue (or
is turned away when it is full), hears the join prompt, and takes a place in line.
`_serve_call` gives a caller the best available eligible agent at once, by the
queue's strategy; `_serve_agent` gives an agent who becomes available the waiting
call with the highest queue weight, then priority, then the earliest arrival, across
their queues. Relaxation steps only widen who may take a call as time passes.
Position and expected wait are announced while the caller waits.
"""

from __future__ import annotations

import math

from acd.engine import commands as cmd
from acd.engine import facts as fact
from acd.engine.base import EngineBase
from acd.engine.queues import QueueRuntime
from acd.engine.records import Agent, Call
from acd.engine.states import CallState

C = CallState

DEFAULT_HANDLE_SECONDS = 180.0
"""Modelled: the handle time assumed for expected-wait estimates before a queue has
handled any call (the field facts give no handle time)."""


class Queueing(EngineBase):
    """Callers in line, and matching them with available agents."""

    def _join(self, call: Call, queue_name: str, priority: int | None) -> None:
        q = self.queues.get(queue_name)
        if q is None:  # the loader refuses dangling queues; a bad reload may not
            self._anomaly("route to unknown queue")
            self._close(call, [], "ivr_failed")
            return
        now = self._now
        self.seq.queue += 1
        call.queue = q.name
        call.priority = q.cfg.priority if priority is None else priority
        call.seq = self.seq.queue
        call.enqueued_at = now
        call.interval = self.metrics.interval_of(now)
        call.step = 0
        for c in self.metrics.queue_counters(q.name, call.interval):
            c.joined += 1
            if call.callback:
                c.callbacks_requested += 1
        self._move(call, "queue")
        on_hold = len(q.waiting) - q.state.callbacks_in_line
        if q.cfg.max_waiting is not None and not call.callback and on_hold >= q.cfg.max_waiting:
            self._close(call, q.cfg.full_prompt, "blocked")
            return
        facts = self.facts
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
            self._emit(cmd.Hold(call_id=call.id, queue=q.name, music_class=q.cfg.music_on_hold))
            media = [
                *q.cfg.join_prompt,
                *self.surge.announcement(),
                *self.conditions.announcement_for(q.name),
            ]
            if media:
                self._play(call, media, "info")
            announce = q.cfg.announce
            if announce is not None:
                self.timers.arm(now + announce.first_after_seconds, "announce", call.id, call.seq)
        if q.steps > 1:
            self.timers.arm(now + q.step_after[1], "relax", call.id, 1)
        for wait in q.overflow_waits:
            self.timers.arm(now + wait, "overflow", call.id, call.seq)
        self._enter_waiting(call, q)
        if call.state is C.WAITING and not call.callback:
            self._route_on_predicted_wait(call, q)
        if call.state is C.WAITING and not call.callback:
            self._maybe_offer_callback(call, q)

    def _route_on_predicted_wait(self, call: Call, q: QueueRuntime) -> None:
        """The queue's `predicted_wait` rule (config.schema.PredictedWait): a caller
        whose predicted wait is over the share of the patience its queue's callers have
        shown gets now the reach the fixed seconds would give later."""
        rule = q.cfg.predicted_wait
        if rule is None:
            return
        patience = self.metrics.queues[q.name].mean_patience
        if patience is None or self._expected_wait(call, q) <= rule.share_of_patience * patience:
            return
        call.likely_to_give_up = rule.overflow
        if rule.relax and call.step < q.steps - 1:
            self._relax_step(call.id, q.steps - 1)
        if rule.overflow and call.state is C.WAITING and not call.ready_for_overflow:
            self._check_overflow(call, q)

    def _enter_waiting(self, call: Call, q: QueueRuntime) -> None:
        """The call (already WAITING) takes its place in line, then is served if it can be."""
        call.version += 1
        q.waiting.add(call.step, call.priority, call.seq, call.id, call.version)
        if call.callback:
            q.state.callbacks_in_line += 1
        if call.ready_for_overflow:
            q.ready.add(call.priority, call.seq, call.id, call.version)
        self._serve_call(call, q)
        if call.state is C.WAITING and not call.ready_for_overflow and not call.callback:
            self._check_overflow(call, q)

    def _leave_waiting(self, call: Call) -> None:
        q = self.queues[call.queue]
        q.waiting.leave(call.priority, call.seq)
        if call.callback:
            q.state.callbacks_in_line -= 1
        call.version += 1

    def _serve_call(self, call: Call, q: QueueRuntime) -> None:
        entry = q.agents.best(
            q.step_pools[call.step], q.step_min_level[call.step], self.roster.is_available
        )
        if entry is not None:
            self._offer(call, self.agents[entry[1]], q)
        elif call.ready_for_overflow:
            self._drain_queue(q)

    def _serve_agent(self, agent: Agent) -> None:
        """The agent is available: offer them the best waiting call of their queues."""
        best: tuple[tuple[int, int, int], QueueRuntime, str] | None = None
        current = self._call_current
        for q, _level, first in self.roster.routes(agent.id):
            for step in range(first, q.steps):
                head = q.waiting.head(step, current)
                if head is None:
                    continue
                key = (-q.weight, head[0], head[1])
                if best is None or key < best[0]:
                    best = (key, q, head[2])
        if best is not None:
            self._offer(self.calls[best[2]], agent, best[1])

    def _relax_step(self, call_id: str, step: int) -> None:
        call = self.calls[call_id]
        q = self.queues[call.queue]
        call.step = step
        if step + 1 < q.steps:
            self.timers.arm(call.enqueued_at + q.step_after[step + 1], "relax", call.id, step + 1)
        if call.state is C.WAITING:
            call.version += 1
            q.waiting.restep(step, call.priority, call.seq, call.id, call.version)
            if call.ready_for_overflow:
                q.ready.add(call.priority, call.seq, call.id, call.version)
            self._serve_call(call, q)

    def _expected_wait(self, call: Call, q: QueueRuntime) -> float:
        """Expected wait: callers ahead, served by the queue's staffed agents in
        rounds of the queue's average handle time (a simple, explainable estimate)."""
        position = q.waiting.position(call.priority, call.seq)
        aht = self.metrics.queues[q.name].aht_seconds or (
            DEFAULT_HANDLE_SECONDS + q.cfg.wrap_up_seconds
        )
        return math.ceil(position / max(1, q.state.staffed)) * aht

    def _announce_due(self, call_id: str, seq: int) -> None:
        call = self.calls[call_id]
        q = self.queues[call.queue]
        announce = q.cfg.announce
        if announce is None:
            return
        self.timers.arm(self._now + announce.every_seconds, "announce", call.id, seq)
        if call.state is not C.WAITING:
            return
        position = q.waiting.position(call.priority, call.seq)
        ewt = self._expected_wait(call, q)
        self._emit(
            cmd.AnnounceWait(
                call_id=call.id,
                queue=q.name,
                position=position if announce.position else None,
                expected_wait_seconds=int(ewt) if announce.expected_wait else None,
                language=call.language,
            )
        )
        self._maybe_offer_callback(call, q)
