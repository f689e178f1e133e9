"""The virtual Asterisk: calls, legs and channels, and the ARI events they raise.

`Asterisk` is the object model behind the REST resources (server.py) and the far ends
(phones.py): calls coming in, outgoing legs (originate, create + dial), what far ends do
through their `Line`, and the channel resources. Event plumbing, the end of a channel,
bridges and playbacks are in `core.AsteriskCore`.

Timing: everything runs on the loop; outgoing legs start dialling on the next loop turn
(after the REST answer is built), far ends hear of things on the next loop turn too, so a
far end that acts inside a callback never re-enters an operation half done. The only
synchronous callback is `Phone.on_incoming`: a phone may answer or reject inside it, which
is how a busy phone refuses without ringing (transcript 04, agent1003).
"""

from __future__ import annotations

import fnmatch
import logging
import os
import uuid
from collections.abc import Callable
from typing import Any

from acd.ari import models
from acd.softphone_sim.pbx.channels import (
    CAUSE_SIP,
    Channel,
    DialPhase,
    Origin,
    ari_time,
    dial_status_for,
    endpoint_caller_id,
    parse_caller_id,
)
from acd.softphone_sim.pbx.core import ASTERISK_ID, AriError, AsteriskCore, bridged_with
from acd.softphone_sim.pbx.phones import FarEnd, Phone

__all__ = ["ASTERISK_ID", "AriError", "Asterisk", "PbxLine"]

log = logging.getLogger(__name__)

TIMER_B_SECONDS = 32.0
"""PJSIP gives up on an INVITE nobody answers at the transport level after Timer B."""
DTMF_DURATION_MS = 120


class PbxLine:
    """`phones.Line` for one channel: what its far end can do."""

    def __init__(self, ast: Asterisk, chan: Channel) -> None:
        self._ast = ast
        self._chan = chan

    @property
    def channel_id(self) -> str:
        return self._chan.id

    @property
    def up(self) -> bool:
        return self._chan.alive

    def answer(self) -> None:
        self._ast.far_answer(self._chan)

    def reject(self, cause: int) -> None:
        self._ast.far_reject(self._chan, cause)

    def press(self, digit: str) -> None:
        self._ast.far_dtmf(self._chan, digit)

    def hang_up(self) -> None:
        self._ast.far_hangup(self._chan)

    def __repr__(self) -> str:
        return f"PbxLine({self._chan.name} {self._chan.id})"


