"""A thin asyncio client for Asterisk's ARI: the REST calls the ACD needs and the
events WebSocket of one Stasis application.

Contract:
- every REST method returns the decoded resource (an `ari.models` record) or None for
  204, and raises `AriError` for any non-2xx answer, a timeout or a refused connection
  (`status` 0 for the last two). It never raises anything else for network trouble, so
  the controller can turn each failure into an engine event;
- `events()` yields decoded events forever: it reconnects with backoff when the socket
  drops or cannot be opened (Asterisk may be starting), except when the upgrade is
  answered 401, 403 or 404 (`REFUSED_FOR_GOOD`: wrong credentials, or no ARI at this
  URL): then it raises `AriError` with that status. After every (re)connection it
  checks that the user may write (`check_write_access`: a user that is `read_only`
  in ari.conf reads events but is refused every call control with 403) and raises
  `AriError` 403 when it may not; then it calls `on_connect`, before yielding the first
  event of that connection, so the caller can reconcile what it missed in the gap;
- `on_refused`, when set, is called with the error of every REST call Asterisk
  answers 401 or 403 (`REST_REFUSED`): credentials changed under a running engine
  (ari.conf reloaded) fail every call from then on, and no retry helps;
- credentials travel in an Authorization header, never in a URL, so they cannot reach
  a log line (aiohttp logs URLs; Asterisk accepts Basic auth on the WebSocket upgrade).

The paths and parameter names are those of Asterisk's own description (ari/spec).
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import itertools
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import msgspec

from acd.ari import models
from acd.ari.frames import decode_event

log = logging.getLogger("acd.ari")

REST_REFUSED = frozenset({401, 403})
"""Statuses of a REST answer that refuse the user, not the request: wrong credentials
(401), or a user without write access (403, `read_only = yes` in ari.conf)."""

WRITE_PROBE = "/playbacks/acd-write-access-probe"
"""A playback that never exists: deleting it changes nothing. Asterisk refuses a
read-only user's DELETE before it looks the resource up (res_ari.c,
`ast_ari_invoke`), so 403 means read-only and 404 means the user may write."""

REFUSED_FOR_GOOD = frozenset({401, 403, 404})
"""Statuses of the events socket's upgrade that no retry can change: credentials
Asterisk refuses (401, 403), or no ARI events resource at this URL (404)."""

T = TypeVar("T")

_CHANNEL = msgspec.json.Decoder(models.Channel)
_CHANNELS = msgspec.json.Decoder(list[models.Channel])
_BRIDGE = msgspec.json.Decoder(models.Bridge)
_BRIDGES = msgspec.json.Decoder(list[models.Bridge])
_PLAYBACK = msgspec.json.Decoder(models.Playback)
_VARIABLE = msgspec.json.Decoder(models.Variable)
_PING = msgspec.json.Decoder(models.AsteriskPing)


class AriError(Exception):
    """A REST call did not succeed. `status` is the HTTP status, or 0 when Asterisk
    could not be reached or did not answer in time."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"{method} {path}: {status or 'no answer'} {message}".rstrip())
        self.method = method
        self.path = path
        self.status = status
        self.message = message

    @property
    def gone(self) -> bool:
        """The resource does not exist (any more): Asterisk answers 404 for a channel
        that has hung up, a finished playback or a destroyed bridge."""
        return self.status == 404


class Counters(msgspec.Struct):
    """What the client saw, for logs and the engine's live figures."""

    requests: int = 0
    failed_requests: int = 0
    timeouts: int = 0
    ws_requests: int = 0
    """Requests sent as RESTRequest on the events socket instead of over HTTP."""
    events: int = 0
    unknown_events: int = 0
    malformed_events: int = 0
    connects: int = 0
    disconnects: int = 0


def _flag(value: bool) -> str:
    return "true" if value else "false"


