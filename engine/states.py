"""Call and agent states, and the transitions between them, written as data.

As in h11, a state machine is a table: `(state, trigger) -> next state`. A trigger
that the table does not list for the current state is meaningless there (a late
or duplicated event) and the engine ignores it, counting an anomaly. Keeping the
tables here, apart from the code that acts on them, lets a reader check the whole
life of a call or an agent on one screen.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

PromptKind = Literal[
    "",  # nothing playing whose end matters
    "menu",  # a menu: its end starts the digit timer
    "digit",  # the digit timer runs (the menu's prompt has ended)
    "announce",  # an IVR announcement: its end goes on to the next node
    "link",  # the link-sent message: its end goes on
    "close",  # a closing message: its end hangs the caller up
    "info",  # a queue's join prompt or a callback offer: its end changes nothing
    "callback_confirm",  # a callback's confirmation: its end hangs the line up
    "warning",  # the abusive-caller warning: its end ends the call
]
"""What the end of a call's current prompt means to the engine (`Call.prompt_kind`)."""

TimerKind = Literal[
    "menu",  # a menu's digit timer: the caller pressed nothing
    "ring",  # an agent's ring timeout: a missed ring
    "wrap",  # an agent's after-call work ends
    "relax",  # a waiting caller's next relaxation step
    "overflow",  # a waiting caller may now qualify under an overflow rule
    "announce",  # a waiting caller's next position / wait announcement
    "vendor_timeout",  # a vendor trunk did not answer
    "vendor_free",  # a vendor may take calls again (a cap's hour, its rest)
    "dialback",  # a called-back citizen did not answer
    "retry",  # a callback's next attempt
    "surge",  # the minute's look at the inbound rate (automatic surge stages)
]
"""The engine's timers; each kind has a test of whether it still means something and
a handler (`Engine.__init__` gives `Timers` one of each per kind)."""


AgentRequest = Literal["", "logout", "pause"]
"""An agent's own logout or pause asked for while busy, applied when the call is over
(`Agent.pending`; "": none)."""


class CallState(StrEnum):
    IVR = "ivr"
    """In the menus."""
    WAITING = "waiting"
    """In a queue, waiting for an agent or a vendor (or, with `callback` set, for
    its turn to be called back: the caller's line is then already down)."""
    RETRY_WAIT = "retry_wait"
    """A callback that was not answered, waiting to be tried again."""
    OFFERED = "offered"
    """An agent is reserved and ringing."""
    CONNECTING = "connecting"
    """The agent answered; the pre-connect announcement is still playing."""
    DIALING_BACK = "dialing_back"
    """The agent answered a callback; the caller is being dialled."""
    CONNECTED = "connected"
    VENDOR_DIALING = "vendor_dialing"
    VENDOR_CONNECTED = "vendor_connected"
    WARNING = "warning"
    """The agent flagged the caller as abusive; the warning plays, then hang-up."""
    CLOSING = "closing"
    """A last prompt plays before the engine hangs up (IVR end, queue full)."""


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RESERVED = "reserved"
    """Offered a call: the phone is ringing."""
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    """After-call work: counts as handling the call (AHT)."""
    RESTING = "resting"
    """A short rest after a missed ring (`missed_ring.rest_seconds`)."""
    COOLING_DOWN = "cooling_down"
    """The rest owed after an abusive call's after-call work; not skippable."""
    PAUSED = "paused"
    """On a break, with the agent's (or supervisor's) reason code."""
    STANDBY = "standby"
    """Logged in but held out of service: the pool is over its size for now."""


C = CallState

CallTrigger = Literal[
    "queue", "close", "offer", "overflow", "full", "answered", "answered_callback",
    "missed", "connect", "agent_left", "callback_failed", "retry", "vendor_answered",
    "vendor_failed", "abusive",
]
"""What moves a call along `CALL_TRANSITIONS`."""

CALL_TRANSITIONS: dict[tuple[CallState, CallTrigger], CallState] = {
    (C.IVR, "queue"): C.WAITING,
    (C.IVR, "close"): C.CLOSING,
    (C.WAITING, "offer"): C.OFFERED,
    (C.WAITING, "overflow"): C.VENDOR_DIALING,
    (C.WAITING, "full"): C.CLOSING,
    (C.OFFERED, "answered"): C.CONNECTING,
    (C.OFFERED, "answered_callback"): C.DIALING_BACK,
    (C.OFFERED, "missed"): C.WAITING,
    (C.CONNECTING, "connect"): C.CONNECTED,
    (C.CONNECTING, "agent_left"): C.WAITING,
    (C.DIALING_BACK, "agent_left"): C.WAITING,
    (C.DIALING_BACK, "connect"): C.CONNECTED,
    (C.DIALING_BACK, "callback_failed"): C.RETRY_WAIT,
    (C.RETRY_WAIT, "retry"): C.WAITING,
    (C.VENDOR_DIALING, "vendor_answered"): C.VENDOR_CONNECTED,
    (C.VENDOR_DIALING, "vendor_failed"): C.WAITING,
    (C.CONNECTED, "abusive"): C.WARNING,
}
"""Every move a live call can make. Hang-ups, which end a call from any state, are
not listed: a call that ends leaves the table of calls altogether."""

