"""A live floor: the real controller and client against the virtual PBX, over real
sockets on 127.0.0.1, with scripted people on the far ends.

`run_live(site_yaml, scenario)` starts the virtual PBX (`softphone_sim.pbx`), an
`AriClient` and a `Controller` driving a real `Engine`, all in one event loop on a
virtual clock (tests/vtime.py), and runs `scenario(floor)`. Seconds in a scenario
are the floor's seconds: a 15 s ring timeout is 15 s of the loop's virtual time and
costs no wall time, so nothing in a live test races the machine's load. The people
are scripted here (what a test wants a caller or agent to do), not drawn from the
behaviour models: those are for the load and consistency tests.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypedDict, Unpack

from acd.ari.client import AriClient
from acd.ari.clock import Clock
from acd.ari.controller import Controller
from acd.engine import Engine
from acd.engine.metrics import QueueCounters
from acd.softphone_sim.pbx import VirtualPbx
from acd.softphone_sim.pbx.phones import Clock as PbxClock
from acd.softphone_sim.pbx.phones import Line, Unmoved
from tests.harness import local_start, site_from_yaml
from tests.vtime import run_virtual

MONDAY_10 = local_start(0, 10)
POLL = 0.05
"""Seconds of the floor's time between two looks at a condition (`Floor.until`)."""


@dataclass
class Caller(Unmoved):
    """A scripted caller: presses `keys[sound]` when it hears `sound`; hangs up after
    `patience` virtual seconds on hold, or when it hears `hang_up_on`."""

    keys: dict[str, str] = field(default_factory=dict)
    key_delay: float = 0.5
    patience: float | None = None
    hang_up_on: str | None = None
    heard: list[str] = field(default_factory=list)
    heard_at: dict[str, float] = field(default_factory=dict)
    """Virtual time each sound started (the last time it did)."""
    held: bool = False
    bridged_with: list[str] = field(default_factory=list)
    bridged_at: float | None = None
    ended_by_pbx: int | None = None
    line: Line | None = None
    clock: PbxClock = field(kw_only=True)
    """The PBX's clock (`Floor.caller` gives it)."""

    def on_media(self, line: Line, media: list[str]) -> None:
        self.heard += media
        self.heard_at.update(dict.fromkeys(media, self.clock.now()))
        if self.hang_up_on is not None and self.hang_up_on in media:
            line.hang_up()
            return
        for sound in media:
            key = self.keys.get(sound)
            if key is not None:
                _later(self, self.key_delay, partial(_press, line, key))
                return

    def on_hold(self, line: Line) -> None:
        self.held = True
        if self.patience is not None:
            _later(self, self.patience, lambda: line.hang_up() if line.up and
                   not self.bridged_with else None)

    def on_bridged(self, line: Line, others: list[str]) -> None:
        self.bridged_with = list(others)
        if self.bridged_at is None:
            self.bridged_at = self.clock.now()

    def on_hangup(self, line: Line, cause: int) -> None:
        self.ended_by_pbx = cause


@dataclass
class Phone(Unmoved):
    """A scripted agent softphone, vendor trunk or citizen's phone: answers after
    `answer_after` (None: lets it ring), or rejects with `reject` (17 busy); once in a
    conversation, presses `keys` and hangs up after `talk` (None: stays)."""

    answer_after: float | None = 1.0
    reject: int | None = None
    talk: float | None = 30.0
    keys: str = ""
    rings: int = 0
    answered: int = 0
    conversations: list[list[str]] = field(default_factory=list)
    ended_by_pbx: list[int] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    """Every line that rang it, latest last (a test may answer one itself)."""
    clock: PbxClock = field(kw_only=True)
    """The PBX's clock (`Floor.phone` gives it)."""

    def on_incoming(self, line: Line, caller_id: str) -> None:
        self.rings += 1
        self.lines.append(line)
        if self.reject is not None:
            cause = self.reject
            _later(self, 0.2, lambda: line.reject(cause) if line.up else None)
        elif self.answer_after is not None:
            _later(self, self.answer_after, lambda: self._answer(line))

    def _answer(self, line: Line) -> None:
        if line.up:
            self.answered += 1
            line.answer()

    def on_bridged(self, line: Line, others: list[str]) -> None:
        self.conversations.append(list(others))
        for i, key in enumerate(self.keys):
            _later(self, 1.0 + 0.2 * i, partial(_press, line, key))
        if self.talk is not None:
            _later(self, self.talk, lambda: line.hang_up() if line.up else None)

    def on_hangup(self, line: Line, cause: int) -> None:
        self.ended_by_pbx.append(cause)


class CallerScript(TypedDict, total=False):
    """What a test may script for a `Caller` (`Floor.caller`); the rest is observed."""

    keys: dict[str, str]
    key_delay: float
    patience: float | None
    hang_up_on: str | None


