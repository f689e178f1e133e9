"""Playbacks of the virtual Asterisk: a media list played item by item to a target.

States and events follow res/res_stasis_playback.c (Asterisk 22): `queued` on creation
(no event), `playing` per item (PlaybackStarted), `continuing` between items
(PlaybackContinuing), then `done` after the last item or when stopped by DELETE
/playbacks/{id} (PlaybackFinished; STOPPED and CANCELED both read "done"), or `failed`
when the channel hangs up mid-item (PlaybackFinished; README of the transcripts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from acd.ari import models

if TYPE_CHECKING:
    from collections.abc import Callable

    from acd.softphone_sim.pbx.bridges import Bridge
    from acd.softphone_sim.pbx.channels import Channel

SECONDS_PER_DIGIT = 0.8
"""How long `digits:`, `number:` and `characters:` media take per spoken symbol."""


def media_seconds(uri: str, per_sound: float) -> float:
    """How long one media item plays, in virtual seconds."""
    scheme, _, rest = uri.partition(":")
    if scheme in ("digits", "characters"):
        return SECONDS_PER_DIGIT * max(len(rest), 1)
    if scheme == "number":
        return SECONDS_PER_DIGIT * max(len(rest.lstrip("-")), 1)
    return per_sound


@dataclass(eq=False)
class Playback:
    """One playback. `target` is the channel or the bridge it plays to."""

    id: str
    media: list[str]
    language: str
    target: Channel | Bridge
    target_uri: str
    index: int = 0
    state: str = "queued"
    canceled: bool = False  # stopped while still queued: reads "done" when its turn comes
    timer: Callable[[], None] | None = field(default=None, repr=False)

    def snapshot(self) -> models.Playback:
        last = self.index >= len(self.media) - 1
        return models.Playback(
            id=self.id,
            media_uri=self.media[self.index],
            next_media_uri=None if last else self.media[self.index + 1],
            target_uri=self.target_uri,
            language=self.language,
            state=self.state,
        )
