"""Facts: what happened at the site, as small frozen records, for the logs others read.

Commands say what the PBX must do; facts say what happened to callers and agents in
the terms a call-centre log uses (Asterisk's `queue_log`: `acd.queue_log.lines`): a
caller entered a queue at some position, an agent's phone rang and nobody answered,
a call was connected, completed, abandoned. They ask nothing of anybody.

Off by default, and free when off: `Engine.facts` is None, and each place that could
report a fact tests that once (`if facts is not None`), at points that are already
rare or already do work per call. A driver that wants them sets `engine.facts = []`
and takes the list's contents after each `handle` (the facts of one `handle` are in
the order they happened; each carries its own time, `at`, so a driver may also take
them less often). Like the engine, facts read no clock: `at` is the `now` of the
`handle` that produced them.

A fact carries what the engine knows at that moment and nothing it would have to
keep for the log's sake: a caller's original position, when a phone started ringing
and when the call was connected are in earlier facts of the same call, which a
reader that needs them (`acd.queue_log.lines.QueueLogLines`) remembers.

Members: a call is offered to an agent (`agent_id`) or, on overflow, to a vendor's
trunk (`vendor`); exactly one of the two is set in the facts that name a member.
"""

from __future__ import annotations

import msgspec


class _Fact(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    at: float
    """Epoch seconds: the `now` of the `Engine.handle` in which it happened."""


# --- calls in queues ----------------------------------------------------------------


class CallEnteredQueue(_Fact, frozen=True):
    """A caller took a place in a queue (not one turned away by `max_waiting`; a
    callback referred by an agent enters this way too, with its line down)."""

    call_id: str
    queue: str
    caller: str
    """The caller's number (ANI), "" when withheld."""
    position: int
    """1-based place in line on entering: callers waiting ahead of it, plus one."""


class MemberRung(_Fact, frozen=True):
    """An agent's phone (or a vendor's trunk, on overflow) rings for the call."""

    call_id: str
    queue: str
    agent_id: str = ""
    vendor: str = ""


class MemberAnswered(_Fact, frozen=True):
    """The agent answered the ring (the call is bridged at once, or after the
    pre-connect notice; for a callback, the caller is dialled now)."""

    call_id: str
    queue: str
    agent_id: str


class RingNoAnswer(_Fact, frozen=True):
    """The ring ended with no answer and the call went back to its place in line:
    the ring timed out (`timed_out`), or the phone or trunk refused, was busy or
    unreachable, or the agent's leg went down while it rang."""

    call_id: str
    queue: str
    timed_out: bool
    agent_id: str = ""
    vendor: str = ""


class RingCanceled(_Fact, frozen=True):
    """The caller hung up while the member's phone or trunk rang."""

    call_id: str
    queue: str
    agent_id: str = ""
    vendor: str = ""


class AgentDumped(_Fact, frozen=True):
    """The agent hung up after answering but before the caller was put through
    (during the pre-connect notice, or while a callback was being dialled): the
    call went back to its place in line."""

    call_id: str
    queue: str
    agent_id: str


class CallConnected(_Fact, frozen=True):
    """The caller and the member are talking (an agent: bridged; a vendor: answered)."""

    call_id: str
    queue: str
    agent_id: str = ""
    vendor: str = ""


class CallCompleted(_Fact, frozen=True):
    """A connected call ended; `by_caller` tells who hung up first (an agent who
    flags the caller as abusive ends the conversation: not the caller)."""

    call_id: str
    queue: str
    by_caller: bool
    agent_id: str = ""
    vendor: str = ""


class CallAbandoned(_Fact, frozen=True):
    """The caller hung up before being connected: while waiting, while a member
    rang (after `RingCanceled`), or after the agent answered but before being put
    through (`agent_id` is then that agent). Short abandons included."""

    call_id: str
    queue: str
    position: int
    """1-based place in line when the caller left."""
    agent_id: str = ""


class CallExitedWithTimeout(_Fact, frozen=True):
    """The queue gave the call up without the caller leaving: a callback not reached
    after the queue's last attempt."""

    call_id: str
    queue: str
    position: int


# --- callbacks ----------------------------------------------------------------------


class CallbackRequested(_Fact, frozen=True):
    """The caller pressed `digit` to be called back and keeps their place in line;
    or an agent (`agent_id`, `digit` "") referred the caller to this queue as a
    callback (after the callback's `CallEnteredQueue`)."""

    call_id: str
    queue: str
    position: int
    digit: str
    agent_id: str = ""


class CallbackDialled(_Fact, frozen=True):
    """The agent answered the callback's ring; the caller's number is dialled."""

    call_id: str
    queue: str
    agent_id: str
    attempt: int


class CallbackNotReached(_Fact, frozen=True):
    """The caller did not pick up the callback (`cause`: "no_answer", "busy",
    "hangup", ...); it is tried again later, or given up (`CallExitedWithTimeout`)."""

    call_id: str
    queue: str
    agent_id: str
    attempt: int
    cause: str


# --- agents -------------------------------------------------------------------------


class AgentLoggedIn(_Fact, frozen=True):
    agent_id: str
    queues: tuple[str, ...]
    """The queues the agent serves (their routes), in the configuration's order."""


class AgentLoggedOut(_Fact, frozen=True):
    agent_id: str
    queues: tuple[str, ...]
    logged_in_at: float


class AgentPaused(_Fact, frozen=True):
    """Paused in all their queues (a break, a missed-ring pause "missed", the pool's
    "standby"); also a paused agent's reason changing."""

    agent_id: str
    queues: tuple[str, ...]
    reason: str


class AgentUnpaused(_Fact, frozen=True):
    agent_id: str
    queues: tuple[str, ...]


class MemberAdded(_Fact, frozen=True):
    """A logged-in agent now serves one more queue (a skill granted, a pool move)."""

    agent_id: str
    queue: str
    paused: bool


class MemberRemoved(_Fact, frozen=True):
    """A logged-in agent no longer serves a queue (a skill withdrawn, a pool move)."""

    agent_id: str
    queue: str


Fact = (
    CallEnteredQueue
    | MemberRung
    | MemberAnswered
    | RingNoAnswer
    | RingCanceled
    | AgentDumped
    | CallConnected
    | CallCompleted
    | CallAbandoned
    | CallExitedWithTimeout
    | CallbackRequested
    | CallbackDialled
    | CallbackNotReached
    | AgentLoggedIn
    | AgentLoggedOut
    | AgentPaused
    | AgentUnpaused
    | MemberAdded
    | MemberRemoved
)
"""Every fact the engine reports (see the module docstring)."""
