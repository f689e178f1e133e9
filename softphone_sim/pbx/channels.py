"""Channels of the virtual Asterisk: their state and the ARI `Channel` snapshot they show.

Also the small vocabularies a channel carries: Q.850 hangup causes with Asterisk's
texts, the SIP status each maps to (`tech_cause`), the dial status `ast_dial` reports for
a cause, Asterisk's timestamp format, and caller-id parsing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING

from acd.ari import models

if TYPE_CHECKING:
    from acd.softphone_sim.pbx.asterisk import PbxLine
    from acd.softphone_sim.pbx.bridges import Bridge
    from acd.softphone_sim.pbx.phones import FarEnd
    from acd.softphone_sim.pbx.playbacks import Playback

# Q.850 causes, with the texts of Asterisk's ast_cause2str().
CAUSE_TEXT: dict[int, str] = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    3: "No route to destination",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    21: "Call Rejected",
    26: "Answered elsewhere",
    27: "Destination out of order",
    28: "Invalid number format (incomplete number)",
    31: "Normal, unspecified",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    41: "Temporary failure",
    58: "Bearer capability not presently available",
    102: "Recovery on timer expiry",
    127: "Interworking, unspecified",
}

# The SIP response chan_pjsip sends or receives for a cause (tech_cause in events).
CAUSE_SIP: dict[int, int] = {
    1: 404, 3: 404, 17: 486, 18: 408, 19: 480, 21: 603, 26: 200, 27: 502,
    28: 484, 34: 503, 38: 500, 41: 503, 58: 488, 102: 408, 127: 500,
}

# ARI `DELETE /channels/{id}?reason=` names (res/ari/resource_channels.c).
REASON_CAUSE: dict[str, int] = {
    "normal": 16,
    "busy": 17,
    "congestion": 34,
    "no_answer": 19,
    "timeout": 18,
    "rejected": 21,
    "unallocated": 1,
    "normal_unspecified": 31,
    "number_incomplete": 28,
    "codec_mismatch": 58,
    "interworking": 127,
    "failure": 38,
    "answered_elsewhere": 26,
}


def dial_status_for(cause: int) -> str:
    """main/dial.c ast_hangup_cause_to_dial_status(): the Dial event status of a leg
    that ended with `cause` before answering."""
    if cause == 17:
        return "BUSY"
    if cause == 34:
        return "CONGESTION"
    if cause in (3, 20):
        return "CHANUNAVAIL"
    return "NOANSWER"


def ari_time(epoch: float) -> str:
    """Asterisk's ARI timestamp text, e.g. `2026-11-21T20:04:23.451+0000` (UTC, ms)."""
    dt = datetime.fromtimestamp(epoch, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


_CID = re.compile(r'^\s*(?:"(?P<q>[^"]*)"|(?P<n>[^<]*?))\s*<(?P<num>[^>]*)>\s*$')


def parse_caller_id(text: str) -> tuple[str, str]:
    """`"Name" <number>`, `Name <number>` or a bare number → (name, number)."""
    m = _CID.match(text)
    if m is None:
        return ("", text.strip())
    name = m.group("q") if m.group("q") is not None else (m.group("n") or "")
    return (name.strip(), m.group("num").strip())


def endpoint_caller_id(resource: str) -> tuple[str, str]:
    """The `callerid` an endpoint has in the lab's pjsip.conf: agents are
    `"Agent 1001" <1001>`; other endpoints (trunks) have none."""
    m = re.fullmatch(r"agent(\d+)", resource)
    if m:
        return (f"Agent {m.group(1)}", m.group(1))
    return ("", "")


class Origin(Enum):
    """How a channel came to be; decides its dialplan and what follows StasisEnd."""

    INBOUND = "inbound"  # a call from a phone into the dialplan (Stasis(acd[,args]))
    ORIGINATE = "originate"  # POST /channels: an ast_dial leg, Stasis on answer
    CREATE = "create"  # POST /channels/create: in Stasis at once, dialled by /dial
    SNOOP = "snoop"  # POST /channels/{id}/snoop: a Snoop/ channel, Up, into Stasis


class DialPhase(Enum):
    """Where an outgoing leg stands."""

    NONE = "none"  # not an outgoing leg, or /channels/create not yet dialled
    INVITING = "inviting"  # INVITE sent, the phone is deciding (inside on_incoming)
    RINGING = "ringing"  # 180 received (or nobody answers: unreachable)
    DONE = "done"  # answered or ended


@dataclass(eq=False)
class Channel:
    """One channel. Mutable; `snapshot()` gives what ARI shows at that instant."""

    id: str
    name: str
    endpoint: str  # "PJSIP/agent1001" as dialled, or the caller's endpoint
    resource: str  # "agent1001", "pstn": what CHANNEL(endpoint) returns
    protocol_id: str
    origin: Origin
    state: str
    caller: tuple[str, str]
    connected: tuple[str, str]
    context: str
    exten: str
    priority: int
    app_name: str
    app_data: str
    creationtime: str
    far_end: FarEnd | None = None
    language: str = "en"
    channelvars: dict[str, str] = field(default_factory=dict)
    alive: bool = True
    in_stasis: bool = False
    # The app's own subscription (originate, create, `caller` of /dial): events keep
    # coming after StasisEnd, up to ChannelDestroyed. Channels that only entered
    # Stasis from the dialplan are not subscribed past StasisEnd (transcripts 01-03).
    subscribed: bool = False
    stasis_args: list[str] = field(default_factory=list)
    bridge: Bridge | None = None
    moh_class: str | None = None
    playbacks: list[Playback] = field(default_factory=list)  # [0] is playing
    dial_phase: DialPhase = DialPhase.NONE
    dialstring: str = ""  # Dial events' dialstring of the first ("") event
    dial_via_originate: bool = False
    dial_cancel: Callable[[], None] | None = None  # cancel function of the dial timeout
    pending_answer: bool = False  # the phone decided inside on_incoming
    pending_reject: int | None = None
    line: PbxLine | None = None  # the one Line its far end holds
    spyee: str = ""  # a snoop channel: the id of the channel it spies on
    spy: str = "none"  # a snoop channel's directions, as asked (none, both, out, in)
    whisper: str = "none"

    def snapshot(self) -> models.Channel:
        return models.Channel(
            id=self.id,
            name=self.name,
            state=self.state,
            protocol_id=self.protocol_id,
            caller=models.CallerID(name=self.caller[0], number=self.caller[1]),
            connected=models.CallerID(name=self.connected[0], number=self.connected[1]),
            accountcode="",
            dialplan=models.DialplanCEP(
                context=self.context,
                exten=self.exten,
                priority=self.priority,
                app_name=self.app_name,
                app_data=self.app_data,
            ),
            creationtime=self.creationtime,
            language=self.language,
        )

    @property
    def caller_id_text(self) -> str:
        """The caller id as a phone displays it: `"Name" <number>` or the number."""
        name, number = self.caller
        return f'"{name}" <{number}>' if name else number
