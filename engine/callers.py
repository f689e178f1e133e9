"""The caller's path: arrival, the IVR, prompts and digits, hang-ups, the end of a call.

A flow of the engine (see `engine.core`). A call arrives, is answered and runs the
IVR: `engine.ivr` decides the steps, this flow carries them out (plays prompts, arms
the digit timer, joins a queue, closes the call). Whatever a call is doing when the
caller's line goes down, `_caller_gone` ends it the one right way. Every call leaves
the engine through `finish`, and has exactly one outcome, counted and reported once
by `record_outcome`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine import facts as fact
from acd.engine.commands import Outcome
from acd.engine.context import Context
from acd.engine.counting import count_outcome
from acd.engine.ended import EndedCalls
from acd.engine.ivr import IvrFlow
from acd.engine.ivr_steps import Finish, Join, LinkSent, Prompt, Step, StopPrompt, WaitDigit
from acd.engine.records import Call
from acd.engine.states import CallState

if TYPE_CHECKING:
    from acd.engine.callbacks import Callbacks
    from acd.engine.offers import Offers
    from acd.engine.overflow import Overflow
    from acd.engine.pools import Pools
    from acd.engine.queueing import Lines

C = CallState

_QUEUE_OUTCOMES = frozenset(
    {"answered", "vendor_answered", "abandoned", "short_abandoned", "blocked", "callback_failed"}
)


class Callers:
    """The caller's path through the IVR, and the end of every call."""

    callbacks: Callbacks
    lines: Lines
    offers: Offers
    overflow: Overflow
    pools: Pools

    def __init__(
        self,
        ctx: Context,
        ivr: IvrFlow,
        ended: EndedCalls,
    ) -> None:
        self.ctx = ctx
        self.ivr = ivr
        self.ended = ended

    def on_call_arrived(self, e: ev.CallArrived) -> None:
        if e.call_id in self.ctx.calls:
            self.ctx.anomaly("duplicate call id")
            return
        now = self.ctx.now
        call = Call(
            id=e.call_id,
            caller=e.caller,
            dnis=e.dnis,
            arrived_at=now,
            language=self.ctx.config.site.default_language,
        )
        ctx = self.ctx
        ctx.calls[call.id] = call
        ctx.note_call(call.id)
        ctx.metrics.ivr.arrived += 1
        ctx.counting.interval(ctx.counting.interval_of(now)).arrived += 1
        self.ctx.emit(cmd.Answer(call_id=call.id))
        if self.ctx.config.surge.auto:
            self.pools.call_arrived(now)
        self._run_ivr(call, self.ivr.start(call, now))

    def _run_ivr(self, call: Call, steps: list[Step]) -> None:
        for step in steps:
            if call.state is not C.IVR:
                return
            if isinstance(step, Prompt):
                if step.media:
                    self.ctx.play(call, step.media, step.kind)
                else:  # nothing to play: it has "finished" already
                    self._run_ivr(call, self.ivr.prompt_done(call, step.kind, self.ctx.now))
            elif isinstance(step, WaitDigit):
                call.prompt_kind = "digit"
                self.ctx.timers.arm(self.ctx.now + step.seconds, "menu", call.id, call.prompt_id)
            elif isinstance(step, StopPrompt):
                if call.prompt_id and call.prompt_kind == "menu":
                    self.ctx.emit(cmd.StopPlayback(call_id=call.id))
                call.prompt_id = 0
                call.prompt_kind = ""
            elif isinstance(step, Join):
                self.lines.join(call, step.queue, step.priority)
            elif isinstance(step, LinkSent):
                self.ctx.metrics.ivr.links_sent += 1
                self.ctx.emit(cmd.SendLink(call_id=call.id, number=call.caller, link=step.link))
            elif isinstance(step, Finish):
                self.close(call, step.media, step.outcome)

    def close(self, call: Call, media: list[str], outcome: Outcome) -> None:
        """End the call politely: play `media`, then hang up, with `outcome`."""
        self.ctx.move(call, "close" if call.state is C.IVR else "full")
        call.outcome = outcome  # decided now; recorded when the line goes down
        if media:
            self.ctx.play(call, media, "close")
        else:
            self._hang_up_closing(call)

    def _hang_up_closing(self, call: Call) -> None:
        self.ctx.emit(cmd.HangupCaller(call_id=call.id))
        self.finish(call, call.outcome or None)

    def on_digit(self, e: ev.DigitPressed) -> None:
        call = self.ctx.call(e.call_id, "digit")
        if call is None:
            return
        if len(e.digit) != 1 or e.digit not in "0123456789*#":
            self.ctx.anomaly("malformed digit")
            return
        if call.state is C.IVR:
            self._run_ivr(call, self.ivr.digit(call, e.digit, self.ctx.now))
        elif call.state is C.WAITING:
            offer = self.ctx.queues[call.queue].cfg.callback
            if offer and call.callback_offered and not call.callback and e.digit == offer.digit:
                self.callbacks.accept(call, offer.confirm_prompt)

    def awaits_prompt(self, call_id: str, prompt_id: int) -> bool:
        """Whether the end of prompt `prompt_id` means anything to the call now: it
        waits for that prompt (a menu, a closing prompt, a confirmation, the warning,
        the pre-connect message). Any other prompt's end is dropped, not an anomaly:
        prompts end after hang-ups, barge-ins and answers all the time."""
        call = self.ctx.calls.get(call_id)
        return call is not None and (
            prompt_id == call.protection_prompt_id
            or (prompt_id == call.prompt_id and call.prompt_kind != "digit")
        )

    def on_prompt_finished(self, e: ev.PromptFinished) -> None:
        if not self.awaits_prompt(e.call_id, e.prompt_id):
            return
        call = self.ctx.calls[e.call_id]
        if e.prompt_id == call.protection_prompt_id:
            call.protection_done = True
            if call.state is C.CONNECTING:
                self.offers.connect(call)
            return
        kind = call.prompt_kind
        call.prompt_id = 0
        call.prompt_kind = ""
        if call.state is C.IVR:
            if kind == "menu":
                call.prompt_id = e.prompt_id  # the digit timer's token
            self._run_ivr(call, self.ivr.prompt_done(call, kind, self.ctx.now))
        elif kind == "close" and call.state is C.CLOSING:
            self._hang_up_closing(call)
        elif kind == "callback_confirm" and call.callback and call.line_up:
            if call.state in (C.WAITING, C.OFFERED):
                self.ctx.emit(cmd.HangupCaller(call_id=call.id))
                call.line_up = False
        elif kind == "warning" and call.state is C.WARNING:
            self.ctx.emit(cmd.HangupCaller(call_id=call.id))
            self.finish(call, None)

    def menu_timed_out(self, call_id: str, token: int) -> None:
        call = self.ctx.calls[call_id]
        call.prompt_kind = ""
        self._run_ivr(call, self.ivr.timed_out(call, self.ctx.now))

    def on_caller_hung_up(self, e: ev.CallerHungUp) -> None:
        call = self.ctx.calls.get(e.call_id)
        if call is None:
            # The PBX reports every line that goes down, those the engine hung up
            # too: one report per ended call is expected, any other is a stray.
            if not self.ended.settle(e.call_id):
                self.ctx.anomaly("hang-up for unknown or ended call")
            return
        self._caller_gone(call)
        self.ended.settle(e.call_id)  # if the call ended, this was its report

    def _caller_gone(self, call: Call) -> None:
        """The caller's line went down, whatever the call was doing."""
        state = call.state
        if call.callback and state in (C.WAITING, C.OFFERED, C.RETRY_WAIT):
            # A callback keeps its place whether we hung the line up after the
            # confirmation or the caller did not wait for the end of it.
            call.line_up = False
            return
        facts = self.ctx.facts
        if facts is not None:
            self._report_caller_gone(facts, call)
        if state is C.IVR:
            self.finish(call, "ivr_abandoned")
        elif state is C.CLOSING:
            self.finish(call, call.outcome or None)
        elif state is C.WAITING:
            self.lines.leave(call)
            self.finish(call, self._abandon_outcome(call))
        elif state is C.OFFERED:
            agent = self.ctx.agents[call.agent_id]
            self.ctx.emit(cmd.CancelRing(call_id=call.id, agent_id=agent.id))
            agent.call_id = ""
            self.finish(call, self._abandon_outcome(call))
            self.offers.offer_cancelled(agent)
        elif state is C.CONNECTING:
            self.ctx.emit(cmd.HangupAgent(call_id=call.id, agent_id=call.agent_id))
            self.finish(call, self._abandon_outcome(call))
            self.offers.end_agent_call(self.ctx.agents[call.agent_id], call)
        elif state is C.DIALING_BACK:
            self.callbacks.not_reached(call, "hangup")
        elif state is C.CONNECTED:
            self.ctx.emit(cmd.HangupAgent(call_id=call.id, agent_id=call.agent_id))
            self.offers.end_connected(call)
        elif state in (C.VENDOR_DIALING, C.VENDOR_CONNECTED):
            self.ctx.emit(cmd.CancelVendor(call_id=call.id, vendor=call.vendor))
            vendor = call.vendor
            self.finish(call, self._abandon_outcome(call) if state is C.VENDOR_DIALING else None)
            self.overflow.vendor_call_over(vendor)
        elif state is C.WARNING:
            self.finish(call, None)

    def _report_caller_gone(self, facts: list[fact.Fact], call: Call) -> None:
        """The facts of a caller's hang-up (before `_caller_gone` acts on it): a ring
        cancelled and an abandon, or the end of a conversation. Nothing for a call
        outside a queue, a callback being dialled (`Callbacks.not_reached` says it)
        or a call already over for the log (closing, or warned after an abusive flag)."""
        state, now = call.state, self.ctx.now
        if state is C.CONNECTED or state is C.VENDOR_CONNECTED:
            facts.append(
                fact.CallCompleted(
                    at=now,
                    call_id=call.id,
                    queue=call.queue,
                    by_caller=True,
                    agent_id=call.agent_id if state is C.CONNECTED else "",
                    vendor=call.vendor if state is C.VENDOR_CONNECTED else "",
                )
            )
            return
        if state is C.OFFERED or state is C.VENDOR_DIALING:
            facts.append(
                fact.RingCanceled(
                    at=now,
                    call_id=call.id,
                    queue=call.queue,
                    agent_id=call.agent_id if state is C.OFFERED else "",
                    vendor=call.vendor if state is C.VENDOR_DIALING else "",
                )
            )
        elif state is not C.WAITING and state is not C.CONNECTING:
            return
        facts.append(
            fact.CallAbandoned(
                at=now,
                call_id=call.id,
                queue=call.queue,
                position=self.ctx.queues[call.queue].waiting.position(call.priority, call.seq),
                agent_id=call.agent_id if state is C.CONNECTING else "",
            )
        )

    def _abandon_outcome(self, call: Call) -> Outcome:
        wait = self.ctx.now - call.enqueued_at
        short = wait < self.ctx.config.site.short_abandon_seconds
        return "short_abandoned" if short else "abandoned"

    def finish(self, call: Call, outcome: Outcome | None) -> None:
        """The call leaves the engine; record its outcome if not recorded yet."""
        if outcome is not None and not call.outcome_recorded:
            self.record_outcome(call, outcome)
        del self.ctx.calls[call.id]
        self.ctx.note_call(call.id)
        self.ended.add(call.id)

    def record_outcome(self, call: Call, outcome: Outcome) -> None:
        """Count the call's single outcome (see `commands.Outcome`) and report it."""
        assert not call.outcome_recorded, "a call has exactly one outcome"
        call.outcome_recorded = True
        call.outcome = outcome
        now = self.ctx.now
        wait = now - call.enqueued_at if call.queue else 0.0
        ivr = self.ctx.metrics.ivr
        if outcome in _QUEUE_OUTCOMES:
            sl = self.ctx.queues[call.queue].service_level
            for c in self.ctx.counting.queue_counters(call.queue, call.interval):
                count_outcome(c, outcome, wait, sl)
        elif outcome == "ivr_abandoned":
            ivr.ivr_abandoned += 1
        elif outcome == "self_served":
            ivr.self_served += 1
        elif outcome == "ivr_failed":
            ivr.ivr_failed += 1
        self.ctx.emit(
            cmd.CallOutcome(
                call_id=call.id,
                outcome=outcome,
                queue=call.queue or None,
                wait_seconds=wait,
                agent_id=call.agent_id or None,
                vendor=call.vendor or None,
            )
        )
