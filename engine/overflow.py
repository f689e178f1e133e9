"""Vendor overflow: qualified callers go to outside vendors' trunks.

A flow of the engine (see `engine.core`). A caller who qualifies under
one of the queue's overflow rules (waited long enough, a long line, a surge stage, a
long predicted wait) goes to the first of the rule's vendors that is open and under
its contract caps, when no agent takes the call first; callers go in service order,
and one whom no vendor can take holds back those behind. A vendor that does not
answer sends the call back to its place in line and rests before the next try.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine import facts as fact
from acd.engine.context import Context
from acd.engine.queues import QueueRuntime
from acd.engine.records import Call
from acd.engine.states import CallState
from acd.engine.surge import Surge
from acd.engine.vendors import VendorContract

if TYPE_CHECKING:
    from acd.engine.callers import Callers
    from acd.engine.queueing import Lines

C = CallState


class Overflow:
    """Overflow of waiting callers to vendors, and the vendors' calls."""

    callers: Callers
    lines: Lines

    def __init__(self, ctx: Context, surge: Surge, vendors: dict[str, VendorContract]) -> None:
        self.ctx = ctx
        self.surge = surge
        self.vendors = vendors

    def check(self, call: Call, q: QueueRuntime) -> None:
        """Qualify the call under the first of the queue's overflow rules that holds.
        For a caller `likely_to_give_up` (`Queue.predicted_wait`) only the rules'
        bounds count (the surge stage), not their triggers (waited, line length,
        predicted wait): the caller's predicted wait has already decided."""
        for rule in q.cfg.overflow:
            w = rule.when
            if w.stage_at_least is not None and self.surge.stage < w.stage_at_least:
                continue
            if not call.likely_to_give_up and (
                (
                    w.waited_over_seconds is not None
                    and self.ctx.now - call.enqueued_at < w.waited_over_seconds
                )
                or (w.queue_longer_than is not None and len(q.waiting) <= w.queue_longer_than)
                or (
                    w.predicted_wait_over_seconds is not None
                    and self.lines.expected_wait(call, q) <= w.predicted_wait_over_seconds
                )
            ):
                continue
            call.ready_for_overflow = True
            call.overflow_vendors = list(rule.vendors)
            q.ready.add(call.priority, call.seq, call.id, call.version)
            self.drain_queue(q)
            return

    def overflow_due(self, call_id: str, seq: int) -> None:
        call = self.ctx.calls[call_id]
        self.check(call, self.ctx.queues[call.queue])

    def drain_queue(self, q: QueueRuntime) -> None:
        """Send qualified callers of `q` to vendors while a vendor can take them.
        Stops at the first caller none of whose vendors can: callers qualify in
        service order, and the next one would jump the line."""
        current = self.ctx.is_waiting
        while True:
            head = q.ready.head(current)
            if head is None:
                return
            call = self.ctx.calls[head[2]]
            vendor = self._vendor_for(call)
            if vendor is None:
                return
            self._dial_vendor(call, vendor, q)

    def _vendor_for(self, call: Call) -> VendorContract | None:
        for name in call.overflow_vendors:
            vendor = self.vendors[name]
            again = vendor.available_at(self.ctx.now, self.ctx.offset)
            if again is None:
                return vendor
            if again != float("inf") and vendor.wake(again):
                self.ctx.timers.arm(again, "vendor_free", name)
        return None

    def _dial_vendor(self, call: Call, vendor: VendorContract, q: QueueRuntime) -> None:
        self.lines.leave(call)
        self.ctx.move(call, "overflow")
        vendor.take(self.ctx.now, self.ctx.offset)
        counters = self.ctx.metrics.vendors[vendor.name]
        counters.dialled += 1
        counters.peak_concurrent = max(counters.peak_concurrent, vendor.active)
        if not call.overflowed:
            call.overflowed = True
            for c in self.ctx.counting.queue_counters(q.name, call.interval):
                c.overflowed += 1
        call.vendor = vendor.name
        self.ctx.next_offer(call)
        self.ctx.emit(
            cmd.DialVendor(
                call_id=call.id,
                vendor=vendor.name,
                endpoint=vendor.cfg.trunk,
                timeout=vendor.cfg.ring_timeout_seconds,
                caller=call.caller,
                queue=q.name,
            )
        )
        timeout_at = self.ctx.now + vendor.cfg.ring_timeout_seconds
        self.ctx.timers.arm(timeout_at, "vendor_timeout", call.id, call.offer_token)
        facts = self.ctx.facts
        if facts is not None:
            facts.append(
                fact.MemberRung(at=self.ctx.now, call_id=call.id, queue=q.name, vendor=vendor.name)
            )

    def drain_vendor(self, vendor: VendorContract) -> None:
        for name in vendor.queues:
            self.drain_queue(self.ctx.queues[name])

    def vendor_free(self, name: str, _token: int) -> None:
        vendor = self.vendors[name]
        vendor.woken(self.ctx.now)
        self.drain_vendor(vendor)

    def on_vendor_answered(self, e: ev.VendorAnswered) -> None:
        call = self.ctx.call(e.call_id, "vendor answer")
        if call is None:
            return
        if not self.ctx.can(call, "vendor_answered"):
            self.ctx.anomaly("late vendor answer")
            return
        self.ctx.move(call, "vendor_answered")
        facts = self.ctx.facts
        if facts is not None:
            facts.append(
                fact.CallConnected(
                    at=self.ctx.now, call_id=call.id, queue=call.queue, vendor=call.vendor
                )
            )
        self.ctx.metrics.vendors[call.vendor].answered += 1
        self.callers.record_outcome(call, "vendor_answered")

    def on_vendor_failed(self, e: ev.VendorFailed) -> None:
        call = self.ctx.call(e.call_id, "vendor failure")
        if call is None or call.state is not C.VENDOR_DIALING:
            return
        self._vendor_not_reached(call)

    def vendor_timed_out(self, call_id: str, token: int) -> None:
        call = self.ctx.calls[call_id]
        self.ctx.emit(cmd.CancelVendor(call_id=call.id, vendor=call.vendor))
        self._vendor_not_reached(call, timed_out=True)

    def _vendor_not_reached(self, call: Call, timed_out: bool = False) -> None:
        """The vendor did not take the call: it goes back to its place in line.
        `timed_out`: the engine's timer ended the dial (not the trunk)."""
        vendor = self.vendors[call.vendor]
        facts = self.ctx.facts
        if facts is not None:
            facts.append(
                fact.RingNoAnswer(
                    at=self.ctx.now,
                    call_id=call.id,
                    queue=call.queue,
                    timed_out=timed_out,
                    vendor=vendor.name,
                )
            )
        vendor.release(True, self.ctx.now)
        self.ctx.metrics.vendors[vendor.name].failed += 1
        if vendor.wake(vendor.rest_until):
            self.ctx.timers.arm(vendor.rest_until, "vendor_free", vendor.name)
        call.vendor = ""
        self.ctx.move(call, "vendor_failed")
        self.lines.enter(call, self.ctx.queues[call.queue])

    def on_vendor_hung_up(self, e: ev.VendorHungUp) -> None:
        call = self.ctx.calls.get(e.call_id)
        if call is None or call.state is not C.VENDOR_CONNECTED:
            return
        vendor = self.vendors[call.vendor]
        facts = self.ctx.facts
        if facts is not None:
            facts.append(
                fact.CallCompleted(
                    at=self.ctx.now,
                    call_id=call.id,
                    queue=call.queue,
                    by_caller=False,
                    vendor=vendor.name,
                )
            )
        self.ctx.emit(cmd.HangupCaller(call_id=call.id))
        self.callers.finish(call, None)
        self.vendor_call_over(vendor.name)

    def vendor_call_over(self, name: str) -> None:
        """A call on the vendor's trunk has ended: its seat is free for the next
        qualified caller."""
        vendor = self.vendors[name]
        vendor.release(False, self.ctx.now)
        self.drain_vendor(vendor)
