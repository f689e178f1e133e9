"""The caller's path: arrival, the IVR, prompts and digits, hang-ups, the end of a call.

A part of `Engine` (see `engine.core` for the contract). A call arrives, is answered
and runs the IVR: `engine.ivr` decides the steps, this part carries them out (plays
prompts, arms the digit timer, joins a queue, closes the call). Whatever a call is
doing when the caller's line goes down, `_caller_gone` ends it the one right way.
Every call leaves the engine through `_finish`, and has exactly one outcome, counted
and reported once by `_record_outcome`.
"""

from __future__ import annotations

from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine import facts as fact
from acd.engine.base import EngineBase
from acd.engine.ivr import Finish, Join, LinkSent, Prompt, Step, StopPrompt, WaitDigit
from acd.engine.records import Call
from acd.engine.states import CallState

C = CallState

_QUEUE_OUTCOMES = frozenset(
    {"answered", "vendor_answered", "abandoned", "short_abandoned", "blocked", "callback_failed"}
)


class CallerFlow(EngineBase):
    """The caller's path through the IVR, and the end of every call."""

    def _on_call_arrived(self, e: ev.CallArrived) -> None:
        if e.call_id in self.calls:
            self._anomaly("duplicate call id")
            return
        now = self._now
        call = Call(
            id=e.call_id,
            caller=e.caller,
            dnis=e.dnis,
            arrived_at=now,
            language=self.config.site.default_language,
        )
        self.calls[call.id] = call
        if self.tracking:
            self.changed_calls.add(call.id)
        self.metrics.ivr.arrived += 1
        self.metrics.interval(self.metrics.interval_of(now)).arrived += 1
        self._emit(cmd.Answer(call_id=call.id))
        if self.config.surge.auto:
            self.surge.arrived(now)
            self._evaluate_stage()
        self._run_ivr(call, self.ivr.start(call, now))

    def _run_ivr(self, call: Call, steps: list[Step]) -> None:
        for step in steps:
            if call.state is not C.IVR:
                return
            if isinstance(step, Prompt):
                if step.media:
                    self._play(call, step.media, step.kind)
                else:  # nothing to play: it has "finished" already
                    self._run_ivr(call, self.ivr.prompt_done(call, step.kind, self._now))
            elif isinstance(step, WaitDigit):
                call.prompt_kind = "digit"
                self.timers.arm(self._now + step.seconds, "menu", call.id, call.prompt_id)
            elif isinstance(step, StopPrompt):
                if call.prompt_id and call.prompt_kind == "menu":
                    self._emit(cmd.StopPlayback(call_id=call.id))
                call.prompt_id = 0
                call.prompt_kind = ""
            elif isinstance(step, Join):
                self._join(call, step.queue, step.priority)
            elif isinstance(step, LinkSent):
                self.metrics.ivr.links_sent += 1
                self._emit(cmd.SendLink(call_id=call.id, number=call.caller, link=step.link))
            elif isinstance(step, Finish):
                self._close(call, step.media, step.outcome)

    def _close(self, call: Call, media: list[str], outcome: str) -> None:
        """End the call politely: play `media`, then hang up, with `outcome`."""
        self._move(call, "close" if call.state is C.IVR else "full")
        call.outcome = outcome  # decided now; recorded when the line goes down
        if media:
            self._play(call, media, "close")
        else:
            self._hang_up_closing(call)

    def _hang_up_closing(self, call: Call) -> None:
        self._emit(cmd.HangupCaller(call_id=call.id))
        self._finish(call, call.outcome)

    def _on_digit(self, e: ev.DigitPressed) -> None:
        call = self._call(e.call_id, "digit")
        if call is None:
            return
        if len(e.digit) != 1 or e.digit not in "0123456789*#":
            self._anomaly("malformed digit")
            return
        if call.state is C.IVR:
            self._run_ivr(call, self.ivr.digit(call, e.digit, self._now))
        elif call.state is C.WAITING:
            offer = self.queues[call.queue].cfg.callback
            if offer and call.callback_offered and not call.callback and e.digit == offer.digit:
                self._accept_callback(call, offer.confirm_prompt)

    def _on_prompt_finished(self, e: ev.PromptFinished) -> None:
        call = self.calls.get(e.call_id)
        if call is None:
            return  # prompts end after hang-ups all the time: not an anomaly
        if e.prompt_id == call.protection_prompt_id:
            call.protection_done = True
            if call.state is C.CONNECTING:
                self._connect(call)
            return
        if e.prompt_id != call.prompt_id or call.prompt_kind == "digit":
            return
        kind = call.prompt_kind
        call.prompt_id = 0
        call.prompt_kind = ""
        if call.state is C.IVR:
            if kind == "menu":
                call.prompt_id = e.prompt_id  # the digit timer's token
            self._run_ivr(call, self.ivr.prompt_done(call, kind, self._now))
        elif kind == "close" and call.state is C.CLOSING:
            self._hang_up_closing(call)
        elif kind == "callback_confirm" and call.callback and call.line_up:
            if call.state in (C.WAITING, C.OFFERED):
                self._emit(cmd.HangupCaller(call_id=call.id))
                call.line_up = False
        elif kind == "warning" and call.state is C.WARNING:
            self._emit(cmd.HangupCaller(call_id=call.id))
            self._finish(call, None)

    def _menu_timed_out(self, call_id: str, token: int) -> None:
        call = self.calls[call_id]
        call.prompt_kind = ""
        self._run_ivr(call, self.ivr.timed_out(call, self._now))

    def _on_caller_hung_up(self, e: ev.CallerHungUp) -> None:
        call = self.calls.get(e.call_id)
        if call is None:
            # The PBX reports every line that goes down, those the engine hung up
            # too: one report per ended call is expected, any other is a stray.
            if not self._ended.settle(e.call_id):
                self._anomaly("hang-up for unknown or ended call")
            return
        self._caller_gone(call)
        self._ended.settle(e.call_id)  # if the call ended, this was its report

    def _caller_gone(self, call: Call) -> None:
        """The caller's line went down, whatever the call was doing."""
        state = call.state
        if call.callback and state in (C.WAITING, C.OFFERED, C.RETRY_WAIT):
            # A callback keeps its place whether we hung the line up after the
            # confirmation or the caller did not wait for the end of it.
            call.line_up = False
            return
        facts = self.facts
        if facts is not None:
            self._report_caller_gone(facts, call)
        if state is C.IVR:
            self._finish(call, "ivr_abandoned")
        elif state is C.CLOSING:
            self._finish(call, call.outcome)
        elif state is C.WAITING:
            self._leave_waiting(call)
            self._finish(call, self._abandon_outcome(call))
        elif state is C.OFFERED:
            agent = self.agents[call.agent_id]
            self._emit(cmd.CancelRing(call_id=call.id, agent_id=agent.id))
            agent.call_id = ""
            self._finish(call, self._abandon_outcome(call))
            self._offer_cancelled(agent)
        elif state is C.CONNECTING:
            self._emit(cmd.HangupAgent(call_id=call.id, agent_id=call.agent_id))
            self._finish(call, self._abandon_outcome(call))
            self._end_agent_call(self.agents[call.agent_id], call)
        elif state is C.DIALING_BACK:
            self._callback_not_reached(call, "hangup")
        elif state is C.CONNECTED:
            self._emit(cmd.HangupAgent(call_id=call.id, agent_id=call.agent_id))
            self._end_connected(call)
        elif state in (C.VENDOR_DIALING, C.VENDOR_CONNECTED):
            vendor = self.vendors[call.vendor]
            self._emit(cmd.CancelVendor(call_id=call.id, vendor=vendor.name))
            if state is C.VENDOR_DIALING:
                self._finish(call, self._abandon_outcome(call))
            else:
                self._finish(call, None)
            vendor.release(False, self._now)
            self._drain_vendor(vendor)
        elif state is C.WARNING:
            self._finish(call, None)

    def _report_caller_gone(self, facts: list[fact.Fact], call: Call) -> None:
        """The facts of a caller's hang-up (before `_caller_gone` acts on it): a ring
        cancelled and an abandon, or the end of a conversation. Nothing for a call
        outside a queue, a callback being dialled (`_callback_not_reached` says it)
        or a call already over for the log (closing, or warned after an abusive flag)."""
        state, now = call.state, self._now
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
                position=self.queues[call.queue].waiting.position(call.priority, call.seq),
                agent_id=call.agent_id if state is C.CONNECTING else "",
            )
        )

    def _abandon_outcome(self, call: Call) -> str:
        wait = self._now - call.enqueued_at
        return "short_abandoned" if wait < self.config.site.short_abandon_seconds else "abandoned"

    def _finish(self, call: Call, outcome: str | None) -> None:
        """The call leaves the engine; record its outcome if not recorded yet."""
        if outcome is not None and not call.outcome_recorded:
            self._record_outcome(call, outcome)
        del self.calls[call.id]
        if self.tracking:
            self.changed_calls.add(call.id)
        self._ended.add(call.id)

    def _record_outcome(self, call: Call, outcome: str) -> None:
        """Count the call's single outcome (see `commands.Outcome`) and report it."""
        assert not call.outcome_recorded, "a call has exactly one outcome"
        call.outcome_recorded = True
        call.outcome = outcome
        now = self._now
        wait = now - call.enqueued_at if call.queue else 0.0
        ivr = self.metrics.ivr
        if outcome in _QUEUE_OUTCOMES:
            sl = self.queues[call.queue].service_level
            for c in self.metrics.queue_counters(call.queue, call.interval):
                c.count_outcome(outcome, wait, sl)
        elif outcome == "ivr_abandoned":
            ivr.ivr_abandoned += 1
        elif outcome == "self_served":
            ivr.self_served += 1
        elif outcome == "ivr_failed":
            ivr.ivr_failed += 1
        self._emit(
            cmd.CallOutcome(
                call_id=call.id,
                outcome=outcome,  # type: ignore[arg-type]
                queue=call.queue or None,
                wait_seconds=wait,
                agent_id=call.agent_id or None,
                vendor=call.vendor or None,
            )
        )
