"""The engine's live records of calls and agents (mutable, owned by `Engine`).

Plain classes, so that mypyc compiles them with the engine (`acd.native`): the
engine reads and writes their fields on every event, and a compiled class's fields
are read directly, not looked up by name (about a tenth of the replay's time when
these were msgspec Structs). The engine's stored state holds them as `CallRecord`
and `AgentRecord` (`engine.state`), the same fields as Structs: `call_record`,
`call_of`, `agent_record` and `agent_of` convert, and a test checks that every
field of these classes is a field of their records.
"""

from __future__ import annotations

from typing import Literal, TypeVar

import msgspec

from acd.engine.commands import Outcome
from acd.engine.state import AgentRecord, CallRecord
from acd.engine.states import AgentRequest, AgentState, CallState, PromptKind


class Call:
    """A live call, from its arrival to its end (`Engine.calls`)."""

    __slots__ = (
        "agent_id",
        "arrived_at",
        "attempts",
        "callback",
        "callback_offered",
        "caller",
        "connected_at",
        "dnis",
        "enqueued_at",
        "history",
        "id",
        "interval",
        "language",
        "likely_to_give_up",
        "line_up",
        "node",
        "offer_token",
        "outcome",
        "outcome_recorded",
        "overflow_vendors",
        "overflowed",
        "priority",
        "prompt_id",
        "prompt_kind",
        "protection_done",
        "protection_prompt_id",
        "queue",
        "ready_for_overflow",
        "seq",
        "state",
        "step",
        "tries",
        "vendor",
        "version",
    )

    def __init__(
        self,
        *,
        id: str,
        caller: str,
        dnis: str,
        arrived_at: float,
        state: CallState = CallState.IVR,
        language: str = "",
        node: str = "",
        tries: int = 0,
        history: list[str] | None = None,
        prompt_id: int = 0,
        prompt_kind: PromptKind = "",
        protection_prompt_id: int = 0,
        protection_done: bool = False,
        queue: str = "",
        priority: int = 0,
        seq: int = 0,
        enqueued_at: float = 0.0,
        interval: int = 0,
        step: int = 0,
        version: int = 0,
        ready_for_overflow: bool = False,
        likely_to_give_up: bool = False,
        overflow_vendors: list[str] | None = None,
        overflowed: bool = False,
        callback_offered: bool = False,
        callback: bool = False,
        line_up: bool = True,
        attempts: int = 0,
        agent_id: str = "",
        vendor: str = "",
        offer_token: int = 0,
        connected_at: float = 0.0,
        outcome: Outcome | Literal[""] = "",
        outcome_recorded: bool = False,
    ) -> None:
        self.id = id
        self.caller = caller
        self.dnis = dnis
        self.arrived_at = arrived_at
        self.state: CallState = state
        self.language: str = language
        # --- IVR ---
        self.node: str = node
        self.tries: int = tries
        self.history: list[str] = [] if history is None else history
        # --- the prompt the flow waits for (0: none) and what its end means ---
        self.prompt_id: int = prompt_id
        self.prompt_kind: PromptKind = prompt_kind
        self.protection_prompt_id: int = protection_prompt_id
        self.protection_done: bool = protection_done
        # --- queue ---
        self.queue: str = queue
        self.priority: int = priority
        self.seq: int = seq
        """Arrival order in the queue: a call put back after a missed ring keeps it."""
        self.enqueued_at: float = enqueued_at
        self.interval: int = interval
        self.step: int = step
        """Relaxation step reached (0: the queue's initial rule)."""
        self.version: int = version
        """Bumped whenever the call's index entries must be superseded."""
        self.ready_for_overflow: bool = ready_for_overflow
        self.likely_to_give_up: bool = likely_to_give_up
        """Its predicted wait on joining was over the queue's `predicted_wait` share of the
        callers' patience: the overflow rules' bounds alone decide for it from then on
        (a stage reached later qualifies it, as it would a newcomer)."""
        self.overflow_vendors: list[str] = [] if overflow_vendors is None else overflow_vendors
        """The vendors of the overflow rule the call qualified under, in order."""
        self.overflowed: bool = overflowed
        self.callback_offered: bool = callback_offered
        self.callback: bool = callback
        self.line_up: bool = line_up
        """The caller's own line is still up. A callback whose line is still up (the
        confirmation is playing) is simply connected, not dialled back."""
        self.attempts: int = attempts
        # --- service ---
        self.agent_id: str = agent_id
        self.vendor: str = vendor
        self.offer_token: int = offer_token
        self.connected_at: float = connected_at
        self.outcome: Outcome | Literal[""] = outcome
        """The call's single outcome once decided ("": not yet)."""
        self.outcome_recorded: bool = outcome_recorded


