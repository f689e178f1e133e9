"""The ARI HTTP and WebSocket server of the virtual PBX (aiohttp), in front of `Asterisk`.

Paths, parameters, statuses and bodies are Asterisk 22's (ari/spec, tests/fixtures/ari):
REST under `/ari/...`, events on `GET /ari/events?app=acd`. Credentials are checked as
Asterisk's http server does: `api_key=user:password` in the query, or HTTP Basic; a
missing or wrong one is 401. Parameters may come in the query or in a JSON body (ARI
merges both); `variables` is read from the JSON body.

For fault tests: `fail_next` makes the next REST calls answer an error without effect,
`delay_rest` holds every REST call some wall seconds, `drop_websockets` cuts the app's sockets
without a close frame.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import fnmatch
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgspec
from aiohttp import WSMsgType, web

from acd.ari import models
from acd.ari.clock import Clock
from acd.softphone_sim.pbx.asterisk import AriError, Asterisk
from acd.softphone_sim.pbx.channels import REASON_CAUSE, ari_time

log = logging.getLogger(__name__)

_encoder = msgspec.json.Encoder()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class PbxStats:
    """Counters for tests and demos; also readable as `stats["name"]` for the int ones."""

    rest_by_status: Counter[int] = field(default_factory=Counter)
    events_sent: int = 0  # frames queued to a connected socket
    events_dropped: int = 0  # events raised while no socket served the app
    events_by_type: Counter[str] = field(default_factory=Counter)
    websocket_connections: int = 0  # sockets accepted so far
    messages: int = 0  # PUT /endpoints/sendMessage accepted

    def __getitem__(self, name: str) -> int:
        value = getattr(self, name, None)
        if not isinstance(value, int):
            raise KeyError(name)
        return value


class _Conn:
    """One WebSocket of the app, with its own ordered send queue."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.ws = ws
        self.request = request
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.open = True

    async def pump(self) -> None:
        while True:
            data = await self.queue.get()
            try:
                await self.ws.send_str(data.decode())
            except (ConnectionError, RuntimeError):
                return


class EventHub:
    """Routes the app's events to its WebSocket.

    Asterisk registers the app again when a new socket connects for it, and the newest
    registration receives the events (a reconnecting controller takes over); an older
    socket still open gets nothing more. With no socket the events are lost (counted),
    and the app counts as inactive: Stasis() fails for new calls.
    """

    def __init__(self, stats: PbxStats) -> None:
        self.stats = stats
        self.conns: list[_Conn] = []

    def active(self) -> bool:
        return any(c.open for c in self.conns)

    def send_raw(self, frame: str) -> bool:
        """Queue `frame` as it is to the newest socket; False when there is none."""
        live = [c for c in self.conns if c.open]
        if not live:
            return False
        live[-1].queue.put_nowait(frame.encode())
        return True

    def publish(self, event: models.EventBase) -> None:
        kind = type(event).__name__
        live = [c for c in self.conns if c.open]
        if not live:
            self.stats.events_dropped += 1
            return
        live[-1].queue.put_nowait(_encoder.encode(event))
        self.stats.events_sent += 1
        self.stats.events_by_type[kind] += 1


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    body = _encoder.encode(data)
    return web.Response(
        body=body, status=status, content_type="application/json", headers=headers
    )


def _error(status: int, message: str) -> web.Response:
    return _json({"message": message}, status)


def _no_content() -> web.Response:
    return web.Response(status=204)