class Asterisk(AsteriskCore):
    """The virtual Asterisk (see the module doc)."""

    def line(self, chan: Channel) -> PbxLine:
        if chan.line is None:
            chan.line = PbxLine(self, chan)
        return chan.line

    # ----------------------------------------------------------------------------------
    # Far ends: registration and calls they place

    def register(self, endpoint: str, phone: Phone) -> None:
        self._phones[endpoint] = phone

    def register_pattern(self, pattern: str, factory: Callable[[str], Phone]) -> None:
        self._patterns.append((pattern, factory))

    def _phone_for(self, endpoint: str) -> Phone | None:
        phone = self._phones.get(endpoint)
        if phone is not None:
            return phone
        for pattern, factory in self._patterns:
            if fnmatch.fnmatchcase(endpoint, pattern):
                return factory(endpoint)
        return None

    def place_inbound(self, caller: str, dnis: str, far_end: FarEnd) -> PbxLine:
        """A PSTN call to `dnis`: [from-pstn] runs Stasis(acd) on the next loop turn."""
        chan = self._new_channel(
            name=self._channel_name("pstn"),
            endpoint="PJSIP/pstn",
            resource="pstn",
            protocol_id=self._inbound_call_id(),
            origin=Origin.INBOUND,
            state="Ring",
            caller=parse_caller_id(caller),
            connected=("", ""),
            context="from-pstn",
            exten=dnis,
            priority=2,
            app_name="Stasis",
            app_data=self.app,
            far_end=far_end,
        )
        self._later(lambda: self._dialplan_stasis(chan, []))
        return self.line(chan)

    def dial_feature(self, endpoint: str, args: list[str], far_end: FarEnd) -> PbxLine:
        """A call placed by a registered endpoint: [from-agents] runs Stasis(acd,<args>)."""
        resource = endpoint.partition("/")[2] or endpoint
        chan = self._new_channel(
            name=self._channel_name(resource),
            endpoint=endpoint,
            resource=resource,
            protocol_id=str(uuid.uuid4()),
            origin=Origin.INBOUND,
            state="Ring",
            caller=endpoint_caller_id(resource),
            connected=("", ""),
            context="from-agents",
            exten=args[0] if args else "s",
            priority=2,
            app_name="Stasis",
            app_data=",".join([self.app, *args]),
            far_end=far_end,
        )
        self._later(lambda: self._dialplan_stasis(chan, list(args)))
        return self.line(chan)

    def _dialplan_stasis(self, chan: Channel, args: list[str]) -> None:
        if not chan.alive:
            return
        if not self._app_active():
            # Stasis() fails at once when no WebSocket serves the app; the dialplan's
            # next priority is Hangup() (the SIP caller gets 603, cause 16; README).
            self._teardown(chan, cause=16, notify=True, dialplan_hangup=False)
            return
        chan.in_stasis = True
        chan.stasis_args = args
        self._emit(models.StasisStart, args=args, channel=chan.snapshot())

    # ----------------------------------------------------------------------------------
    # What far ends do through their Line

    def far_answer(self, chan: Channel) -> None:
        if not chan.alive:
            return
        if chan.dial_phase is DialPhase.INVITING:
            chan.pending_answer = True
        elif chan.dial_phase is DialPhase.RINGING:
            self._leg_answered(chan)

    def far_reject(self, chan: Channel, cause: int) -> None:
        if not chan.alive:
            return
        if chan.dial_phase is DialPhase.INVITING:
            chan.pending_reject = cause
        elif chan.dial_phase is DialPhase.RINGING:
            self._leg_failed(chan, cause, dial_started=True)

    def far_dtmf(self, chan: Channel, digit: str) -> None:
        if len(digit) != 1 or digit not in "0123456789*#ABCD":
            raise ValueError(f"not a DTMF digit: {digit!r}")
        if chan.alive and chan.in_stasis:
            self._emit(
                models.ChannelDtmfReceived,
                digit=digit,
                duration_ms=DTMF_DURATION_MS,
                channel=chan.snapshot(),
            )

    def far_hangup(self, chan: Channel) -> None:
        """SIP BYE from the far end (transcripts 02 and 05): HangupRequest without a
        cause, then the playback fails, the bridge is left, StasisEnd, ChannelDestroyed
        16 if the app is subscribed."""
        if not chan.alive:
            return
        if chan.dial_phase in (DialPhase.INVITING, DialPhase.RINGING):
            # An unanswered leg cannot send BYE; hanging up a ringing phone declines it.
            self.far_reject(chan, 21)
            return
        if self._sees(chan):
            self._emit(models.ChannelHangupRequest, channel=chan.snapshot())
        self._teardown(chan, cause=16, notify=False, dialplan_hangup=False)

    # ----------------------------------------------------------------------------------
    # Outgoing legs: originate, create + dial

    def _split_endpoint(self, endpoint: str) -> tuple[str, str]:
        """"PJSIP/agent1001" → ("agent1001", "agent1001"); "PJSIP/+1555@pstn" →
        ("+1555@pstn", "pstn"): (dial string, endpoint resource)."""
        tech, sep, rest = endpoint.partition("/")
        if not sep or not tech or not rest:
            raise AriError(400, "Invalid endpoint: must be in the form tech/resource")
        if tech.upper() != "PJSIP":
            raise AriError(400, f"Invalid technology {tech}")
        return rest, rest.rpartition("@")[2]

    def _outgoing(
        self,
        *,
        endpoint: str,
        app: str | None,
        app_args: str | None,
        channel_id: str | None,
        originator: str | None,
        variables: dict[str, str],
        origin: Origin,
    ) -> Channel:
        if not app:
            raise AriError(400, "Application or extension must be specified")
        if app != self.app:
            raise AriError(400, f"Stasis application {app} is not registered")
        dialstring, resource = self._split_endpoint(endpoint)
        if channel_id and channel_id in self.channels:
            raise AriError(409, "Channel with given unique ID already exists")
        if originator and originator not in self.channels:
            raise AriError(400, "Provided originator channel was not found")
        fields: dict[str, Any] = {"id": channel_id} if channel_id else {}
        chan = self._new_channel(
            **fields,
            name=self._channel_name(resource),
            endpoint=endpoint,
            resource=resource,
            protocol_id=str(uuid.uuid4()),
            origin=origin,
            state="Down",
            caller=endpoint_caller_id(resource),
            connected=("", ""),
            context="from-agents" if resource.startswith("agent") else "from-pstn",
            exten="s",
            priority=1,
            app_name="",
            app_data="",
            subscribed=True,
            stasis_args=app_args.split(",") if app_args else [],
            dialstring=dialstring,
        )
        chan.channelvars.update(variables)
        return chan

    def originate(
        self,
        *,
        endpoint: str,
        app: str | None,
        app_args: str | None = None,
        channel_id: str | None = None,
        originator: str | None = None,
        timeout: float = 30.0,
        caller_id: str | None = None,
        variables: dict[str, str] | None = None,
    ) -> models.Channel:
        """POST /channels: an ast_dial leg that enters Stasis(app,appArgs) when answered
        (transcripts 03, 04). Answers the snapshot at creation (state Down)."""
        chan = self._outgoing(
            endpoint=endpoint,
            app=app,
            app_args=app_args,
            channel_id=channel_id,
            originator=originator,
            variables=variables or {},
            origin=Origin.ORIGINATE,
        )
        if caller_id:
            # Asterisk sets both caller and connected line from callerId (03).
            chan.caller = chan.connected = parse_caller_id(caller_id)
        elif originator:
            chan.connected = self.channels[originator].caller  # 04
        chan.app_name, chan.app_data = "AppDial2", "(Outgoing Line)"
        chan.dial_via_originate = True
        snapshot = chan.snapshot()
        self._later(lambda: self._begin_dial(chan, timeout))
        return snapshot

    def create(
        self,
        *,
        endpoint: str,
        app: str | None,
        app_args: str | None = None,
        channel_id: str | None = None,
        originator: str | None = None,
        variables: dict[str, str] | None = None,
    ) -> models.Channel:
        """POST /channels/create: the channel exists and is in Stasis at once (state
        Down): ChannelDialplan then StasisStart (04, 05). Answers the snapshot from
        before the dialplan step (app_name "")."""
        chan = self._outgoing(
            endpoint=endpoint,
            app=app,
            app_args=app_args,
            channel_id=channel_id,
            originator=originator,
            variables=variables or {},
            origin=Origin.CREATE,
        )
        snapshot = chan.snapshot()
        chan.app_name = "Stasis"
        chan.app_data = ",".join([self.app, *chan.stasis_args])
        self._emit(
            models.ChannelDialplan,
            dialplan_app=chan.app_name,
            dialplan_app_data=chan.app_data,
            channel=chan.snapshot(),
        )
        chan.in_stasis = True
        self._emit(models.StasisStart, args=chan.stasis_args, channel=chan.snapshot())
        return snapshot

    def snoop(
        self,
        channel_id: str,
        *,
        spy: str | None,
        whisper: str | None,
        app: str | None,
        app_args: str | None,
        snoop_id: str | None,
    ) -> models.Channel:
        """POST /channels/{id}/snoop (res/ari/resource_channels.c, res_stasis_snoop.c):
        a channel `Snoop/<spyee uniqueid>-<8 hex>`, Up, with no caller id, enters
        Stasis(app,appArgs) from its own thread: StasisStart on the next loop turn,
        StasisEnd when it ends (not subscribed past it, like a dialplan channel). It
        ends by itself when the channel it spies on does. Answers the snapshot at
        creation (before Stasis)."""
        directions = ("none", "both", "out", "in")
        spy, whisper = spy or "none", whisper or "none"
        if spy not in directions:
            raise AriError(400, "Invalid direction specified for spy")
        if whisper not in directions:
            raise AriError(400, "Invalid direction specified for whisper")
        if spy == "none" and whisper == "none":
            raise AriError(400, "Direction must be specified for at least spy or whisper")
        if not app:
            raise AriError(400, "Application name is required")
        spyee = self.channels.get(channel_id)
        if spyee is None or not spyee.alive:
            raise AriError(404, "Provided channel was not found")
        if app != self.app:
            # The virtual PBX serves one application; Asterisk's snoop thread would
            # fail to enter an unregistered one and hang the channel up.
            raise AriError(400, f"Stasis application {app} is not registered")
        if snoop_id and snoop_id in self.channels:
            raise AriError(500, "Snoop channel could not be created")
        fields: dict[str, Any] = {"id": snoop_id} if snoop_id else {}
        chan = self._new_channel(
            **fields,
            name=f"Snoop/{spyee.id}-{self._name_seq:08x}",
            endpoint="",
            resource="",
            protocol_id="",
            origin=Origin.SNOOP,
            state="Up",
            caller=("", ""),
            connected=("", ""),
            context="default",
            exten="s",
            priority=1,
            app_name="",
            app_data="",
            stasis_args=app_args.split(",") if app_args else [],
            spyee=spyee.id,
            spy=spy,
            whisper=whisper,
        )
        self._name_seq += 1
        snapshot = chan.snapshot()

        def enter() -> None:
            if not chan.alive:
                return
            chan.app_name = "Stasis"
            chan.app_data = ",".join([self.app, *chan.stasis_args])
            if not self._app_active():
                self._teardown(chan, cause=16, notify=False, dialplan_hangup=False)
                return
            chan.in_stasis = True
            self._emit(models.StasisStart, args=chan.stasis_args, channel=chan.snapshot())

        self._later(enter)
        return snapshot

    def dial(self, channel_id: str, caller: str | None, timeout: float) -> None:
        """POST /channels/{id}/dial on a created channel (04, 05)."""
        chan = self.get_channel(channel_id)
        if chan.origin is not Origin.CREATE or chan.dial_phase is not DialPhase.NONE:
            raise AriError(409, "Channel cannot be dialed")
        if caller:
            calling = self.channels.get(caller)
            if calling is None:
                raise AriError(404, "Caller channel not found")
            # The calling channel gets subscribed: its ChannelDestroyed reaches the app
            # (04, 05; README).
            calling.subscribed = True
            self._set_connected(chan, calling.caller)
        chan.dial_phase = DialPhase.INVITING  # refuse a second /dial at once
        self._later(lambda: self._begin_dial(chan, timeout))

    def _dial_event(self, chan: Channel, status: str, dialstring: str | None = None) -> None:
        if dialstring is None:
            # ast_dial (originate) repeats the dial string; the Stasis dial control
            # sends it only on the first event (03 vs 04/05).
            dialstring = chan.dialstring if chan.dial_via_originate or not status else ""
        self._emit(
            models.Dial,
            dialstatus=status,
            forward="",
            dialstring=dialstring,
            peer=chan.snapshot(),
        )

    def _begin_dial(self, chan: Channel, timeout: float) -> None:
        if not chan.alive:
            return
        chan.dial_phase = DialPhase.INVITING
        phone = self._phone_for(chan.endpoint)
        if timeout > 0:
            chan.dial_cancel = self.clock.call_later(timeout, lambda: self._dial_timeout(chan))
        elif phone is None:
            chan.dial_cancel = self.clock.call_later(
                TIMER_B_SECONDS, lambda: self._leg_failed(chan, 102, dial_started=True)
            )
        if phone is None:
            # Nobody listens: no 180, no answer; the leg rings out (04, agent1004).
            self._dial_event(chan, "")
            chan.dial_phase = DialPhase.RINGING
            return
        chan.far_end = phone
        shown = chan.connected if chan.connected[1] else chan.caller
        caller_id = f'"{shown[0]}" <{shown[1]}>' if shown[0] else shown[1]
        try:
            phone.on_incoming(self.line(chan), caller_id)
        except Exception:
            log.exception("phone %s failed on an incoming call", chan.endpoint)
        if not chan.alive:
            return
        if chan.pending_reject is not None:
            self._leg_failed(chan, chan.pending_reject, dial_started=False)
            return
        self._dial_event(chan, "")
        if chan.pending_answer:
            self._leg_answered(chan)
            return
        chan.dial_phase = DialPhase.RINGING
        if chan.dial_via_originate:
            # 03: Dial RINGING, then the state change (04 recorded the two the other
            # way round: two threads race; we keep 03's order).
            self._dial_event(chan, "RINGING")
            self._set_state(chan, "Ringing")
        else:
            self._set_state(chan, "Ringing")  # 04, 05
            self._dial_event(chan, "RINGING")

    def _leg_answered(self, chan: Channel) -> None:
        self._stop_dial_timer(chan)
        chan.dial_phase = DialPhase.DONE
        self._set_state(chan, "Up")
        self._dial_event(chan, "ANSWER")
        if chan.bridge is not None:
            # A created leg bridged before /dial (05): its phone now hears the bridge.
            if chan.bridge.bridge_type == "holding":
                self._tell(chan, lambda far, line: far.on_hold(line))
            else:
                others = [c.id for c in chan.bridge.channels if c is not chan]
                if others:
                    self._tell(chan, bridged_with(others))
        if chan.dial_via_originate:
            chan.app_name = "Stasis"
            chan.app_data = ",".join([self.app, *chan.stasis_args])
            if not self._app_active():
                self._teardown(chan, cause=16, notify=True, dialplan_hangup=False)
                return
            chan.in_stasis = True
            self._emit(models.StasisStart, args=chan.stasis_args, channel=chan.snapshot())

    def _leg_failed(self, chan: Channel, cause: int, *, dial_started: bool) -> None:
        """The far end refused (486 busy, 603 declined...) or the transport gave up:
        HangupRequest with the cause, Dial <status>, ChannelDestroyed (04, agent1003)."""
        if not chan.alive:
            return
        self._stop_dial_timer(chan)
        chan.dial_phase = DialPhase.DONE
        tech = CAUSE_SIP.get(cause)
        self._emit(
            models.ChannelHangupRequest, cause=cause, tech_cause=tech, channel=chan.snapshot()
        )
        if not dial_started:
            self._dial_event(chan, "")
        self._dial_event(chan, dial_status_for(cause))
        self._teardown(chan, cause=cause, tech_cause=tech, notify=False, dialplan_hangup=False)

    def _dial_timeout(self, chan: Channel) -> None:
        """The originate/dial timeout: ChannelDestroyed 19/480 for an originate leg
        (ast_dial hangs it up silently, 04); a created channel in Stasis is soft hung
        up first: HangupRequest 32 soft, StasisEnd, ChannelDestroyed 19 (04)."""
        if not chan.alive or chan.dial_phase not in (DialPhase.INVITING, DialPhase.RINGING):
            return
        chan.dial_cancel = None
        chan.dial_phase = DialPhase.DONE
        if chan.in_stasis:
            self._emit(models.ChannelHangupRequest, cause=32, soft=True, channel=chan.snapshot())
        self._teardown(chan, cause=19, tech_cause=CAUSE_SIP[19], notify=True, dialplan_hangup=False)

    def hangup(self, channel_id: str, cause: int) -> None:
        """DELETE /channels/{id}: HangupRequest cause 32 soft (AST_SOFTHANGUP_EXPLICIT,
        01, 03, 05); ChannelDestroyed carries `cause` (the reason, 16 by default)."""
        chan = self.get_channel(channel_id)
        if self._sees(chan):
            self._emit(models.ChannelHangupRequest, cause=32, soft=True, channel=chan.snapshot())
        if chan.dial_via_originate and chan.dial_phase in (DialPhase.INVITING, DialPhase.RINGING):
            # ast_dial's monitor reads nothing from the hung-up leg and reports it with
            # the dial status of its cause (main/dial.c monitor_dial).
            self._stop_dial_timer(chan)
            chan.dial_phase = DialPhase.DONE
            self._dial_event(chan, dial_status_for(cause))
        self._teardown(chan, cause=cause, notify=True, dialplan_hangup=True)

    def continue_in_dialplan(self, channel_id: str, context: str = "", extension: str = "") -> None:
        """POST /channels/{id}/continue: StasisEnd; the lab dialplan's next priority is
        Hangup(), so the channel then hangs up with cause 16. `continued` records
        (channel id, context, extension) for tests."""
        chan = self.stasis_channel(channel_id)
        self.continued.append((channel_id, context, extension))
        self._teardown(chan, cause=16, notify=True, dialplan_hangup=True)

    def answer(self, channel_id: str) -> None:
        chan = self.stasis_channel(channel_id)
        if chan.origin is not Origin.INBOUND and chan.state != "Up":
            raise AriError(412, "Channel in invalid state")
        self._set_state(chan, "Up")

    def ring(self, channel_id: str) -> None:
        """POST and DELETE /channels/{id}/ring: indications only, no event (02)."""
        self.stasis_channel(channel_id)

    def moh(self, channel_id: str, moh_class: str | None) -> None:
        """POST (class) / DELETE (None) /channels/{id}/moh: no event."""
        self.stasis_channel(channel_id).moh_class = moh_class

    def get_variable(self, channel_id: str, name: str) -> str:
        chan = self.stasis_channel(channel_id)
        builtin = {
            "CHANNEL(endpoint)": chan.resource,
            "CHANNEL(name)": chan.name,
            "CHANNEL(uniqueid)": chan.id,
            "CHANNEL(language)": chan.language,
            "CALLERID(num)": chan.caller[1],
            "CALLERID(number)": chan.caller[1],
            "CALLERID(name)": chan.caller[0],
            "CALLERID(all)": chan.caller_id_text,
            "CONNECTEDLINE(num)": chan.connected[1],
            "CONNECTEDLINE(name)": chan.connected[0],
            "EXTEN": chan.exten,
            "CONTEXT": chan.context,
        }
        if name in builtin:
            return builtin[name]
        if name in chan.channelvars:
            return chan.channelvars[name]
        raise AriError(404, "Provided variable was not found")

    def set_variable(self, channel_id: str, name: str, value: str) -> None:
        self.stasis_channel(channel_id).channelvars[name] = value

    # ----------------------------------------------------------------------------------
    # Messages and system

    def shutdown(self) -> None:
        """Asterisk stops: every channel goes down with cause 16 (far ends are told),
        bridges go, no timer of ours fires any more."""
        for chan in list(self.channels.values()):
            self._teardown(chan, cause=16, notify=True, dialplan_hangup=False)
        for bridge_id in list(self.bridges):
            self.destroy_bridge(bridge_id)

    def send_message(self, to: str, from_: str, body: str, variables: dict[str, Any]) -> None:
        self.messages.append({"to": to, "from": from_, "body": body, "variables": variables})

    def info(self) -> dict[str, Any]:
        return {
            "system": {"version": "22.10.1", "entity_id": ASTERISK_ID},
            "config": {
                "name": "virtual-pbx",
                "default_language": "en",
                "setid": {"user": "asterisk", "group": "asterisk"},
            },
            "status": {
                "startup_time": ari_time(self.clock.start),
                "last_reload_time": ari_time(self.clock.start),
            },
            "build": {
                "os": "Linux", "kernel": "", "options": "", "machine": os.uname().machine,
                "date": "", "user": "",
            },
        }
