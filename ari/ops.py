"""ARI operations: the REST requests the controller makes, as small frozen records.

The translator (ari/translate.py, ari/jobs.py) decides which requests to make and in
what order; the executor (ari/controller.py) sends each with the client, a call's
requests in order in the call's lane, and hands a refusal back as a `Failure`, which
the translator turns into what it means (ari/jobs.py). Nothing here does IO.

Media and argument lists are tuples, so that a request is a value: two requests with
the same fields are equal, which is what the table tests compare.
"""

from __future__ import annotations

from dataclasses import dataclass

# ------------------------------------------------------------------ channels


@dataclass(frozen=True, slots=True)
class Answer:
    """`POST /channels/{channel}/answer`."""

    channel: str


@dataclass(frozen=True, slots=True)
class Play:
    """`POST /channels/{channel}/play`: `media` in order, as `playback_id`."""

    channel: str
    media: tuple[str, ...]
    playback_id: str
    lang: str = ""


@dataclass(frozen=True, slots=True)
class Hangup:
    """`DELETE /channels/{channel}` with Asterisk's `reason` (normal, busy, ...)."""

    channel: str
    reason: str = "normal"


@dataclass(frozen=True, slots=True)
class ContinueInDialplan:
    """`POST /channels/{channel}/continue`: out of our application, at priority 1."""

    channel: str
    context: str
    extension: str


@dataclass(frozen=True, slots=True)
class Originate:
    """`POST /channels`: dial `endpoint` into our application as `channel_id`; on
    answer the channel enters Stasis with `app_args`."""

    endpoint: str
    channel_id: str
    app_args: tuple[str, ...]
    timeout: float
    caller_id: str = ""
    originator: str = ""
    variables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Snoop:
    """`POST /channels/{channel}/snoop`: a `Snoop/` channel `snoop_id` spying on (and
    whispering into) `channel`, entering our application with `app_args`."""

    channel: str
    snoop_id: str
    spy: str
    whisper: str
    app_args: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GetChannel:
    """`GET /channels/{channel}`: asked only to learn whether it is gone (404)."""

    channel: str


# ------------------------------------------------------------------ bridges


@dataclass(frozen=True, slots=True)
class CreateBridge:
    """`POST /bridges`: `kind` is Asterisk's comma-separated type flags."""

    bridge: str
    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class HoldingBridge:
    """The queue's holding bridge (`acd-hold-<queue>`) with its music on hold, made at
    most once however many callers wait for it: the executor keeps one answer per
    queue (a create that finds it there already, 409, is fine)."""

    queue: str
    music_class: str


@dataclass(frozen=True, slots=True)
class DestroyBridge:
    """`DELETE /bridges/{bridge}`."""

    bridge: str


@dataclass(frozen=True, slots=True)
class AddChannels:
    """`POST /bridges/{bridge}/addChannel` (Asterisk adds all of them or none)."""

    bridge: str
    channels: tuple[str, ...]
    role: str = ""


@dataclass(frozen=True, slots=True)
class RemoveChannels:
    """`POST /bridges/{bridge}/removeChannel`."""

    bridge: str
    channels: tuple[str, ...]


# ------------------------------------------------------------------ playbacks, messages


@dataclass(frozen=True, slots=True)
class StopPlayback:
    """`DELETE /playbacks/{playback_id}` (one that has just ended is gone: 404)."""

    playback_id: str


@dataclass(frozen=True, slots=True)
class WaitPlayback:
    """No request: wait until `playback_id` has finished (its `PlaybackFinished`),
    at most `seconds` of the loop's time; longer fails with status 0."""

    playback_id: str
    seconds: float


@dataclass(frozen=True, slots=True)
class SendMessage:
    """`PUT /endpoints/sendMessage`: an out-of-call text message."""

    to: str
    sender: str
    body: str


Request = (
    Answer
    | Play
    | Hangup
    | ContinueInDialplan
    | Originate
    | Snoop
    | GetChannel
    | CreateBridge
    | HoldingBridge
    | DestroyBridge
    | AddChannels
    | RemoveChannels
    | StopPlayback
    | WaitPlayback
    | SendMessage
)
"""Every operation the executor knows how to carry out (a union: `isinstance` takes it,
to tell a job's requests from the effects among its steps)."""



@dataclass(frozen=True, slots=True)
class Failure:
    """A request Asterisk refused or did not answer: the client's `AriError` as a
    value. `status` is the HTTP status, 0 for no answer; `text` is the error as the
    log shows it ("DELETE /channels/c1: 404 Channel not found")."""

    status: int
    path: str = ""
    message: str = ""
    text: str = ""

    @property
    def gone(self) -> bool:
        """What it acted on does not exist (any more): a channel that hung up, a
        playback that finished, a bridge that was destroyed."""
        return self.status == 404
