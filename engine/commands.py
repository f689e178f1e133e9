"""Commands out of the engine: what the PBX should do, as small frozen records.

`Engine.handle` returns a list of these in the order they must be carried out.
The ARI controller turns each into REST calls; the simulator turns them into
modelled delays and follow-up events. A command that fails comes back to the
engine as an event (e.g. the caller's channel is gone -> `CallerHungUp`).

`CallOutcome` is the one record that asks nothing of the PBX: it reports a call's
single outcome, for the journal, reports and simulators.
"""

from __future__ import annotations

from typing import Literal

import msgspec


class _Command(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    pass


class Answer(_Command, frozen=True):
    call_id: str


class Play(_Command, frozen=True):
    """Play `media` in order to the caller. The engine waits for
    `PromptFinished(prompt_id)` where the flow depends on it (menus, announcements)."""

    call_id: str
    media: list[str]
    prompt_id: int
    language: str


class StopPlayback(_Command, frozen=True):
    """Barge-in: the caller pressed a key during a prompt."""

    call_id: str


class Hold(_Command, frozen=True):
    """Put the caller into the queue's holding bridge with music on hold."""

    call_id: str
    queue: str
    music_class: str


class AnnounceWait(_Command, frozen=True):
    """Tell a queued caller their position and expected wait (seconds, rounded up to
    the minute by the renderer), either of which may be omitted."""

    call_id: str
    queue: str
    position: int | None
    expected_wait_seconds: int | None
    language: str


class RingAgent(_Command, frozen=True):
    """Ring the agent's endpoint for this call; the offer lapses after `timeout`."""

    call_id: str
    agent_id: str
    endpoint: str
    timeout: float
    caller: str
    queue: str
    callback: bool = False
    """True when the agent takes a callback: the caller is dialled after the agent answers."""


class CancelRing(_Command, frozen=True):
    call_id: str
    agent_id: str


class Connect(_Command, frozen=True):
    """Bridge the caller and the agent (both legs are up)."""

    call_id: str
    agent_id: str


class HangupAgent(_Command, frozen=True):
    """End the agent's leg of this call (the caller's leg is not touched)."""

    call_id: str
    agent_id: str


class DialVendor(_Command, frozen=True):
    """Overflow: dial the vendor's trunk and bridge the caller to it on answer."""

    call_id: str
    vendor: str
    endpoint: str
    timeout: float
    caller: str
    queue: str


class CancelVendor(_Command, frozen=True):
    call_id: str
    vendor: str


class DialCallback(_Command, frozen=True):
    """Call the caller back (the agent is already on the line)."""

    call_id: str
    agent_id: str
    number: str
    endpoint: str
    timeout: float
    attempt: int


class SendLink(_Command, frozen=True):
    """Visible ARS: send a link to the caller's phone."""

    call_id: str
    number: str
    link: str


class Supervise(_Command, frozen=True):
    """Ring the supervisor's `endpoint` and, on answer, let them listen to the agent's
    leg, whisper to the agent, or join the call's conversation (`mode`). The engine
    keeps no state for it: the PBX side ends it when either the supervisor or the
    conversation ends."""

    call_id: str
    agent_id: str
    endpoint: str
    mode: Literal["listen", "whisper", "barge"]


HangupReason = Literal["normal", "busy", "congestion", "no_answer"]


class HangupCaller(_Command, frozen=True):
    call_id: str
    reason: HangupReason = "normal"


Outcome = Literal[
    "answered",  # an agent took it (callbacks included)
    "vendor_answered",  # overflowed and answered by a vendor
    "abandoned",  # hung up in a queue after the short-abandon threshold
    "short_abandoned",  # hung up in a queue within the threshold: not offered
    "blocked",  # the queue was full
    "callback_failed",  # the callback was never answered
    "ivr_abandoned",  # hung up before reaching a queue
    "self_served",  # ended in the IVR by design: link sent, closed-hours message
    "ivr_failed",  # no valid input after the retries, no fallback route
]
"""The single outcome of a call. The first four reached a queue."""


class CallOutcome(_Command, frozen=True):
    """Report only: the call's outcome became final (sent exactly once per call, at the
    moment it is decided: on connection for answered calls)."""

    call_id: str
    outcome: Outcome
    queue: str | None
    wait_seconds: float
    """Time from joining the queue to the outcome (0 for calls that never queued)."""
    agent_id: str | None = None
    vendor: str | None = None


Command = (
    Answer
    | Play
    | StopPlayback
    | Hold
    | AnnounceWait
    | RingAgent
    | CancelRing
    | Connect
    | HangupAgent
    | DialVendor
    | CancelVendor
    | DialCallback
    | SendLink
    | Supervise
    | HangupCaller
    | CallOutcome
)
