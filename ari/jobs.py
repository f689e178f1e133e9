"""Jobs, the lanes' units of work: their plan, and what each outcome means.

The executor runs a job when its lane reaches it, through `run`:

    steps = begin(books, job)            # [] when there is nothing to do any more
    for each step: an effect is carried out in its place; a request is sent, then
        succeeded(books, job, request)   -> effects
      or, refused, the rest of the plan is replaced by
        failed(books, job, request, failure, done, rest)

`done` is the requests that succeeded before, `rest` the steps still planned. All
of them read and change the books and return data, so what a REST failure means is a
table row too: a channel that is gone is a hang-up; an originate that fails is a
miss (agents) or a failure (vendors, callbacks); a prompt that cannot play has
finished. No function here does IO.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Generator
from typing import assert_never

from acd.ari.books import Books, HangUpFeature, Signal, centre_number, quiet
from acd.ari.books import failed as report_failed
from acd.ari.effects import (
    Announce,
    AnswerCaller,
    Barge,
    Confirm,
    Dial,
    Effect,
    Feed,
    HandBack,
    HangUpCaller,
    HoldCaller,
    Job,
    LegEnded,
    PlayPrompt,
    Quiet,
    Release,
    Report,
    Sample,
    SendLink,
    SpyAdd,
    StartSnoop,
    Step,
    Talk,
)
from acd.ari.legs import HOLD_PREFIX
from acd.ari.ops import (
    AddChannels,
    Answer,
    CreateBridge,
    DestroyBridge,
    Failure,
    GetChannel,
    Hangup,
    HoldingBridge,
    Originate,
    Play,
    RemoveChannels,
    Request,
    SendMessage,
    Snoop,
    StopPlayback,
    WaitPlayback,
)
from acd.ari.settle import gone
from acd.ari.supervise import end_supervision, supervision_failed
from acd.engine import events as ev

log = logging.getLogger("acd.controller")

COMMAND_OF: dict[type[Job], str] = {
    AnswerCaller: "Answer",
    PlayPrompt: "Play",
    HoldCaller: "Hold",
    Announce: "AnnounceWait",
    HangUpCaller: "HangupCaller",
}
"""The engine command a caller's job carries out, as its failures are logged."""

HAND_BACK_PROMPT_SECONDS = 10.0
"""How long a handed-back caller's last prompt may play before they go on anyway."""


def _caller(books: Books, call_id: str) -> str:
    """The call's caller leg as the lane reaches it ("" if it has none, or it ended)."""
    call = books.calls.get(call_id)
    if call is None:
        return ""
    leg = books.legs.get(call.caller)
    return call.caller if call.caller and leg is not None and not leg.gone else ""


def _channel_of(steps: list[Step]) -> str:
    """The caller's channel a caller's job acts on: the first request naming one
    (a holding bridge names none; the add after it does)."""
    for step in steps:
        if isinstance(step, Answer | Play | Hangup):
            return step.channel
        if isinstance(step, AddChannels):
            return step.channels[0]
    return ""


def _effects(steps: list[Step]) -> list[Step]:
    """The effects among `steps`: what still happens once a request has failed."""
    return [s for s in steps if not isinstance(s, Request)]


Run = Generator[Step, Failure | None, None]
"""A job under way (`run`): it yields each step; for a request the executor sends
back its outcome (None: carried out; a `Failure`: refused), for an effect None."""


def run(books: Books, job: Job) -> Run:
    """Carry out `job` with the executor: the one loop both the controller and the
    tests drive (the controller sends the requests, the tests script their outcomes)."""
    steps = deque(begin(books, job))
    done: list[Request] = []
    while steps:
        step = steps.popleft()
        outcome = yield step
        if not isinstance(step, Request):
            continue
        if outcome is not None:
            steps = deque(failed(books, job, step, outcome, done, list(steps)))
        else:
            done.append(step)
            yield from succeeded(books, job, step)  # effects: the executor sends None


