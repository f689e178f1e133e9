"""The ARI client over real sockets: Asterisk's recorded frames, replayed by a small
aiohttp server on 127.0.0.1, reach the client's decoder as typed records; drops
reconnect; REST failures become `AriError`s with the status, never anything else."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import WSMsgType, web

from acd.ari import models
from acd.ari.client import AriClient, AriError
from tests.vtime import run_virtual

TRANSCRIPTS = sorted((Path(__file__).parent / "fixtures" / "ari").glob("*.events.jsonl"))


def frames_of(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.strip()]


async def with_server(
    app: web.Application, body: Callable[[str], Awaitable[None]]
) -> None:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await body(f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("transcript", TRANSCRIPTS, ids=lambda p: p.name.split(".")[0])
def test_every_recorded_frame_reaches_the_client_as_a_typed_event(transcript: Path) -> None:
    frames = frames_of(transcript)
    seen_auth: list[str] = []
    seen_apps: list[str] = []

    async def events(request: web.Request) -> web.WebSocketResponse:
        seen_auth.append(request.headers.get("Authorization", ""))
        seen_apps.append(request.query.get("app", ""))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for frame in frames:
            await ws.send_str(frame)
        await ws.send_str('{"type": "SomethingNewInAsterisk30", "application": "acd"}')
        await ws.send_str("{not json")
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/ari/events", events)
    got: list[models.Event] = []

    async def body(url: str) -> None:
        async with AriClient(url, "acd", "s3cret", app="acd") as client:
            async for event in client.events():
                got.append(event)
                if len(got) == len(frames):
                    break
            assert client.counters.events == len(frames)

    run_virtual(with_server(app, body))
    expected = [json.loads(f)["type"] for f in frames]
    assert [type(e).__name__ for e in got] == expected
    assert all(isinstance(e, models.EventBase) for e in got)
    # Credentials travel in the header, never in the URL's query.
    assert seen_auth == [basic("acd", "s3cret")]
    assert seen_apps == ["acd"]


def test_unknown_and_malformed_frames_are_counted_and_the_stream_goes_on() -> None:
    frame = frames_of(TRANSCRIPTS[0])[0]

    async def events(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str('{"type": "SomethingNewInAsterisk30"}')
        await ws.send_str("{not json")
        await ws.send_str('{"type": "StasisStart"}')  # known type, fields missing
        await ws.send_str(frame)
        await ws.receive()  # hold the socket open until the client leaves
        return ws

    app = web.Application()
    app.router.add_get("/ari/events", events)

    async def body(url: str) -> None:
        async with AriClient(url, "acd", "x") as client:
            async for event in client.events():
                assert isinstance(event, models.StasisStart)
                break
            assert client.counters.unknown_events == 1
            assert client.counters.malformed_events == 2

    run_virtual(with_server(app, body))


def test_a_dropped_socket_reconnects_and_reconciles_before_new_events() -> None:
    frames = frames_of(TRANSCRIPTS[0])
    connections = 0

    async def events(request: web.Request) -> web.WebSocketResponse:
        nonlocal connections
        connections += 1
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(frames[connections - 1])
        if connections == 1:
            await ws.close()  # the drop
        else:
            async for msg in ws:
                if msg.type is WSMsgType.CLOSE:
                    break
        return ws

    app = web.Application()
    app.router.add_get("/ari/events", events)
    order: list[str] = []

    async def reconcile() -> None:
        order.append("reconcile")

    async def body(url: str) -> None:
        async with AriClient(url, "acd", "x") as client:
            async for event in client.events(reconcile):
                order.append(type(event).__name__)
                if len(order) == 4:
                    break
            assert client.counters.disconnects == 1

    run_virtual(with_server(app, body), end=60)
    first, second = (json.loads(f)["type"] for f in frames[:2])
    assert order == ["reconcile", first, "reconcile", second]


def test_rest_failures_become_ari_errors_with_their_status() -> None:
    async def gone(request: web.Request) -> web.Response:
        return web.json_response({"message": "Channel not found"}, status=404)

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(status=204)

    async def answered(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == basic("acd", "pw")
        assert request.query["reason"] == "busy"
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/ari/channels/{id}/answer", gone)
    app.router.add_post("/ari/channels/{id}/ring", slow)
    app.router.add_delete("/ari/channels/{id}", answered)

    async def body(url: str) -> None:
        async with AriClient(url, "acd", "pw", timeout=0.3) as client:
            with pytest.raises(AriError) as missing:
                await client.answer("c1")
            assert missing.value.status == 404 and missing.value.gone
            assert "Channel not found" in str(missing.value)
            with pytest.raises(AriError) as late:
                await client.ring("c1")
            assert late.value.status == 0 and not late.value.gone
            await client.hangup("c1", "busy")  # 204: no error
            assert client.counters.timeouts == 1

    run_virtual(with_server(app, body))

    async def refused() -> None:
        async with AriClient("http://127.0.0.1:9", "acd", "pw", timeout=1) as client:
            with pytest.raises(AriError) as down:
                await client.answer("c1")
            assert down.value.status == 0

    run_virtual(refused())


def test_a_refused_user_reaches_on_refused_and_a_missing_channel_does_not() -> None:
    """Credentials changed under a running engine (ari.conf reloaded): the REST call's
    401 is handed to `on_refused`, so `acd serve` can stop instead of failing every
    call; a channel that hung up (404) is an ordinary failure of one call."""

    async def unauthorized(request: web.Request) -> web.Response:
        return web.json_response({"message": "Authentication required"}, status=401)

    async def gone(request: web.Request) -> web.Response:
        return web.json_response({"message": "Channel not found"}, status=404)

    app = web.Application()
    app.router.add_post("/ari/channels/{id}/answer", unauthorized)
    app.router.add_post("/ari/channels/{id}/ring", gone)
    refusals: list[AriError] = []

    async def body(url: str) -> None:
        async with AriClient(url, "acd", "pw") as client:
            client.on_refused = refusals.append
            with pytest.raises(AriError):
                await client.ring("c1")
            assert refusals == []
            with pytest.raises(AriError) as refused:
                await client.answer("c1")
            assert refusals == [refused.value] and refused.value.status == 401

    run_virtual(with_server(app, body))
