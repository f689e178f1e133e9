"""The IVR ("ARS") interpreter: walks a caller through the configured menu tree.

It decides, the engine acts: each entry point takes the call record and returns a
list of `Step`s (play this, wait for a digit this long, join that queue, finish the
call so), and moves the call's IVR position (`node`, `tries`, `history`). It never
emits PBX commands itself, which keeps it testable by itself and keeps the engine
the one place that talks to the PBX.

Menu conventions, after the 1350 line's review (field facts): `#` goes back to the
previous menu and `*` repeats the current one, in every menu, unless the menu
uses those keys as options; invalid or missing input is retried `retries` times.
"""

from __future__ import annotations

from acd.config.schema import (
    AnnounceNode,
    HangupNode,
    Ivr,
    MenuNode,
    Route,
    ScheduleNode,
    SendLinkNode,
)
from acd.engine.ivr_steps import Finish, Join, LinkSent, Prompt, Step, StopPrompt, WaitDigit
from acd.engine.localtime import LocalTime, Window, day_number
from acd.engine.records import Call
from acd.engine.states import PromptKind

MAX_HOPS = 32
"""Routes followed in one go before the IVR gives up (a goto loop in the config)."""


class IvrFlow:
    """The compiled IVR of one site."""

    def __init__(self, ivr: Ivr, offset: float) -> None:
        self._ivr = ivr
        self._offset = offset
        # Each schedule's windows and holidays, compiled once (they are read per call).
        self._schedules: dict[str, tuple[frozenset[int], list[tuple[Window, Route]]]] = {
            name: (
                frozenset(day_number(d) for d in node.holidays),
                [(Window(b.window), b.then) for b in node.branches],
            )
            for name, node in ivr.nodes.items()
            if isinstance(node, ScheduleNode)
        }

    def start(self, call: Call, now: float) -> list[Step]:
        entry = self._ivr.by_dnis.get(call.dnis, self._ivr.entry)
        return self._follow(call, Route(goto=entry), now)

    def prompt_done(self, call: Call, kind: PromptKind, now: float) -> list[Step]:
        node = self._ivr.nodes.get(call.node)
        if kind == "menu" and isinstance(node, MenuNode):
            return [WaitDigit(node.timeout_seconds)]
        if kind == "announce" and isinstance(node, AnnounceNode):
            return self._follow(call, node.next, now)
        if kind == "link" and isinstance(node, SendLinkNode):
            if node.next is None:
                return [Finish([], "self_served")]
            return self._follow(call, node.next, now)
        return []

    def digit(self, call: Call, digit: str, now: float) -> list[Step]:
        """A key pressed in the IVR. Keys outside a menu (during an announcement) are
        ignored: nothing was asked."""
        node = self._ivr.nodes.get(call.node)
        if not isinstance(node, MenuNode):
            return []
        route = node.options.get(digit)
        if route is not None:
            return [StopPrompt(), *self._follow(call, route, now)]
        if digit == "#":
            if call.history:
                previous = call.history.pop()
                return [StopPrompt(), *self._enter_menu(call, previous, remember=False)]
            return [StopPrompt(), Prompt(node.prompt, "menu")]
        if digit == "*":
            return [StopPrompt(), Prompt(node.prompt, "menu")]
        return [StopPrompt(), *self._retry(call, node, node.invalid_prompt, now)]

    def timed_out(self, call: Call, now: float) -> list[Step]:
        node = self._ivr.nodes.get(call.node)
        if not isinstance(node, MenuNode):
            return []
        return self._retry(call, node, [], now)

    def _retry(self, call: Call, node: MenuNode, notice: list[str], now: float) -> list[Step]:
        call.tries += 1
        if call.tries > node.retries:
            if node.on_fail is not None:
                return self._follow(call, node.on_fail, now)
            return [Finish(node.fail_prompt, "ivr_failed")]
        return [Prompt([*notice, *node.prompt], "menu")]

    def _enter_menu(self, call: Call, name: str, remember: bool) -> list[Step]:
        node = self._ivr.nodes[name]
        assert isinstance(node, MenuNode)
        previous = self._ivr.nodes.get(call.node)
        if remember and isinstance(previous, MenuNode) and call.node != name:
            call.history.append(call.node)
        call.node = name
        call.tries = 0
        return [Prompt(node.prompt, "menu")]

    def _follow(self, call: Call, route: Route, now: float) -> list[Step]:
        for _ in range(MAX_HOPS):
            if route.language is not None:
                call.language = route.language
            if route.queue is not None:
                return [Join(route.queue, route.priority)]
            name = route.goto or ""
            node = self._ivr.nodes.get(name)
            if isinstance(node, MenuNode):
                return self._enter_menu(call, name, remember=True)
            if isinstance(node, ScheduleNode):
                route = self._choose(name, node, now)
                continue
            call.node = name
            if isinstance(node, AnnounceNode):
                return [Prompt(node.prompt, "announce")]
            if isinstance(node, SendLinkNode):
                return [LinkSent(node.link), Prompt(node.prompt, "link")]
            if isinstance(node, HangupNode):
                return [Finish(node.prompt, "self_served")]
            break  # an unknown node: the loader refuses these, so only a bad reload gets here
        return [Finish([], "ivr_failed")]

    def _choose(self, name: str, node: ScheduleNode, now: float) -> Route:
        holidays, branches = self._schedules[name]
        at = LocalTime(now, self._offset)
        if node.on_holiday is not None and at.day_number in holidays:
            return node.on_holiday
        for window, then in branches:
            if window.contains(at):
                return then
        return node.otherwise
