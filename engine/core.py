"""The engine: one deterministic state machine for a whole site.

    commands = engine.handle(event, now)
    wake_at = engine.next_deadline()

`handle` first fires every timer due at `now`, then applies the event, and returns
the commands for the PBX in order. The engine reads no clock, does no IO and draws
randomness only from the `random.Random` it was given, so the same events at the
same times give the same commands, live, in a replay, or in a test.

Who takes what (the routing contract):
- a caller joining a queue gets the best available eligible agent at once, by the
  queue's strategy; "eligible" means a skill level and a pool admitted by the
  caller's relaxation step (steps only widen, as time passes);
- an agent who becomes available takes, across all their queues, the waiting call
  with the highest queue weight, then priority, then the earliest arrival;
- a call put back after a missed ring keeps its place;
- a caller who qualifies for overflow (queue rules) goes to the first of the rule's
  vendors that is open and under its contract caps, when no agent takes it first.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from typing import Any

from config.schema import Queue, SiteConfig
from engine import commands as cmd
from engine import events as ev
from engine import snapshot
from engine.ivr import Finish, IvrFlow, Join, LinkSent, Prompt, Step, StopPrompt, WaitDigit
from engine.localtime import parse_offset
from engine.metrics import Metrics, PoolCounters, QueueCounters, VendorCounters
from engine.records import Agent, Call
from engine.routing import AvailableAgents, ReadyForOverflow, WaitingCalls
from engine.snapshot import Snapshot
from engine.states import (
    AGENT_TRANSITIONS,
    BUSY_STATES,
    CALL_TRANSITIONS,
    IN_LINE,
    STAFFED_STATES,
    AgentState,
    CallState,
)
from engine.surge import InboundRate, stage_for
from engine.vendors import VendorContract

A = AgentState
C = CallState

DEFAULT_HANDLE_SECONDS = 180.0
"""Modelled: the handle time assumed for expected-wait estimates before a queue has
handled any call (the field facts give no handle time)."""

ENDED_KEPT = 10_000
"""Ended calls remembered until the PBX reports their line down (`CallerHungUp`);
beyond this many the oldest are forgotten, and a report that late counts as stray."""

_QUEUE_OUTCOMES = frozenset(
    {"answered", "vendor_answered", "abandoned", "short_abandoned", "blocked", "callback_failed"}
)


class QueueRuntime:
    """A queue compiled from its configuration, with its routing indexes."""

    __slots__ = (
        "agents",
        "callbacks_in_line",
        "cfg",
        "name",
        "overflow_waits",
        "ready",
        "service_level",
        "staffed",
        "step_after",
        "step_min_level",
        "step_pools",
        "steps",
        "waiting",
        "weight",
    )

    def __init__(self, name: str, cfg: Queue, site_sl: float, pools: list[str]) -> None:
        self.name = name
        self.cfg = cfg
        self.weight = cfg.weight
        self.service_level = (
            cfg.service_level_seconds if cfg.service_level_seconds is not None else site_sl
        )
        after = [0.0]
        min_level = [cfg.min_level]
        admitted = [tuple(cfg.pools)]
        for step in cfg.relax:
            after.append(step.after_seconds)
            min_level.append(min(min_level[-1], step.min_level or min_level[-1]))
            admitted.append(admitted[-1] + tuple(p for p in step.pools if p not in admitted[-1]))
        self.step_after = after
        self.step_min_level = min_level
        self.step_pools = admitted
        self.steps = len(after)
        self.agents = AvailableAgents(pools)
        self.waiting = WaitingCalls(self.steps)
        self.ready = ReadyForOverflow()
        self.staffed = 0
        self.callbacks_in_line = 0
        """Waiting calls that are callbacks: their lines are down, so they do not
        fill the queue (`max_waiting` counts callers on hold)."""
        self.overflow_waits = sorted(
            {r.when.waited_over_seconds for r in cfg.overflow if r.when.waited_over_seconds}
        )

    def first_step(self, level: int, pool: str) -> int | None:
        """The first relaxation step at which an agent of this level and pool may
        take this queue's calls, or None if never."""
        for step in range(self.steps):
            if level >= self.step_min_level[step] and pool in self.step_pools[step]:
                return step
        return None


Route = tuple[QueueRuntime, int, int]
"""(queue, the agent's level in its skill, first eligible step)."""


