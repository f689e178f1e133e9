"""Bridges of the virtual Asterisk: holding and mixing, and the ARI `Bridge` they show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from acd.ari import models

if TYPE_CHECKING:
    from acd.softphone_sim.pbx.channels import Channel
    from acd.softphone_sim.pbx.playbacks import Playback


@dataclass(eq=False)
class Bridge:
    """One Stasis bridge (`bridge_class` "stasis", created by ARI).

    `technology` follows Asterisk's smart bridging as the transcripts show it: a
    holding bridge is `holding_bridge`; a mixing bridge is `simple_bridge` with 0-1
    channels, `native_rtp` once two RTP channels share it (03: GET after bridging, and
    the ChannelLeftBridge of the first to leave), `softmix` for three or more. Events
    carry the technology from before the change the event reports.
    """

    id: str
    bridge_type: str  # "holding" | "mixing"
    name: str
    creationtime: str
    channels: list[Channel] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    technology: str = ""
    moh_class: str | None = None
    playbacks: list[Playback] = field(default_factory=list)  # [0] is playing
    # How many times the app subscribed to this bridge through addChannel, less
    # removeChannel. Asterisk sends BridgeDestroyed only to a subscribed app: 03's holding
    # bridge, emptied by removeChannel, gave none; bridges left by hangups did (03, 04, 05).
    subscriptions: int = 0
    alive: bool = True

    def __post_init__(self) -> None:
        if not self.technology:
            self.technology = "holding_bridge" if self.bridge_type == "holding" else "simple_bridge"

    def retune(self) -> None:
        """Pick the technology for the current membership (after an enter or a leave)."""
        if self.bridge_type == "holding":
            return
        n = len(self.channels)
        self.technology = "simple_bridge" if n < 2 else "native_rtp" if n == 2 else "softmix"

    def snapshot(self) -> models.Bridge:
        return models.Bridge(
            id=self.id,
            technology=self.technology,
            bridge_type=self.bridge_type,
            bridge_class="stasis",
            creator="Stasis",
            name=self.name,
            channels=[c.id for c in self.channels],
            creationtime=self.creationtime,
            video_mode="talker",
        )