def begin(books: Books, job: Job) -> list[Step]:
    """The job's plan, made when its lane reaches it."""
    match job:
        case Quiet():
            return [job.request]
        case Release() | HangUpCaller():
            leg = books.legs.get(job.channel)
            return [] if leg is None or leg.gone else [Hangup(job.channel, job.reason)]
        case AnswerCaller():
            channel = _caller(books, job.call_id)
            return [Answer(channel), Sample("first_command", channel)] if channel else []
        case PlayPrompt() | Announce():
            channel = _caller(books, job.call_id)
            if not channel:
                return []
            play = Play(channel, job.media, job.playback_id, job.lang)
            return [play, Sample("first_command", channel)]
        case HoldCaller():
            channel = _caller(books, job.call_id)
            if not channel:
                return []
            bridge = HOLD_PREFIX + job.queue
            if books.legs[channel].bridge == bridge:
                return [Sample("first_command", channel)]
            return [
                HoldingBridge(job.queue, job.music_class),
                AddChannels(bridge, (channel,), role="participant"),
                Sample("first_command", channel),
            ]
        case Dial():
            return _dial(books, job)
        case Talk():
            caller = _caller(books, job.call_id)
            other = books.legs.get(job.partner)
            if not caller or other is None or other.gone:
                return []
            steps: list[Step] = []
            if job.bridge not in books.kept_bridges:
                # dtmf_events: without it Asterisk may pass media natively and the
                # agent's keys (the abusive-caller code) would never reach us.
                steps.append(CreateBridge(job.bridge, "mixing,dtmf_events", job.bridge))
            steps.append(AddChannels(job.bridge, (caller, job.partner)))
            return steps
        case Confirm():
            if job.prompt:
                return [Answer(job.channel), Play(job.channel, job.prompt, job.playback_id)]
            return [Answer(job.channel), Hangup(job.channel)]
        case SendLink():
            sender = books.live.caller_id or centre_number(books, job.call_id)
            return [SendMessage(f"pjsip:{job.number}", sender, job.link)]
        case Barge():
            leg = books.legs.get(job.supervisor)
            sup = books.supervisions.get(job.supervisor)
            if leg is None or leg.gone or sup is None:
                return []
            if not job.bridge:
                log.warning("barge into %s: the conversation is over", job.call_id)
                return list(end_supervision(books, sup))
            return [AddChannels(job.bridge, (job.supervisor,))]
        case StartSnoop():
            return _start_snoop(books, job)
        case SpyAdd():
            leg = books.legs.get(job.channel)
            sup = books.supervisions.get(job.supervisor)
            if leg is None or leg.gone or sup is None:
                return []
            return [AddChannels(sup.bridge, (job.channel,))]
        case HandBack():
            return _hand_back(books, job)
        case _:
            assert_never(job)


def _dial(books: Books, job: Dial) -> list[Step]:
    leg = books.legs.get(job.channel)
    if leg is None or leg.released or leg.gone:
        if leg is not None:
            leg.dialling = False
        return []
    originator = _caller(books, job.call_id)
    return [
        Originate(
            job.endpoint,
            job.channel,
            app_args=(leg.kind, job.call_id),
            timeout=job.timeout,
            caller_id=job.caller_id,
            originator=originator,
            variables=job.variables,
        )
    ]


def _start_snoop(books: Books, job: StartSnoop) -> list[Step]:
    snoop = books.legs.get(job.snoop)
    sup = books.supervisions.get(job.supervisor)
    if sup is None:
        # The supervision ended before its snoop was asked for: none will be.
        if snoop is None:
            return []
        snoop.dialling = False
        snoop.released = True
        return list(gone(books, snoop))
    return [
        CreateBridge(sup.bridge, "mixing", sup.bridge),
        AddChannels(sup.bridge, (job.supervisor,)),
        # The snoop's StasisStart (its "answer") adds it to the bridge: SpyAdd.
        Snoop(job.agent_leg, job.snoop, "both", job.whisper, ("snoop", job.call_id)),
    ]


def _hand_back(books: Books, job: HandBack) -> list[Step]:
    call = books.calls.get(job.call_id)
    leg = books.legs.get(job.channel)
    steps: list[Step] = []
    if call is not None and call.playback:
        steps.append(StopPlayback(call.playback))
    if leg is not None and leg.bridge:
        steps.append(RemoveChannels(leg.bridge, (job.channel,)))
    if job.prompt:
        books.after_playback[job.playback_id] = Signal()
        steps += [
            Play(job.channel, job.prompt, job.playback_id),
            WaitPlayback(job.playback_id, HAND_BACK_PROMPT_SECONDS),
        ]
    steps.append(job.leave)
    return steps


def succeeded(books: Books, job: Job, request: Request) -> list[Effect]:
    """What a request of `job` that Asterisk carried out changes."""
    match request:
        case Play() if isinstance(job, PlayPrompt):
            books.requested.discard(job.playback_id)
        case Originate() | Snoop():
            channel = request.channel_id if isinstance(request, Originate) else request.snoop_id
            leg = books.legs.get(channel)
            if leg is not None:
                leg.dialling = False  # Asterisk lists it from now on
        case Answer() if isinstance(job, Confirm) and job.prompt:
            books.after_playback[job.playback_id] = HangUpFeature(job.channel)
        case AddChannels():
            for channel in request.channels:
                leg = books.legs.get(channel)
                if leg is not None:
                    leg.bridge = request.bridge
            if isinstance(job, Talk):
                return [Sample("bridge", job.partner)]
        case CreateBridge() if isinstance(job, Talk) and job.kept:
            books.kept_bridges.add(job.bridge)
        case _:
            pass
    return []


