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

The engine is assembled from parts, one idea per file, each a mixin of `Engine`
sharing the state declared once in `engine.base`:
- `engine.core` (here): construction, `handle`, `next_deadline`, timers, the event
  and timer dispatch tables, small shared helpers, read accessors;
- `engine.callers`: the caller's path through the IVR, hang-ups, the end of a call;
- `engine.queueing`: joining a queue, waiting, matching callers and agents;
- `engine.offers`: offers to agents, conversations, wrap-up;
- `engine.overflow`: vendor overflow;
- `engine.callbacks`: callbacks;
- `engine.agent_states`: agents' state moves and their own requests;
- `engine.pools`: pool sizes, surge stages, supervisors' changes and their
  listening, whispering and barging in on calls.
"""

from __future__ import annotations

import random
from typing import Never, get_args

from acd.config.schema import SiteConfig
from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine import snapshot
from acd.engine.agent_states import AgentStates
from acd.engine.callbacks import Callbacks
from acd.engine.callers import CallerFlow
from acd.engine.conditions import Conditions
from acd.engine.ended import EndedCalls
from acd.engine.ivr import IvrFlow
from acd.engine.localtime import parse_offset
from acd.engine.metrics import Metrics, PoolCounters, QueueCounters, VendorCounters, wait_bounds
from acd.engine.offers import Offers
from acd.engine.overflow import Overflow
from acd.engine.pools import Pools
from acd.engine.queueing import Queueing
from acd.engine.queues import QueueRuntime, Route
from acd.engine.records import Agent, Call
from acd.engine.roster import Roster
from acd.engine.sequences import Sequences
from acd.engine.snapshot import Snapshot
from acd.engine.state import EngineState
from acd.engine.states import (
    CALL_TRANSITIONS,
    IN_LINE,
    AgentState,
    CallState,
    CallTrigger,
    PromptKind,
    TimerKind,
)
from acd.engine.surge import InboundRate, Surge, SurgeState
from acd.engine.timers import Handler, Test, Timers, TimerState
from acd.engine.vendors import VendorContract

A = AgentState
C = CallState

__all__ = ["Engine", "QueueRuntime", "Route"]


class Engine(CallerFlow, Queueing, Offers, Overflow, Callbacks, AgentStates, Pools):
    """The ACD of one site. See the module docstring for the routing contract."""

    def __init__(
        self,
        config: SiteConfig,
        *,
        rng: random.Random | None = None,
        start: float = 0.0,
        state: EngineState | None = None,
    ) -> None:
        """A site's engine at `start`, every agent logged out and no call; or, given
        `state` (`engine.persist.restore` checks it belongs to `config`), the engine
        that state was exported from, at its time (`start` is then ignored). `rng`
        draws the random strategy's keys (a restore gives one at the stored state)."""
        self.config = config
        self.rng = rng if rng is not None else random.Random(0)
        self.offset = parse_offset(config.site.utc_offset)
        self.ivr = IvrFlow(config.ivr, self.offset)
        if state is None:
            state = _fresh_state(config, start, self.offset)
        else:
            # A state stored before the wait histograms existed: they start now, with
            # the site's bounds; for any other state, a no-op.
            state.metrics.adopt_wait_bounds(wait_bounds(config))
        self.metrics = state.metrics
        pool_names = list(config.pools)
        self.queues: dict[str, QueueRuntime] = {
            name: QueueRuntime(
                name, q, config.site.service_level_seconds, pool_names, state.queues.get(name)
            )
            for name, q in config.queues.items()
        }
        self.vendors: dict[str, VendorContract] = {
            name: VendorContract(name, vendor, state.vendors.get(name))
            for name, vendor in config.vendors.items()
        }
        for q in self.queues.values():
            for rule in q.cfg.overflow:
                for v in rule.vendors:
                    if q.name not in self.vendors[v].queues:
                        self.vendors[v].queues.append(q.name)
        self.roster = Roster(state.agents, self.queues, self.metrics, self.rng)
        self.agents = self.roster.agents
        self.calls: dict[str, Call] = {c.id: c for c in state.calls}
        self.surge = Surge(config.surge, state.surge)
        self.conditions = state.conditions
        self.anomalies = state.anomalies
        self._ended = EndedCalls(state.ended)
        self.seq = state.seq
        timer_state = state.timers
        start = state.now
        started_at = state.started_at
        self._now = start
        self.started_at = started_at
        self.handled = 0
        """Events handled by this engine object (not kept in its state): a reader that
        saw the same count has nothing new to read."""
        self._out: list[cmd.Command] = []
        self.tracking = False
        """When True (`track_changes`), `changed_calls` and `changed_agents` collect the
        calls and agents whose state changed (or that came or went) until a driver
        drains them (`drain_changes`): what a read model must rewrite. Off by default
        (a replay does not need them)."""
        self.changed_calls: set[str] = set()
        self.changed_agents: set[str] = set()
        calls, agents = self.calls, self.agents
        # When each kind of timer still means something; a timer that no longer
        # does is dropped unfired (and never wakes a driver: see next_deadline).
        live: dict[TimerKind, Test] = {
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
        handlers: dict[TimerKind, Handler] = {
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
        # One test and one handler for each kind of timer (a dict cannot say so to mypy).
        assert set(live) == set(handlers) == set(get_args(TimerKind))
        self.timers = Timers(live, handlers, timer_state)

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
        self.handled += 1
        out: list[cmd.Command] = []
        self._out = out
        self.timers.fire_due(now)
        self._apply(event)
        return out

    def _apply(self, e: ev.Event) -> None:
        """Hand `e` to the part that handles its kind. Every kind of event is matched,
        the most frequent first; mypy says so (`_unknown` takes Never) when an event
        is added without a case here."""
        match e:
            case ev.PromptFinished():
                self._on_prompt_finished(e)
            case ev.TimerFired():
                pass  # the due timers fired above
            case ev.CallArrived():
                self._on_call_arrived(e)
            case ev.DigitPressed():
                self._on_digit(e)
            case ev.AgentAnswered():
                self._on_agent_answered(e)
            case ev.CallerHungUp():
                self._on_caller_hung_up(e)
            case ev.AgentHungUp():
                self._on_agent_hung_up(e)
            case ev.AgentMissed():
                self._on_agent_missed(e)
            case ev.CallbackAnswered():
                self._on_callback_answered(e)
            case ev.CallbackFailed():
                self._on_callback_failed(e)
            case ev.VendorAnswered():
                self._on_vendor_answered(e)
            case ev.VendorHungUp():
                self._on_vendor_hung_up(e)
            case ev.VendorFailed():
                self._on_vendor_failed(e)
            case ev.AgentLogin():
                self._on_login(e)
            case ev.AgentLogout():
                self._on_logout(e)
            case ev.AgentPause():
                self._on_pause(e)
            case ev.AgentUnpause():
                self._on_unpause(e)
            case ev.AgentReady():
                self._on_ready(e)
            case ev.AgentFlaggedAbusive():
                self._on_abusive(e)
            case ev.AgentReferredCallback():
                self._on_referred(e)
            case ev.SetSurgeStage():
                self._on_set_stage(e)
            case ev.SetDistancingLevel():
                self._on_set_distancing(e)
            case ev.SetAgentSkill():
                self._on_set_skill(e)
            case ev.MoveAgent():
                self._on_move_agent(e)
            case ev.SetAnnouncement():
                self._on_set_announcement(e)
            case ev.SuperviseCall():
                self._on_supervise(e)
            case _:
                self._unknown(e)

    def _unknown(self, e: Never) -> None:
        """Not an event of this engine (a driver's bug): counted, never raised."""
        self._anomaly(f"unknown event {type(e).__name__}")

    def next_deadline(self) -> float | None:
        """When the engine next needs `handle(TimerFired(), t)`, or None. Timers that
        can no longer fire (their call was answered, their wrap-up cut short) are
        dropped here, so a driver is never woken for nothing."""
        return self.timers.next_deadline()

    @property
    def now(self) -> float:
        """The time of the last event handled (epoch seconds on the driver's clock)."""
        return self._now

    def track_changes(self) -> None:
        """From now on, note which calls and agents change (a read model follows
        them); `drain_changes` hands them over."""
        self.tracking = True

    @property
    def has_changes(self) -> bool:
        """Whether a call or an agent changed since the last `drain_changes`."""
        return bool(self.changed_calls or self.changed_agents)

    def drain_changes(self) -> tuple[set[str], set[str]]:
        """The ids of the calls and of the agents that changed since the last drain
        (a call may have ended meanwhile); the engine starts new sets."""
        calls, agents = self.changed_calls, self.changed_agents
        self.changed_calls, self.changed_agents = set(), set()
        return calls, agents

    def has_ended(self, call_id: str) -> bool:
        """Whether `call_id` is one of the calls that ended lately (the last
        `ENDED_KEPT`): a driver that hears of such a channel again is hearing of a
        call this engine finished, not of a new one."""
        return call_id in self._ended

    def ended_calls(self) -> list[str]:
        """The calls that ended lately, oldest first (see `has_ended`)."""
        return self._ended.ids()

    def waiting_count(self, queue: str) -> int:
        return len(self.queues[queue].waiting)

    def routes_of(self, agent_id: str) -> list[Route]:
        """The queues an agent may serve: (queue, level, first eligible step)."""
        return self.roster.routes(agent_id)

    def snapshot(self, now: float) -> Snapshot:
        """The live wallboard view at `now` (see `engine.snapshot`); changes nothing."""
        return snapshot.take(self, now)

    # ------------------------------------------------------------------ plumbing

    def _anomaly(self, what: str) -> None:
        self.anomalies[what] = self.anomalies.get(what, 0) + 1

    def _emit(self, command: cmd.Command) -> None:
        self._out.append(command)  # one place to hook a command trace into

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

    def _move(self, call: Call, trigger: CallTrigger) -> None:
        """Move a call along `CALL_TRANSITIONS`; callers have checked the move exists."""
        call.state = CALL_TRANSITIONS[(call.state, trigger)]
        if self.tracking:
            self.changed_calls.add(call.id)

    def _can(self, call: Call, trigger: str) -> bool:
        return (call.state, trigger) in CALL_TRANSITIONS

    def _play(self, call: Call, media: list[str], kind: PromptKind) -> int:
        self.seq.prompt += 1
        self._emit(
            cmd.Play(
                call_id=call.id,
                media=list(media),
                prompt_id=self.seq.prompt,
                language=call.language,
            )
        )
        if kind:
            call.prompt_id = self.seq.prompt
            call.prompt_kind = kind
        return self.seq.prompt

    def _call_current(self, call_id: str, version: int) -> bool:
        """Whether an index entry (`call_id`, `version`) still stands for a waiting
        call (the routing indexes drop stale entries lazily)."""
        call = self.calls.get(call_id)
        return call is not None and call.version == version and call.state is C.WAITING

    # The same two checks for drivers and benchmarks that walk the indexes themselves:
    # one function each, so that a look-up measured outside costs what it costs inside.
    is_current_call = _call_current

    def is_current_agent(self, agent_id: str, version: int) -> bool:
        """Whether an index entry (`agent_id`, `version`) still stands for an
        available agent (`Roster.is_available`)."""
        return self.roster.is_available(agent_id, version)


def _fresh_state(config: SiteConfig, start: float, offset: float) -> EngineState:
    """The state of a site whose engine starts at `start`: every agent logged out,
    no call, every counter at zero."""
    metrics = Metrics(
        interval_seconds=config.site.interval_minutes * 60.0,
        offset=offset,
        wait_bounds=wait_bounds(config),
    )
    for name in config.queues:
        metrics.queues[name] = QueueCounters()
    for name in config.pools:
        metrics.pools[name] = PoolCounters()
    for name in config.vendors:
        metrics.vendors[name] = VendorCounters()
    agents = [
        Agent(
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
        for i, a in enumerate(config.agents)
    ]
    return EngineState(
        site=config.site.name,
        config_digest="",  # filled on export (`persist.export_state`)
        now=start,
        started_at=start,
        rng=(0, (), None),  # the engine's generator is the state (read on export)
        calls=[],
        agents=agents,
        queues={},
        vendors={},
        metrics=metrics,
        surge=SurgeState(inbound=InboundRate([0] * config.surge.window_minutes)),
        conditions=Conditions(distancing_level=config.site.distancing_level),
        timers=TimerState(),
        seq=Sequences(),
        anomalies={},
        ended=[],
    )
