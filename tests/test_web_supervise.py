"""Listen, whisper and barge from the supervisor API: the refusals (unknown call 404,
a call not in a conversation 409 from the engine's own anomaly, a bad endpoint 422
naming the field), and an accepted action reaching the engine as its event, with the
engine's `Supervise` command, and the audit trail."""

from __future__ import annotations

import pytest

from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine.states import CallState
from tests.test_scenario_wallboard import SITE
from tests.vtime import run_virtual
from tests.web import SUPERVISOR, VIEWER, served

BODY = {"endpoint": "PJSIP/sup01"}


def test_refusals_name_the_problem_and_reach_no_phone() -> None:
    async def main() -> None:
        async with served(SITE) as board:
            f = board.floor
            f.call("c1")  # nobody logged in: the caller waits
            f.advance(1)
            assert f.call_state("c1") is CallState.WAITING
            async with board.client(SUPERVISOR) as kim:
                cases = [
                    ("/api/calls/nope/listen", BODY, 404, ""),
                    ("/api/calls/c1/listen", BODY, 409, ""),  # waiting: nothing to hear
                    ("/api/calls/c1/whisper", {"endpoint": "sup01"}, 422, "endpoint"),
                    ("/api/calls/c1/barge", {"endpoint": "PJSIP/a b"}, 422, "endpoint"),
                    ("/api/calls/c1/barge", {"endpoint": 7}, 422, "endpoint"),
                    ("/api/calls/c1/barge", {}, 422, "endpoint"),
                    ("/api/calls/c1/listen", {"endpoint": "PJSIP/x", "mode": "barge"}, 422, "mode"),
                ]
                for path, body, status, field in cases:
                    async with kim.post(path, json=body) as r:
                        answer = await r.json()
                        assert r.status == status, (path, body, answer)
                        if status == 422:
                            assert answer["field"] == field, (path, body, answer)
                        if status == 409:
                            assert not answer["ok"]
                            assert "not in a conversation" in answer["message"]
            assert f.commands(cmd.Supervise) == []
            async with board.client(VIEWER) as wall, \
                    wall.post("/api/calls/c1/listen", json=BODY) as r:
                assert r.status == 403

    run_virtual(main())


@pytest.mark.parametrize("mode", ["listen", "whisper", "barge"])
def test_a_call_in_conversation_rings_the_supervisor(mode: ev.SuperviseMode) -> None:
    async def main() -> None:
        async with served(SITE) as board:
            f = board.floor
            f.login("a1")
            f.call("c1")
            f.advance(1)
            f.answer("a1", "c1")
            f.advance(1)
            assert f.call_state("c1") is CallState.CONNECTED
            async with board.client(SUPERVISOR) as kim:
                async with kim.post(f"/api/calls/c1/{mode}", json=BODY) as r:
                    answer = await r.json()
                    assert r.status == 200, answer
                    assert answer["ok"] and "ringing PJSIP/sup01" in answer["message"]
                async with kim.get("/api/audit") as r:
                    (entry,) = await r.json()
                assert entry["action"] == {
                    "type": "Supervise", "call": "c1", "endpoint": "PJSIP/sup01", "mode": mode
                }
            # The engine got the event (journaled like any other) and asked the PBX.
            events = [e for _t, e, _out in f.log if isinstance(e, ev.SuperviseCall)]
            assert events == [ev.SuperviseCall(call_id="c1", endpoint="PJSIP/sup01", mode=mode)]
            assert f.commands(cmd.Supervise) == [
                cmd.Supervise(call_id="c1", agent_id="a1", endpoint="PJSIP/sup01", mode=mode)
            ]
            assert f.call_state("c1") is CallState.CONNECTED

    run_virtual(main())