def failed(
    books: Books, job: Job, request: Request, failure: Failure, done: list[Request],
    rest: list[Step],
) -> list[Step]:
    """What it means that Asterisk refused (or did not answer) `request` of `job`:
    the steps to take instead of `rest`."""
    match job:
        case Quiet() | Release() | SendLink():
            return [*quiet(books, failure), *rest]
        case AnswerCaller() | PlayPrompt() | Announce() | HoldCaller() | HangUpCaller():
            return _caller_failed(books, job, request, failure, rest)
        case Dial():
            return _dial_failed(books, job, request, failure, rest)
        case Talk():
            return _talk_failed(books, job, request, failure, done, rest)
        case Confirm():
            if isinstance(request, Hangup):
                return [*quiet(books, failure), *rest]
            books.after_playback.pop(job.playback_id, None)
            return [] if failure.gone else [Hangup(job.channel)]
        case Barge() | SpyAdd():
            return [*supervision_failed(books, job.call_id, job.mode, job.supervisor, failure)]
        case StartSnoop():
            out: list[Step] = [
                *supervision_failed(books, job.call_id, job.mode, job.supervisor, failure)
            ]
            snoop = books.legs.get(job.snoop)
            if snoop is not None:
                if failure.status != 0:  # no snoop channel was made: none will end
                    out += gone(books, snoop)
                snoop.dialling = False
            return out
        case HandBack():
            if isinstance(request, StopPlayback | RemoveChannels):
                return [*quiet(books, failure), *rest]
            log.info("shutdown: %s: %s", job.channel, failure.text)
            return []
        case _:
            assert_never(job)


def _caller_failed(
    books: Books,
    job: AnswerCaller | PlayPrompt | Announce | HoldCaller | HangUpCaller,
    request: Request,
    failure: Failure,
    rest: list[Step],
) -> list[Step]:
    """A request on the caller's line failed: a gone channel is the caller hanging up."""
    out: list[Step] = []
    if isinstance(job, PlayPrompt):
        books.requested.discard(job.playback_id)
        if not failure.gone and books.playbacks.pop(job.playback_id, None) is not None:
            # The prompt cannot play: for the flow, it has finished (a caller who
            # misses a prompt is better off than one left in silence).
            out.append(Feed(ev.PromptFinished(call_id=job.call_id, prompt_id=job.prompt_id)))
    out.append(report_failed(books, COMMAND_OF[type(job)], failure))
    leg = books.legs.get(_channel_of([request, *rest]))
    if failure.gone and leg is not None:
        out += gone(books, leg)
    return out + _effects(rest)



def _dial_failed(
    books: Books, job: Dial, request: Request, failure: Failure, rest: list[Step]
) -> list[Step]:
    if not isinstance(request, Originate):  # the hang-up after an unanswered originate
        return [*quiet(books, failure), *rest]
    leg = books.legs.get(job.channel)
    if leg is not None:
        leg.dialling = False
    # The caller hung up while we asked (Asterisk's 400 "Provided originator channel
    # was not found"): nobody's fault, no warning; the caller's own hang-up settles
    # the offer.
    caller_left = failure.status == 400 and "originator" in failure.message.lower()
    out: list[Step] = [report_failed(books, job.command, failure, caller_left=caller_left)]
    if leg is not None:
        if caller_left:
            leg.released = True
        leg.cause = -1  # the PBX would not dial it: unreachable, not a miss
    if failure.status == 0:
        # No answer in time: the channel may exist all the same.
        return [*out, Hangup(job.channel), LegEnded(job.channel)]
    return out + (gone(books, leg) if leg is not None else [])


def _talk_failed(
    books: Books, job: Talk, request: Request, failure: Failure, done: list[Request],
    rest: list[Step],
) -> list[Step]:
    if isinstance(request, GetChannel):  # which leg left? the one that is gone
        leg = books.legs.get(request.channel)
        return [*(gone(books, leg) if failure.gone and leg is not None else []), *rest]
    if isinstance(request, DestroyBridge):
        return [*quiet(books, failure), *rest]
    pair = next(s for s in [request, *rest] if isinstance(s, AddChannels))
    created = any(isinstance(r, CreateBridge) for r in done)
    if isinstance(request, AddChannels) and failure.gone and job.kept and not created:
        # The kept bridge is gone (Asterisk restarted, someone removed it): again.
        return [CreateBridge(job.bridge, "mixing,dtmf_events", job.bridge), pair]
    out: list[Step] = []
    if created and not job.kept:
        # Asterisk adds all the channels or none: a bridge nobody was put in serves
        # no call, and nothing else would ever remove it.
        call = books.calls.get(job.call_id)
        if call is not None and call.talk_bridge == job.bridge:
            call.talk_bridge = ""
        out.append(DestroyBridge(job.bridge))
    # 400 "Channel not found" / 422 "Channel not in Stasis application": one of them
    # hung up meanwhile, as 404 says elsewhere.
    left = failure.status in (400, 422) or (failure.gone and "bridge" not in failure.path)
    if not left:
        books.stats.rest_failures += 1
        line = f"bridging {job.call_id} failed: {failure.text}"
        out.append(Report(logging.WARNING, line, failure.status))
        return out
    log.info("bridging %s: a leg left first: %s", job.call_id, failure.text)
    return out + [GetChannel(channel) for channel in pair.channels]
