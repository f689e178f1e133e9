"""The engine's invariants, checked by brute force beside the engine.

`CheckedFloor` is the test `Floor` with a referee. It works from the configuration,
the engine's live records (`calls`, `agents`) and the commands, never from the
engine's routing indexes: that is the point. After every `Engine.handle`:

1. no call waits while an eligible agent is available (every waiting call is at the
   relax step its waiting time calls for, and no available agent of the roster has
   the skill at that step's level in an admitted pool);
2. no agent holds two calls: each call that holds an agent (offered, connecting,
   connected, dialling back) and that agent point at each other, and a busy agent is
   held by exactly one call;
4. no call gets a second `CallOutcome`;
5. after-call work that ends counts its call as handled, once;
and, beside the design's list: `waiting_count()` matches the waiting calls; no vendor
holds more calls than its `max_concurrent`; pool sizes hold (nobody in service over
the size, nobody on standby while there is room); a logout asked during a call is
kept; the engine never hangs up a caller it still keeps on a live call.

At the moment a command is issued (the floor looks through `Context.tap`):
3. a `RingAgent` rings an eligible agent, and no waiting call that agent could take
   comes before the rung call in service order (queue weight, then priority, then
   arrival: within one queue and priority, first come first served);
and an `AnnounceWait` tells the caller's true position.

`check_metrics` (invariant 5) recomputes the queue and IVR counters from the
`CallOutcome` records alone, overflow from `DialVendor`, talk time from `Connect` to
the end of each conversation, agent time from the state changes, and checks that
queues, pools and intervals add up to the totals.

Invariant 6 holds by construction: an exception out of `handle` fails the test.
A violation raises `InvariantViolation` with a message that says what was seen.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from typing import TypedDict, Unpack

from acd.config.schema import Queue, SiteConfig
from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine.metrics import QueueCounters
from acd.engine.records import Agent, Call
from acd.engine.states import AgentState, CallState
from tests.harness import Floor

A = AgentState
C = CallState

ACTIVE = frozenset({C.OFFERED, C.CONNECTING, C.CONNECTED, C.DIALING_BACK})
"""Call states in which the call holds an agent."""

QUEUE_OUTCOMES = (
    "answered",
    "vendor_answered",
    "abandoned",
    "short_abandoned",
    "blocked",
    "callback_failed",
)
IVR_OUTCOMES = ("ivr_abandoned", "self_served", "ivr_failed")
INT_FIELDS = (
    "joined",
    "short_abandoned",
    "abandoned",
    "answered",
    "vendor_answered",
    "blocked",
    "callback_failed",
    "answered_within_sl",
    "abandoned_after_sl",
    "overflowed",
    "callbacks_requested",
    "handled",
)
SUM_FLOAT_FIELDS = ("wait_answered_seconds", "talk_seconds", "wrap_up_seconds")


class InvariantViolation(AssertionError):
    pass


# ---------------------------------------------------------------------- eligibility


class Steps:
    """A queue's relaxation steps, compiled here from the configuration (not from
    `QueueRuntime`): (after_seconds, min_level, admitted pools) per step."""

    def __init__(self, q: Queue) -> None:
        after = [0.0]
        level = [q.min_level]
        pools = [frozenset(q.pools)]
        for step in q.relax:
            after.append(step.after_seconds)
            level.append(
                min(level[-1], step.min_level if step.min_level is not None else level[-1])
            )
            pools.append(pools[-1] | frozenset(step.pools))
        self.skill = q.skill
        self.relaxes_early = q.predicted_wait is not None and q.predicted_wait.relax
        """Whether a caller may take the last step on joining (`Queue.predicted_wait`)."""
        self.after = after
        self.level = level
        self.pools = pools

    def due(self, enqueued_at: float, now: float) -> int:
        """The step a call that joined at `enqueued_at` must be at, at `now`."""
        step = 0
        for i, after in enumerate(self.after):
            if enqueued_at + after <= now:
                step = i
        return step

    def admits(self, step: int, agent: Agent) -> bool:
        level = agent.skills.get(self.skill)
        return level is not None and level >= self.level[step] and agent.pool in self.pools[step]


def _describe_call(call: Call) -> str:
    return (
        f"call {call.id!r} [{call.state.value} in {call.queue or '-'}, step {call.step},"
        f" priority {call.priority}, seq {call.seq}, callback={call.callback},"
        f" agent={call.agent_id or '-'}]"
    )


def _describe_agent(agent: Agent) -> str:
    return (
        f"agent {agent.id!r} [{agent.state.value}"
        f"{'/' + agent.reason if agent.reason else ''}, pool {agent.pool}, skills {agent.skills},"
        f" call={agent.call_id or '-'}]"
    )


# ---------------------------------------------------------------------- the floor


class FloorOptions(TypedDict, total=False):
    """`Floor`'s keyword arguments (its defaults stay there)."""

    start: float
    prompt_seconds: float | None
    seed: int


