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

The engine is composed of parts, one idea per file. Parts that own state, each
behind its own methods, their states making up the one `EngineState`:
- `engine.roster`: the agents, their routes, and every move of an agent (time
  accounting, queue staffing, availability indexes);
- `engine.queues` / `engine.routing`: each queue's compiled rules and indexes;
- `engine.timers`, `engine.surge`, `engine.conditions`, `engine.vendors`,
  `engine.ended`, `engine.sequences`, `engine.metrics`.
The flows carry out what an event means; each holds the context (`engine.context`:
the time, the calls, the commands going out, facts, changes) and calls the other
flows' methods, never their fields:
- `engine.callers` (`Callers`): the caller's path through the IVR, hang-ups, the
  end of a call and its one outcome;
- `engine.queueing` (`Lines`): joining a queue, waiting, matching callers and agents;
- `engine.offers` (`Offers`): offers to agents, conversations, wrap-up;
- `engine.overflow` (`Overflow`): vendor overflow;
- `engine.callbacks` (`Callbacks`): callbacks;
- `engine.agent_states` (`AgentMoves`): agents' moves and their own requests;
- `engine.pools` (`Pools`): pool sizes, surge stages, supervisors' changes and their
  listening, whispering and barging in on calls.
`engine.core` (here) builds the parts (linking each vendor to the queues whose
overflow rules name it), wires the flows, and dispatches events and timers to them.
"""

from __future__ import annotations

import random
from typing import Never, get_args

from acd.config.schema import SiteConfig
from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine import snapshot
from acd.engine.agent_states import AgentMoves
from acd.engine.callbacks import Callbacks
from acd.engine.callers import Callers
from acd.engine.conditions import Conditions
from acd.engine.context import Context
from acd.engine.counting import Counting
from acd.engine.ended import EndedCalls
from acd.engine.facts import Fact
from acd.engine.ivr import IvrFlow
from acd.engine.localtime import parse_offset
from acd.engine.metrics import Metrics, PoolCounters, QueueCounters, VendorCounters, wait_bounds
from acd.engine.offers import Offers
from acd.engine.overflow import Overflow
from acd.engine.pools import Pools
from acd.engine.queueing import Lines
from acd.engine.queues import QueueRuntime, Route
from acd.engine.records import Agent, Call, agent_of, call_of
from acd.engine.roster import Roster
from acd.engine.sequences import Sequences
from acd.engine.snapshot import Snapshot
from acd.engine.state import AgentRecord, EngineState, InboundRate, SurgeState, TimerState
from acd.engine.states import IN_LINE, WRAPPING_STATES, AgentState, CallState, TimerKind
from acd.engine.surge import Surge
from acd.engine.timers import Handler, Test, Timers
from acd.engine.vendors import VendorContract

A = AgentState
C = CallState

__all__ = ["Engine", "QueueRuntime", "Route"]


class Engine:
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
        if state is None:
            state = _fresh_state(config, start, self.offset)
        else:
            # A state stored before the wait histograms existed: they start now, with
            # the site's bounds; for any other state, a no-op.
            state.metrics.adopt_wait_bounds(wait_bounds(config))
        self.started_at = state.started_at
        self.handled = 0
        """Events handled by this engine object (not kept in its state): a reader that
        saw the same count has nothing new to read."""

        # The parts that own state.
        self.metrics = state.metrics
        self.counting = Counting(self.metrics)
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
        self.roster = Roster(
            [agent_of(a) for a in state.agents], self.queues, self.counting, self.rng
        )
        self.surge = Surge(config.surge, state.surge)
        self.conditions = state.conditions
        self._ended = EndedCalls(state.ended)
        ctx = self.ctx = Context(
            config,
            now=state.now,
            calls={c.id: call_of(c) for c in state.calls},
            queues=self.queues,
            roster=self.roster,
            counting=self.counting,
            seq=state.seq,
            anomalies=state.anomalies,
            offset=self.offset,
        )

        # The flows, each calling the others' methods (never their fields).
        callers = self.callers = Callers(ctx, IvrFlow(config.ivr, self.offset), self._ended)
        lines = Lines(ctx, self.surge, self.conditions)
        offers = self.offers = Offers(ctx)
        overflow = self.overflow = Overflow(ctx, self.surge, self.vendors)
        callbacks = self.callbacks = Callbacks(ctx)
        moves = self.moves = AgentMoves(ctx)
        pools = self.pools = Pools(ctx, self.surge, self.conditions)
        callers.callbacks, callers.lines, callers.offers = callbacks, lines, offers
        callers.overflow, callers.pools = overflow, pools
        lines.callbacks, lines.callers, lines.offers, lines.overflow = (
            callbacks, callers, offers, overflow
        )
        offers.callbacks, offers.callers, offers.lines, offers.moves = (
            callbacks, callers, lines, moves
        )
        overflow.callers, overflow.lines = callers, lines
        callbacks.callers, callbacks.lines = callers, lines
        callbacks.offers, callbacks.overflow = offers, overflow
        moves.lines, moves.offers, moves.pools = lines, offers, pools
        pools.lines, pools.moves, pools.offers, pools.overflow = lines, moves, offers, overflow

        calls, agents = ctx.calls, ctx.agents
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
            "wrap": lambda k, t: (a := agents[k]).state in WRAPPING_STATES and a.wrap_token == t,
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
            "menu": callers.menu_timed_out,
            "ring": offers.ring_timed_out,
            "wrap": offers.wrap_timed_out,
            "relax": lines.relax_step,
            "overflow": overflow.overflow_due,
            "announce": lines.announce_due,
            "vendor_timeout": overflow.vendor_timed_out,
            "vendor_free": overflow.vendor_free,
            "dialback": callbacks.dialback_timed_out,
            "retry": callbacks.retry_due,
            "surge": pools.surge_tick,
        }
        # One test and one handler for each kind of timer (a dict cannot say so to mypy).
        assert set(live) == set(handlers) == set(get_args(TimerKind))
        self.timers = ctx.timers = Timers(live, handlers, state.timers)

    # ------------------------------------------------------------------ interface

    def handle(self, event: ev.Event, now: float) -> list[cmd.Command]:
        """Apply one event at time `now` (epoch seconds) and return the commands.

        Timers due at or before `now` fire first. Time never goes backwards: an
        earlier `now` than the last one is taken as the last one. Never raises for
        bad or late input: such events are counted in `anomalies`."""
        ctx = self.ctx
        if now < ctx.now:
            ctx.anomaly("clock went backwards")
            now = ctx.now
        ctx.now = now
        self.handled += 1
        out: list[cmd.Command] = []
        ctx.out = out
        self.timers.fire_due(now)
        self._apply(event)
        return out

    def _apply(self, e: ev.Event) -> None:
        """Hand `e` to the part that handles its kind. Every kind of event is matched,
        the most frequent first; mypy says so (`_unknown` takes Never) when an event
        is added without a case here."""
        match e:
            case ev.PromptFinished():
                self.callers.on_prompt_finished(e)
            case ev.TimerFired():
                pass  # the due timers fired above
            case ev.CallArrived():
                self.callers.on_call_arrived(e)
            case ev.DigitPressed():
                self.callers.on_digit(e)
            case ev.AgentAnswered():
                self.offers.on_agent_answered(e)
            case ev.CallerHungUp():
                self.callers.on_caller_hung_up(e)
            case ev.AgentHungUp():
                self.offers.on_agent_hung_up(e)
            case ev.AgentMissed():
                self.offers.on_agent_missed(e)
            case ev.CallbackAnswered():
                self.callbacks.on_callback_answered(e)
            case ev.CallbackFailed():
                self.callbacks.on_callback_failed(e)
            case ev.VendorAnswered():
                self.overflow.on_vendor_answered(e)
            case ev.VendorHungUp():
                self.overflow.on_vendor_hung_up(e)
            case ev.VendorFailed():
                self.overflow.on_vendor_failed(e)
            case ev.AgentLogin():
                self.moves.on_login(e)
            case ev.AgentLogout():
                self.moves.on_logout(e)
            case ev.AgentPause():
                self.moves.on_pause(e)
            case ev.AgentUnpause():
                self.moves.on_unpause(e)
            case ev.AgentReady():
                self.moves.on_ready(e)
            case ev.AgentFlaggedAbusive():
                self.offers.on_abusive(e)
            case ev.AgentReferredCallback():
                self.offers.on_referred(e)
            case ev.SetSurgeStage():
                self.pools.on_set_stage(e)
            case ev.SetDistancingLevel():
                self.pools.on_set_distancing(e)
            case ev.SetAgentSkill():
                self.pools.on_set_skill(e)
            case ev.MoveAgent():
                self.pools.on_move_agent(e)
            case ev.SetAnnouncement():
                self.pools.on_set_announcement(e)
            case ev.SuperviseCall():
                self.pools.on_supervise(e)
            case _:
                self._unknown(e)

    def _unknown(self, e: Never) -> None:
        """Not an event of this engine (a driver's bug): counted, never raised."""
        self.ctx.anomaly(f"unknown event {type(e).__name__}")

    def next_deadline(self) -> float | None:
        """When the engine next needs `handle(TimerFired(), t)`, or None. Timers that
        can no longer fire (their call was answered, their wrap-up cut short) are
        dropped here, so a driver is never woken for nothing."""
        return self.timers.next_deadline()

    @property
    def now(self) -> float:
        """The time of the last event handled (epoch seconds on the driver's clock)."""
        return self.ctx.now

    def interval_of(self, t: float) -> int:
        """The number of the metrics interval (local time) that holds time `t`: the key
        of `metrics.intervals`."""
        return self.counting.interval_of(t)

    @property
    def calls(self) -> dict[str, Call]:
        """Every live call by id (read them; events change them)."""
        return self.ctx.calls

    @property
    def agents(self) -> dict[str, Agent]:
        """Every agent of the roster by id, in roster order (read them)."""
        return self.roster.agents

    @property
    def anomalies(self) -> dict[str, int]:
        """Bad or late input, counted by kind."""
        return self.ctx.anomalies

    @property
    def seq(self) -> Sequences:
        """The running numbers (state, for export)."""
        return self.ctx.seq

    @property
    def facts(self) -> list[Fact] | None:
        """Off (None) unless a driver sets a list: the engine then appends what
        happened (`engine.facts`) and the driver takes the list's contents after
        each `handle`."""
        return self.ctx.facts

    @facts.setter
    def facts(self, facts: list[Fact] | None) -> None:
        self.ctx.facts = facts

    def track_changes(self) -> None:
        """From now on, note which calls and agents change (a read model follows
        them); `drain_changes` hands them over."""
        self.ctx.tracking = True

    @property
    def has_changes(self) -> bool:
        """Whether a call or an agent changed since the last `drain_changes`."""
        return bool(self.ctx.changed_calls or self.ctx.changed_agents)

    def drain_changes(self) -> tuple[set[str], set[str]]:
        """The ids of the calls and of the agents that changed since the last drain
        (a call may have ended meanwhile); the engine starts new sets."""
        ctx = self.ctx
        calls, agents = ctx.changed_calls, ctx.changed_agents
        ctx.changed_calls, ctx.changed_agents = set(), set()
        return calls, agents

    def awaits_prompt(self, call_id: str, prompt_id: int) -> bool:
        """Whether `PromptFinished(call_id, prompt_id)` would mean anything now (a
        menu, a closing prompt, the pre-connect message, ... waits for it). A driver
        that knows when its prompts end may leave out the ends nobody awaits, the
        engine would only drop them (`Callers.awaits_prompt`)."""
        return self.callers.awaits_prompt(call_id, prompt_id)

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

    def pool_cap(self, pool: str) -> int | None:
        """How many of the pool's logged-in agents may be in service now (None: all)."""
        return self.pools.pool_cap(pool)

    def snapshot(self, now: float) -> Snapshot:
        """The live wallboard view at `now` (see `engine.snapshot`); changes nothing."""
        return snapshot.take(self, now)

    # The index checks, for drivers and benchmarks that walk the indexes themselves.

    def is_current_call(self, call_id: str, version: int) -> bool:
        """Whether an index entry (`call_id`, `version`) still stands for a waiting
        call (`Context.is_waiting`)."""
        return self.ctx.is_waiting(call_id, version)

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
        AgentRecord(
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
