"""The engine's live records of calls and agents (mutable, owned by `Engine`).

They are msgspec Structs so that a snapshot of the whole engine encodes to
MessagePack or JSON as it is (the Redis store and the wallboard read them).
"""

from __future__ import annotations

from typing import Literal

import msgspec

from acd.engine.commands import Outcome
from acd.engine.states import AgentRequest, AgentState, CallState, PromptKind


class Call(msgspec.Struct, kw_only=True):
    id: str
    caller: str
    dnis: str
    arrived_at: float
    state: CallState = CallState.IVR
    language: str = ""
    # --- IVR ---
    node: str = ""
    tries: int = 0
    history: list[str] = msgspec.field(default_factory=list)
    # --- the prompt the flow waits for (0: none) and what its end means ---
    prompt_id: int = 0
    prompt_kind: PromptKind = ""
    protection_prompt_id: int = 0
    protection_done: bool = False
    # --- queue ---
    queue: str = ""
    priority: int = 0
    seq: int = 0
    """Arrival order in the queue: a call put back after a missed ring keeps it."""
    enqueued_at: float = 0.0
    interval: int = 0
    step: int = 0
    """Relaxation step reached (0: the queue's initial rule)."""
    version: int = 0
    """Bumped whenever the call's index entries must be superseded."""
    ready_for_overflow: bool = False
    likely_to_give_up: bool = False
    """Its predicted wait on joining was over the queue's `predicted_wait` share of the
    callers' patience: the overflow rules' bounds alone decide for it from then on
    (a stage reached later qualifies it, as it would a newcomer)."""
    overflow_vendors: list[str] = msgspec.field(default_factory=list)
    """The vendors of the overflow rule the call qualified under, in order."""
    overflowed: bool = False
    callback_offered: bool = False
    callback: bool = False
    line_up: bool = True
    """The caller's own line is still up. A callback whose line is still up (the
    confirmation is playing) is simply connected, not dialled back."""
    attempts: int = 0
    # --- service ---
    agent_id: str = ""
    vendor: str = ""
    offer_token: int = 0
    connected_at: float = 0.0
    outcome: Outcome | Literal[""] = ""
    """The call's single outcome once decided ("": not yet)."""
    outcome_recorded: bool = False


class Agent(msgspec.Struct, kw_only=True):
    id: str
    name: str
    endpoint: str
    pool: str
    skills: dict[str, int]
    skill_sources: dict[str, str]
    shift: str | None
    roster_index: int
    state: AgentState = AgentState.LOGGED_OUT
    state_since: float = 0.0
    reason: str = ""
    """The pause's reason code while PAUSED ("" otherwise; `states.shown` gives the
    reason supervisors see in every state)."""
    call_id: str = ""
    wrap_queue: str = ""
    """The queue of the call whose after-call work is running (AHT accounting)."""
    wrap_interval: int = 0
    """That call's interval: its wrap-up counts where its talk time counted."""
    version: int = 0
    """Bumped whenever the agent leaves AVAILABLE: older index entries are stale."""
    missed: int = 0
    """Consecutive missed offers."""
    pending: AgentRequest = ""
    """The agent's own "logout" or "pause", asked for while busy, applied when the
    call is over."""
    standby_due: bool = False
    """The pool shrank while the agent was busy: stand by when the call is over.
    Kept apart from `pending`, which is the agent's request, not the pool's."""
    pending_reason: str = ""
    last_call_end: float = 0.0
    handled_seconds: float = 0.0
    last_offer_seq: int = 0
    logged_in_at: float = 0.0
    wrap_token: int = 0
    cool_down_due: float = 0.0
    """Seconds of cool-down owed after the after-call work of an abusive call."""
