"""The core of the virtual Asterisk: event plumbing, the end of a channel, bridges and
playbacks. `asterisk.Asterisk` builds channels and calls on it.

Every operation emits the events a real Asterisk 22.10.1 emits for it, in the order the
transcripts in tests/fixtures/ari record (ChannelVarset is never sent). Operations that ARI
refuses raise `AriError(status, message)` with Asterisk's statuses (the spec's
`errorResponses`) and messages.
"""

from __future__ import annotations

import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from acd.ari import models
from acd.ari.clock import Clock
from acd.softphone_sim.pbx.bridges import Bridge
from acd.softphone_sim.pbx.channels import (
    CAUSE_TEXT,
    Channel,
    DialPhase,
    Origin,
    ari_time,
)
from acd.softphone_sim.pbx.phones import FarEnd, Line, Phone
from acd.softphone_sim.pbx.playbacks import Playback, media_seconds

log = logging.getLogger(__name__)

E = TypeVar("E", bound=models.EventBase)

ASTERISK_ID = "02:fc:00:00:00:01"  # the lab's entity id, as in the transcripts

class AriError(Exception):
    """A refused ARI request: HTTP `status` and Asterisk's `{"message": ...}` text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message



def bridged_with(others: list[str]) -> Callable[[FarEnd, Line], None]:
    """A far-end notice: you are in a mixing bridge with `others`."""
    return lambda far, line: far.on_bridged(line, others)


class AsteriskCore(ABC):
    """The PBX state. `sink` receives every event for the app; `app_active` says whether
    a WebSocket is connected for it (Stasis() fails without one)."""

    def __init__(
        self,
        *,
        app: str,
        clock: Clock,
        sink: Callable[[models.EventBase], None],
        app_active: Callable[[], bool],
        prompt_seconds_per_sound: float = 2.5,
    ) -> None:
        self.app = app
        self.clock = clock
        self.prompt_seconds_per_sound = prompt_seconds_per_sound
        self._sink = sink
        self._app_active = app_active
        self.channels: dict[str, Channel] = {}
        self.bridges: dict[str, Bridge] = {}
        self.playbacks: dict[str, Playback] = {}
        self.messages: list[dict[str, Any]] = []
        self.continued: list[tuple[str, str, str]] = []
        self._phones: dict[str, Phone] = {}
        self._patterns: list[tuple[str, Callable[[str], Phone]]] = []
        self._unique_seq = 0
        self._name_seq = 0
        self._sip_seq = 1000

    # ----------------------------------------------------------------------------------
    # Plumbing

    def _event(self, cls: type[E], **fields: Any) -> E:
        return cls(
            application=self.app,
            timestamp=ari_time(self.clock.now()),
            asterisk_id=ASTERISK_ID,
            **fields,
        )

    def _emit(self, cls: type[models.EventBase], **fields: Any) -> None:
        self._sink(self._event(cls, **fields))

    def _later(self, fn: Callable[[], None]) -> None:
        self.clock.call_later(0.0, fn)

    @abstractmethod
    def line(self, chan: Channel) -> Line:
        """The one Line the channel's far end holds."""

    def _tell(self, chan: Channel, what: Callable[[FarEnd, Line], None]) -> None:
        """Tell the channel's far end something, on the next loop turn."""
        far, line = chan.far_end, self.line(chan)
        if far is None:
            return

        def run() -> None:
            try:
                what(far, line)
            except Exception:  # a far end's bug must not take the PBX down
                log.exception("far end of %s failed", chan.name)

        self._later(run)

    def _new_channel(self, **fields: Any) -> Channel:
        now = self.clock.now()
        uid = f"{int(now)}.{self._unique_seq}"
        self._unique_seq += 1
        fields.setdefault("id", uid)
        chan = Channel(creationtime=ari_time(now), **fields)
        self.channels[chan.id] = chan
        return chan

    def _channel_name(self, resource: str) -> str:
        name = f"PJSIP/{resource}-{self._name_seq:08x}"
        self._name_seq += 1
        return name

    def _inbound_call_id(self) -> str:
        self._sip_seq += 1
        return f"1-{self._sip_seq}@127.0.0.1"

    def _sees(self, chan: Channel) -> bool:
        return chan.in_stasis or chan.subscribed

    def _set_state(self, chan: Channel, state: str) -> None:
        if chan.state != state:
            chan.state = state
            if self._sees(chan):
                self._emit(models.ChannelStateChange, channel=chan.snapshot())

    def _set_connected(self, chan: Channel, party: tuple[str, str]) -> None:
        if chan.connected != party:
            chan.connected = party
            if self._sees(chan):
                self._emit(models.ChannelConnectedLine, channel=chan.snapshot())

    def _stop_dial_timer(self, chan: Channel) -> None:
        if chan.dial_cancel is not None:
            chan.dial_cancel()
            chan.dial_cancel = None

    # ----------------------------------------------------------------------------------
    # Channel resources

    def get_channel(self, channel_id: str) -> Channel:
        chan = self.channels.get(channel_id)
        if chan is None or not chan.alive:
            raise AriError(404, "Channel not found")
        return chan

    def stasis_channel(self, channel_id: str) -> Channel:
        chan = self.get_channel(channel_id)
        if not chan.in_stasis:
            raise AriError(409, "Channel not in Stasis application")
        return chan

    # ----------------------------------------------------------------------------------
    # The end of a channel

    def _teardown(
        self,
        chan: Channel,
        *,
        cause: int,
        notify: bool,
        dialplan_hangup: bool,
        tech_cause: int | None = None,
    ) -> None:
        """Everything after the HangupRequest: the playback fails, the bridge is left,
        StasisEnd; then, for a dialplan channel still up when Stasis returned, the
        dialplan's Hangup() (HangupRequest 16 soft, 04, 05); ChannelDestroyed if the app
        is subscribed. `notify`: the hangup came from the PBX side (tell the far end)."""
        if not chan.alive:
            return
        chan.alive = False
        self._stop_dial_timer(chan)
        chan.dial_phase = DialPhase.DONE
        self._end_channel_playbacks(chan)
        bridge = chan.bridge
        if bridge is not None:
            self._leave_bridge(chan)
            self._tell_bridged(bridge)
        was_in_stasis = chan.in_stasis
        if chan.in_stasis:
            chan.in_stasis = False
            self._emit(models.StasisEnd, channel=chan.snapshot())
        if (
            dialplan_hangup
            and was_in_stasis
            and chan.origin is Origin.INBOUND
            and chan.subscribed
        ):
            self._emit(models.ChannelHangupRequest, cause=16, soft=True, channel=chan.snapshot())
        if chan.origin is Origin.ORIGINATE:
            chan.app_name, chan.app_data = "AppDial2", "(Outgoing Line)"  # 03
        else:
            chan.app_name, chan.app_data = "", ""  # 04, 05
        if chan.subscribed:
            self._emit(
                models.ChannelDestroyed,
                cause=cause,
                cause_txt=CAUSE_TEXT.get(cause, "Unknown"),
                tech_cause=tech_cause,
                channel=chan.snapshot(),
            )
        if self.channels.get(chan.id) is chan:
            del self.channels[chan.id]
        if notify:
            self._tell(chan, lambda far, line: far.on_hangup(line, cause))
        for snoop in [c for c in self.channels.values() if c.spyee == chan.id]:
            # Its audiohooks are done: the snoop channel's next read fails and its
            # thread hangs it up (res/res_stasis_snoop.c snoop_read), a moment later.
            self._later(partial(self._teardown, snoop, cause=16, notify=False,
                                dialplan_hangup=False))

    # ----------------------------------------------------------------------------------
    # Bridges

    def create_bridge(self, kind: str | None, bridge_id: str | None, name: str | None) -> Bridge:
        types = {t.strip() for t in (kind or "mixing").split(",") if t.strip()}
        known = {"mixing", "holding", "dtmf_events", "proxy_media", "video_sfu", "video_single"}
        if not types <= known:
            raise AriError(400, f"Invalid bridge type '{kind}'")
        bid = bridge_id or str(uuid.uuid4())
        if bid in self.bridges:
            raise AriError(409, "Bridge with the same bridgeId already exists")
        bridge = Bridge(
            id=bid,
            bridge_type="holding" if "holding" in types else "mixing",
            name=name or "",
            creationtime=ari_time(self.clock.now()),
        )
        self.bridges[bid] = bridge
        return bridge

    def get_bridge(self, bridge_id: str) -> Bridge:
        bridge = self.bridges.get(bridge_id)
        if bridge is None:
            raise AriError(404, "Bridge not found")
        return bridge

    def add_channels(self, bridge_id: str, channel_ids: list[str], role: str | None) -> None:
        bridge = self.get_bridge(bridge_id)
        chans: list[Channel] = []
        for cid in channel_ids:
            chan = self.channels.get(cid)
            if chan is None or not chan.alive:
                raise AriError(400, "Channel not found")
            if not chan.in_stasis:
                raise AriError(422, "Channel not in Stasis application")
            chans.append(chan)
        for chan in chans:
            if chan.bridge is bridge:
                continue
            if chan.bridge is not None:
                # Asterisk moves a bridged channel (it departs the old bridge first).
                old = chan.bridge
                self._leave_bridge(chan)
                self._tell_bridged(old)
            bridge.channels.append(chan)
            bridge.roles[chan.id] = role or ""
            bridge.subscriptions += 1
            chan.bridge = bridge
            self._emit(
                models.ChannelEnteredBridge, bridge=bridge.snapshot(), channel=chan.snapshot()
            )
            bridge.retune()
            if bridge.bridge_type == "holding":
                self._tell(chan, lambda far, line: far.on_hold(line))
            elif len(bridge.channels) == 2:
                # Two-party mixing: connected line exchanged, the joiner first (03, 05).
                other = bridge.channels[0]
                self._set_connected(chan, other.caller)
                self._set_connected(other, chan.caller)
        if bridge.bridge_type == "mixing":
            self._tell_bridged(bridge)

    def _tell_bridged(self, bridge: Bridge) -> None:
        if bridge.bridge_type != "mixing":
            return
        for chan in bridge.channels:
            others = [c.id for c in bridge.channels if c is not chan]
            if others and chan.dial_phase not in (DialPhase.INVITING, DialPhase.RINGING):
                self._tell(chan, bridged_with(others))

    def _leave_bridge(self, chan: Channel) -> None:
        bridge = chan.bridge
        assert bridge is not None
        bridge.channels.remove(chan)
        bridge.roles.pop(chan.id, None)
        chan.bridge = None
        self._emit(models.ChannelLeftBridge, bridge=bridge.snapshot(), channel=chan.snapshot())
        bridge.retune()

    def remove_channels(self, bridge_id: str, channel_ids: list[str]) -> None:
        bridge = self.get_bridge(bridge_id)
        chans: list[Channel] = []
        for cid in channel_ids:
            chan = self.channels.get(cid)
            if chan is None or not chan.alive:
                raise AriError(400, "Channel not found")
            if chan.bridge is not bridge:
                raise AriError(422, "Channel not in this bridge")
            chans.append(chan)
        for chan in chans:
            self._leave_bridge(chan)
            bridge.subscriptions = max(bridge.subscriptions - 1, 0)
        self._tell_bridged(bridge)

    def destroy_bridge(self, bridge_id: str) -> None:
        """DELETE /bridges/{id}: members are ejected (they stay in Stasis), a playback
        on the bridge fails, BridgeDestroyed if the app is subscribed (03, 04, 05)."""
        bridge = self.get_bridge(bridge_id)
        for chan in list(bridge.channels):
            self._leave_bridge(chan)
        self._end_playbacks(bridge.playbacks)
        bridge.alive = False
        del self.bridges[bridge_id]
        if bridge.subscriptions > 0:
            self._emit(models.BridgeDestroyed, bridge=bridge.snapshot())

    def bridge_moh(self, bridge_id: str, moh_class: str | None) -> None:
        self.get_bridge(bridge_id).moh_class = moh_class

    # ----------------------------------------------------------------------------------
    # Playbacks

    def play(
        self,
        target: Channel | Bridge,
        media: list[str],
        language: str | None,
        playback_id: str | None,
    ) -> models.Playback:
        """Queue a playback on a channel or bridge; answers its snapshot (`queued`)."""
        if not media or any(not m for m in media):
            raise AriError(400, "Media must be specified")
        is_chan = isinstance(target, Channel)
        pb = Playback(
            id=playback_id or str(uuid.uuid4()),
            media=list(media),
            language=language or (target.language if isinstance(target, Channel) else "en"),
            target=target,
            target_uri=f"{'channel' if is_chan else 'bridge'}:{target.id}",
        )
        self.playbacks[pb.id] = pb
        target.playbacks.append(pb)
        snapshot = pb.snapshot()
        if len(target.playbacks) == 1:
            self._start_item(pb)
        return snapshot

    def _hearers(self, pb: Playback) -> list[Channel]:
        target = pb.target
        return [target] if isinstance(target, Channel) else list(target.channels)

    def _start_item(self, pb: Playback) -> None:
        if pb.canceled:
            pb.state = "done"
            self._emit(models.PlaybackFinished, playback=pb.snapshot())
            self._finish_playback(pb)
            return
        pb.state = "playing"
        self._emit(models.PlaybackStarted, playback=pb.snapshot())
        if pb.index == 0:
            media = list(pb.media)
            for chan in self._hearers(pb):
                self._tell(chan, lambda far, line: far.on_media(line, media))
        seconds = media_seconds(pb.media[pb.index], self.prompt_seconds_per_sound)
        pb.timer = self.clock.call_later(seconds, lambda: self._item_done(pb))

    def _item_done(self, pb: Playback) -> None:
        pb.timer = None
        if pb.state not in ("playing", "continuing"):
            return
        if pb.index < len(pb.media) - 1:
            pb.state = "continuing"
            self._emit(models.PlaybackContinuing, playback=pb.snapshot())
            pb.index += 1
            self._start_item(pb)
            return
        pb.state = "done"
        self._emit(models.PlaybackFinished, playback=pb.snapshot())
        self._finish_playback(pb)

    def _finish_playback(self, pb: Playback) -> None:
        target = pb.target
        if pb in target.playbacks:
            target.playbacks.remove(pb)
        if self.playbacks.get(pb.id) is pb:
            del self.playbacks[pb.id]
        media = list(pb.media)
        for chan in self._hearers(pb):
            self._tell(chan, lambda far, line: far.on_playback_done(line, media))
        if target.playbacks:
            self._start_item(target.playbacks[0])

    def _end_playbacks(self, queue: list[Playback]) -> None:
        """The target is going away: a playing item fails, queued ones vanish."""
        for pb in list(queue):
            if self.playbacks.get(pb.id) is pb:
                del self.playbacks[pb.id]
            if pb.state in ("playing", "continuing"):
                if pb.timer is not None:
                    pb.timer()
                    pb.timer = None
                pb.state = "failed"
                self._emit(models.PlaybackFinished, playback=pb.snapshot())
        queue.clear()

    def _end_channel_playbacks(self, chan: Channel) -> None:
        self._end_playbacks(chan.playbacks)

    def get_playback(self, playback_id: str) -> Playback:
        pb = self.playbacks.get(playback_id)
        if pb is None:
            raise AriError(404, "Playback not found")
        return pb

    def stop_playback(self, playback_id: str) -> None:
        """DELETE /playbacks/{id}: a playing one finishes at once with state `done`
        (STOPPED reads "done"); a queued one is canceled and reads `done` at its turn."""
        pb = self.get_playback(playback_id)
        if pb.state in ("playing", "continuing"):
            if pb.timer is not None:
                pb.timer()
                pb.timer = None
            pb.state = "done"
            self._emit(models.PlaybackFinished, playback=pb.snapshot())
            self._finish_playback(pb)
        else:
            pb.canceled = True

