"""What the translator asks of the executor, as small frozen records.

The translator (ari/translate.py and the modules it stands on) never does anything
itself: each of its functions changes the bookkeeping (ari/books.py) and returns a
list of effects, which the executor (ari/controller.py) carries out in that order:

- `Feed`: hand an event to the engine (its commands come back for translating);
- `Submit`: run a job in a lane, after the lane's earlier work (one lane per call,
  so one call's requests keep the engine's order); `Spawn`: run one beside them;
- `Report`: log a failed request (unanswered ones go into a summary line);
- `Stamp`, `Sample`, `Unstamp`: latency samples, timed by the executor's clock;
- `Played`: a playback someone waits for (the shutdown's last prompt) has ended;
- the deferred steps `Forget`, `LegEnded`, `LegAnswered`, `Rebridge`: translator
  work that must see the effects before it (a call is forgotten only once the engine
  has heard of its end); the executor hands them back to `settle.resume` in turn.

A job is a lane's unit of work: a few requests in order, whose plan is made when the
lane reaches it (the channel may have hung up meanwhile) and whose failures are
turned into effects by ari/jobs.py. Jobs are data too: the tables in the tests
compare them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from acd.ari.ops import ContinueInDialplan, Hangup, Request
from acd.engine import events as ev

Metric = Literal["first_command", "bridge"]
"""`first_command`: an inbound call's StasisStart to its first request answered;
`bridge`: an agent's (or vendor's) leg answered to the caller and it bridged."""


# ------------------------------------------------------------------ jobs


@dataclass(frozen=True, slots=True)
class Quiet:
    """One request whose failure changes nothing (what it acted on is gone already);
    a failure other than "gone" is counted and logged."""

    request: Request


@dataclass(frozen=True, slots=True)
class Release:
    """Hang up a leg the engine ended itself, unless it has ended already."""

    channel: str
    reason: str = "normal"


@dataclass(frozen=True, slots=True)
class AnswerCaller:
    """Answer the call's caller leg (whichever channel that is when the lane gets
    here). A gone channel is the caller hanging up."""

    call_id: str


@dataclass(frozen=True, slots=True)
class PlayPrompt:
    """Play a prompt the engine waits for to the caller. If it cannot play (other
    than the caller being gone), it has finished: `PromptFinished`."""

    call_id: str
    media: tuple[str, ...]
    playback_id: str
    lang: str
    prompt_id: int


@dataclass(frozen=True, slots=True)
class Announce:
    """Tell a waiting caller their position and wait; nobody waits for its end."""

    call_id: str
    media: tuple[str, ...]
    playback_id: str
    lang: str


@dataclass(frozen=True, slots=True)
class HoldCaller:
    """Put the caller into the queue's holding bridge (made once per queue)."""

    call_id: str
    queue: str
    music_class: str


@dataclass(frozen=True, slots=True)
class HangUpCaller:
    """Hang up one of the caller's lines (the caller's leg or a ringing callback)."""

    channel: str
    reason: str


@dataclass(frozen=True, slots=True)
class Dial:
    """Originate a leg we named (ari.legs.leg_id) for the call. A refused originate
    is the leg failing: a miss for an agent, a failure for a vendor or callback.
    `command` names the engine's command in the log."""

    call_id: str
    channel: str
    endpoint: str
    timeout: float
    caller_id: str
    variables: tuple[tuple[str, str], ...]
    command: str


@dataclass(frozen=True, slots=True)
class Talk:
    """Bridge the caller with `partner` (an agent's or vendor's leg) in `bridge`:
    `kept`, an agent's own bridge kept from call to call, else one for this call."""

    call_id: str
    partner: str
    bridge: str
    kept: bool


@dataclass(frozen=True, slots=True)
class Confirm:
    """An agent's feature call: answer, play `prompt` (hung up when it ends), or hang
    up at once when there is no prompt to play."""

    channel: str
    playback_id: str
    prompt: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SendLink:
    """Text `link` to `number`, from the centre's number (read when sent)."""

    call_id: str
    number: str
    link: str


@dataclass(frozen=True, slots=True)
class Barge:
    """A supervisor who answered joins the call's talk `bridge` ("" if there is none)."""

    call_id: str
    supervisor: str
    bridge: str
    mode: str


@dataclass(frozen=True, slots=True)
class StartSnoop:
    """To listen or whisper: the spy bridge, the supervisor in it, and the snoop
    channel `snoop` on the agent's leg (its StasisStart then adds it: `SpyAdd`)."""

    call_id: str
    supervisor: str
    snoop: str
    agent_leg: str
    whisper: str
    mode: str


@dataclass(frozen=True, slots=True)
class SpyAdd:
    """The snoop channel, in Stasis now, joins the supervisor in the spy bridge."""

    call_id: str
    supervisor: str
    channel: str
    mode: str


@dataclass(frozen=True, slots=True)
class HandBack:
    """Shutdown: stop the caller's prompt, take them out of their bridge, play
    `prompt` (if any) to its end, then hand them to the dialplan or hang up."""

    call_id: str
    channel: str
    prompt: tuple[str, ...]
    playback_id: str
    leave: ContinueInDialplan | Hangup
    """How they leave: on in the dialplan (`live.on_shutdown: continue`), or hung up."""


Job = (
    Quiet
    | Release
    | AnswerCaller
    | PlayPrompt
    | Announce
    | HoldCaller
    | HangUpCaller
    | Dial
    | Talk
    | Confirm
    | SendLink
    | Barge
    | StartSnoop
    | SpyAdd
    | HandBack
)


# ------------------------------------------------------------------ effects


@dataclass(frozen=True, slots=True)
class Feed:
    event: ev.Event


@dataclass(frozen=True, slots=True)
class Submit:
    lane: str
    job: Job


@dataclass(frozen=True, slots=True)
class Spawn:
    job: Job


@dataclass(frozen=True, slots=True)
class Report:
    """A failed request to log at `level`; `status` 0 (no answer) goes into the
    executor's summary line instead (ari/unanswered.py)."""

    level: int
    line: str
    status: int


@dataclass(frozen=True, slots=True)
class Stamp:
    metric: Metric
    key: str


@dataclass(frozen=True, slots=True)
class Sample:
    """End the sample `Stamp(metric, key)` began, if it did."""

    metric: Metric
    key: str


@dataclass(frozen=True, slots=True)
class Unstamp:
    metric: Metric
    key: str


@dataclass(frozen=True, slots=True)
class Played:
    playback_id: str


@dataclass(frozen=True, slots=True)
class Forget:
    """Drop the call's legs from the books if the engine is done with it and every
    leg has ended."""

    call_id: str


@dataclass(frozen=True, slots=True)
class LegEnded:
    """The leg's channel has ended (settle.gone), after the steps before this one."""

    channel: str


@dataclass(frozen=True, slots=True)
class LegAnswered:
    """The leg's far end has answered (settle.answered), after the steps before it."""

    channel: str


@dataclass(frozen=True, slots=True)
class Rebridge:
    """The leg is in `bridge` ("" none), as Asterisk's list says."""

    channel: str
    bridge: str


Deferred = Forget | LegEnded | LegAnswered | Rebridge

Effect = Feed | Submit | Spawn | Report | Stamp | Sample | Unstamp | Played | Deferred

Step = Request | Effect
"""What a job's plan is made of: requests to send, and effects in their place."""