class Engine:
    """The ACD of one site. See the module docstring for the routing contract."""

    def __init__(
        self, config: SiteConfig, *, rng: random.Random | None = None, start: float = 0.0
    ) -> None:
        self.config = config
        self.rng = rng if rng is not None else random.Random(0)
        self.offset = parse_offset(config.site.utc_offset)
        self.ivr = IvrFlow(config.ivr, self.offset)
        self.metrics = Metrics(
            interval_seconds=config.site.interval_minutes * 60.0, offset=self.offset
        )
        pool_names = list(config.pools)
        self.queues: dict[str, QueueRuntime] = {
            name: QueueRuntime(name, q, config.site.service_level_seconds, pool_names)
            for name, q in config.queues.items()
        }
        for name in config.queues:
            self.metrics.queues[name] = QueueCounters()
        for name in pool_names:
            self.metrics.pools[name] = PoolCounters()
        self.vendors: dict[str, VendorContract] = {}
        for name, vendor in config.vendors.items():
            self.vendors[name] = VendorContract(name, vendor)
            self.metrics.vendors[name] = VendorCounters()
        for q in self.queues.values():
            for rule in q.cfg.overflow:
                for v in rule.vendors:
                    if q.name not in self.vendors[v].queues:
                        self.vendors[v].queues.append(q.name)
        self.agents: dict[str, Agent] = {}
        self._routes: dict[str, list[Route]] = {}
        for i, a in enumerate(config.agents):
            agent = Agent(
                id=a.id,
                name=a.name or a.id,
                endpoint=a.endpoint,
                pool=a.pool,
                skills={g.skill: g.level for g in a.skills},
                skill_sources={g.skill: g.source for g in a.skills},
                shift=a.shift,
                roster_index=i,
                state_since=start,
            )
            self.agents[a.id] = agent
            self._routes[a.id] = self._routes_of(agent)
        self.calls: dict[str, Call] = {}
        self.stage = 0
        self.stage_pinned: int | None = None
        self.distancing_level = config.site.distancing_level
        self.announcement: list[str] = []
        self.announcement_queues: frozenset[str] = frozenset()
        self.inbound = InboundRate(config.surge.window_minutes)
        self.stage_log: list[tuple[float, int]] = []
        self._surge_armed = False
        self.anomalies: dict[str, int] = {}
        self._ended: dict[str, None] = {}
        """Ended calls whose line-down report has not come yet, oldest first."""
        self._timers: list[tuple[float, int, str, str, int]] = []
        self._timer_seq = 0
        self._prompt_seq = 0
        self._queue_seq = 0
        self._offer_seq = 0
        self._referral_seq = 0
        self._now = start
        self._out: list[cmd.Command] = []
        self.tracking = False
        """When True, `changed_calls` and `changed_agents` collect the calls and agents
        whose state changed (or that came or went) until the driver clears them: what
        a read model must rewrite. Off by default (a replay does not need them)."""
        self.changed_calls: set[str] = set()
        self.changed_agents: set[str] = set()
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            ev.CallArrived: self._on_call_arrived,
            ev.DigitPressed: self._on_digit,
            ev.PromptFinished: self._on_prompt_finished,
            ev.CallerHungUp: self._on_caller_hung_up,
            ev.AgentLogin: self._on_login,
            ev.AgentLogout: self._on_logout,
            ev.AgentPause: self._on_pause,
            ev.AgentUnpause: self._on_unpause,
            ev.AgentReady: self._on_ready,
            ev.AgentAnswered: self._on_agent_answered,
            ev.AgentMissed: self._on_agent_missed,
            ev.AgentHungUp: self._on_agent_hung_up,
            ev.AgentFlaggedAbusive: self._on_abusive,
            ev.AgentReferredCallback: self._on_referred,
            ev.VendorAnswered: self._on_vendor_answered,
            ev.VendorFailed: self._on_vendor_failed,
            ev.VendorHungUp: self._on_vendor_hung_up,
            ev.CallbackAnswered: self._on_callback_answered,
            ev.CallbackFailed: self._on_callback_failed,
            ev.SetSurgeStage: self._on_set_stage,
            ev.SetDistancingLevel: self._on_set_distancing,
            ev.SetAgentSkill: self._on_set_skill,
            ev.MoveAgent: self._on_move_agent,
            ev.SetAnnouncement: self._on_set_announcement,
            ev.TimerFired: lambda e: None,
        }
        calls, agents = self.calls, self.agents
        # When each kind of timer still means something; a timer that no longer
        # does is dropped unfired (and never wakes a driver: see next_deadline).
        self._timer_live: dict[str, Callable[[str, int], bool]] = {
            "menu": lambda k, t: (
                (c := calls.get(k)) is not None
                and c.state is C.IVR
                and c.prompt_kind == "digit"
                and c.prompt_id == t
            ),
            "ring": lambda k, t: (
                (c := calls.get(k)) is not None and c.state is C.OFFERED and c.offer_token == t
            ),
            "wrap": lambda k, t: (a := agents[k]).state is A.WRAP_UP and a.wrap_token == t,
            "relax": lambda k, t: (
                (c := calls.get(k)) is not None and c.state in IN_LINE and c.step == t - 1
            ),
            "overflow": lambda k, t: (
                (c := calls.get(k)) is not None
                and c.state is C.WAITING
                and c.seq == t
                and not c.ready_for_overflow
                and not c.callback
            ),
            "announce": lambda k, t: (
                (c := calls.get(k)) is not None
                and c.state in IN_LINE
                and c.seq == t
                and not c.callback
            ),
            "vendor_timeout": lambda k, t: (
                (c := calls.get(k)) is not None
                and c.state is C.VENDOR_DIALING
                and c.offer_token == t
            ),
            "vendor_free": lambda k, t: True,
            "dialback": lambda k, t: (
                (c := calls.get(k)) is not None and c.state is C.DIALING_BACK and c.offer_token == t
            ),
            "retry": lambda k, t: (
                (c := calls.get(k)) is not None and c.state is C.RETRY_WAIT and c.attempts == t
            ),
            "surge": lambda k, t: True,
        }
        self._timer_handlers: dict[str, Callable[[str, int], None]] = {
            "menu": self._menu_timed_out,
            "ring": self._ring_timed_out,
            "wrap": self._wrap_timed_out,
            "relax": self._relax_step,
            "overflow": self._overflow_due,
            "announce": self._announce_due,
            "vendor_timeout": self._vendor_timed_out,
            "vendor_free": self._vendor_free,
            "dialback": self._dialback_timed_out,
            "retry": self._retry_due,
            "surge": self._surge_tick,
        }

    # ------------------------------------------------------------------ interface

    def handle(self, event: ev.Event, now: float) -> list[cmd.Command]:
        """Apply one event at time `now` (epoch seconds) and return the commands.

        Timers due at or before `now` fire first. Time never goes backwards: an
        earlier `now` than the last one is taken as the last one. Never raises for
        bad or late input: such events are counted in `anomalies`."""
        if now < self._now:
            self._anomaly("clock went backwards")
            now = self._now
        self._now = now
        out: list[cmd.Command] = []
        self._out = out
        timers = self._timers
        if timers and timers[0][0] <= now:
            self._fire_due(now)
        handler = self._handlers.get(type(event))
        if handler is None:
            self._anomaly(f"unknown event {type(event).__name__}")
        else:
            handler(event)
        return out

    def next_deadline(self) -> float | None:
        """When the engine next needs `handle(TimerFired(), t)`, or None. Timers that
        can no longer fire (their call was answered, their wrap-up cut short) are
        dropped here, so a driver is never woken for nothing."""
        timers, live = self._timers, self._timer_live
        while timers:
            _, _, kind, key, token = timers[0]
            if live[kind](key, token):
                return timers[0][0]
            heapq.heappop(timers)
        return None

    def waiting_count(self, queue: str) -> int:
        return len(self.queues[queue].waiting)

    def routes_of(self, agent_id: str) -> list[Route]:
        """The queues an agent may serve: (queue, level, first eligible step)."""
        return self._routes[agent_id]

    def snapshot(self, now: float) -> Snapshot:
        """The live wallboard view at `now` (see `engine.snapshot`); changes nothing."""
        return snapshot.take(self, now)

    # ------------------------------------------------------------------ plumbing

    def _anomaly(self, what: str) -> None:
        self.anomalies[what] = self.anomalies.get(what, 0) + 1

    def _emit(self, command: cmd.Command) -> None:
        self._out.append(command)  # one place to hook a command trace into

    def _arm(self, at: float, kind: str, key: str, token: int = 0) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (at, self._timer_seq, kind, key, token))

    def _fire_due(self, now: float) -> None:
        timers, live, handlers = self._timers, self._timer_live, self._timer_handlers
        while timers and timers[0][0] <= now:
            _, _, kind, key, token = heapq.heappop(timers)
            if live[kind](key, token):
                handlers[kind](key, token)

    def _call(self, call_id: str, what: str) -> Call | None:
        call = self.calls.get(call_id)
        if call is None:
            self._anomaly(f"{what} for unknown call")
        return call

    def _agent(self, agent_id: str, what: str) -> Agent | None:
        agent = self.agents.get(agent_id)
        if agent is None:
            self._anomaly(f"{what} for unknown agent")
        return agent

    def _move(self, call: Call, trigger: str) -> None:
        """Move a call along `CALL_TRANSITIONS`; callers have checked the move exists."""
        call.state = CALL_TRANSITIONS[(call.state, trigger)]
        if self.tracking:
            self.changed_calls.add(call.id)

    def _can(self, call: Call, trigger: str) -> bool:
        return (call.state, trigger) in CALL_TRANSITIONS

    def _play(self, call: Call, media: list[str], kind: str) -> int:
        self._prompt_seq += 1
        self._emit(
            cmd.Play(
                call_id=call.id,
                media=list(media),
                prompt_id=self._prompt_seq,
                language=call.language,
            )
        )
        if kind:
            call.prompt_id = self._prompt_seq
            call.prompt_kind = kind
        return self._prompt_seq

    def _call_current(self, call_id: str, version: int) -> bool:
        call = self.calls.get(call_id)
        return call is not None and call.version == version and call.state is C.WAITING

    def _agent_current(self, agent_id: str, version: int) -> bool:
        agent = self.agents[agent_id]
        return agent.version == version and agent.state is A.AVAILABLE

    # ------------------------------------------------------------------ callers

    def _on_call_arrived(self, e: ev.CallArrived) -> None:
        if e.call_id in self.calls:
            self._anomaly("duplicate call id")
            return
        now = self._now
        call = Call(
            id=e.call_id,
            caller=e.caller,
            dnis=e.dnis,
            arrived_at=now,
            language=self.config.site.default_language,
        )
        self.calls[call.id] = call
        if self.tracking:
            self.changed_calls.add(call.id)
        self.metrics.ivr.arrived += 1
        self.metrics.interval(self.metrics.interval_of(now)).arrived += 1
        self._emit(cmd.Answer(call_id=call.id))
        if self.config.surge.auto:
            self.inbound.record(now)
            self._evaluate_stage()
        self._run_ivr(call, self.ivr.start(call, now))

    def _run_ivr(self, call: Call, steps: list[Step]) -> None:
        for step in steps:
            if call.state is not C.IVR:
                return
            if isinstance(step, Prompt):
                if step.media:
                    self._play(call, step.media, step.kind)
                else:  # nothing to play: it has "finished" already
                    self._run_ivr(call, self.ivr.prompt_done(call, step.kind, self._now))
            elif isinstance(step, WaitDigit):
                call.prompt_kind = "digit"
                self._arm(self._now + step.seconds, "menu", call.id, call.prompt_id)
            elif isinstance(step, StopPrompt):
                if call.prompt_id and call.prompt_kind == "menu":
                    self._emit(cmd.StopPlayback(call_id=call.id))
                call.prompt_id = 0
                call.prompt_kind = ""
            elif isinstance(step, Join):
                self._join(call, step.queue, step.priority)
            elif isinstance(step, LinkSent):
                self.metrics.ivr.links_sent += 1
                self._emit(cmd.SendLink(call_id=call.id, number=call.caller, link=step.link))
            elif isinstance(step, Finish):
                self._close(call, step.media, step.outcome)

    def _close(self, call: Call, media: list[str], outcome: str) -> None:
        """End the call politely: play `media`, then hang up, with `outcome`."""
        self._move(call, "close" if call.state is C.IVR else "full")
        call.outcome = outcome  # decided now; recorded when the line goes down
        if media:
            self._play(call, media, "close")
        else:
            self._hang_up_closing(call)

    def _hang_up_closing(self, call: Call) -> None:
        self._emit(cmd.HangupCaller(call_id=call.id))
        self._finish(call, call.outcome)

    def _on_digit(self, e: ev.DigitPressed) -> None:
        call = self._call(e.call_id, "digit")
        if call is None:
            return
        if len(e.digit) != 1 or e.digit not in "0123456789*#":
            self._anomaly("malformed digit")
            return
        if call.state is C.IVR:
            self._run_ivr(call, self.ivr.digit(call, e.digit, self._now))
        elif call.state is C.WAITING:
            offer = self.queues[call.queue].cfg.callback
            if offer and call.callback_offered and not call.callback and e.digit == offer.digit:
                self._accept_callback(call, offer.confirm_prompt)
        # other digits while queued or talking are the caller's business, not ours

    def _on_prompt_finished(self, e: ev.PromptFinished) -> None:
        call = self.calls.get(e.call_id)
        if call is None:
            return  # prompts end after hang-ups all the time: not an anomaly
        if e.prompt_id == call.protection_prompt_id:
            call.protection_done = True
            if call.state is C.CONNECTING:
                self._connect(call)
            return
        if e.prompt_id != call.prompt_id or call.prompt_kind == "digit":
            return
        kind = call.prompt_kind
        call.prompt_id = 0
        call.prompt_kind = ""
        if call.state is C.IVR:
            if kind == "menu":
                call.prompt_id = e.prompt_id  # the digit timer's token
            self._run_ivr(call, self.ivr.prompt_done(call, kind, self._now))
        elif kind == "close" and call.state is C.CLOSING:
            self._hang_up_closing(call)
        elif kind == "callback_confirm" and call.callback and call.line_up:
            if call.state in (C.WAITING, C.OFFERED):
                self._emit(cmd.HangupCaller(call_id=call.id))
                call.line_up = False
        elif kind == "warning" and call.state is C.WARNING:
            self._emit(cmd.HangupCaller(call_id=call.id))
            self._finish(call, None)

    def _menu_timed_out(self, call_id: str, token: int) -> None:
        call = self.calls[call_id]
        call.prompt_kind = ""
        self._run_ivr(call, self.ivr.timed_out(call, self._now))

    def _on_caller_hung_up(self, e: ev.CallerHungUp) -> None:
        call = self.calls.get(e.call_id)
        if call is None:
            # The PBX reports every line that goes down, those the engine hung up
            # too: one report per ended call is expected, any other is a stray.
            if e.call_id in self._ended:
                del self._ended[e.call_id]
            else:
                self._anomaly("hang-up for unknown or ended call")
            return
        self._caller_gone(call)
        self._ended.pop(e.call_id, None)  # if the call ended, this was its report

    def _caller_gone(self, call: Call) -> None:
        """The caller's line went down, whatever the call was doing."""
        state = call.state
        if call.callback and state in (C.WAITING, C.OFFERED, C.RETRY_WAIT):
            # A callback keeps its place whether we hung the line up after the
            # confirmation or the caller did not wait for the end of it.
            call.line_up = False
            return
        if state is C.IVR:
            self._finish(call, "ivr_abandoned")
        elif state is C.CLOSING:
            self._finish(call, call.outcome)
        elif state is C.WAITING:
            self._leave_waiting(call)
            self._finish(call, self._abandon_outcome(call))
        elif state is C.OFFERED:
            agent = self.agents[call.agent_id]
            self._emit(cmd.CancelRing(call_id=call.id, agent_id=agent.id))
            agent.call_id = ""
            self._finish(call, self._abandon_outcome(call))
            self._offer_cancelled(agent)
        elif state is C.CONNECTING:
            self._emit(cmd.HangupAgent(call_id=call.id, agent_id=call.agent_id))
            self._finish(call, self._abandon_outcome(call))
            self._end_agent_call(self.agents[call.agent_id], call)
        elif state is C.DIALING_BACK:
            self._callback_not_reached(call, "hangup")
        elif state is C.CONNECTED:
            self._emit(cmd.HangupAgent(call_id=call.id, agent_id=call.agent_id))
            self._end_connected(call)
        elif state in (C.VENDOR_DIALING, C.VENDOR_CONNECTED):
            vendor = self.vendors[call.vendor]
            self._emit(cmd.CancelVendor(call_id=call.id, vendor=vendor.name))
            if state is C.VENDOR_DIALING:
                self._finish(call, self._abandon_outcome(call))
            else:
                self._finish(call, None)
            vendor.release(False, self._now)
            self._drain_vendor(vendor)
        elif state is C.WARNING:
            self._finish(call, None)

    def _abandon_outcome(self, call: Call) -> str:
        wait = self._now - call.enqueued_at
        return "short_abandoned" if wait < self.config.site.short_abandon_seconds else "abandoned"

    def _finish(self, call: Call, outcome: str | None) -> None:
        """The call leaves the engine; record its outcome if not recorded yet."""
        if outcome is not None and not call.outcome_recorded:
            self._record_outcome(call, outcome)
        del self.calls[call.id]
        if self.tracking:
            self.changed_calls.add(call.id)
        ended = self._ended
        ended[call.id] = None
        if len(ended) > ENDED_KEPT:
            del ended[next(iter(ended))]

    def _record_outcome(self, call: Call, outcome: str) -> None:
        """Count the call's single outcome (see `commands.Outcome`) and report it."""
        assert not call.outcome_recorded, "a call has exactly one outcome"
        call.outcome_recorded = True
        call.outcome = outcome
        now = self._now
        wait = now - call.enqueued_at if call.queue else 0.0
        ivr = self.metrics.ivr
        if outcome in _QUEUE_OUTCOMES:
            sl = self.queues[call.queue].service_level
            for c in self.metrics.queue_counters(call.queue, call.interval):
                c.count_outcome(outcome, wait, sl)
        elif outcome == "ivr_abandoned":
            ivr.ivr_abandoned += 1
        elif outcome == "self_served":
            ivr.self_served += 1
        elif outcome == "ivr_failed":
            ivr.ivr_failed += 1
        self._emit(
            cmd.CallOutcome(
                call_id=call.id,
                outcome=outcome,  # type: ignore[arg-type]
                queue=call.queue or None,
                wait_seconds=wait,
                agent_id=call.agent_id or None,
                vendor=call.vendor or None,
            )
        )

    # ------------------------------------------------------------------ queueing

    def _join(self, call: Call, queue_name: str, priority: int | None) -> None:
        q = self.queues.get(queue_name)
        if q is None:  # the loader refuses dangling queues; a bad reload may not
            self._anomaly("route to unknown queue")
            self._close(call, [], "ivr_failed")
            return
        now = self._now
        self._queue_seq += 1
        call.queue = q.name
        call.priority = q.cfg.priority if priority is None else priority
        call.seq = self._queue_seq
        call.enqueued_at = now
        call.interval = self.metrics.interval_of(now)
        call.step = 0
        for c in self.metrics.queue_counters(q.name, call.interval):
            c.joined += 1
            if call.callback:
                c.callbacks_requested += 1
        self._move(call, "queue")
        on_hold = len(q.waiting) - q.callbacks_in_line
        if q.cfg.max_waiting is not None and not call.callback and on_hold >= q.cfg.max_waiting:
            self._close(call, q.cfg.full_prompt, "blocked")
            return
        if not call.callback:
            self._emit(cmd.Hold(call_id=call.id, queue=q.name, music_class=q.cfg.music_on_hold))
            media = [*q.cfg.join_prompt, *self._stage_announcement()]
            if self.announcement and (
                not self.announcement_queues or q.name in self.announcement_queues
            ):
                media += self.announcement
            if media:
                self._play(call, media, "info")
            if q.cfg.announce is not None:
                self._arm(now + q.cfg.announce.first_after_seconds, "announce", call.id, call.seq)
        if q.steps > 1:
            self._arm(now + q.step_after[1], "relax", call.id, 1)
        for wait in q.overflow_waits:
            self._arm(now + wait, "overflow", call.id, call.seq)
        self._enter_waiting(call, q)
        if call.state is C.WAITING and not call.callback:
            self._maybe_offer_callback(call, q)

    def _enter_waiting(self, call: Call, q: QueueRuntime) -> None:
        """The call (already WAITING) takes its place in line, then is served if it can be."""
        call.version += 1
        q.waiting.add(call.step, call.priority, call.seq, call.id, call.version)
        if call.callback:
            q.callbacks_in_line += 1
        if call.ready_for_overflow:
            q.ready.add(call.priority, call.seq, call.id, call.version)
        self._serve_call(call, q)
        if call.state is C.WAITING and not call.ready_for_overflow and not call.callback:
            self._check_overflow(call, q)

    def _leave_waiting(self, call: Call) -> None:
        q = self.queues[call.queue]
        q.waiting.leave(call.priority, call.seq)
        if call.callback:
            q.callbacks_in_line -= 1
        call.version += 1

    def _serve_call(self, call: Call, q: QueueRuntime) -> None:
        entry = q.agents.best(
            q.step_pools[call.step], q.step_min_level[call.step], self._agent_current
        )
        if entry is not None:
            self._offer(call, self.agents[entry[1]], q)
        elif call.ready_for_overflow:
            self._drain_queue(q)

    def _serve_agent(self, agent: Agent) -> None:
        """The agent is available: offer them the best waiting call of their queues."""
        best: tuple[tuple[int, int, int], QueueRuntime, str] | None = None
        current = self._call_current
        for q, _level, first in self._routes[agent.id]:
            for step in range(first, q.steps):
                head = q.waiting.head(step, current)
                if head is None:
                    continue
                key = (-q.weight, head[0], head[1])
                if best is None or key < best[0]:
                    best = (key, q, head[2])
        if best is not None:
            self._offer(self.calls[best[2]], agent, best[1])

    def _offer(self, call: Call, agent: Agent, q: QueueRuntime) -> None:
        now = self._now
        self._leave_waiting(call)
        self._move(call, "offer")
        self._offer_seq += 1
        call.offer_token = self._offer_seq
        call.agent_id = agent.id
        self._agent_to(agent, "offer")
        agent.call_id = call.id
        agent.last_offer_seq = self._offer_seq
        self._emit(
            cmd.RingAgent(
                call_id=call.id,
                agent_id=agent.id,
                endpoint=agent.endpoint,
                timeout=q.cfg.ring_timeout_seconds,
                caller=call.caller,
                queue=q.name,
                callback=call.callback and not call.line_up,
            )
        )
        self._arm(now + q.cfg.ring_timeout_seconds, "ring", call.id, call.offer_token)
        if call.line_up and q.cfg.pre_connect and call.protection_prompt_id == 0:
            call.protection_prompt_id = self._play(call, q.cfg.pre_connect, "")

    def _relax_step(self, call_id: str, step: int) -> None:
        call = self.calls[call_id]
        q = self.queues[call.queue]
        call.step = step
        if step + 1 < q.steps:
            self._arm(call.enqueued_at + q.step_after[step + 1], "relax", call.id, step + 1)
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
        return math.ceil(position / max(1, q.staffed)) * aht

    def _announce_due(self, call_id: str, seq: int) -> None:
        call = self.calls[call_id]
        q = self.queues[call.queue]
        announce = q.cfg.announce
        if announce is None:
            return
        self._arm(self._now + announce.every_seconds, "announce", call.id, seq)
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

    def _maybe_offer_callback(self, call: Call, q: QueueRuntime) -> None:
        offer = q.cfg.callback
        if offer is None or call.callback_offered or not call.caller:
            return
        if self._expected_wait(call, q) > offer.when_expected_wait_over_seconds:
            call.callback_offered = True
            self._play(call, offer.offer_prompt, "info")

    def _accept_callback(self, call: Call, confirm: list[str]) -> None:
        call.callback = True
        self.queues[call.queue].callbacks_in_line += 1  # the call is in line (WAITING)
        if call.ready_for_overflow:
            # The caller's line goes down: no vendor trunk can be bridged to it now.
            q = self.queues[call.queue]
            call.ready_for_overflow = False
            call.version += 1  # drops its overflow entry; its place in line is re-indexed
            q.waiting.restep(call.step, call.priority, call.seq, call.id, call.version)
            self._drain_queue(q)
        for c in self.metrics.queue_counters(call.queue, call.interval):
            c.callbacks_requested += 1
        self._play(call, confirm, "callback_confirm")

    # ------------------------------------------------------------------ overflow

    def _check_overflow(self, call: Call, q: QueueRuntime) -> None:
        for rule in q.cfg.overflow:
            w = rule.when
            if (
                w.waited_over_seconds is not None
                and self._now - call.enqueued_at < w.waited_over_seconds
            ):
                continue
            if w.queue_longer_than is not None and len(q.waiting) <= w.queue_longer_than:
                continue
            if w.stage_at_least is not None and self.stage < w.stage_at_least:
                continue
            if (
                w.predicted_wait_over_seconds is not None
                and self._expected_wait(call, q) <= w.predicted_wait_over_seconds
            ):
                continue
            call.ready_for_overflow = True
            call.overflow_vendors = list(rule.vendors)
            q.ready.add(call.priority, call.seq, call.id, call.version)
            self._drain_queue(q)
            return

    def _overflow_due(self, call_id: str, seq: int) -> None:
        call = self.calls[call_id]
        self._check_overflow(call, self.queues[call.queue])

    def _drain_queue(self, q: QueueRuntime) -> None:
        """Send qualified callers of `q` to vendors while a vendor can take them.
        Stops at the first caller none of whose vendors can: callers qualify in
        service order, and the next one would jump the line."""
        current = self._call_current
        while True:
            head = q.ready.head(current)
            if head is None:
                return
            call = self.calls[head[2]]
            vendor = self._vendor_for(call)
            if vendor is None:
                return
            self._dial_vendor(call, vendor, q)

    def _vendor_for(self, call: Call) -> VendorContract | None:
        for name in call.overflow_vendors:
            vendor = self.vendors[name]
            again = vendor.available_at(self._now, self.offset)
            if again is None:
                return vendor
            if again != float("inf"):
                self._arm(again, "vendor_free", name)
        return None

    def _dial_vendor(self, call: Call, vendor: VendorContract, q: QueueRuntime) -> None:
        self._leave_waiting(call)
        self._move(call, "overflow")
        vendor.take(self._now, self.offset)
        counters = self.metrics.vendors[vendor.name]
        counters.dialled += 1
        counters.peak_concurrent = max(counters.peak_concurrent, vendor.active)
        if not call.overflowed:
            call.overflowed = True
            for c in self.metrics.queue_counters(q.name, call.interval):
                c.overflowed += 1
        call.vendor = vendor.name
        self._offer_seq += 1
        call.offer_token = self._offer_seq
        self._emit(
            cmd.DialVendor(
                call_id=call.id,
                vendor=vendor.name,
                endpoint=vendor.cfg.trunk,
                timeout=vendor.cfg.ring_timeout_seconds,
                caller=call.caller,
                queue=q.name,
            )
        )
        self._arm(
            self._now + vendor.cfg.ring_timeout_seconds, "vendor_timeout", call.id, call.offer_token
        )

    def _drain_vendor(self, vendor: VendorContract) -> None:
        for name in vendor.queues:
            self._drain_queue(self.queues[name])

    def _vendor_free(self, name: str, _token: int) -> None:
        self._drain_vendor(self.vendors[name])

    def _on_vendor_answered(self, e: ev.VendorAnswered) -> None:
        call = self._call(e.call_id, "vendor answer")
        if call is None:
            return
        if not self._can(call, "vendor_answered"):
            self._anomaly("late vendor answer")
            return
        self._move(call, "vendor_answered")
        self.metrics.vendors[call.vendor].answered += 1
        self._record_outcome(call, "vendor_answered")

    def _on_vendor_failed(self, e: ev.VendorFailed) -> None:
        call = self._call(e.call_id, "vendor failure")
        if call is None or call.state is not C.VENDOR_DIALING:
            return
        self._vendor_not_reached(call)

    def _vendor_timed_out(self, call_id: str, token: int) -> None:
        call = self.calls[call_id]
        self._emit(cmd.CancelVendor(call_id=call.id, vendor=call.vendor))
        self._vendor_not_reached(call)

    def _vendor_not_reached(self, call: Call) -> None:
        """The vendor did not take the call: it goes back to its place in line."""
        vendor = self.vendors[call.vendor]
        vendor.release(True, self._now)
        self.metrics.vendors[vendor.name].failed += 1
        self._arm(vendor.rest_until, "vendor_free", vendor.name)
        call.vendor = ""
        self._move(call, "vendor_failed")
        self._enter_waiting(call, self.queues[call.queue])

    def _on_vendor_hung_up(self, e: ev.VendorHungUp) -> None:
        call = self.calls.get(e.call_id)
        if call is None or call.state is not C.VENDOR_CONNECTED:
            return
        vendor = self.vendors[call.vendor]
        self._emit(cmd.HangupCaller(call_id=call.id))
        self._finish(call, None)
        vendor.release(False, self._now)
        self._drain_vendor(vendor)

    # ------------------------------------------------------------------ offers and talk

    def _offered(self, agent_id: str, call_id: str, what: str) -> tuple[Agent, Call] | None:
        """The agent and call of a live offer between them, or None (a late event)."""
        agent = self._agent(agent_id, what)
        call = self.calls.get(call_id)
        if agent is None:
            return None
        if call is None or call.agent_id != agent.id or agent.call_id != call.id:
            self._anomaly(f"late {what}")
            return None
        return agent, call

    def _on_agent_answered(self, e: ev.AgentAnswered) -> None:
        pair = self._offered(e.agent_id, e.call_id, "agent answer")
        if pair is None:
            return
        agent, call = pair
        if call.state is not C.OFFERED or agent.state is not A.RESERVED:
            self._anomaly("late agent answer")
            return
        agent.missed = 0
        self._agent_to(agent, "answered")
        if call.callback and not call.line_up:
            self._move(call, "answered_callback")
            self._dial_back(call, agent)
            return
        if call.prompt_kind == "callback_confirm":
            # Still on the line, hearing the confirmation: put them straight through.
            self._emit(cmd.StopPlayback(call_id=call.id))
            call.prompt_id, call.prompt_kind = 0, ""
        self._move(call, "answered")
        if call.protection_prompt_id == 0 or call.protection_done:
            self._connect(call)

    def _connect(self, call: Call) -> None:
        self._move(call, "connect")
        call.connected_at = self._now
        self._emit(cmd.Connect(call_id=call.id, agent_id=call.agent_id))
        agent = self.agents[call.agent_id]
        for p in self.metrics.pool_counters(agent.pool, call.interval):
            p.answered += 1
        self._record_outcome(call, "answered")

    def _on_agent_missed(self, e: ev.AgentMissed) -> None:
        pair = self._offered(e.agent_id, e.call_id, "agent miss")
        if pair is None:
            return
        agent, call = pair
        if call.state is not C.OFFERED:
            self._anomaly("late agent miss")
            return
        self._missed(call, agent)

    def _ring_timed_out(self, call_id: str, token: int) -> None:
        call = self.calls[call_id]
        self._emit(cmd.CancelRing(call_id=call.id, agent_id=call.agent_id))
        self._missed(call, self.agents[call.agent_id])

    def _missed(self, call: Call, agent: Agent) -> None:
        """A missed ring: the call goes back to its place; the agent rests, or is
        paused with reason "missed" after `missed_ring.pause_after` misses in a row
        (the count then starts again: one miss after unpausing is a rest, not a pause).
        A logout or pause the agent asked for while ringing is applied instead."""
        agent.missed += 1
        agent.call_id = ""
        rules = self.config.missed_ring
        if agent.missed >= rules.pause_after:
            agent.missed = 0
            self._agent_to(agent, "missed")
            if not self._apply_pending(agent):
                self._agent_to(agent, "pause", "missed")
        else:
            self._start_wrap(agent, "missed", rules.rest_seconds, "missed")
        call.agent_id = ""
        self._move(call, "missed")
        self._enter_waiting(call, self.queues[call.queue])

    def _on_agent_hung_up(self, e: ev.AgentHungUp) -> None:
        pair = self._offered(e.agent_id, e.call_id, "agent hang-up")
        if pair is None:
            return
        agent, call = pair
        if call.state is C.CONNECTED:
            self._emit(cmd.HangupCaller(call_id=call.id))
            self._end_connected(call)
        elif call.state in (C.CONNECTING, C.DIALING_BACK):
            # The agent left before the caller was put through: not the caller's
            # fault, so the call goes back to its place in line.
            if call.state is C.DIALING_BACK:
                self._emit(cmd.HangupCaller(call_id=call.id))
            self._move(call, "agent_left")
            call.agent_id = ""
            self._end_agent_call(agent, call)
            self._enter_waiting(call, self.queues[call.queue])
        elif call.state is C.OFFERED:
            self._missed(call, agent)
        else:
            self._anomaly("late agent hang-up")

    def _end_connected(self, call: Call) -> None:
        """A connected call is over: talk time is counted, the agent wraps up."""
        agent = self.agents[call.agent_id]
        talk = self._now - call.connected_at
        for c in self.metrics.queue_counters(call.queue, call.interval):
            c.talk_seconds += talk
        for p in self.metrics.pool_counters(agent.pool, call.interval):
            p.talk_seconds += talk
        self._finish(call, None)
        self._end_agent_call(agent, call)

    def _end_agent_call(self, agent: Agent, call: Call) -> None:
        """The agent's part of a call is over: after-call work for the queue's time."""
        agent.call_id = ""
        agent.wrap_queue = call.queue
        agent.wrap_interval = call.interval
        agent.last_call_end = self._now
        agent.handled_seconds += self._now - agent.state_since
        self._start_wrap(agent, "call_ended", self.queues[call.queue].cfg.wrap_up_seconds, "acw")

    def _start_wrap(self, agent: Agent, trigger: str, seconds: float, reason: str) -> None:
        self._agent_to(agent, trigger, reason)
        agent.wrap_token += 1
        self._arm(self._now + seconds, "wrap", agent.id, agent.wrap_token)

    def _wrap_timed_out(self, agent_id: str, token: int) -> None:
        self._after_wrap(self.agents[agent_id], "wrap_up_done")

    def _after_wrap(self, agent: Agent, trigger: str) -> None:
        """Wrap-up is over: apply a pending logout or pause, else back to work."""
        self._close_wrap(agent)
        if agent.cool_down_due > 0:
            # Worker protection: after the after-call work of an abusive call, a
            # cool-down that is neither handling time nor skippable by `AgentReady`.
            seconds, agent.cool_down_due = agent.cool_down_due, 0.0
            self._start_wrap(agent, "cool_down", seconds, "cool-down")
            return
        if not self._apply_pending(agent):
            # A pool shrunk while the agent was busy left a pending "standby" pause,
            # applied by `_apply_pending`; so no pool-size check is needed on this hot path.
            self._agent_to(agent, trigger)
            self._serve_agent(agent)

    def _close_wrap(self, agent: Agent) -> None:
        """Count the after-call work that is ending as handling of the call (AHT,
        handled); a cool-down is not handling. Called before an agent leaves wrap-up by any way: the
        timer, `AgentReady`, a pause or a logout; does nothing otherwise."""
        if agent.state is A.WRAP_UP and agent.reason == "acw" and agent.wrap_queue:
            wrap = self._now - agent.state_since
            interval = agent.wrap_interval
            for c in self.metrics.queue_counters(agent.wrap_queue, interval):
                c.wrap_up_seconds += wrap
                c.handled += 1
            for p in self.metrics.pool_counters(agent.pool, interval):
                p.wrap_up_seconds += wrap
                p.handled += 1
            agent.handled_seconds += wrap
            agent.wrap_queue = ""

    def _apply_pending(self, agent: Agent) -> bool:
        """Apply what was decided while the agent was busy (the agent is now in
        wrap-up or available, where all these moves exist): the agent's own logout,
        else the pool's standby, else the agent's own break. False if none."""
        pending, agent.pending = agent.pending, ""
        standby, agent.standby_due = agent.standby_due, False
        if pending == "logout":
            self._logout(agent)
        elif standby:
            self._close_wrap(agent)
            self._agent_to(agent, "pause", "standby")
        elif pending == "pause":
            self._agent_to(agent, "pause", agent.pending_reason)
        else:
            return False
        return True

    def _offer_cancelled(self, agent: Agent) -> None:
        """The agent's offer ended with no conversation (the caller gave up while the
        phone rang, a callback went unanswered): back to work, or to the pause or
        logout asked for meanwhile."""
        self._agent_to(agent, "cancelled")
        if not self._apply_pending(agent):
            self._serve_agent(agent)

    def _on_abusive(self, e: ev.AgentFlaggedAbusive) -> None:
        pair = self._offered(e.agent_id, e.call_id, "abusive flag")
        if pair is None:
            return
        agent, call = pair
        if call.state is not C.CONNECTED:
            self._anomaly("abusive flag outside a conversation")
            return
        self._move(call, "abusive")
        self._emit(cmd.HangupAgent(call_id=call.id, agent_id=agent.id))
        self._play(call, self.config.abusive.warning, "warning")
        talk = self._now - call.connected_at
        for c in self.metrics.queue_counters(call.queue, call.interval):
            c.talk_seconds += talk
        for p in self.metrics.pool_counters(agent.pool, call.interval):
            p.talk_seconds += talk
        agent.cool_down_due = self.config.abusive.cool_down_seconds
        self._end_agent_call(agent, call)

    def _on_referred(self, e: ev.AgentReferredCallback) -> None:
        pair = self._offered(e.agent_id, e.call_id, "referral")
        if pair is None:
            return
        _agent, call = pair
        if e.queue not in self.queues or call.state is not C.CONNECTED or not call.caller:
            self._anomaly("referral refused")
            return
        # Ids are never reused: a timer of an earlier, ended referral must not
        # find a new call under its id.
        self._referral_seq += 1
        referral = Call(
            id=f"{call.id}/rc{self._referral_seq}",
            caller=call.caller,
            dnis=call.dnis,
            arrived_at=self._now,
            language=call.language,
            callback=True,
            callback_offered=True,
            line_up=False,
        )
        self.calls[referral.id] = referral
        if self.tracking:
            self.changed_calls.add(referral.id)
        self._join(referral, e.queue, None)

    # ------------------------------------------------------------------ callbacks

    def _dial_back(self, call: Call, agent: Agent) -> None:
        offer = self.queues[call.queue].cfg.callback
        timeout = offer.ring_timeout_seconds if offer is not None else 30.0
        call.attempts += 1
        self._offer_seq += 1
        call.offer_token = self._offer_seq
        self._emit(
            cmd.DialCallback(
                call_id=call.id,
                agent_id=agent.id,
                number=call.caller,
                endpoint=self.config.site.dial_out.format(number=call.caller),
                timeout=timeout,
                attempt=call.attempts,
            )
        )
        self._arm(self._now + timeout, "dialback", call.id, call.offer_token)

    def _on_callback_answered(self, e: ev.CallbackAnswered) -> None:
        call = self._call(e.call_id, "callback answer")
        if call is None:
            return
        if call.state is not C.DIALING_BACK:
            self._anomaly("late callback answer")
            return
        self._connect(call)

    def _on_callback_failed(self, e: ev.CallbackFailed) -> None:
        call = self._call(e.call_id, "callback failure")
        if call is None or call.state is not C.DIALING_BACK:
            return
        self._callback_not_reached(call, e.cause)

    def _dialback_timed_out(self, call_id: str, token: int) -> None:
        call = self.calls[call_id]
        self._emit(cmd.HangupCaller(call_id=call.id, reason="no_answer"))
        self._callback_not_reached(call, "no_answer")

    def _callback_not_reached(self, call: Call, cause: str) -> None:
        agent = self.agents[call.agent_id]
        self._emit(cmd.HangupAgent(call_id=call.id, agent_id=agent.id))
        agent.call_id = ""
        call.agent_id = ""
        offer = self.queues[call.queue].cfg.callback
        attempts = offer.max_attempts if offer is not None else 1
        if call.attempts >= attempts:
            self._finish(call, "callback_failed")
        else:
            self._move(call, "callback_failed")
            delay = offer.retry_after_seconds if offer is not None else 0.0
            self._arm(self._now + delay, "retry", call.id, call.attempts)
        self._offer_cancelled(agent)

    def _retry_due(self, call_id: str, attempts: int) -> None:
        call = self.calls[call_id]
        self._move(call, "retry")
        self._enter_waiting(call, self.queues[call.queue])

    # ------------------------------------------------------------------ agents

    def _routes_of(self, agent: Agent) -> list[Route]:
        routes: list[Route] = []
        for q in self.queues.values():
            level = agent.skills.get(q.cfg.skill)
            if level is None:
                continue
            first = q.first_step(level, agent.pool)
            if first is not None:
                routes.append((q, level, first))
        return routes

    def _strategy_key(self, q: QueueRuntime, agent: Agent, level: int) -> tuple[float, ...]:
        strategy = q.cfg.strategy
        if strategy == "longest_idle":
            return (agent.last_call_end, agent.roster_index)
        if strategy == "skill_level":
            return (-level, agent.last_call_end, agent.roster_index)
        if strategy == "least_occupied":
            return (agent.handled_seconds, agent.last_call_end, agent.roster_index)
        if strategy == "round_robin":
            return (agent.last_offer_seq, agent.roster_index)
        return (self.rng.random(), agent.roster_index)

    def _agent_to(self, agent: Agent, trigger: str, reason: str = "") -> None:
        """Move an agent along `AGENT_TRANSITIONS`, keeping time accounting, queue
        staffing and the availability indexes true. Callers checked the move exists."""
        now = self._now
        old = agent.state
        new = AGENT_TRANSITIONS[(old, trigger)]
        if old is A.AVAILABLE:
            self.metrics.add_agent_time(agent.pool, False, agent.state_since, now)
            agent.version += 1
        elif old in BUSY_STATES or (old is A.WRAP_UP and agent.reason == "acw"):
            self.metrics.add_agent_time(agent.pool, True, agent.state_since, now)
        was_staffed = old in STAFFED_STATES
        is_staffed = new in STAFFED_STATES
        if was_staffed != is_staffed:
            delta = 1 if is_staffed else -1
            for q, _level, _first in self._routes[agent.id]:
                q.staffed += delta
        if new is A.LOGGED_OUT:
            agent.standby_due = False
        if new is not A.WRAP_UP:
            agent.cool_down_due = 0.0  # left wrap-up another way (a break, a logout)
        agent.state = new
        agent.state_since = now
        if self.tracking:
            self.changed_agents.add(agent.id)
        agent.reason = reason
        if new is A.AVAILABLE:
            for q, level, _first in self._routes[agent.id]:
                q.agents.add(
                    agent.pool, level, self._strategy_key(q, agent, level), agent.id, agent.version
                )

    def _on_login(self, e: ev.AgentLogin) -> None:
        agent = self._agent(e.agent_id, "login")
        if agent is None:
            return
        if agent.state is not A.LOGGED_OUT:
            self._anomaly("login while logged in")
            return
        agent.logged_in_at = self._now
        agent.last_call_end = self._now
        agent.missed = 0
        self._agent_to(agent, "login")
        if not self._over_cap_demote(agent):
            self._serve_agent(agent)

    def _on_logout(self, e: ev.AgentLogout) -> None:
        agent = self._agent(e.agent_id, "logout")
        if agent is None:
            return
        if agent.state in BUSY_STATES:
            agent.pending = "logout"
        elif (agent.state, "logout") in AGENT_TRANSITIONS:
            self._logout(agent)
        else:
            self._anomaly("logout while logged out")

    def _logout(self, agent: Agent) -> None:
        self._close_wrap(agent)
        was_standby = agent.state is A.PAUSED and agent.reason == "standby"
        self._agent_to(agent, "logout")
        if not was_standby:
            self._apply_pool_cap(agent.pool)

    def _on_pause(self, e: ev.AgentPause) -> None:
        agent = self._agent(e.agent_id, "pause")
        if agent is None:
            return
        if e.reason == "standby":
            self._anomaly("standby is set by pool size, not by hand")
        elif agent.state in BUSY_STATES:
            withdrawn = agent.pending == "logout"
            agent.pending, agent.pending_reason = "pause", e.reason
            if withdrawn:
                # Staying after all: the agent counts in the pool again, so its size
                # applies again (someone may have to stand by after their call).
                self._apply_pool_cap(agent.pool)
        elif (agent.state, "pause") in AGENT_TRANSITIONS:
            if agent.state is A.PAUSED and agent.reason == "standby":
                self._anomaly("pause while on standby")
                return
            self._close_wrap(agent)  # a break taken during wrap-up: the call was handled
            self._agent_to(agent, "pause", e.reason)
        else:
            self._anomaly("pause while logged out")

    def _on_unpause(self, e: ev.AgentUnpause) -> None:
        agent = self._agent(e.agent_id, "unpause")
        if agent is None:
            return
        if agent.pending == "pause":
            agent.pending = ""
        elif agent.state is A.PAUSED and agent.reason != "standby":
            self._agent_to(agent, "unpause")  # a paused agent already counted in service
            self._serve_agent(agent)
        else:
            self._anomaly("unpause while not paused")

    def _on_ready(self, e: ev.AgentReady) -> None:
        agent = self._agent(e.agent_id, "ready")
        if agent is None:
            return
        # A cool-down after an abusive call protects the agent; it is not skipped.
        if agent.state is A.WRAP_UP and agent.reason != "cool-down":
            self._after_wrap(agent, "ready")
        else:
            self._anomaly("ready outside wrap-up")

    # ------------------------------------------------------------------ pools and surge

    def pool_cap(self, pool: str) -> int | None:
        """How many of the pool's logged-in agents may be in service now (None: all)."""
        cfg = self.config.pools[pool]
        caps: list[int] = []
        if cfg.size_by_distancing_level is not None:
            caps.append(cfg.size_by_distancing_level.get(self.distancing_level, 0))
        for stage in self.config.surge.stages:
            if stage.stage <= self.stage and pool in stage.pool_sizes:
                caps.append(stage.pool_sizes[pool])
        return max(caps) if caps else None

    def _in_service(self, pool: str) -> list[Agent]:
        return [
            a
            for a in self.agents.values()
            if a.pool == pool
            and a.state is not A.LOGGED_OUT
            and not (a.state is A.PAUSED and a.reason == "standby")
            and not a.standby_due
            and a.pending != "logout"  # going home after this call: not staying in service
        ]

    def _over_cap_demote(self, agent: Agent) -> bool:
        """If the agent's pool is over its size, put this (available) agent on
        standby and say so."""
        cap = self.pool_cap(agent.pool)
        if cap is None or len(self._in_service(agent.pool)) <= cap:
            return False
        self._agent_to(agent, "pause", "standby")
        return True

    def _apply_pool_cap(self, pool: str) -> None:
        """Bring the pool's in-service agents to its size: the latest logged in go on
        standby first (after their call), the earliest on standby come back first."""
        cap = self.pool_cap(pool)
        in_service = self._in_service(pool)
        if cap is None:
            cap = len(self.agents)
        if len(in_service) > cap:
            for agent in sorted(in_service, key=lambda a: (a.logged_in_at, a.roster_index))[cap:]:
                if agent.state in BUSY_STATES:
                    agent.standby_due = True
                elif agent.state is A.PAUSED:
                    agent.reason = "standby"
                else:
                    self._close_wrap(agent)  # after-call work cut short still counts
                    self._agent_to(agent, "pause", "standby")
            return
        # Room in the pool: first call off standbys not yet taken, then bring back
        # agents on standby, the earliest logged in first.
        room = cap - len(in_service)
        for agent in sorted(
            (a for a in self.agents.values() if a.pool == pool and a.standby_due),
            key=lambda a: (a.logged_in_at, a.roster_index),
        ):
            if room <= 0:
                return
            agent.standby_due = False
            room -= 1
        standby = sorted(
            (
                a
                for a in self.agents.values()
                if a.pool == pool and a.state is A.PAUSED and a.reason == "standby"
            ),
            key=lambda a: (a.logged_in_at, a.roster_index),
        )
        for agent in standby[:room]:
            self._agent_to(agent, "unpause")
            self._serve_agent(agent)

    def _stage_announcement(self) -> list[str]:
        media: list[str] = []
        for stage in self.config.surge.stages:
            if stage.stage <= self.stage:
                media = stage.announcement or media
        return media

    def _evaluate_stage(self) -> None:
        if self.stage_pinned is not None:
            return
        target = stage_for(
            self.inbound.calls_per_day(self._now), self.stage, self.config.surge.stages
        )
        if target != self.stage:
            self._set_stage(target)
        if self.stage > 0 and not self._surge_armed:
            # Quiet minutes lower the rate too: re-evaluate each minute while a stage is up.
            self._surge_armed = True
            self._arm(self._now + 60.0, "surge", "", 0)

    def _surge_tick(self, _key: str, _token: int) -> None:
        self._surge_armed = False
        if self.config.surge.auto and self.stage > 0:
            self._evaluate_stage()

    def _set_stage(self, stage: int) -> None:
        self.stage = stage
        self.stage_log.append((self._now, stage))
        for pool in self.config.pools:
            self._apply_pool_cap(pool)
        # Stage rules may now qualify callers already waiting.
        for call in list(self.calls.values()):
            if call.state is C.WAITING and not call.ready_for_overflow and not call.callback:
                self._check_overflow(call, self.queues[call.queue])

    def _on_set_stage(self, e: ev.SetSurgeStage) -> None:
        known = {s.stage for s in self.config.surge.stages} | {0}
        if e.stage is not None and e.stage not in known:
            self._anomaly("unknown surge stage")
            return
        self.stage_pinned = e.stage
        if e.stage is None:
            self._evaluate_stage()
        elif e.stage != self.stage:
            self._set_stage(e.stage)

    def _on_set_distancing(self, e: ev.SetDistancingLevel) -> None:
        self.distancing_level = e.level
        for pool in self.config.pools:
            self._apply_pool_cap(pool)

    def _reroute(self, agent: Agent, change: Callable[[], None]) -> None:
        """Change an agent's skills or pool and rebuild what depends on them."""
        staffed = agent.state in STAFFED_STATES
        if staffed:
            for q, _level, _first in self._routes[agent.id]:
                q.staffed -= 1
        if agent.state is A.AVAILABLE:
            agent.version += 1
        change()
        if self.tracking:
            self.changed_agents.add(agent.id)
        self._routes[agent.id] = self._routes_of(agent)
        if staffed:
            for q, _level, _first in self._routes[agent.id]:
                q.staffed += 1
        if agent.state is A.AVAILABLE:
            for q, level, _first in self._routes[agent.id]:
                q.agents.add(
                    agent.pool, level, self._strategy_key(q, agent, level), agent.id, agent.version
                )
            self._serve_agent(agent)

    def _on_set_skill(self, e: ev.SetAgentSkill) -> None:
        agent = self._agent(e.agent_id, "skill change")
        if agent is None:
            return
        if e.skill not in self.config.skills or (e.level is not None and not 1 <= e.level <= 5):
            self._anomaly("skill change refused")
            return

        def change() -> None:
            if e.level is None:
                agent.skills.pop(e.skill, None)
                agent.skill_sources.pop(e.skill, None)
            else:
                agent.skills[e.skill] = e.level
                agent.skill_sources[e.skill] = e.source

        self._reroute(agent, change)

    def _on_move_agent(self, e: ev.MoveAgent) -> None:
        agent = self._agent(e.agent_id, "pool move")
        if agent is None:
            return
        if e.pool not in self.config.pools:
            self._anomaly("move to unknown pool")
            return
        old = agent.pool

        def change() -> None:
            agent.pool = e.pool

        self._reroute(agent, change)
        self._apply_pool_cap(old)
        self._apply_pool_cap(e.pool)

    def _on_set_announcement(self, e: ev.SetAnnouncement) -> None:
        unknown = [q for q in e.queues if q not in self.queues]
        if unknown:
            self._anomaly("announcement for unknown queue")
            return
        self.announcement = list(e.media)
        self.announcement_queues = frozenset(e.queues)