A = AgentState

AgentTrigger = Literal[
    "login", "offer", "pause", "logout", "answered", "missed", "cancelled", "call_ended",
    "wrap_up_done", "ready", "cool_down", "unpause", "stand_by", "release",
]
"""What moves an agent along `AGENT_TRANSITIONS`."""

AGENT_TRANSITIONS: dict[tuple[AgentState, AgentTrigger], AgentState] = {
    (A.LOGGED_OUT, "login"): A.AVAILABLE,
    (A.AVAILABLE, "offer"): A.RESERVED,
    (A.AVAILABLE, "pause"): A.PAUSED,
    (A.AVAILABLE, "logout"): A.LOGGED_OUT,
    (A.AVAILABLE, "stand_by"): A.STANDBY,
    (A.RESERVED, "answered"): A.ON_CALL,
    (A.RESERVED, "missed"): A.RESTING,
    (A.RESERVED, "cancelled"): A.AVAILABLE,
    (A.ON_CALL, "call_ended"): A.WRAP_UP,
    (A.ON_CALL, "cancelled"): A.AVAILABLE,
    (A.WRAP_UP, "wrap_up_done"): A.AVAILABLE,
    (A.WRAP_UP, "ready"): A.AVAILABLE,
    (A.WRAP_UP, "cool_down"): A.COOLING_DOWN,
    (A.WRAP_UP, "pause"): A.PAUSED,
    (A.WRAP_UP, "logout"): A.LOGGED_OUT,
    (A.WRAP_UP, "stand_by"): A.STANDBY,
    (A.RESTING, "wrap_up_done"): A.AVAILABLE,
    (A.RESTING, "ready"): A.AVAILABLE,
    (A.RESTING, "pause"): A.PAUSED,
    (A.RESTING, "logout"): A.LOGGED_OUT,
    (A.RESTING, "stand_by"): A.STANDBY,
    (A.COOLING_DOWN, "wrap_up_done"): A.AVAILABLE,
    (A.COOLING_DOWN, "pause"): A.PAUSED,
    (A.COOLING_DOWN, "logout"): A.LOGGED_OUT,
    (A.COOLING_DOWN, "stand_by"): A.STANDBY,
    (A.PAUSED, "unpause"): A.AVAILABLE,
    (A.PAUSED, "pause"): A.PAUSED,
    (A.PAUSED, "logout"): A.LOGGED_OUT,
    (A.PAUSED, "stand_by"): A.STANDBY,
    (A.STANDBY, "release"): A.AVAILABLE,
    (A.STANDBY, "logout"): A.LOGGED_OUT,
}
"""Every move an agent can make. A pause or logout asked for while the agent is
reserved or on a call is kept pending and applied when the wrap-up ends. Standby is
the pool's doing (`stand_by`, `release`), never the agent's: a break cannot start or
end it. A cool-down has no `ready`: it protects the agent."""

DEFERRED_WHILE_BUSY = frozenset({"pause", "logout"})
BUSY_STATES = frozenset({A.RESERVED, A.ON_CALL})
STAFFED_STATES = frozenset(
    {A.AVAILABLE, A.RESERVED, A.ON_CALL, A.WRAP_UP, A.RESTING, A.COOLING_DOWN}
)
"""States in which an agent counts as staffing their queues (expected-wait estimates)."""
HANDLING_STATES = frozenset({A.RESERVED, A.ON_CALL, A.WRAP_UP})
"""States whose time counts as handling (occupancy): ringing, talking, after-call work."""
WRAPPING_STATES = frozenset({A.WRAP_UP, A.RESTING, A.COOLING_DOWN})
"""States that end when the agent's wrap timer fires (`Agent.wrap_token`)."""

SHOWN_STATES = ("logged_out", "available", "reserved", "on_call", "wrap_up", "paused")
"""The agent states supervisors, reports and Asterisk's queue_log name (`shown`)."""
_SHOWN: dict[AgentState, tuple[str, str]] = {
    A.WRAP_UP: ("wrap_up", "acw"),
    A.RESTING: ("wrap_up", "missed"),
    A.COOLING_DOWN: ("wrap_up", "cool-down"),
    A.STANDBY: ("paused", "standby"),
}


def shown(state: AgentState, reason: str) -> tuple[str, str]:
    """An agent's state and reason as supervisors see them (`SHOWN_STATES`): a rest
    is a wrap-up with its kind as the reason, standby a pause with reason "standby",
    as Asterisk's queue members show them; a pause keeps its own reason."""
    return _SHOWN.get(state, (state.value, reason))
IN_LINE = frozenset(
    {C.WAITING, C.RETRY_WAIT, C.OFFERED, C.CONNECTING, C.DIALING_BACK, C.VENDOR_DIALING}
)
"""States of a call not yet put through: it may still return to its place in line
(a missed ring, an agent who leaves, a vendor that fails), so its waiting timers
(relaxation, announcements) still count."""