class PhoneScript(TypedDict, total=False):
    """What a test may script for a `Phone` (`Floor.phone`); the rest is observed."""

    answer_after: float | None
    reject: int | None
    talk: float | None
    keys: str


def _press(line: Line, key: str) -> None:
    if line.up:
        line.press(key)


def _later(who: Caller | Phone, delay: float, fn: Callable[[], object]) -> None:
    """Do `fn` after `delay` virtual seconds, on the PBX's clock."""
    def run() -> None:
        fn()

    who.clock.call_later(delay, run)


class Floor:
    """What a scenario can do and see."""

    def __init__(
        self,
        pbx: VirtualPbx,
        controller: Controller,
        client: AriClient,
        spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]],
    ) -> None:
        self.pbx = pbx
        self.controller = controller
        self.client = client
        self.engine = controller.engine
        self._spawn = spawn
        self.events = spawn(controller.run())

    async def take_over(self, engine: Engine) -> Controller:
        """A successor with `engine` takes over from the controller, which dies without
        a word (no shutdown, nothing more sent); it reconciles with the PBX on its first
        connection, like `acd serve` started after a crash."""
        self.controller.step_down()
        self.events.cancel()
        connects = self.client.counters.connects
        self.controller = Controller(
            self.controller.site, engine, self.client, self.controller.clock, spawn=self._spawn
        )
        self.engine = engine
        self.events = self._spawn(self.controller.run())
        await self.until(lambda: self.client.counters.connects > connects, within=30)
        return self.controller

    def caller(self, **script: Unpack[CallerScript]) -> Caller:
        return Caller(clock=self.pbx.clock, **script)

    def phone(self, endpoint: str, **script: Unpack[PhoneScript]) -> Phone:
        p = Phone(clock=self.pbx.clock, **script)
        self.pbx.register(endpoint, p)
        return p

    def call(self, caller: Caller, number: str = "01012345678", dnis: str = "120") -> Line:
        line = self.pbx.place_inbound(number, dnis, caller)
        caller.line = line
        return line

    async def login(self, *endpoints: str) -> None:
        for endpoint in endpoints:
            self.pbx.dial_feature(endpoint, ["login"], self.caller())
        agents = [self.controller.books.agent_by_endpoint[e] for e in endpoints]
        await self.until(lambda: all(self.engine.agents[a].state != "logged_out" for a in agents))

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def until(self, predicate: Callable[[], bool], within: float = 120.0) -> None:
        """Wait until `predicate()` holds, at most `within` seconds of the floor's time."""
        deadline = asyncio.get_running_loop().time() + within
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"not reached within {within} seconds of the floor's time")
            await asyncio.sleep(POLL)

    def queue(self, name: str) -> QueueCounters:
        return self.engine.metrics.queues[name]

    def outcomes(self) -> dict[str, int]:
        return dict(self.controller.stats.outcomes)


async def _run(
    site_yaml: str,
    scenario: Callable[[Floor], Awaitable[None]],
    start: float,
    rest_over_websocket: bool,
) -> None:
    site = site_from_yaml(site_yaml)
    pbx = VirtualPbx(start=start, users={"acd": "pw"}, rest_over_websocket=rest_over_websocket)
    port = await pbx.start("127.0.0.1", 0)
    floor: Floor | None = None
    try:
        async with (
            AriClient(f"http://127.0.0.1:{port}", "acd", "pw", timeout=2.0) as client,
            asyncio.TaskGroup() as tg,
        ):
            clock = Clock(1.0, pbx.clock.now())
            engine = Engine(site, rng=random.Random(0), start=clock.now())
            controller = Controller(site, engine, client, clock, spawn=tg.create_task)
            floor = Floor(pbx, controller, client, tg.create_task)
            await floor.until(lambda: client.counters.connects > 0, within=5)
            try:
                await scenario(floor)
            finally:
                floor.events.cancel()
    finally:
        await pbx.stop()
        if floor is not None and floor.pbx is not pbx:  # a test restarted the PBX
            await floor.pbx.stop()


def run_live(
    site_yaml: str,
    scenario: Callable[[Floor], Awaitable[None]],
    *,
    start: float = MONDAY_10,
    limit: float = 4 * 3600.0,
    rest_over_websocket: bool = True,
) -> None:
    """Run `scenario` on a live floor in virtual time; fail (looptime's
    LoopTimeoutError) if the floor's clock passes `limit` seconds. The PBX takes REST
    requests on the events socket as Asterisk 22 does, unless `rest_over_websocket`
    is False (an older Asterisk: the client stays on HTTP)."""
    run_virtual(_run(site_yaml, scenario, start, rest_over_websocket), end=limit)
