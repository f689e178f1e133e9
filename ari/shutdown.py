"""Leaving no caller in silence when the engine stops, as data.

Callers in the IVR or waiting hear `live.shutdown_prompt`, then go on in the dialplan
(`on_shutdown: continue`) or are hung up; agent and vendor legs still ringing for
them are cancelled. Conversations already bridged go on in Asterisk. The executor
(ari/controller.py) carries this out and waits for the hand-backs, a while.
"""

from __future__ import annotations

from acd.ari.books import Books, release
from acd.ari.effects import Effect, HandBack
from acd.ari.translate import send_back
from acd.engine import CallState

HANDED_BACK_STATES = frozenset(
    {CallState.IVR, CallState.WAITING, CallState.OFFERED, CallState.VENDOR_DIALING}
)
"""Calls whose callers are told and handed back on shutdown (the others are talking,
hearing a last prompt, or have no line up)."""


def hand_back(books: Books, now: float) -> tuple[list[Effect], list[tuple[str, HandBack]]]:
    """Stop serving: new callers are handed back from now on (`books.stopping`).
    Returns the releases of the legs ringing for callers about to be handed back,
    and the hand-backs themselves with their lanes, each caller's leg released (its
    end is no news any more)."""
    books.stopping = True
    releases: list[Effect] = []
    jobs: list[tuple[str, HandBack]] = []
    prompt = tuple(books.live.shutdown_prompt)
    for call in list(books.calls.values()):
        state = books.engine.calls.get(call.call_id)
        if state is None or state.state not in HANDED_BACK_STATES:
            continue
        for channel in (call.agent, call.vendor):
            if channel:
                releases += release(books, channel, call.call_id)
        leg = books.legs.get(call.caller)
        if leg is not None and not leg.gone:
            books.stats.handed_back += 1
            leg.released = True
            playback = books.next_id("pb", now) if prompt else ""
            leave = send_back(books.live, leg.channel_id)
            job = HandBack(call.call_id, leg.channel_id, prompt, playback, leave)
            jobs.append((call.call_id, job))
    return releases, jobs
