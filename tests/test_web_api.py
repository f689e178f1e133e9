"""The supervisor API and the wallboard's event stream, as a supervisor, a wall screen
and an intruder meet them: over a real socket, against an engine driven by hand, on a
virtual loop clock (tests/web.py)."""

from __future__ import annotations

import asyncio

from acd.engine.states import AgentState
from tests.harness import Floor
from tests.test_scenario_wallboard import SITE
from tests.vtime import run_virtual
from tests.web import SUPERVISOR, VIEWER, served, stream

A = AgentState


def test_reading_needs_a_token_and_acting_a_supervisor_token() -> None:
    async def main() -> None:
        floor = Floor(SITE)
        floor.login("a1")
        async with served(floor) as board:
            async with board.client() as anyone:
                for path in ("/api/queues", "/api/agents", "/api/site", "/api/stream",
                             "/metrics", "/api/audit"):
                    async with anyone.get(path) as r:
                        assert r.status == 401, path
                async with anyone.post("/api/agents/a1/pause", json={"reason": "break"}) as r:
                    assert r.status == 401
                async with anyone.get("/api/openapi.json") as r:
                    assert r.status == 200  # the description is public
            async with board.client("not-a-known-token-at-all") as stranger, \
                    stranger.get("/api/queues") as r:
                assert r.status == 401
            async with board.client(VIEWER) as wall:
                async with wall.get("/api/agents") as r:
                    assert r.status == 200
                    assert {a["id"]: a["state"] for a in await r.json()}["a1"] == "available"
                async with wall.post("/api/agents/a1/pause", json={"reason": "break"}) as r:
                    assert r.status == 403
                    assert "viewer" in (await r.json())["error"]
            assert board.floor.agent_state("a1") is A.AVAILABLE  # nothing changed
            async with board.client(SUPERVISOR) as kim:
                async with kim.post("/api/agents/a1/pause", json={"reason": "abusive_call"}) as r:
                    assert r.status == 200
                    result = await r.json()
                    assert result["ok"] and "paused (abusive_call)" in result["message"]
                assert board.floor.agent_state("a1") is A.PAUSED
                assert board.floor.engine.agents["a1"].reason == "abusive_call"
                await board.web.broadcaster.next_update()
                async with kim.get("/api/agents/a1") as r:
                    assert ((await r.json())["state"], r.status) == ("paused", 200)
                async with kim.get("/api/audit") as r:
                    (entry,) = await r.json()
                assert (entry["who"], entry["role"], entry["ok"]) == ("kim", "supervisor", True)
                assert entry["action"] == {"type": "Pause", "agent": "a1", "reason": "abusive_call"}

    run_virtual(main())


def test_refusals_name_the_problem_and_change_nothing() -> None:
    async def main() -> None:
        async with served(SITE) as board:
            f = board.floor
            f.login("a1")
            before = f.engine.snapshot(f.now)
            async with board.client(SUPERVISOR) as kim:
                cases = [
                    ("/api/agents/zz/pause", {"reason": "break"}, 404, ""),
                    ("/api/agents/a1/pause", {"reason": 5}, 422, "reason"),
                    ("/api/agents/a1/pause", {"reason": "x" * 41}, 422, "reason"),
                    ("/api/agents/a1/pause", {"why": "break"}, 422, "why"),
                    ("/api/agents/a1/pool", {"pool": "nowhere"}, 422, "pool"),
                    ("/api/agents/a1/skills", {"skill": "gen", "level": 9}, 422, "level"),
                    ("/api/agents/a1/skills", {"skill": "knitting", "level": 2}, 422, "skill"),
                    ("/api/surge", {"stage": 7}, 422, "stage"),
                    ("/api/queues/nope/announcement", {"media": []}, 404, ""),
                    ("/api/queues/gen/announcement", {"media": ["rm -rf /"]}, 422, "media"),
                    ("/api/agents/a1/unpause", {}, 409, ""),  # the engine refuses: not paused
                ]
                for path, body, status, field in cases:
                    async with kim.post(path, json=body) as r:
                        answer = await r.json()
                        assert r.status == status, (path, body, answer)
                        assert answer.get("field", "") == field, (path, body, answer)
                        assert answer.get("message") or answer.get("error")
                async with kim.post("/api/agents/a1/pause", data=b"{not json",
                                    headers={"Content-Type": "application/json"}) as r:
                    assert r.status == 400
                async with kim.post("/api/agents/a1/pause", data=b"reason=break",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"}
                                    ) as r:
                    assert r.status == 415  # a cross-site form cannot act
                async with kim.get("/api/queues/gen/waiting?limit=0") as r:
                    assert (r.status, (await r.json())["field"]) == (422, "limit")
                async with kim.get("/api/agents/zz") as r:
                    assert r.status == 404
            after = f.engine.snapshot(f.now)
            assert after.agents == before.agents
            assert (after.stage, after.announcement) == (before.stage, before.announcement)

    run_virtual(main())


