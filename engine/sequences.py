"""The engine's running numbers: each names one thing in the order the engine made it.

They are state (persisted with the rest): a restored engine numbers on from where
the exported one stopped, so a prompt or an offer of the new engine is never taken
for one of the old.
"""

from __future__ import annotations

import msgspec


class Sequences(msgspec.Struct, kw_only=True):
    """The last number given to each kind of thing (0: none yet)."""

    prompt: int = 0
    """Prompts played (`Play.prompt_id`): the end of an older prompt is not news."""
    queue: int = 0
    """Queue joins (`Call.seq`): the order of arrival in every queue."""
    offer: int = 0
    """Offers to agents, vendor dials and call-backs (`Call.offer_token`)."""
    referral: int = 0
    """Callbacks agents referred (their call ids)."""
