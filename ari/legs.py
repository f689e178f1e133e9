"""What the controller remembers about the PBX's channels: the legs of each call.

A call (the engine's `call_id`) has one caller leg at a time (the inbound channel, or
the channel of a callback once answered), at most one agent leg and one vendor leg
ringing or talking, and a talk (mixing) bridge once connected. Feature legs are an
agent's short calls to a feature code (login, pause...).

Pure bookkeeping: no IO, so the rules for "what does this channel's end mean for the
engine" can be read, and tested, in one place (`end_event`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Literal, get_args

from acd.engine import events as ev

LegKind = Literal["caller", "agent", "vendor", "callback", "feature", "supervisor", "snoop"]

SUPERVISION_KINDS = frozenset({"supervisor", "snoop"})
"""A supervisor's phone and the snoop channel on an agent's leg: their ends are no
news for the engine (see `Supervision`)."""

HOLD_PREFIX = "acd-hold-"
"""Holding bridges are named after their queue: `acd-hold-<queue>`."""
TALK_PREFIX = "acd-talk-"
SPY_PREFIX = "acd-spy-"
"""The mixing bridge of a supervisor listening or whispering: their leg and the snoop."""


@dataclass(slots=True)
class Leg:
    channel_id: str
    kind: LegKind
    call_id: str = ""
    agent_id: str = ""
    answered: bool = False
    """The far end picked up (the originated leg entered Stasis)."""
    released: bool = False
    """The engine ended this leg itself (cancelled ring, hung up): its end is no news."""
    gone: bool = False
    cause: int = 0
    """The last hang-up cause Asterisk gave for it (0: none yet)."""
    bridge: str = ""
    """The bridge it is in, as far as we know."""
    keys: str = ""
    """The agent's last keys during a conversation (for the abusive-caller code)."""
    dialling: bool = False
    """Its originate is in flight: Asterisk may not list it yet."""


@dataclass(slots=True)
class CallLegs:
    call_id: str
    caller: str = ""
    """Channel id of the caller's current leg ("" while a callback is not yet dialled)."""
    agent: str = ""
    vendor: str = ""
    callback: str = ""
    """A callback leg that is ringing (it becomes `caller` when answered)."""
    talk_bridge: str = ""
    playback: str = ""
    """The playback of the prompt the engine waits for, if any."""
    legs: list[str] = field(default_factory=list)
    """Every channel id this call ever had."""


@dataclass(slots=True)
class Supervision:
    """A supervisor on a call (the engine's `Supervise`): their phone's leg and, to
    listen or whisper, a snoop channel on the agent's leg, both in a bridge of their
    own; to barge, their leg joins the call's talk bridge. Ends with either side."""

    call_id: str
    mode: str
    supervisor: str
    """Channel id of the supervisor's leg."""
    agent_leg: str
    """The agent's leg it was asked for (the one snooped on)."""
    snoop: str = ""
    bridge: str = ""
    """The spy bridge (listen, whisper) once asked for."""


MISS_CAUSES: dict[int, ev.MissCause] = {
    17: "busy",  # USER_BUSY: SIP 486
    18: "no_answer",  # NO_USER_RESPONSE
    19: "no_answer",  # NO_ANSWER: rang out (transcript 04)
    21: "declined",  # CALL_REJECTED: SIP 603
}
"""Q.850 causes of an unanswered leg, as the engine names them; others: unreachable."""

FAIL_CAUSES: dict[int, str] = {**MISS_CAUSES, 34: "congestion"}
"""The same for a vendor trunk or a called-back number, which may also be congested."""


def miss_cause(cause: int) -> ev.MissCause:
    # 0: the leg vanished without a cause (lost in a gap of the events socket):
    # it most likely rang out.
    return MISS_CAUSES.get(cause, "no_answer" if cause == 0 else "unreachable")


def end_event(leg: Leg, call: CallLegs | None) -> ev.Event | None:
    """What the end of `leg` means for the engine, or None if nothing.

    - the caller's current leg: the caller hung up (the engine also expects this report
      for a line it hung up itself);
    - a ringing agent, vendor or callback leg that the engine did not cancel: a miss or
      failure, with the cause Asterisk gave (17 busy, 19 no answer, ...);
    - an answered agent or vendor leg the engine did not hang up: they hung up;
    - an answered callback leg: the called-back caller hung up;
    - a supervisor's leg or a snoop channel: nothing (the controller ends the rest).
    """
    if leg.kind == "feature" or leg.kind in SUPERVISION_KINDS or leg.released or call is None:
        return None
    cid = call.call_id
    if leg.kind == "caller":
        return ev.CallerHungUp(call_id=cid) if call.caller == leg.channel_id else None
    if leg.kind == "agent":
        if leg.answered:
            return ev.AgentHungUp(agent_id=leg.agent_id, call_id=cid)
        return ev.AgentMissed(agent_id=leg.agent_id, call_id=cid, cause=miss_cause(leg.cause))
    if leg.kind == "vendor":
        if leg.answered:
            return ev.VendorHungUp(call_id=cid)
        return ev.VendorFailed(call_id=cid, cause=FAIL_CAUSES.get(leg.cause, "unreachable"))
    # callback
    if leg.answered:
        return ev.CallerHungUp(call_id=cid) if call.caller == leg.channel_id else None
    return ev.CallbackFailed(call_id=cid, cause=FAIL_CAUSES.get(leg.cause, "unreachable"))


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def leg_id(kind: LegKind, unique: str, call_id: str, agent_id: str = "") -> str:
    """The channel id of a leg we originate: `acd-<kind>-<unique>~<call>~<agent>` (both
    base64url), so that an engine taking over can tell whose leg a channel is from
    Asterisk's own list, with nothing else remembered."""
    return f"acd-{kind}-{unique}~{_b64(call_id)}~{_b64(agent_id)}"


def parse_leg_id(channel_id: str) -> tuple[LegKind, str, str] | None:
    """(kind, call id, agent id) of a channel id made by `leg_id`, else None."""
    head, sep, rest = channel_id.partition("~")
    parts = head.split("-")
    if not sep or len(parts) < 3 or parts[0] != "acd" or parts[1] not in get_args(LegKind):
        return None
    call, _, agent = rest.partition("~")
    try:
        return parts[1], _unb64(call), _unb64(agent)  # type: ignore[return-value]
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def playback_id(call_id: str, prompt_id: int) -> str:
    """The playback id of a prompt the engine waits for: made from the engine's own
    numbers, so an engine taking over can ask Asterisk whether it still plays."""
    return f"acd-pb-{prompt_id}~{_b64(call_id)}"


def endpoint_of(channel_name: str) -> str:
    """"PJSIP/agent1001-0000000a" -> "PJSIP/agent1001" (Asterisk appends a sequence)."""
    base, sep, _seq = channel_name.rpartition("-")
    return base if sep else channel_name


def wait_announcement(position: int | None, expected_wait_seconds: int | None) -> list[str]:
    """app_queue's own sounds for a position and expected-wait announcement:
    "You are now caller number 3 ... The estimated hold time is 4 minutes"."""
    media: list[str] = []
    if position is not None:
        if position <= 1:
            media.append("sound:queue-youarenext")
        else:
            media += ["sound:queue-thereare", f"number:{position}", "sound:queue-callswaiting"]
    if expected_wait_seconds is not None:
        minutes = max(1, -(-expected_wait_seconds // 60))
        media += ["sound:queue-holdtime", f"number:{minutes}", "sound:queue-minutes"]
    return media