def test_actions_reach_the_engine_and_the_answer_says_what_it_did() -> None:
    async def main() -> None:
        async with served(SITE) as board:
            f = board.floor
            f.login("a1", "h1")
            f.call("c1")
            f.answer("a1", "c1")  # a1 is on a call
            async with board.client(SUPERVISOR) as kim:
                async with kim.post("/api/agents/a1/pause", json={"reason": "training"}) as r:
                    result = await r.json()
                assert r.status == 200 and "after the current call" in result["message"]
                f.agent_hangs_up("a1", "c1")
                f.advance(10)  # wrap-up ends: the pause waiting for the call applies
                assert f.agent_state("a1") is A.PAUSED
                async with kim.post("/api/agents/h1/pool", json={"pool": "floor"}) as r:
                    assert r.status == 200
                assert f.engine.agents["h1"].pool == "floor"
                async with kim.post("/api/agents/h1/skills", json={"skill": "gen", "level": 5}):
                    pass
                assert f.engine.agents["h1"].skills["gen"] == 5
                async with kim.post("/api/queues/gen/announcement",
                                    json={"media": ["sound:custom/flood-warning"]}) as r:
                    assert r.status == 200
                assert f.engine.conditions.announcement == ["sound:custom/flood-warning"]
                f.call("c2")  # a caller joining now hears it
                assert "sound:custom/flood-warning" in f.heard("c2")
                async with kim.post("/api/queues/gen/announcement", json={"media": []}) as r:
                    assert r.status == 200
                assert f.engine.conditions.announcement == []
                async with kim.post("/api/agents/a1/logoff", json={}) as r:
                    assert r.status == 200
                assert f.agent_state("a1") is A.LOGGED_OUT
                async with kim.get("/api/audit?limit=2") as r:
                    newest = await r.json()
                assert [e["action"]["type"] for e in newest] == ["LogOff", "Announce"]

    run_virtual(main())


def test_the_stream_sends_the_floor_at_once_then_each_change_within_a_second() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with served(SITE) as board:
            f = board.floor
            f.login("a1")
            async with board.client(VIEWER) as wall, stream(wall) as events:
                first_id, first = await events.next()
                assert first.snapshot.queues[0].waiting == 0
                f.call("c1")
                f.call("c2")  # a1 takes c1; c2 waits
                sent = loop.time()
                event_id, update = await events.next()
                assert loop.time() - sent <= 1.0
                assert update.snapshot.queues[0].waiting == 1
                assert update.seq > first.seq and event_id != first_id
                assert update.snapshot.queues[0].oldest_since == f.now  # the page ticks on it
                # A quiet floor: only heartbeats, no repeated update.
                assert [await events.item(), await events.item()] == [None, None]
            # A page that reconnects with the latest id gets nothing twice; one with an
            # older id gets the latest at once.
            async with board.client(VIEWER) as wall:
                async with stream(wall, last_event_id=first_id) as events:
                    again_id, again = await events.next()
                    assert again_id == event_id and again.snapshot.queues[0].waiting == 1
                async with stream(wall, last_event_id=event_id) as events:
                    f.hang_up("c2")
                    _, update = await events.next()
                    assert update.snapshot.queues[0].waiting == 0

    run_virtual(main())


def test_a_browser_session_cookie_replaces_the_token() -> None:
    async def main() -> None:
        async with served(SITE) as board, board.client() as page:
            async with page.post("/api/session", json={"token": "wrong-token-wrong-token"}) as r:
                assert r.status == 401
            async with page.post("/api/session", json={"token": SUPERVISOR}) as r:
                assert (await r.json()) == {"name": "kim", "role": "supervisor"}
                cookie = r.cookies["acd_session"]
                assert cookie["httponly"] and cookie["samesite"] == "Strict"
                assert SUPERVISOR not in cookie.value
            async with page.get("/api/session") as r:
                assert (await r.json())["role"] == "supervisor"
            async with page.delete("/api/session") as r:
                assert r.status == 204
            async with page.get("/api/session") as r:
                assert r.status == 401

    run_virtual(main())


def test_odd_requests_get_a_json_refusal_never_a_server_error() -> None:
    async def main() -> None:
        async with served(SITE) as board, board.client(SUPERVISOR) as kim:
            async with kim.get("/api/nothing") as r:
                assert (r.status, r.content_type) == (404, "application/json")
                assert (await r.json())["error"]
            async with kim.post("/api/surge", data=b'{"stage": 1}', headers={
                "Content-Type": "application/json", "Content-Encoding": "gzip",
            }) as r:  # declared gzip, but not: the body cannot be read
                assert r.status == 400, await r.text()
            async with kim.post("/api/surge", json={"stage": 0.0}) as r:
                assert r.status == 200  # 0.0 is the whole number 0, as JSON Schema says
            assert board.floor.engine.surge.pinned == 0

    run_virtual(main())