class AriServer:
    """aiohttp application serving ARI for one `Asterisk`."""

    def __init__(
        self,
        ast: Asterisk,
        hub: EventHub,
        clock: Clock,
        users: dict[str, str],
        stats: PbxStats,
        rest_over_websocket: bool = True,
    ) -> None:
        self.rest_over_websocket = rest_over_websocket
        """Take `RESTRequest` messages on the events socket, as Asterisk 22 does."""
        self._self_client: aiohttp.ClientSession | None = None
        self._ws_requests: set[asyncio.Task[None]] = set()
        self._bound = ("127.0.0.1", 0)
        self.ast = ast
        self.hub = hub
        self.clock = clock
        self.users = dict(users)
        self.stats = stats
        self._fail_left = 0
        self._fail_status = 500
        self._fail_path: str | None = None
        self._delay = 0.0
        self._refuse_until = 0.0  # virtual time before which /events answers 503
        self._runner: web.AppRunner | None = None
        self.app = web.Application(middlewares=[self._middleware])
        self._routes()

    # ----------------------------------------------------------------------------------
    # Fault injection

    def fail_next(self, n: int, status: int = 500, path: str | None = None) -> None:
        self._fail_left, self._fail_status, self._fail_path = n, status, path

    def delay_rest(self, seconds: float) -> None:
        self._delay = max(seconds, 0.0)

    def _fails(self, request: web.Request) -> bool:
        if self._fail_left <= 0:
            return False
        if self._fail_path is not None and not fnmatch.fnmatchcase(
            request.path, "/ari" + self._fail_path
        ):
            return False
        self._fail_left -= 1
        return True

    def drop_websockets(self, refuse_for: float = 0.0) -> int:
        self._refuse_until = self.clock.now() + max(refuse_for, 0.0)
        dropped = 0
        for conn in self.hub.conns:
            if conn.open:
                conn.open = False
                transport = conn.request.transport
                if transport is not None:
                    transport.abort()
                dropped += 1
        return dropped

    # ----------------------------------------------------------------------------------
    # Life cycle

    async def start(self, host: str, port: int) -> int:
        self._runner = web.AppRunner(self.app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        addresses = self._runner.addresses
        self._bound = (str(addresses[0][0]), int(addresses[0][1]))
        return self._bound[1]

    async def stop(self) -> None:
        for conn in list(self.hub.conns):
            conn.open = False
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001, message=b"shutdown")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._self_client is not None:
            await self._self_client.close()
            self._self_client = None

    # ----------------------------------------------------------------------------------
    # Auth, stats, errors

    def _authorized(self, request: web.Request) -> bool:
        api_key = request.query.get("api_key")
        if api_key is not None:
            user, _, password = api_key.partition(":")
            return self.users.get(user) == password and user in self.users
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        return user in self.users and self.users[user] == password

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self._authorized(request):
            response: web.StreamResponse = _json(
                {"error": "Authentication required"}, 401,
                headers={"WWW-Authenticate": 'Basic realm="Asterisk REST Interface"'},
            )
        elif request.path == "/ari/events":
            return await handler(request)
        elif self._fails(request):
            response = _error(self._fail_status, "Internal Server Error")
        else:
            if self._delay > 0:
                await asyncio.sleep(self._delay)  # on the loop's clock, like the client's timeouts
            try:
                response = await handler(request)
            except AriError as e:
                response = _error(e.status, e.message)
            except web.HTTPNotFound:
                response = _error(404, "Resource not found")
            except web.HTTPMethodNotAllowed:
                response = _error(405, "Invalid method")
            except (ValueError, msgspec.DecodeError) as e:
                response = _error(400, str(e))
        self.stats.rest_by_status[response.status] += 1
        return response

    # ----------------------------------------------------------------------------------
    # Parameters

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        raw = await request.read()
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as e:
            raise AriError(400, "Malformed JSON body") from e
        if not isinstance(data, dict):
            raise AriError(400, "JSON body must be an object")
        return data

    @staticmethod
    def _param(request: web.Request, body: dict[str, Any], name: str) -> str | None:
        if name in request.query:
            return request.query[name]
        value = body.get(name)
        return None if value is None else str(value)

    @staticmethod
    def _list(request: web.Request, body: dict[str, Any], name: str) -> list[str]:
        """A parameter that may be repeated or comma separated (media, channel)."""
        raw: list[str] = list(request.query.getall(name, []))
        extra = body.get(name)
        if isinstance(extra, list):
            raw.extend(str(x) for x in extra)
        elif extra is not None:
            raw.append(str(extra))
        return [part for item in raw for part in item.split(",") if part]

    @staticmethod
    def _variables(body: dict[str, Any]) -> dict[str, str]:
        variables = body.get("variables") or {}
        if not isinstance(variables, dict):
            raise AriError(400, "variables must be an object")
        return {str(k): str(v) for k, v in variables.items()}

    @staticmethod
    def _number(value: str | None, default: float, name: str) -> float:
        if value is None or value == "":
            return default
        try:
            return float(value)
        except ValueError as e:
            raise AriError(400, f"Invalid {name}") from e

    # ----------------------------------------------------------------------------------
    # Routes

    def _routes(self) -> None:
        r = self.app.router
        r.add_get("/ari/events", self.events)
        r.add_get("/ari/channels", self.list_channels)
        r.add_post("/ari/channels", self.originate)
        r.add_post("/ari/channels/create", self.create)
        r.add_get("/ari/channels/{id}", self.get_channel)
        r.add_post("/ari/channels/{id}", self.originate)
        r.add_delete("/ari/channels/{id}", self.hangup)
        r.add_post("/ari/channels/{id}/answer", self.answer)
        r.add_post("/ari/channels/{id}/ring", self.ring)
        r.add_delete("/ari/channels/{id}/ring", self.ring)
        r.add_post("/ari/channels/{id}/play", self.play_channel)
        r.add_post("/ari/channels/{id}/play/{pid}", self.play_channel)
        r.add_post("/ari/channels/{id}/dial", self.dial)
        r.add_post("/ari/channels/{id}/snoop", self.snoop)
        r.add_post("/ari/channels/{id}/snoop/{sid}", self.snoop)
        r.add_post("/ari/channels/{id}/continue", self.continue_)
        r.add_get("/ari/channels/{id}/variable", self.get_variable)
        r.add_post("/ari/channels/{id}/variable", self.set_variable)
        r.add_post("/ari/channels/{id}/moh", self.channel_moh)
        r.add_delete("/ari/channels/{id}/moh", self.channel_moh)
        r.add_get("/ari/bridges", self.list_bridges)
        r.add_post("/ari/bridges", self.create_bridge)
        r.add_post("/ari/bridges/{id}", self.create_bridge)
        r.add_get("/ari/bridges/{id}", self.get_bridge)
        r.add_delete("/ari/bridges/{id}", self.destroy_bridge)
        r.add_post("/ari/bridges/{id}/addChannel", self.add_channel)
        r.add_post("/ari/bridges/{id}/removeChannel", self.remove_channel)
        r.add_post("/ari/bridges/{id}/moh", self.bridge_moh)
        r.add_delete("/ari/bridges/{id}/moh", self.bridge_moh)
        r.add_post("/ari/bridges/{id}/play", self.play_bridge)
        r.add_post("/ari/bridges/{id}/play/{pid}", self.play_bridge)
        r.add_get("/ari/playbacks/{id}", self.get_playback)
        r.add_delete("/ari/playbacks/{id}", self.stop_playback)
        r.add_put("/ari/endpoints/sendMessage", self.send_message)
        r.add_get("/ari/asterisk/info", self.info)
        r.add_get("/ari/asterisk/ping", self.ping)

    # ----------------------------------------------------------------------------------
    # Events

    async def events(self, request: web.Request) -> web.StreamResponse:
        apps = [a for a in request.query.get("app", "").split(",") if a]
        if not apps:
            return _error(400, "Missing required parameter: app")
        if self.clock.now() < self._refuse_until:
            return _error(503, "Service Unavailable")  # a fault test's outage window
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = _Conn(ws, request)
        serves = self.ast.app in apps
        if serves:
            self.hub.conns.append(conn)
        self.stats.websocket_connections += 1
        pump = asyncio.create_task(conn.pump())
        try:
            async for msg in ws:  # pings are automatic
                if msg.type == WSMsgType.ERROR:
                    break
                if msg.type == WSMsgType.TEXT and self.rest_over_websocket:
                    self._rest_over_ws(conn, msg.data)
        finally:
            conn.open = False
            if conn in self.hub.conns:
                self.hub.conns.remove(conn)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        return ws

    def _rest_over_ws(self, conn: _Conn, text: str) -> None:
        """A `RESTRequest` on the events socket: served as the same request over HTTP
        would be (this server's own routes, auth, faults and delays), answered with a
        `RESTResponse` on that socket. Anything else the app sends is ignored, as
        Asterisk ignores it."""
        try:
            request = msgspec.json.decode(text, type=models.RESTRequest)
        except msgspec.DecodeError:
            return
        if request.type != "RESTRequest":
            return

        async def serve() -> None:
            if self._self_client is None:
                self._self_client = aiohttp.ClientSession()
            host, port = self._bound
            url = f"http://{host}:{port}/ari/{request.uri.lstrip('/')}"
            params = [(q.name, q.value) for q in request.query_strings or []]
            headers = {"Authorization": conn.request.headers.get("Authorization", "")}
            if "api_key" in conn.request.query:
                params.append(("api_key", conn.request.query["api_key"]))
            if request.content_type:
                headers["Content-Type"] = request.content_type
            try:
                async with self._self_client.request(
                    request.method, url, params=params, data=request.message_body, headers=headers
                ) as resp:
                    body = await resp.text()
                    answer = models.RESTResponse(
                        application=self.ast.app,
                        timestamp=ari_time(self.clock.now()),
                        transaction_id=request.transaction_id,
                        request_id=request.request_id,
                        status_code=resp.status,
                        reason_phrase=resp.reason or "",
                        uri=request.uri,
                        content_type=resp.content_type if body else None,
                        message_body=body or None,
                    )
            except aiohttp.ClientError:
                # This server is stopping (its own HTTP side is gone): no answer, as an
                # Asterisk shutting down gives none; the app's socket closes next.
                return
            if conn.open:
                conn.queue.put_nowait(_encoder.encode(answer))

        task = asyncio.create_task(serve())
        self._ws_requests.add(task)
        task.add_done_callback(self._ws_requests.discard)

    # ----------------------------------------------------------------------------------
    # Channels

    async def list_channels(self, request: web.Request) -> web.Response:
        return _json([c.snapshot() for c in self.ast.channels.values() if c.alive])

    async def originate(self, request: web.Request) -> web.Response:
        body = await self._body(request)

        def p(name: str) -> str | None:
            return self._param(request, body, name)

        endpoint = p("endpoint")
        if not endpoint:
            raise AriError(400, "Endpoint must be specified")
        if p("extension") and not p("app"):
            raise AriError(400, "Dialplan originate is not supported by the virtual PBX")
        snapshot = self.ast.originate(
            endpoint=endpoint,
            app=p("app"),
            app_args=p("appArgs"),
            channel_id=request.match_info.get("id") or p("channelId"),
            originator=p("originator"),
            timeout=self._number(p("timeout"), 30.0, "timeout"),
            caller_id=p("callerId"),
            variables=self._variables(body),
        )
        return _json(snapshot)

    async def create(self, request: web.Request) -> web.Response:
        body = await self._body(request)

        def p(name: str) -> str | None:
            return self._param(request, body, name)

        endpoint, app = p("endpoint"), p("app")
        if not endpoint or not app:
            raise AriError(400, "Endpoint and app must be specified")
        snapshot = self.ast.create(
            endpoint=endpoint,
            app=app,
            app_args=p("appArgs"),
            channel_id=p("channelId"),
            originator=p("originator"),
            variables=self._variables(body),
        )
        return _json(snapshot)

    async def get_channel(self, request: web.Request) -> web.Response:
        return _json(self.ast.get_channel(request.match_info["id"]).snapshot())

    async def hangup(self, request: web.Request) -> web.Response:
        reason = request.query.get("reason")
        code = request.query.get("reason_code")
        if reason and code:
            raise AriError(400, "The reason and reason_code can't both be specified")
        cause = 16
        if code:
            try:
                cause = int(code)
            except ValueError as e:
                raise AriError(400, "Invalid reason for hangup provided") from e
        elif reason:
            if reason not in REASON_CAUSE:
                raise AriError(400, "Invalid reason for hangup provided")
            cause = REASON_CAUSE[reason]
        self.ast.hangup(request.match_info["id"], cause)
        return _no_content()

    async def answer(self, request: web.Request) -> web.Response:
        self.ast.answer(request.match_info["id"])
        return _no_content()

    async def ring(self, request: web.Request) -> web.Response:
        self.ast.ring(request.match_info["id"])
        return _no_content()

    async def play_channel(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        chan = self.ast.stasis_channel(request.match_info["id"])
        return self._played(
            self.ast.play(
                chan,
                self._list(request, body, "media"),
                self._param(request, body, "lang"),
                request.match_info.get("pid") or self._param(request, body, "playbackId"),
            )
        )

    @staticmethod
    def _played(snapshot: models.Playback) -> web.Response:
        return _json(snapshot, 201, headers={"Location": f"/playbacks/{snapshot.id}"})

    async def dial(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        self.ast.dial(
            request.match_info["id"],
            self._param(request, body, "caller"),
            self._number(self._param(request, body, "timeout"), 0.0, "timeout"),
        )
        return _no_content()

    async def snoop(self, request: web.Request) -> web.Response:
        body = await self._body(request)

        def p(name: str) -> str | None:
            return self._param(request, body, name)

        snapshot = self.ast.snoop(
            request.match_info["id"],
            spy=p("spy"),
            whisper=p("whisper"),
            app=p("app"),
            app_args=p("appArgs"),
            snoop_id=request.match_info.get("sid") or p("snoopId"),
        )
        return _json(snapshot)

    async def continue_(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        where = [self._param(request, body, k) or "" for k in ("context", "extension")]
        self.ast.continue_in_dialplan(request.match_info["id"], where[0], where[1])
        return _no_content()

    async def get_variable(self, request: web.Request) -> web.Response:
        name = request.query.get("variable")
        if not name:
            raise AriError(400, "Variable name is required")
        return _json({"value": self.ast.get_variable(request.match_info["id"], name)})

    async def set_variable(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        name = self._param(request, body, "variable")
        if not name:
            raise AriError(400, "Variable name is required")
        value = self._param(request, body, "value") or ""
        self.ast.set_variable(request.match_info["id"], name, value)
        return _no_content()

    async def channel_moh(self, request: web.Request) -> web.Response:
        moh = request.query.get("mohClass", "default") if request.method == "POST" else None
        self.ast.moh(request.match_info["id"], moh)
        return _no_content()

    # ----------------------------------------------------------------------------------
    # Bridges

    async def list_bridges(self, request: web.Request) -> web.Response:
        return _json([b.snapshot() for b in self.ast.bridges.values()])

    async def create_bridge(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        bridge = self.ast.create_bridge(
            self._param(request, body, "type"),
            request.match_info.get("id") or self._param(request, body, "bridgeId"),
            self._param(request, body, "name"),
        )
        return _json(bridge.snapshot())

    async def get_bridge(self, request: web.Request) -> web.Response:
        return _json(self.ast.get_bridge(request.match_info["id"]).snapshot())

    async def destroy_bridge(self, request: web.Request) -> web.Response:
        self.ast.destroy_bridge(request.match_info["id"])
        return _no_content()

    async def add_channel(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        channels = self._list(request, body, "channel")
        if not channels:
            raise AriError(400, "Missing parameter channel")
        self.ast.add_channels(
            request.match_info["id"], channels, self._param(request, body, "role")
        )
        return _no_content()

    async def remove_channel(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        channels = self._list(request, body, "channel")
        if not channels:
            raise AriError(400, "Missing parameter channel")
        self.ast.remove_channels(request.match_info["id"], channels)
        return _no_content()

    async def bridge_moh(self, request: web.Request) -> web.Response:
        moh = request.query.get("mohClass", "default") if request.method == "POST" else None
        self.ast.bridge_moh(request.match_info["id"], moh)
        return _no_content()

    async def play_bridge(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        bridge = self.ast.get_bridge(request.match_info["id"])
        return self._played(
            self.ast.play(
                bridge,
                self._list(request, body, "media"),
                self._param(request, body, "lang"),
                request.match_info.get("pid") or self._param(request, body, "playbackId"),
            )
        )

    # ----------------------------------------------------------------------------------
    # Playbacks, endpoints, asterisk

    async def get_playback(self, request: web.Request) -> web.Response:
        return _json(self.ast.get_playback(request.match_info["id"]).snapshot())

    async def stop_playback(self, request: web.Request) -> web.Response:
        self.ast.stop_playback(request.match_info["id"])
        return _no_content()

    async def send_message(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        to, from_ = self._param(request, body, "to"), self._param(request, body, "from")
        if not to or not from_:
            raise AriError(400, "Invalid parameters for sending a message.")
        self.ast.send_message(
            to, from_, self._param(request, body, "body") or "", self._variables(body)
        )
        self.stats.messages += 1
        return web.Response(status=202)

    async def info(self, request: web.Request) -> web.Response:
        return _json(self.ast.info())

    async def ping(self, request: web.Request) -> web.Response:
        from acd.softphone_sim.pbx.asterisk import ASTERISK_ID

        return _json(
            {"asterisk_id": ASTERISK_ID, "ping": "pong", "timestamp": ari_time(self.clock.now())}
        )
