"""What the engine's parts share while the engine handles one event.

The engine is made of parts (see `engine.core`): parts that own state (the roster,
the queues, the timers, the surge stage, ...) and the flows that carry out what an
event means (a caller's path, the lines, offers, overflow, callbacks, agents' own
moves, pools). The flows do not reach into one another: each calls the others'
methods. What all of them need is here, and only that: the time of the event, the
table of live calls and its moves, the commands going out, the facts reported, the
changes noted for a read model, the anomalies counted, and the parts every flow
reads (configuration, queues, roster, timers, metrics, running numbers).
"""

from __future__ import annotations

from collections.abc import Callable

from acd.config.schema import SiteConfig
from acd.engine import commands as cmd
from acd.engine.counting import Counting
from acd.engine.facts import Fact
from acd.engine.queues import QueueRuntime
from acd.engine.records import Agent, Call
from acd.engine.roster import Roster
from acd.engine.sequences import Sequences
from acd.engine.states import CALL_TRANSITIONS, CallState, CallTrigger, PromptKind
from acd.engine.timers import Timers

C = CallState


class Context:
    """The engine's shared context: one per engine, current for the event in hand."""

    def __init__(
        self,
        config: SiteConfig,
        *,
        now: float,
        calls: dict[str, Call],
        queues: dict[str, QueueRuntime],
        roster: Roster,
        counting: Counting,
        seq: Sequences,
        anomalies: dict[str, int],
        offset: float,
    ) -> None:
        self.config = config
        self.offset = offset
        """The site's UTC offset in seconds (local time for intervals and hours)."""
        self.now = now
        """The time of the event in hand (epoch seconds on the driver's clock)."""
        self.calls = calls
        """Every live call by id; a call that ends leaves it (`Callers.finish`)."""
        self.queues = queues
        self.roster = roster
        self.agents = roster.agents
        """The roster's agents (read them; move them with `AgentMoves.to`)."""
        self.counting = counting
        """Where the figures of each event are counted."""
        self.metrics = counting.metrics
        """The counters (read them; count with `counting`)."""
        self.seq = seq
        self.anomalies = anomalies
        self.timers: Timers
        """The engine's timers (set once the engine has made its handlers)."""
        self.out: list[cmd.Command] = []
        """The commands of the event in hand, in order."""
        self.tap: Callable[[cmd.Command], None] | None = None
        """A test's or a trace's look at each command as it is emitted (None: off)."""
        self.facts: list[Fact] | None = None
        """Off (None) unless a driver sets a list: the parts then append what happened
        (`engine.facts`) and the driver takes the list's contents after each event."""
        self.tracking = False
        """When True, `changed_calls` and `changed_agents` collect the ids of calls
        and agents whose state changed (or that came or went)."""
        self.changed_calls: set[str] = set()
        self.changed_agents: set[str] = set()

    def anomaly(self, what: str) -> None:
        """Count bad or late input of kind `what` (never raised)."""
        self.anomalies[what] = self.anomalies.get(what, 0) + 1

    def emit(self, command: cmd.Command) -> None:
        """Send a command to the PBX: the engine's single exit (a trace hooks here)."""
        if self.tap is not None:
            self.tap(command)
        self.out.append(command)

    def call(self, call_id: str, what: str) -> Call | None:
        """The live call `call_id`, or None with an anomaly (`what` for unknown call)."""
        call = self.calls.get(call_id)
        if call is None:
            self.anomaly(f"{what} for unknown call")
        return call

    def agent(self, agent_id: str, what: str) -> Agent | None:
        """The agent `agent_id`, or None with an anomaly (`what` for unknown agent)."""
        agent = self.agents.get(agent_id)
        if agent is None:
            self.anomaly(f"{what} for unknown agent")
        return agent

    def move(self, call: Call, trigger: CallTrigger) -> None:
        """Move a call along `CALL_TRANSITIONS`; callers have checked the move exists."""
        call.state = CALL_TRANSITIONS[(call.state, trigger)]
        if self.tracking:  # inline: a call moves several times per call
            self.changed_calls.add(call.id)

    def can(self, call: Call, trigger: CallTrigger) -> bool:
        """Whether the call's table has a move for `trigger` from its state."""
        return (call.state, trigger) in CALL_TRANSITIONS

    def play(self, call: Call, media: list[str], kind: PromptKind) -> int:
        """Play `media` to the caller; a `kind` other than "" is what its end will
        mean (the call waits for that prompt). Returns the prompt's number."""
        self.seq.prompt += 1
        prompt = self.seq.prompt
        self.emit(cmd.Play(call_id=call.id, media=list(media), prompt_id=prompt,
                           language=call.language))
        if kind:
            call.prompt_id = prompt
            call.prompt_kind = kind
        return prompt

    def next_offer(self, call: Call) -> int:
        """Number a new offer, vendor dial or dial-back of `call` (its `offer_token`:
        a late answer to an older one is not news)."""
        offer = self.seq.offer + 1
        self.seq.offer = offer
        call.offer_token = offer
        return offer

    def note_call(self, call_id: str) -> None:
        """The call changed, came or went (for a read model following changes)."""
        if self.tracking:
            self.changed_calls.add(call_id)

    def note_agent(self, agent_id: str) -> None:
        """The agent changed (for a read model following changes)."""
        if self.tracking:
            self.changed_agents.add(agent_id)

    def is_waiting(self, call_id: str, version: int) -> bool:
        """Whether an index entry (`call_id`, `version`) still stands for a waiting
        call (the routing indexes drop stale entries lazily)."""
        call = self.calls.get(call_id)
        return call is not None and call.version == version and call.state is C.WAITING
