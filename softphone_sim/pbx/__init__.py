"""A virtual PBX that speaks ARI like Asterisk 22, for tests and demos.

`VirtualPbx` serves ARI over real sockets (aiohttp, 127.0.0.1 by default) in front of
an object model of channels, bridges and playbacks (`asterisk.Asterisk`) that emits the
events a real Asterisk 22.10.1 emits, in the orders of tests/fixtures/ari. The people on
the other side of each leg are far ends (`phones.FarEnd`, `phones.Phone`); this package
implements `phones.Pbx` for them. Time is the live drivers' loop clock (`acd.ari.clock.Clock`).

It is a test instrument: it imports nothing of the engine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from acd.ari.clock import Clock
from acd.softphone_sim.pbx.asterisk import ASTERISK_ID, AriError, Asterisk, PbxLine
from acd.softphone_sim.pbx.phones import FarEnd, Phone
from acd.softphone_sim.pbx.server import AriServer, EventHub, PbxStats

__all__ = ["ASTERISK_ID", "AriError", "Clock", "PbxLine", "PbxStats", "VirtualPbx"]


class VirtualPbx:
    """`phones.Pbx` plus the ARI server the controller talks to.

    `app`: the Stasis application the dialplan sends calls to. `speed`: virtual seconds
    per wall second. `start`: virtual epoch at start (default: now). `users`: ARI
    credentials (user → password). `prompt_seconds_per_sound`: how long each `sound:`
    item of a playback lasts (digits/numbers take 0.8 s per digit).
    """

    def __init__(
        self,
        *,
        app: str = "acd",
        speed: float = 1.0,
        start: float | None = None,
        users: dict[str, str] | None = None,
        prompt_seconds_per_sound: float = 2.5,
        rest_over_websocket: bool = True,
    ) -> None:
        self.app = app
        self._clock = Clock(speed, time.time() if start is None else start)
        self.stats = PbxStats()
        self._hub = EventHub(self.stats)
        self.asterisk = Asterisk(
            app=app,
            clock=self._clock,
            sink=self._hub.publish,
            app_active=self._hub.active,
            prompt_seconds_per_sound=prompt_seconds_per_sound,
        )
        self._server = AriServer(
            self.asterisk,
            self._hub,
            self._clock,
            {"acd": "secret"} if users is None else users,
            self.stats,
            rest_over_websocket=rest_over_websocket,
        )
        self.port: int | None = None

    # -- life cycle -----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Serve ARI on host:port (0: any free port); returns the bound port."""
        self._clock.now()  # anchor virtual time on this loop
        self.port = await self._server.start(host, port)
        return self.port

    async def stop(self) -> None:
        """Stop as a real Asterisk stops: the app's sockets close, every channel goes
        down (far ends hear `on_hangup(line, 16)`), bridges and timers go."""
        await self._server.stop()
        self.asterisk.shutdown()

    # -- phones.Pbx -----------------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        return self._clock

    def place_inbound(self, caller: str, dnis: str, far_end: FarEnd) -> PbxLine:
        return self.asterisk.place_inbound(caller, dnis, far_end)

    def dial_feature(self, endpoint: str, args: list[str], far_end: FarEnd) -> PbxLine:
        return self.asterisk.dial_feature(endpoint, args, far_end)

    def register(self, endpoint: str, phone: Phone) -> None:
        self.asterisk.register(endpoint, phone)

    def register_pattern(self, pattern: str, factory: Callable[[str], Phone]) -> None:
        self.asterisk.register_pattern(pattern, factory)

    # -- fault injection and inspection ---------------------------------------------------

    async def drop_websockets(self, refuse_for: float = 0.0) -> int:
        """Cut the app's WebSockets without a close frame; returns how many. Channels in
        Stasis stay; their events are lost until a controller connects again. For
        `refuse_for` virtual seconds new event sockets are refused (503): an outage in
        which the app is inactive, so Stasis() fails for new and answered legs (as in
        Asterisk: res_stasis refuses an inactive app)."""
        dropped = self._server.drop_websockets(refuse_for)
        await asyncio.sleep(0)  # let the server notice
        return dropped

    def fail_next(self, n: int, status: int = 500, path: str | None = None) -> None:
        """The next `n` REST calls (only those to `path` if given: the path under
        /ari, a shell pattern, e.g. "/channels" or "/bridges/acd-talk-*/addChannel")
        answer `status` with `{"message": ...}` and do nothing."""
        self._server.fail_next(n, status, path)

    def send_raw(self, frame: str) -> bool:
        """Send `frame` as it is to the app's events socket (a fault test's garbage, or
        an event this PBX would never make); False when no socket serves the app."""
        return self._hub.send_raw(frame)

    def delay_rest(self, seconds: float) -> None:
        """Hold every REST call `seconds` of the loop's time before handling it (0:
        off): past the client's timeout, a REST call that hangs."""
        self._server.delay_rest(seconds)

    @property
    def app_connected(self) -> bool:
        """True while a WebSocket serves the app."""
        return self._hub.active()

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Messages sent with PUT /endpoints/sendMessage (to, from, body, variables)."""
        return self.asterisk.messages
