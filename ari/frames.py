"""Decoding ARI WebSocket frames into the typed records of `ari.models`.

Kept apart from the generated module: this is our policy (what to do with an event
type the spec does not know), not Asterisk's description.
"""

from __future__ import annotations

import msgspec

from acd.ari.models import EVENT_TYPES, Event

EVENT_DECODER: msgspec.json.Decoder[Event] = msgspec.json.Decoder(Event)
"""Decodes one event frame; raises msgspec.ValidationError for an unknown `type`."""


class _TypeOnly(msgspec.Struct, frozen=True):
    type: str | None = None


_TYPE_DECODER = msgspec.json.Decoder(_TypeOnly)


def decode_event(data: bytes | str) -> Event | None:
    """Decode one ARI WebSocket frame into its event record.

    Returns None when the frame is well-formed JSON whose `type` this spec does not know
    (a newer Asterisk's event, or the non-event message `MissingParams`): the caller
    counts it and goes on. Fields the spec does not know are ignored.

    Raises msgspec.DecodeError when the frame is not JSON (message such as "JSON is
    malformed: invalid character (byte 0)" or "Input data was truncated"), and its
    subclass msgspec.ValidationError when a known event breaks the spec (message naming
    the path, such as "Object missing required field `channel` - at `$`") or the frame
    has no string `type`.
    """
    try:
        return EVENT_DECODER.decode(data)
    except msgspec.ValidationError:
        # The rare path: find out whether the tag was the problem. Re-raise the first
        # error for anything else (including no `type` at all).
        try:
            kind = _TYPE_DECODER.decode(data).type
        except msgspec.ValidationError:
            kind = None
        if kind is None or kind in EVENT_TYPES:
            raise
        return None
