"""Events into the engine: everything that can happen to a site, as small frozen records.

The engine's only input is `Engine.handle(event, now)`. Drivers (the ARI controller,
the surge simulator, tests) translate what they see into these records. Each record
is a msgspec Struct tagged by its class name, so the journal can store them as
MessagePack or JSON and decode them back to the same type (`EVENT_DECODER`).

An event that names an unknown call or agent, or arrives in a state where it means
nothing (a late ring timeout, a second hang-up), is counted as an anomaly and
otherwise ignored: a telephone network delivers such things and must not crash us.
"""

from __future__ import annotations

from typing import Literal

import msgspec


class _Event(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    pass


# --- callers -------------------------------------------------------------------


class CallArrived(_Event, frozen=True):
    """A caller reached the engine (ARI StasisStart of an inbound channel)."""

    call_id: str
    caller: str = ""
    """The caller's number (ANI), used for callbacks and links."""
    dnis: str = ""
    """The dialled number; `ivr.by_dnis` may choose the entry node from it."""


class DigitPressed(_Event, frozen=True):
    call_id: str
    digit: str


class PromptFinished(_Event, frozen=True):
    """A `Play` with this `prompt_id` finished (or was stopped or failed)."""

    call_id: str
    prompt_id: int


class CallerHungUp(_Event, frozen=True):
    call_id: str


# --- agents ----------------------------------------------------------------------


class AgentLogin(_Event, frozen=True):
    agent_id: str


class AgentLogout(_Event, frozen=True):
    agent_id: str


class AgentPause(_Event, frozen=True):
    agent_id: str
    reason: str = "break"


class AgentUnpause(_Event, frozen=True):
    agent_id: str


class AgentReady(_Event, frozen=True):
    """The agent ends wrap-up early."""

    agent_id: str


class AgentAnswered(_Event, frozen=True):
    agent_id: str
    call_id: str


MissCause = Literal["no_answer", "busy", "unreachable", "declined"]


class AgentMissed(_Event, frozen=True):
    """The agent's phone did not take the offer: Q.850 19 (no answer), 17 (busy),
    an unreachable endpoint, or an explicit decline."""

    agent_id: str
    call_id: str
    cause: MissCause = "no_answer"


class AgentHungUp(_Event, frozen=True):
    agent_id: str
    call_id: str


class AgentFlaggedAbusive(_Event, frozen=True):
    """The agent marks the caller as abusive: warn the caller, disconnect them, and
    give the agent a cool-down (worker protection)."""

    agent_id: str
    call_id: str


class AgentReferredCallback(_Event, frozen=True):
    """The agent passes the caller to another queue as a callback (the return-call
    centre: e.g. a nurse calls back about vaccine side effects)."""

    agent_id: str
    call_id: str
    queue: str


# --- vendors and callbacks ---------------------------------------------------------


class VendorAnswered(_Event, frozen=True):
    call_id: str


class VendorFailed(_Event, frozen=True):
    """The vendor trunk did not take the call (busy, no answer, congestion)."""

    call_id: str
    cause: str = "busy"


class VendorHungUp(_Event, frozen=True):
    call_id: str


class CallbackAnswered(_Event, frozen=True):
    """The caller picked up the callback."""

    call_id: str


class CallbackFailed(_Event, frozen=True):
    call_id: str
    cause: str = "no_answer"


# --- supervisors -------------------------------------------------------------------


class SetSurgeStage(_Event, frozen=True):
    """Pin the surge stage; `stage=None` hands it back to the automatic rule."""

    stage: int | None


class SetDistancingLevel(_Event, frozen=True):
    level: str


class SetAgentSkill(_Event, frozen=True):
    """Grant or change a skill (`level` 1-5), or withdraw it (`level=None`)."""

    agent_id: str
    skill: str
    level: int | None
    source: Literal["trained", "certified", "experience", "vendor"] = "trained"


class MoveAgent(_Event, frozen=True):
    """Move an agent to another pool."""

    agent_id: str
    pool: str


class SetAnnouncement(_Event, frozen=True):
    """An emergency announcement for callers joining `queues` (all when empty);
    `media=[]` clears it."""

    media: list[str]
    queues: list[str] = []


SuperviseMode = Literal["listen", "whisper", "barge"]
"""`listen`: the supervisor hears both sides, nobody hears them; `whisper`: only the
agent hears them (coaching); `barge`: they join the conversation."""


class SuperviseCall(_Event, frozen=True):
    """A supervisor asks to listen to, whisper to or barge into a call in conversation
    with an agent; their own phone (`endpoint`, e.g. `PJSIP/sup01`) is rung."""

    call_id: str
    endpoint: str
    mode: SuperviseMode


# --- the clock and the PBX ---------------------------------------------------------


class TimerFired(_Event, frozen=True):
    """Time has reached `Engine.next_deadline()`. Any event also fires due timers."""


Event = (
    CallArrived
    | DigitPressed
    | PromptFinished
    | CallerHungUp
    | AgentLogin
    | AgentLogout
    | AgentPause
    | AgentUnpause
    | AgentReady
    | AgentAnswered
    | AgentMissed
    | AgentHungUp
    | AgentFlaggedAbusive
    | AgentReferredCallback
    | VendorAnswered
    | VendorFailed
    | VendorHungUp
    | CallbackAnswered
    | CallbackFailed
    | SetSurgeStage
    | SetDistancingLevel
    | SetAgentSkill
    | MoveAgent
    | SetAnnouncement
    | SuperviseCall
    | TimerFired
)

EVENT_DECODER = msgspec.json.Decoder(Event)
"""Decodes one JSON event (with its `type` tag) into its typed record."""