class AriClient:
    """One Asterisk, one Stasis application.

    `base_url` is Asterisk's HTTP server, with or without the `/ari` prefix
    (e.g. "http://127.0.0.1:8088"). Use as an async context manager, or call `close()`.
    """

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        *,
        app: str = "acd",
        timeout: float = 5.0,
        heartbeat: float = 10.0,
        max_backoff: float = 10.0,
        max_in_flight: int = 64,
        rest_over_websocket: bool = True,
    ) -> None:
        root = base_url.rstrip("/")
        self.root = root if root.endswith("/ari") else root + "/ari"
        self.app = app
        self.counters = Counters()
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self._headers = {"Authorization": f"Basic {token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._heartbeat = heartbeat
        self._max_backoff = max_backoff
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._closing = False
        self._max_in_flight = max_in_flight
        # Requests past the bound wait here, outside their timeout, rather than in
        # aiohttp's pool where the wait would count against it.
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self.on_refused: Callable[[AriError], None] | None = None
        """Called with every REST call's error whose status is in REST_REFUSED."""
        self.on_round_trip: Callable[[float], None] | None = None
        """Called with the seconds each REST call took, waiting for its turn included
        (on the loop's clock), answered or not: the brakes watch it."""
        self.rest_over_websocket = rest_over_websocket
        self._ws_rest = False
        """Asterisk answered our probe on the current events socket: requests go there."""
        self._pending: dict[str, asyncio.Future[models.RESTResponse]] = {}
        self._request_ids = itertools.count(1)

    async def __aenter__(self) -> AriClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # Many calls at once in a surge: keep-alive connections, no per-host cap
            # beyond what one Asterisk serves comfortably.
            connector = aiohttp.TCPConnector(
                limit=self._max_in_flight, limit_per_host=self._max_in_flight
            )
            self._session = aiohttp.ClientSession(
                headers=self._headers, timeout=self._timeout, connector=connector
            )
        return self._session

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()

    async def drop_events(self) -> None:
        """Close the current events socket (it reconnects): for tests and operators."""
        if self._ws is not None:
            await self._ws.close()

    # ------------------------------------------------------------------ REST

    async def request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> bytes | None:
        """One REST call; the raw JSON answer, or None for 204. Raises AriError."""
        self.counters.requests += 1
        loop = asyncio.get_running_loop()
        sent = loop.time()
        try:
            async with self._in_flight:
                ws = self._ws
                if self._ws_rest and ws is not None and not ws.closed:
                    return await self._ws_request(ws, method, path, params, body)
                return await self._request(method, path, params, body)
        finally:
            if self.on_round_trip is not None:
                self.on_round_trip(loop.time() - sent)

    async def _ws_request(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        method: str,
        path: str,
        params: dict[str, str] | None,
        body: dict[str, Any] | None,
    ) -> bytes | None:
        """The request as a `RESTRequest` on the events socket (Asterisk 22): no HTTP
        round trip of its own. Its `RESTResponse` comes among the events; a socket
        that closes first fails it like an unanswered request (status 0)."""
        self.counters.ws_requests += 1
        request_id = str(next(self._request_ids))
        future: asyncio.Future[models.RESTResponse] = (
            asyncio.get_running_loop().create_future()
        )
        self._pending[request_id] = future
        message = models.RESTRequest(
            type="RESTRequest",
            transaction_id=request_id,
            request_id=request_id,
            method=method,
            uri=path.lstrip("/"),
            query_strings=[
                models.RESTQueryStringParameter(name=k, value=v) for k, v in params.items()
            ] if params else None,
            content_type="application/json" if body is not None else None,
            message_body=msgspec.json.encode(body).decode() if body is not None else None,
        )
        try:
            await ws.send_str(msgspec.json.encode(message).decode())
            answer = await asyncio.wait_for(future, self._timeout.total)
        except TimeoutError as e:
            self.counters.failed_requests += 1
            self.counters.timeouts += 1
            raise AriError(method, path, 0, "timed out") from e
        except (aiohttp.ClientError, ConnectionError) as e:
            self.counters.failed_requests += 1
            raise AriError(method, path, 0, type(e).__name__) from e
        finally:
            self._pending.pop(request_id, None)
        data = (answer.message_body or "").encode()
        return self._answer(method, path, answer.status_code, data)

    def _answer(self, method: str, path: str, status: int, data: bytes) -> bytes | None:
        """The body of a 2xx answer (None for none), or AriError with Asterisk's message."""
        if status >= 300:
            self.counters.failed_requests += 1
            message = ""
            try:
                message = str(msgspec.json.decode(data).get("message", ""))
            except (msgspec.DecodeError, AttributeError):
                message = data[:200].decode("utf-8", "replace")
            error = AriError(method, path, status, message)
            if status in REST_REFUSED and self.on_refused is not None:
                self.on_refused(error)
            raise error
        return data if status != 204 and data else None

    async def _request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        body: dict[str, Any] | None,
    ) -> bytes | None:
        try:
            async with self._http().request(
                method, self.root + path, params=params, json=body
            ) as resp:
                return self._answer(method, path, resp.status, await resp.read())
        except TimeoutError as e:
            self.counters.failed_requests += 1
            self.counters.timeouts += 1
            raise AriError(method, path, 0, "timed out") from e
        except aiohttp.ClientError as e:
            self.counters.failed_requests += 1
            raise AriError(method, path, 0, type(e).__name__) from e

    async def _decode(
        self,
        decoder: msgspec.json.Decoder[T],
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> T:
        data = await self.request(method, path, params, body)
        if data is None:
            raise AriError(method, path, 0, "empty answer where a resource was expected")
        try:
            return decoder.decode(data)
        except msgspec.DecodeError as e:
            raise AriError(method, path, 0, f"unexpected answer: {e}") from e

    async def check_write_access(self) -> None:
        """Raise `AriError` (403) when Asterisk refuses this user every write (a
        `read_only` user: it would see calls arrive and could answer none). Any other
        answer, or none, proves nothing either way and is left to the calls themselves.
        Not counted as a request: it is no call control."""
        try:
            async with self._http().delete(self.root + WRITE_PROBE) as resp:
                if resp.status in REST_REFUSED:
                    raise AriError("DELETE", WRITE_PROBE, resp.status, "Write access denied")
        except (aiohttp.ClientError, TimeoutError):
            pass

    async def asterisk_time(self) -> float:
        """Asterisk's clock (epoch seconds), from GET /asterisk/ping."""
        ping = await self._decode(_PING, "GET", "/asterisk/ping")
        try:
            return datetime.datetime.strptime(ping.timestamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
        except ValueError as e:
            raise AriError("GET", "/asterisk/ping", 0, f"timestamp {ping.timestamp!r}") from e

    # channels -------------------------------------------------------------

    async def list_channels(self) -> list[models.Channel]:
        return await self._decode(_CHANNELS, "GET", "/channels")

    async def get_channel(self, channel_id: str) -> models.Channel:
        return await self._decode(_CHANNEL, "GET", f"/channels/{channel_id}")

    async def answer(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/answer")

    async def ring(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/ring")

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        """`reason`: normal, busy, congestion, no_answer, ... (the spec's list)."""
        await self.request("DELETE", f"/channels/{channel_id}", {"reason": reason})

    async def play(
        self, channel_id: str, media: list[str], *, playback_id: str, lang: str = ""
    ) -> None:
        params = {"media": ",".join(media), "playbackId": playback_id}
        if lang:
            params["lang"] = lang
        await self.request("POST", f"/channels/{channel_id}/play", params)

    async def start_moh(self, channel_id: str, moh_class: str = "") -> None:
        params = {"mohClass": moh_class} if moh_class else {}
        await self.request("POST", f"/channels/{channel_id}/moh", params)

    async def originate(
        self,
        endpoint: str,
        *,
        channel_id: str,
        app_args: list[str],
        timeout: float,
        caller_id: str = "",
        originator: str = "",
        variables: dict[str, str] | None = None,
    ) -> models.Channel:
        """Dial `endpoint` into this application: on answer the new channel enters
        Stasis with `app_args` (StasisStart); unanswered, it is destroyed at `timeout`
        seconds with cause 19 (busy: 17)."""
        params = {
            "endpoint": endpoint,
            "app": self.app,
            "appArgs": ",".join(app_args),
            "channelId": channel_id,
            "timeout": str(max(1, round(timeout))),
        }
        if caller_id:
            params["callerId"] = caller_id
        if originator:
            params["originator"] = originator
        body = {"variables": variables} if variables else None
        return await self._decode(_CHANNEL, "POST", "/channels", params, body)

    async def create(
        self, endpoint: str, *, channel_id: str, app_args: list[str], originator: str = ""
    ) -> models.Channel:
        params = {
            "endpoint": endpoint,
            "app": self.app,
            "appArgs": ",".join(app_args),
            "channelId": channel_id,
        }
        if originator:
            params["originator"] = originator
        return await self._decode(_CHANNEL, "POST", "/channels/create", params)

    async def dial(self, channel_id: str, *, caller: str = "", timeout: float = 0) -> None:
        params: dict[str, str] = {}
        if caller:
            params["caller"] = caller
        if timeout:
            params["timeout"] = str(max(1, round(timeout)))
        await self.request("POST", f"/channels/{channel_id}/dial", params)

    async def snoop(
        self,
        channel_id: str,
        *,
        snoop_id: str,
        app_args: list[str],
        spy: str = "both",
        whisper: str = "none",
    ) -> models.Channel:
        """Spy on (and whisper into) `channel_id` through a new `Snoop/...` channel with
        id `snoop_id`, which enters this application (StasisStart with `app_args`).
        Directions are the channel's: `in` what it sends, `out` what it is sent (so
        `whisper=out` is heard by that channel's own phone; res/res_stasis_snoop.c maps
        out to AST_AUDIOHOOK_DIRECTION_WRITE, as app_chanspy's whisper mode writes).
        404: the channel is gone; 400: bad directions."""
        params = {
            "spy": spy,
            "whisper": whisper,
            "app": self.app,
            "appArgs": ",".join(app_args),
            "snoopId": snoop_id,
        }
        return await self._decode(_CHANNEL, "POST", f"/channels/{channel_id}/snoop", params)

    async def get_variable(self, channel_id: str, name: str) -> str:
        var = await self._decode(
            _VARIABLE, "GET", f"/channels/{channel_id}/variable", {"variable": name}
        )
        return var.value

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        params = {"variable": name, "value": value}
        await self.request("POST", f"/channels/{channel_id}/variable", params)

    async def continue_in_dialplan(
        self, channel_id: str, *, context: str, extension: str, priority: int = 1
    ) -> None:
        params = {"context": context, "extension": extension, "priority": str(priority)}
        await self.request("POST", f"/channels/{channel_id}/continue", params)

    # bridges ----------------------------------------------------------------

    async def list_bridges(self) -> list[models.Bridge]:
        return await self._decode(_BRIDGES, "GET", "/bridges")

    async def create_bridge(self, bridge_id: str, kind: str, name: str = "") -> models.Bridge:
        """`kind`: Asterisk's comma-separated bridge type flags: "holding" (callers
        waiting, music on hold), "mixing,dtmf_events" (a conversation whose keys we hear)."""
        params = {"type": kind, "bridgeId": bridge_id, "name": name or bridge_id}
        return await self._decode(_BRIDGE, "POST", "/bridges", params)

    async def add_channels(self, bridge_id: str, channel_ids: list[str], role: str = "") -> None:
        params = {"channel": ",".join(channel_ids)}
        if role:
            params["role"] = role
        await self.request("POST", f"/bridges/{bridge_id}/addChannel", params)

    async def remove_channels(self, bridge_id: str, channel_ids: list[str]) -> None:
        params = {"channel": ",".join(channel_ids)}
        await self.request("POST", f"/bridges/{bridge_id}/removeChannel", params)

    async def start_bridge_moh(self, bridge_id: str, moh_class: str = "") -> None:
        params = {"mohClass": moh_class} if moh_class else {}
        await self.request("POST", f"/bridges/{bridge_id}/moh", params)

    async def play_bridge(self, bridge_id: str, media: list[str], *, playback_id: str) -> None:
        params = {"media": ",".join(media), "playbackId": playback_id}
        await self.request("POST", f"/bridges/{bridge_id}/play", params)

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{bridge_id}")

    # playbacks, messages ------------------------------------------------------

    async def get_playback(self, playback_id: str) -> models.Playback:
        return await self._decode(_PLAYBACK, "GET", f"/playbacks/{playback_id}")

    async def stop_playback(self, playback_id: str) -> None:
        """Stop a playback. One that has ended meanwhile is gone (404): Asterisk 22
        answers a playback that finished a moment ago with 500 "Could not stop
        playback" instead, which is reported as 404 too, since nothing is wrong."""
        try:
            await self.request("DELETE", f"/playbacks/{playback_id}")
        except AriError as err:
            if err.status == 500 and "Could not stop playback" in str(err):
                raise AriError("DELETE", f"/playbacks/{playback_id}", 404,
                               "playback has just ended") from err
            raise

    async def send_message(self, to: str, sender: str, body: str) -> None:
        """An out-of-call text message (SIP MESSAGE / SMS gateway), e.g. a link."""
        params = {"to": to, "from": sender, "body": body}
        await self.request("PUT", "/endpoints/sendMessage", params)

    # ------------------------------------------------------------------ events

    async def events(
        self, on_connect: Callable[[], Awaitable[None]] | None = None
    ) -> AsyncIterator[models.Event]:
        """The application's events, forever: reconnects with exponential backoff and
        jitter (0.2 s doubling to `max_backoff`) when the socket drops or cannot be
        opened. Unknown and malformed frames are counted and logged, never raised."""
        url = self.root + "/events"
        backoff = 0.2
        while not self._closing:
            try:
                ws = await self._http().ws_connect(
                    url,
                    params={"app": self.app},
                    heartbeat=self._heartbeat,
                    timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
                )
            except aiohttp.WSServerHandshakeError as e:
                if self._closing:
                    return
                if e.status in REFUSED_FOR_GOOD:
                    # Wrong credentials, or no ARI at this URL: retrying cannot help.
                    raise AriError("GET", "/events", e.status, e.message) from None
                log.warning("ARI events: cannot connect (%s); retrying in %.1f s", e, backoff)
                await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
                backoff = min(self._max_backoff, backoff * 2)
                continue
            except (aiohttp.ClientError, TimeoutError, OSError) as e:
                if self._closing:
                    return
                log.warning("ARI events: cannot connect (%s); retrying in %.1f s", e, backoff)
                await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
                backoff = min(self._max_backoff, backoff * 2)
                continue
            self._ws = ws
            self.counters.connects += 1
            log.info("ARI events: connected to %s for app %s", url, self.app)
            try:
                await self.check_write_access()
                # The hook's requests go over HTTP: this generator reads the socket, and
                # it is busy running the hook.
                if on_connect is not None:
                    await on_connect()
                backoff = 0.2
                if self.rest_over_websocket:
                    await self._probe(ws)
                async for msg in ws:
                    if msg.type is not aiohttp.WSMsgType.TEXT:
                        continue
                    event = self._decode_frame(msg.data)
                    if isinstance(event, models.RESTResponse):
                        self._answered(event)
                    elif event is not None:
                        yield event
            finally:
                self._ws = None
                self._ws_rest = False
                for future in self._pending.values():
                    if not future.done():
                        future.set_exception(ConnectionError("events socket closed"))
                await ws.close()
            if not self._closing:
                self.counters.disconnects += 1
                log.warning("ARI events: socket closed; reconnecting")

    async def _probe(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Ask over the socket itself whether Asterisk takes REST requests there: an
        Asterisk that does (22 and newer) answers the ping, and from then on requests
        go over the socket; one that does not ignores it, and they stay on HTTP."""
        probe = f"probe-{next(self._request_ids)}"
        future: asyncio.Future[models.RESTResponse] = (
            asyncio.get_running_loop().create_future()
        )
        self._pending[probe] = future

        def answered(done: asyncio.Future[models.RESTResponse]) -> None:
            self._pending.pop(probe, None)
            if not done.cancelled() and done.exception() is None and ws is self._ws:
                self._ws_rest = done.result().status_code == 200
                log.info("ARI: REST requests over the events socket (%s)",
                         "on" if self._ws_rest else "refused: HTTP")

        future.add_done_callback(answered)
        message = models.RESTRequest(
            type="RESTRequest", transaction_id=probe, request_id=probe, method="GET",
            uri="asterisk/ping",
        )
        await ws.send_str(msgspec.json.encode(message).decode())

    def _answered(self, response: models.RESTResponse) -> None:
        future = self._pending.get(response.request_id)
        if future is not None and not future.done():
            future.set_result(response)

    def _decode_frame(self, data: str) -> models.Event | None:
        self.counters.events += 1
        try:
            event = decode_event(data)
        except msgspec.DecodeError as e:
            self.counters.malformed_events += 1
            log.warning("ARI events: malformed frame skipped: %s", e)
            return None
        if event is None:
            self.counters.unknown_events += 1
            log.info("ARI events: unknown event type skipped")
        return event