class CheckedFloor(Floor):
    """A `Floor` that checks the invariants after every event it delivers (see the
    module docstring); `check_metrics` is called by the test, when it wants."""

    def __init__(
        self,
        site: SiteConfig | str,
        *,
        known_bugs: Collection[str] = (),
        **options: Unpack[FloorOptions],
    ) -> None:
        super().__init__(site, **options)
        self.known_bugs = frozenset(known_bugs)
        """Open engine bugs (pinned by xfail tests) whose symptoms are excused, so that
        a run goes on to find others: "withdrawn-logout"."""
        self.withdrawn: set[str] = set()
        """Agents who asked to log out during a call, then asked for a break instead."""
        self.t0 = self.now
        self.steps = {name: Steps(q) for name, q in self.site.queues.items()}
        self.weights = {name: q.weight for name, q in self.site.queues.items()}
        self.outcomes: dict[str, list[cmd.CallOutcome]] = {}
        self.arrived: list[str] = []
        """Ids of calls the engine accepted (a duplicate arrival is not one)."""
        self.seen: set[str] = set()
        """Every call id ever live in the engine (arrivals and referrals)."""
        self.lines_to_report: list[str] = []
        """Calls whose line the engine hung up: the PBX will report each line down."""
        self.vendor_dials: Counter[str] = Counter()
        self.overflowed: dict[str, set[str]] = {}
        self.recent: list[str] = []
        self.agent_time = {"available": 0.0, "handling": 0.0}
        """Agent time by kind, from the state changes seen between events."""
        self.talk: defaultdict[str, float] = defaultdict(float)
        """Talk time per queue, from each `Connect` to the end of the conversation."""
        self._connected: dict[str, float] = {}
        self._agent_spells = {
            a.id: (a.state, a.state_since) for a in self.engine.agents.values()
        }
        self._command_problems: list[str] = []
        engine = self.engine

        def check(command: cmd.Command) -> None:
            if isinstance(command, cmd.RingAgent):
                self._check_ring(command)
            elif isinstance(command, cmd.AnnounceWait):
                self._check_announcement(command)

        # The referee looks at each command as the engine emits it (`Context.tap`).
        engine.ctx.tap = check

    # ------------------------------------------------------------ delivery

    def send(self, event: ev.Event) -> list[cmd.Command]:
        engine = self.engine
        new_arrival = isinstance(event, ev.CallArrived) and event.call_id not in engine.calls
        self._command_problems = []
        wrapping = {
            a.id: (a.wrap_queue, a.wrap_token)
            for a in engine.agents.values()
            if a.state is A.WRAP_UP
        }
        handled = {name: q.handled for name, q in engine.metrics.queues.items()}
        leaving = [a.id for a in engine.agents.values() if a.pending == "logout"]
        out = super().send(event)  # any exception escaping `handle` fails the test (invariant 6)
        self.recent = [*self.recent[-11:], f"t={self.now - self.t0:.1f} {event!r}"]
        if new_arrival:
            assert isinstance(event, ev.CallArrived)
            self.arrived.append(event.call_id)
        self.seen.update(self.engine.calls)
        for c in out:
            if isinstance(c, cmd.CallOutcome):
                self.outcomes.setdefault(c.call_id, []).append(c)
                self.seen.add(c.call_id)
            elif isinstance(c, cmd.HangupCaller):
                self.lines_to_report.append(c.call_id)
            elif isinstance(c, cmd.DialVendor):
                self.vendor_dials[c.vendor] += 1
                self.overflowed.setdefault(c.queue, set()).add(c.call_id)
        for agent_id in leaving:
            agent = engine.agents[agent_id]
            if agent.state is not A.LOGGED_OUT and agent.pending != "logout":
                self.withdrawn.add(agent_id)
        self.withdrawn = {
            a
            for a in self.withdrawn
            if engine.agents[a].state is not A.LOGGED_OUT
            and engine.agents[a].state is not A.STANDBY
            and not engine.agents[a].standby_due
        }
        if self._command_problems:
            self.fail("checks when a command is issued", self._command_problems)
        self.check_state(out)
        self._check_handled(wrapping, handled)
        self._check_logouts_kept(event, leaving)
        self._follow_time(out)
        return out

    def _follow_time(self, out: list[cmd.Command]) -> None:
        """Tally agent time and talk time independently of the engine's counters."""
        engine = self.engine
        for agent in engine.agents.values():
            state, since = self._agent_spells[agent.id]
            if agent.state_since != since or agent.state is not state:
                if state is A.AVAILABLE:
                    self.agent_time["available"] += agent.state_since - since
                elif state in (A.RESERVED, A.ON_CALL, A.WRAP_UP):  # WRAP_UP: after-call work
                    self.agent_time["handling"] += agent.state_since - since
            self._agent_spells[agent.id] = (agent.state, agent.state_since)
        for c in out:
            if isinstance(c, cmd.Connect):
                self._connected[c.call_id] = self.now
        for call_id, since in list(self._connected.items()):
            call = engine.calls.get(call_id)
            if call is None or call.state is not C.CONNECTED:
                queue = self.outcomes[call_id][0].queue
                assert queue is not None
                self.talk[queue] += self.now - since
                del self._connected[call_id]

    def _check_logouts_kept(self, event: ev.Event, leaving: list[str]) -> None:
        """A logout asked for during a call is applied when the call is over: nothing
        but the agent's own later request (a break, an unpause) may replace it."""
        problems = []
        for agent_id in leaving:
            agent = self.engine.agents[agent_id]
            if agent.state is A.LOGGED_OUT or agent.pending == "logout":
                continue
            if getattr(event, "agent_id", None) == agent_id and isinstance(
                event, ev.AgentPause | ev.AgentUnpause | ev.AgentLogout | ev.AgentLogin
            ):
                continue
            problems.append(
                f"{_describe_agent(agent)} asked to log out after the call, but the request"
                f" is gone (pending {agent.pending or '-'}/{agent.pending_reason or '-'})"
            )
        if problems:
            self.fail("agents' requests are kept", problems)

    def _check_handled(
        self, wrapping: dict[str, tuple[str, int]], handled_before: dict[str, int]
    ) -> None:
        """Invariant 5, for AHT: when after-call work ends, by whatever way (its timer,
        `AgentReady`, a break, a logout, a pool-size standby), the call counts as
        handled in its queue, once."""
        engine = self.engine
        expected: Counter[str] = Counter()
        for agent_id, (queue, token) in wrapping.items():
            agent = engine.agents[agent_id]
            still = agent.state is A.WRAP_UP and agent.wrap_token == token
            if not still:
                expected[queue] += 1
        problems = []
        for name, q in engine.metrics.queues.items():
            delta = q.handled - handled_before.get(name, 0)
            if delta != expected[name]:
                problems.append(
                    f"queue {name}: handled went up by {delta}, but {expected[name]} agents"
                    " ended their after-call work for its calls"
                )
        if problems:
            self.fail("invariant 5 (handled calls, for AHT)", problems)

    def fail(self, which: str, problems: Iterable[str]) -> None:
        lines = "\n  ".join(problems)
        context = "\n    ".join(self.recent)
        raise InvariantViolation(
            f"{which} violated at t={self.now - self.t0:.1f}:\n  {lines}\n"
            f"  recent events (latest last):\n    {context}"
        )

    # ------------------------------------------------------------ invariant 3

    def _check_ring(self, ring: cmd.RingAgent) -> None:
        """At the moment an agent is rung for call X: the agent is eligible for X, and
        no waiting call the agent could take comes before X in service order (queue
        weight, then priority, then arrival; within one queue and priority that is
        first-come first-served)."""
        engine = self.engine
        x = engine.calls.get(ring.call_id)
        agent = engine.agents.get(ring.agent_id)
        if x is None or agent is None:
            self._command_problems.append(f"RingAgent for unknown call or agent: {ring!r}")
            return
        if x.state is not C.OFFERED or agent.state is not A.RESERVED:
            self._command_problems.append(
                f"RingAgent issued but {_describe_call(x)} / {_describe_agent(agent)}"
                " are not offered / reserved"
            )
        if not self.steps[x.queue].admits(x.step, agent):
            self._command_problems.append(
                f"{_describe_agent(agent)} rung for {_describe_call(x)} but is not eligible at step"
                f" {x.step} (min level {self.steps[x.queue].level[x.step]},"
                f" pools {sorted(self.steps[x.queue].pools[x.step])})"
            )
        x_key = (-self.weights[x.queue], -x.priority, x.seq)
        for w in engine.calls.values():
            if w is x or w.state is not C.WAITING or not self.steps[w.queue].admits(w.step, agent):
                continue
            w_key = (-self.weights[w.queue], -w.priority, w.seq)
            if w_key < x_key:
                rule = (
                    "invariant 3, FCFS within a priority"
                    if w.queue == x.queue and w.priority == x.priority
                    else "invariant 3, service order (weight, then priority, then arrival)"
                )
                self._command_problems.append(
                    f"{rule}: {_describe_agent(agent)} rung for {_describe_call(x)} while"
                    f" {_describe_call(w)} waits, is eligible for that agent, and comes first"
                )

    def _check_announcement(self, announce: cmd.AnnounceWait) -> None:
        """The position told to a caller is their place among the queue's waiting calls."""
        if announce.position is None:
            return
        call = self.engine.calls.get(announce.call_id)
        if call is None or call.state is not C.WAITING:
            self._command_problems.append(f"AnnounceWait for a call not waiting: {announce!r}")
            return
        ahead = sum(
            1
            for w in self.engine.calls.values()
            if w.state is C.WAITING
            and w.queue == call.queue
            and (-w.priority, w.seq) < (-call.priority, call.seq)
        )
        if announce.position != ahead + 1:
            self._command_problems.append(
                f"{_describe_call(call)} is told position {announce.position}, but {ahead}"
                f" waiting calls are ahead of it"
            )

    def pool_cap(self, pool: str) -> int | None:
        """How many of a pool's agents may be in service, from the configuration and
        the engine's current stage and distancing level."""
        cfg = self.site.pools[pool]
        caps: list[int] = []
        if cfg.size_by_distancing_level is not None:
            level = self.engine.conditions.distancing_level
            caps.append(cfg.size_by_distancing_level.get(level, 0))
        for stage in self.site.surge.stages:
            if stage.stage <= self.engine.surge.stage and pool in stage.pool_sizes:
                caps.append(stage.pool_sizes[pool])
        return max(caps) if caps else None

    # ------------------------------------------------------------ invariants 1, 2 (+ consistency)

    def check_state(self, out: list[cmd.Command]) -> None:
        engine = self.engine
        now = self.now
        calls = engine.calls
        agents = engine.agents
        problems: list[str] = []

        # Invariant 1: no call waits while an eligible agent is available.
        available = [a for a in agents.values() if a.state is A.AVAILABLE]
        for call in calls.values():
            if call.state is not C.WAITING:
                continue
            steps = self.steps.get(call.queue)
            if steps is None:
                problems.append(f"{_describe_call(call)} waits in an unknown queue")
                continue
            due = steps.due(call.enqueued_at, now)
            # A queue routing on predicted waits may have taken its last step early
            # (on joining), never an earlier one than the seconds call for.
            early = steps.relaxes_early and call.step == len(steps.after) - 1
            if call.step != due and not (early and call.step > due):
                problems.append(
                    f"{_describe_call(call)} has waited {now - call.enqueued_at:.1f} s and"
                    f" should be at relax step {due} (steps start after {steps.after})"
                )
            step = call.step if early else due
            for agent in available:
                if steps.admits(step, agent):
                    problems.append(
                        f"{_describe_call(call)} waits while {_describe_agent(agent)} is"
                        f" available and eligible (step {step}: level >= {steps.level[step]},"
                        f" pools {sorted(steps.pools[step])})"
                    )
        if problems:
            self.fail("invariant 1 (no call waits while an eligible agent is available)", problems)

        # Invariant 2: no agent holds two calls; holder and held agree.
        holders: dict[str, list[str]] = {}
        for call in calls.values():
            if call.state not in ACTIVE:
                continue
            holder = agents.get(call.agent_id)
            if holder is None:
                problems.append(f"{_describe_call(call)} holds no known agent")
                continue
            holders.setdefault(holder.id, []).append(call.id)
            expected = A.RESERVED if call.state is C.OFFERED else A.ON_CALL
            if holder.state is not expected or holder.call_id != call.id:
                problems.append(
                    f"{_describe_call(call)} holds {_describe_agent(holder)}, which should be"
                    f" {expected.value} on that call"
                )
        for agent in agents.values():
            held = holders.get(agent.id, [])
            if len(held) > 1:
                problems.append(f"{_describe_agent(agent)} holds {len(held)} calls: {held}")
            if agent.state in (A.RESERVED, A.ON_CALL) and len(held) != 1:
                problems.append(
                    f"{_describe_agent(agent)} is busy but held by {len(held)} live calls: {held}"
                )
            if agent.state not in (A.RESERVED, A.ON_CALL) and agent.call_id:
                problems.append(f"{_describe_agent(agent)} is not busy but still points at a call")
        if problems:
            self.fail("invariant 2 (no agent holds two calls)", problems)

        # Invariant 4, as it goes: one outcome per call id.
        for c in out:
            if isinstance(c, cmd.CallOutcome) and len(self.outcomes[c.call_id]) > 1:
                problems.append(
                    f"call {c.call_id!r} got a second outcome: "
                    + ", ".join(o.outcome for o in self.outcomes[c.call_id])
                )
        if problems:
            self.fail("invariant 4 (every call ends in exactly one outcome)", problems)

        # Bookkeeping seen from outside: the queue's waiting count (max_waiting and the
        # wallboard use it); the vendor contract caps; the pool sizes.
        for name in self.site.queues:
            waiting = sum(1 for c in calls.values() if c.state is C.WAITING and c.queue == name)
            if engine.waiting_count(name) != waiting:
                problems.append(
                    f"queue {name}: waiting_count() is {engine.waiting_count(name)} but"
                    f" {waiting} calls are waiting"
                )
        for name, vendor in self.site.vendors.items():
            active = [
                c.id
                for c in calls.values()
                if c.vendor == name and c.state in (C.VENDOR_DIALING, C.VENDOR_CONNECTED)
            ]
            if len(active) > vendor.max_concurrent:
                problems.append(
                    f"vendor {name} holds {len(active)} calls {active}, more than its"
                    f" max_concurrent {vendor.max_concurrent}"
                )
        for pool in self.site.pools:
            cap = self.pool_cap(pool)
            if cap is None:
                continue
            members = [a for a in agents.values() if a.pool == pool]
            standby = [a.id for a in members if a.state is A.STANDBY]
            going = [a.id for a in members if a.standby_due]
            in_service = [
                a.id
                for a in members
                if a.state is not A.LOGGED_OUT and a.id not in standby and a.id not in going
            ]
            staying = [a for a in in_service if agents[a].pending != "logout"]
            excused = 0
            if "withdrawn-logout" in self.known_bugs:
                excused = sum(1 for a in staying if a in self.withdrawn)
            if len(staying) > cap + excused:
                problems.append(
                    f"pool {pool} has {len(staying)} agents in service {staying}, over its"
                    f" size {cap} (stage {engine.surge.stage},"
                    f" distancing {engine.conditions.distancing_level})"
                )
            if (standby or going) and len(in_service) < cap:
                problems.append(
                    f"pool {pool} keeps {standby} on standby and sends {going} there after"
                    f" their call, with {len(in_service)} in service, under its size {cap}"
                )
        if problems:
            self.fail("bookkeeping (waiting counts, vendor caps, pool sizes)", problems)

        # Commands agree with the state they leave behind: the engine does not hang up
        # a caller it still keeps talking (a callback's line goes down by design).
        for c in out:
            if not isinstance(c, cmd.HangupCaller):
                continue
            hung = calls.get(c.call_id)
            if hung is None:
                continue
            if not (
                hung.callback
                and not hung.line_up
                and hung.state in (C.WAITING, C.RETRY_WAIT, C.OFFERED)
            ):
                problems.append(f"HangupCaller issued for {_describe_call(hung)}, which stays live")
        if problems:
            self.fail("command/state consistency", problems)

    # ------------------------------------------------------------ invariant 5

    def check_metrics(self, *, final: bool = False) -> None:
        """The counters reconcile with the `CallOutcome` records (and, for overflow,
        the `DialVendor` commands); intervals sum to the totals."""
        engine = self.engine
        metrics = engine.metrics
        problems: list[str] = []
        outcomes = [o for found in self.outcomes.values() for o in found]
        by_queue: dict[str, QueueCounters] = {q: QueueCounters() for q in self.site.queues}
        sl = {
            name: q.service_level_seconds
            if q.service_level_seconds is not None
            else self.site.site.service_level_seconds
            for name, q in self.site.queues.items()
        }
        ivr: Counter[str] = Counter()
        for o in outcomes:
            if o.outcome in IVR_OUTCOMES:
                if o.queue is not None:
                    problems.append(f"IVR outcome with a queue: {o!r}")
                ivr[o.outcome] += 1
                continue
            if o.queue not in by_queue:
                problems.append(f"queue outcome without a known queue: {o!r}")
                continue
            c = by_queue[o.queue]
            c.joined += 1
            setattr(c, o.outcome, getattr(c, o.outcome) + 1)
            if o.outcome in ("answered", "vendor_answered"):
                c.wait_answered_seconds += o.wait_seconds
                if o.wait_seconds <= sl[o.queue]:
                    c.answered_within_sl += 1
                c.longest_wait_seconds = max(c.longest_wait_seconds, o.wait_seconds)
            elif o.outcome == "abandoned":
                if o.wait_seconds > sl[o.queue]:
                    c.abandoned_after_sl += 1
                c.longest_wait_seconds = max(c.longest_wait_seconds, o.wait_seconds)
        # Calls still in a queue without an outcome have joined too.
        unsettled: Counter[str] = Counter(
            call.queue
            for call in engine.calls.values()
            if call.queue and call.id not in self.outcomes
        )
        if final and unsettled:
            problems.append(f"calls left without an outcome at the end: {dict(unsettled)}")
        for name, mine in by_queue.items():
            mine.joined += unsettled[name]
            mine.overflowed = len(self.overflowed.get(name, ()))
            theirs = metrics.queues[name]
            for f in (
                *QUEUE_OUTCOMES,
                "joined",
                "answered_within_sl",
                "abandoned_after_sl",
                "overflowed",
            ):
                if getattr(mine, f) != getattr(theirs, f):
                    problems.append(
                        f"queue {name}: {f} is {getattr(theirs, f)} in the metrics but the"
                        f" outcomes say {getattr(mine, f)}"
                    )
            for f in ("wait_answered_seconds", "longest_wait_seconds"):
                if not math.isclose(
                    getattr(mine, f), getattr(theirs, f), rel_tol=1e-9, abs_tol=1e-6
                ):
                    problems.append(
                        f"queue {name}: {f} is {getattr(theirs, f)} in the metrics but the"
                        f" outcomes say {getattr(mine, f)}"
                    )
            settled_offered = sum(
                getattr(mine, f) for f in QUEUE_OUTCOMES if f != "short_abandoned"
            )
            if theirs.offered != theirs.joined - theirs.short_abandoned or theirs.offered != (
                settled_offered + unsettled[name]
            ):
                problems.append(
                    f"queue {name}: offered {theirs.offered} is not joined {theirs.joined} - short"
                    f" {theirs.short_abandoned}, or not the {settled_offered} non-short outcomes +"
                    f" {unsettled[name]} calls still queued"
                )
        for f, n in ivr.items():
            if getattr(metrics.ivr, f) != n:
                problems.append(
                    f"ivr: {f} is {getattr(metrics.ivr, f)} in the metrics but the outcomes say {n}"
                )
        for f in IVR_OUTCOMES:
            if f not in ivr and getattr(metrics.ivr, f) != 0:
                problems.append(
                    f"ivr: {f} is {getattr(metrics.ivr, f)} in the metrics but no outcome says so"
                )
        if metrics.ivr.arrived != len(self.arrived):
            problems.append(
                f"ivr.arrived is {metrics.ivr.arrived}, but {len(self.arrived)} calls arrived"
            )
        for name, vendor in metrics.vendors.items():
            if vendor.dialled != self.vendor_dials[name]:
                problems.append(
                    f"vendor {name}: dialled {vendor.dialled},"
                    f" DialVendor commands {self.vendor_dials[name]}"
                )
            answered = sum(
                1 for o in outcomes if o.outcome == "vendor_answered" and o.vendor == name
            )
            if vendor.answered != answered:
                problems.append(
                    f"vendor {name}: answered {vendor.answered}, outcomes say {answered}"
                )

        # Sums: queues -> site total; intervals -> totals; interval queues -> queues.
        intervals = list(metrics.intervals.values())

        def compare(label: str, total: QueueCounters, parts: list[QueueCounters]) -> None:
            for f in INT_FIELDS:
                s = sum(getattr(p, f) for p in parts)
                if s != getattr(total, f):
                    problems.append(f"{label}: {f} is {getattr(total, f)} but its parts sum to {s}")
            for f in SUM_FLOAT_FIELDS:
                s = math.fsum(getattr(p, f) for p in parts)
                if not math.isclose(s, getattr(total, f), rel_tol=1e-9, abs_tol=1e-6):
                    problems.append(f"{label}: {f} is {getattr(total, f)} but its parts sum to {s}")
            longest = max((p.longest_wait_seconds for p in parts), default=0.0)
            if longest != total.longest_wait_seconds:
                problems.append(
                    f"{label}: longest_wait_seconds is {total.longest_wait_seconds},"
                    f" max of parts {longest}"
                )

        # The site's figures and an interval's as a whole are the engine's roll-ups of
        # its queues' (`metrics.roll_up`): what must agree is the day and the intervals.
        compare("site total vs intervals", metrics.total, [i.total for i in intervals])
        for name in self.site.queues:
            compare(
                f"queue {name} vs intervals",
                metrics.queues[name],
                [i.queues[name] for i in intervals if name in i.queues],
            )
        # Talk time per queue; agent time, answered and handled calls across pools.
        for name in self.site.queues:
            if not math.isclose(
                metrics.queues[name].talk_seconds, self.talk[name], rel_tol=1e-9, abs_tol=1e-6
            ):
                problems.append(
                    f"queue {name}: talk_seconds is {metrics.queues[name].talk_seconds}, but its"
                    f" conversations lasted {self.talk[name]} s from Connect to their end"
                )
        pools = list(metrics.pools.values())
        for f, expected_seconds in (
            ("available_seconds", self.agent_time["available"]),
            ("handling_seconds", self.agent_time["handling"]),
            ("talk_seconds", metrics.total.talk_seconds),
            ("wrap_up_seconds", metrics.total.wrap_up_seconds),
        ):
            pools_sum = math.fsum(getattr(p, f) for p in pools)
            if not math.isclose(pools_sum, expected_seconds, rel_tol=1e-9, abs_tol=1e-6):
                problems.append(f"pools: {f} sum to {pools_sum}, expected {expected_seconds}")
        for f, n in (("answered", metrics.total.answered), ("handled", metrics.total.handled)):
            theirs_n = sum(getattr(p, f) for p in pools)
            if theirs_n != n:
                problems.append(f"pools: {f} sum to {theirs_n}, the queues to {n}")
        for name, pool in metrics.pools.items():
            parts = [i.pools[name] for i in intervals if name in i.pools]
            for f in ("answered", "handled"):
                if sum(getattr(p, f) for p in parts) != getattr(pool, f):
                    problems.append(f"pool {name}: intervals' {f} do not sum to the total")
            for f in ("talk_seconds", "wrap_up_seconds", "handling_seconds", "available_seconds"):
                total = math.fsum(getattr(p, f) for p in parts)
                if not math.isclose(total, getattr(pool, f), rel_tol=1e-9, abs_tol=1e-6):
                    problems.append(
                        f"pool {name}: intervals' {f} sum to {total}, the total is"
                        f" {getattr(pool, f)}"
                    )
        arrived = sum(i.arrived for i in intervals)
        if arrived != metrics.ivr.arrived:
            problems.append(
                f"intervals count {arrived} arrivals, ivr.arrived is {metrics.ivr.arrived}"
            )

        if final:
            missing = sorted(self.seen - set(self.outcomes))
            if missing:
                problems.append(f"calls that ended without an outcome: {missing}")
            if engine.calls:
                problems.append(
                    "calls still live at the end: "
                    + "; ".join(_describe_call(c) for c in engine.calls.values())
                )
        if problems:
            self.fail(
                "invariant 5 (metrics reconcile with the outcomes)" if not final else "end of run",
                problems,
            )
