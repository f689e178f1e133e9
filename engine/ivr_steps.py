"""The IVR's steps (`engine.ivr` decides them, `engine.callers` carries them out):
msgspec Structs, kept out of the mypyc-compiled modules."""

from __future__ import annotations

import msgspec

from acd.engine.commands import Outcome
from acd.engine.states import PromptKind


class Prompt(msgspec.Struct, frozen=True):
    media: list[str]
    kind: PromptKind
    """What the prompt's end means: "menu" (start the digit timer), "announce" or
    "link" (go on), "close" (hang up)."""


class Join(msgspec.Struct, frozen=True):
    queue: str
    priority: int | None


class Finish(msgspec.Struct, frozen=True):
    """Play `media` (possibly none), then end the call with `outcome`."""

    media: list[str]
    outcome: Outcome


class LinkSent(msgspec.Struct, frozen=True):
    link: str


class WaitDigit(msgspec.Struct, frozen=True):
    seconds: float


class StopPrompt(msgspec.Struct, frozen=True):
    pass


Step = Prompt | Join | Finish | LinkSent | WaitDigit | StopPrompt