class Agent:
    """An agent of the roster (`Engine.agents`)."""

    __slots__ = (
        "call_id",
        "cool_down_due",
        "endpoint",
        "handled_seconds",
        "id",
        "last_call_end",
        "last_offer_seq",
        "logged_in_at",
        "missed",
        "name",
        "pending",
        "pending_reason",
        "pool",
        "reason",
        "roster_index",
        "shift",
        "skill_sources",
        "skills",
        "standby_due",
        "state",
        "state_since",
        "version",
        "wrap_interval",
        "wrap_queue",
        "wrap_token",
    )

    def __init__(
        self,
        *,
        id: str,
        name: str,
        endpoint: str,
        pool: str,
        skills: dict[str, int],
        skill_sources: dict[str, str],
        shift: str | None,
        roster_index: int,
        state: AgentState = AgentState.LOGGED_OUT,
        state_since: float = 0.0,
        reason: str = "",
        call_id: str = "",
        wrap_queue: str = "",
        wrap_interval: int = 0,
        version: int = 0,
        missed: int = 0,
        pending: AgentRequest = "",
        standby_due: bool = False,
        pending_reason: str = "",
        last_call_end: float = 0.0,
        handled_seconds: float = 0.0,
        last_offer_seq: int = 0,
        logged_in_at: float = 0.0,
        wrap_token: int = 0,
        cool_down_due: float = 0.0,
    ) -> None:
        self.id = id
        self.name = name
        self.endpoint = endpoint
        self.pool = pool
        self.skills = skills
        self.skill_sources = skill_sources
        self.shift = shift
        self.roster_index = roster_index
        self.state: AgentState = state
        self.state_since: float = state_since
        self.reason: str = reason
        """The pause's reason code while PAUSED ("" otherwise; `states.shown` gives the
        reason supervisors see in every state)."""
        self.call_id: str = call_id
        self.wrap_queue: str = wrap_queue
        """The queue of the call whose after-call work is running (AHT accounting)."""
        self.wrap_interval: int = wrap_interval
        """That call's interval: its wrap-up counts where its talk time counted."""
        self.version: int = version
        """Bumped whenever the agent leaves AVAILABLE: older index entries are stale."""
        self.missed: int = missed
        """Consecutive missed offers."""
        self.pending: AgentRequest = pending
        """The agent's own "logout" or "pause", asked for while busy, applied when the
        call is over."""
        self.standby_due: bool = standby_due
        """The pool shrank while the agent was busy: stand by when the call is over.
        Kept apart from `pending`, which is the agent's request, not the pool's."""
        self.pending_reason: str = pending_reason
        self.last_call_end: float = last_call_end
        self.handled_seconds: float = handled_seconds
        self.last_offer_seq: int = last_offer_seq
        self.logged_in_at: float = logged_in_at
        self.wrap_token: int = wrap_token
        self.cool_down_due: float = cool_down_due
        """Seconds of cool-down owed after the after-call work of an abusive call."""


def call_record(call: Call) -> CallRecord:
    """The call as the engine's state stores it (its lists shared, not copied:
    encode the record before the call changes)."""
    return _stored(call, CallRecord)


def call_of(record: CallRecord) -> Call:
    """The live call a stored record describes."""
    return Call(**msgspec.structs.asdict(record))


def agent_record(agent: Agent) -> AgentRecord:
    """The agent as the engine's state stores it (its dicts shared, not copied)."""
    return _stored(agent, AgentRecord)


def agent_of(record: AgentRecord) -> Agent:
    """The live agent a stored record describes."""
    return Agent(**msgspec.structs.asdict(record))


R = TypeVar("R", CallRecord, AgentRecord)


def _stored(live: Call | Agent, record: type[R]) -> R:
    """`live`'s fields, by the names of `record`'s (a test holds the two equal)."""
    return record(**{name: getattr(live, name) for name in record.__struct_fields__})
