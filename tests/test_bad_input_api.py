"""Bad requests to the supervisor API, as a real user or a script sends them: wrong
types, missing and unknown fields, numbers out of range, names the site does not have,
control characters, path tricks, bodies that are not JSON objects, the wrong method,
sessions that are stale or forged, a token where it does not belong.

Each case is one request to the real web part (aiohttp over a real socket on
127.0.0.1, tests/web.py) reading an engine floor driven by hand, on a virtual loop
clock, and asserts what the sender sees: the documented status (401 no token, 403 a
viewer acting, 404 unknown agent/queue/call, 405 wrong method, 409 the engine refuses,
413 a body over 64 KiB, 415 not JSON content, 422 a bad field, 400 not JSON), a JSON
answer whose message names the field, header or name at fault, and a floor exactly as
it was (a refusal changes nothing). A documented acceptance asserts what it changed.
Every request is bounded (`REQUEST_BOUND`): a hang fails the case.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest

from acd.engine.states import AgentState
from acd.web.auth import COOKIE, SESSION_SECONDS, Principal, Tokens
from tests.harness import Floor
from tests.test_scenario_wallboard import SITE
from tests.vtime import run_virtual
from tests.web import SUPERVISOR, TOKENS, VIEWER, Board, served, stream

REQUEST_BOUND = 30.0
"""Seconds of the loop's (virtual) clock a request may take before the case fails as a
hang: the broadcaster's one-second ticks move that clock on while a request waits."""

JSON = "application/json"


def j(value: Any) -> bytes:
    return json.dumps(value).encode()


def floor() -> Floor:
    """a1 on call c1 (from gen), h1 available, h2 logged out; no surge stage configured."""
    f = Floor(SITE)
    f.login("a1", "h1")
    f.call("c1")
    f.answer("a1", "c1")
    return f


def lasting(f: Floor) -> dict[str, Any]:
    """The floor as a supervisor sees it (the engine's snapshot), as plain data."""
    seen = msgspec.to_builtins(f.engine.snapshot(f.now))
    assert isinstance(seen, dict)
    return seen


# --- session cookies a browser may come back with ----------------------------------------

NOW = time.time()
KIM = Principal("kim", "supervisor")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _role_rewritten() -> str:
    """The wall screen's own cookie with its role edited to supervisor, signature kept."""
    body, _, mac = TOKENS.cookie(Principal("wall", "viewer"), NOW).partition(".")
    decoded = msgspec.msgpack.decode(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    decoded[1] = "supervisor"
    return f"{_b64(msgspec.msgpack.encode(decoded))}.{mac}"


EXPIRED = TOKENS.cookie(KIM, NOW - SESSION_SECONDS - 60)
"""Signed with today's tokens, issued more than a session's length ago."""
FROM_OLD_TOKENS = Tokens([("supervisor", "kim", "an-old-token-since-rotated")]).cookie(KIM, NOW)
"""Signed with tokens that have since been changed (which voids every session)."""
ROLE_REWRITTEN = _role_rewritten()


def cookie(value: str) -> tuple[tuple[str, str], ...]:
    return (("Cookie", f"{COOKIE}={value}"),)


# --- the cases -------------------------------------------------------------------------------

FloorCheck = Callable[[Floor], bool]


@dataclass(frozen=True)
class Bad:
    """One request. Refused (status 4xx): the answer is JSON, its message contains
    `names`, its `field` is `field`, and the floor is as it was. Accepted (2xx): `done`
    holds of the floor afterwards."""

    name: str
    method: str
    path: str
    status: int
    names: str = ""
    """What the answer's message must contain: the field, header, method or name at fault."""
    body: bytes | None = None
    content_type: str | None = JSON
    """The Content-Type sent with a body (None: aiohttp's own for bytes, octet-stream)."""
    token: str | None = SUPERVISOR
    """Sent as `Authorization: Bearer`; None: no such header."""
    headers: tuple[tuple[str, str], ...] = ()
    field: str = ""
    done: FloorCheck | None = None

    @property
    def accepted(self) -> bool:
        return self.status < 300


def paused(agent: str, reason: str) -> FloorCheck:
    def check(f: Floor) -> bool:
        a = f.engine.agents[agent]
        return a.state is AgentState.PAUSED and a.reason == reason

    return check


AUTH = [
    Bad("no token at all", "GET", "/api/agents", 401, "Authorization", token=None),
    Bad("the token in the query string", "GET", f"/api/agents?token={SUPERVISOR}", 401,
        "Authorization", token=None),
    Bad("a token nobody issued", "GET", "/api/agents", 401, "Authorization",
        token="made-up-token-0123456789"),
    Bad("a viewer pausing an agent", "POST", "/api/agents/h1/pause", 403, "supervisor token",
        body=j({"reason": "break"}), token=VIEWER),
    Bad("a viewer releasing the surge stage", "POST", "/api/surge", 403, "supervisor token",
        body=j({"stage": None}), token=VIEWER),
    Bad("an expired session cookie", "POST", "/api/agents/h1/pause", 401, "log in",
        body=j({}), token=None, headers=cookie(EXPIRED)),
    Bad("a session cookie signed with tokens since changed", "POST", "/api/agents/h1/pause",
        401, "log in", body=j({}), token=None, headers=cookie(FROM_OLD_TOKENS)),
    Bad("a viewer's cookie with its role rewritten", "POST", "/api/agents/h1/pause", 401,
        "log in", body=j({}), token=None, headers=cookie(ROLE_REWRITTEN)),
    Bad("a garbled session cookie", "GET", "/api/agents", 401, "log in", token=None,
        headers=cookie("%%%not.base64!!")),
    Bad("a session cookie of one dot", "GET", "/api/agents", 401, "log in", token=None,
        headers=cookie(".")),
    Bad("logging in with a number for a token", "POST", "/api/session", 422, "token",
        body=j({"token": 12345678901234567890}), token=None, field="token"),
    Bad("logging in without a token", "POST", "/api/session", 422, "token", body=j({}),
        token=None, field="token"),
    Bad("logging in with an empty token", "POST", "/api/session", 401, "token",
        body=j({"token": ""}), token=None, field="token"),
    Bad("the Bearer scheme in lower case (RFC 9110: schemes are case-insensitive)",
        "POST", "/api/agents/h1/pause", 200, body=j({"reason": "lunch"}), token=None,
        headers=(("Authorization", f"bearer {SUPERVISOR}"),), done=paused("h1", "lunch")),
]

BODIES = [
    Bad("a reason of null", "POST", "/api/agents/h1/pause", 422, "reason",
        body=j({"reason": None}), field="reason"),
    Bad("an empty reason", "POST", "/api/agents/h1/pause", 422, "reason",
        body=j({"reason": ""}), field="reason"),
    Bad("a reason with a NUL", "POST", "/api/agents/h1/pause", 422, "reason",
        body=j({"reason": "lunch\x00"}), field="reason"),
    Bad("a reason of two lines", "POST", "/api/agents/h1/pause", 422, "reason",
        body=j({"reason": "lunch\nbreak"}), field="reason"),
    Bad("a reason ending in a newline", "POST", "/api/agents/h1/pause", 422, "reason",
        body=j({"reason": "lunch\n"}), field="reason"),
    Bad("a reason with a DEL", "POST", "/api/agents/h1/pause", 422, "reason",
        body=j({"reason": "lunch\x7f"}), field="reason"),
    Bad("a reason with a C1 next-line control", "POST", "/api/agents/h1/pause", 422, "reason",
        body=j({"reason": "lunch\x85"}), field="reason"),
    Bad("41 Hangul syllables for a reason", "POST", "/api/agents/h1/pause", 422, "reason",
        body=j({"reason": "점" * 41}), field="reason"),
    Bad("a reason in Korean", "POST", "/api/agents/h1/pause", 200, body=j({"reason": "점심 식사"}),
        done=paused("h1", "점심 식사")),
    Bad("an unknown field beside the reason", "POST", "/api/agents/h1/pause", 422,
        "unknown field `priority`", body=j({"reason": "lunch", "priority": 1}),
        field="priority"),
    Bad("a key given twice: the last one counts, as JSON.parse", "POST", "/api/agents/h1/pause",
        200, body=b'{"reason": "lunch", "reason": "training"}', done=paused("h1", "training")),
    Bad("an empty body: the reason defaults to break", "POST", "/api/agents/h1/pause", 200,
        body=b"", done=paused("h1", "break")),
    Bad("a JSON array instead of an object", "POST", "/api/agents/h1/pause", 422, "object",
        body=j([{"reason": "lunch"}])),
    Bad("a JSON string instead of an object", "POST", "/api/agents/h1/pause", 422, "object",
        body=j("lunch")),
    Bad("JSON null for the body", "POST", "/api/agents/h1/pause", 422, "object", body=b"null"),
    Bad("a body that is not JSON", "POST", "/api/agents/h1/pause", 400, "not JSON",
        body=b"{reason: 'lunch'}"),
    Bad("a body cut short", "POST", "/api/agents/h1/pause", 400, "not JSON",
        body=b'{"reason": "lun'),
    Bad("a body that is not UTF-8", "POST", "/api/agents/h1/pause", 400, "UTF-8",
        body=b'{"reason": "\xff\xfe"}'),
    Bad("a form post", "POST", "/api/agents/h1/pause", 415, "Content-Type",
        body=b"reason=lunch", content_type="application/x-www-form-urlencoded"),
    Bad("JSON sent as text/plain", "POST", "/api/agents/h1/pause", 415, "Content-Type",
        body=j({"reason": "lunch"}), content_type="text/plain"),
    Bad("a body with no Content-Type", "POST", "/api/agents/h1/pause", 415, "Content-Type",
        body=j({"reason": "lunch"}), content_type=None),
    Bad("JSON with a charset parameter", "POST", "/api/agents/h1/pause", 200,
        body=j({"reason": "lunch"}), content_type="application/json; charset=utf-8",
        done=paused("h1", "lunch")),
    Bad("a body over 64 KiB", "POST", "/api/agents/h1/pause", 413, "65536",
        body=j({"reason": "x" * (64 * 1024)})),
    Bad("a body to an action that takes none", "POST", "/api/agents/a1/logoff", 422,
        "unknown field `now`", body=j({"now": True}), field="now"),
]

FIELDS = [
    Bad("a skill level as a string", "POST", "/api/agents/h1/skills", 422, "level",
        body=j({"skill": "gen", "level": "3"}), field="level"),
    Bad("a skill level of 2.5", "POST", "/api/agents/h1/skills", 422, "level",
        body=j({"skill": "gen", "level": 2.5}), field="level"),
    Bad("a skill level of true", "POST", "/api/agents/h1/skills", 422, "level",
        body=j({"skill": "gen", "level": True}), field="level"),
    Bad("a skill level of 10^30", "POST", "/api/agents/h1/skills", 422, "level",
        body=j({"skill": "gen", "level": 10**30}), field="level"),
    Bad("a negative skill level", "POST", "/api/agents/h1/skills", 422, "level",
        body=j({"skill": "gen", "level": -1}), field="level"),
    Bad("a skill level past what a float holds", "POST", "/api/agents/h1/skills", 400,
        "out of range", body=b'{"skill": "gen", "level": 1e400}'),
    Bad("a skill level of 4.0 is the whole number 4", "POST", "/api/agents/h1/skills", 200,
        body=b'{"skill": "gen", "level": 4.0}',
        done=lambda f: f.engine.agents["h1"].skills.get("gen") == 4),
    Bad("a skill level of null withdraws the skill", "POST", "/api/agents/h1/skills", 200,
        body=j({"skill": "gen", "level": None}),
        done=lambda f: "gen" not in f.engine.agents["h1"].skills),
    Bad("a level without a skill", "POST", "/api/agents/h1/skills", 422,
        "missing required field `skill`", body=j({"level": 3}), field="skill"),
    Bad("a skill the site does not have, in Hangul", "POST", "/api/agents/h1/skills", 422,
        "일반", body=j({"skill": "일반", "level": 3}), field="skill"),
    Bad("an empty skill name", "POST", "/api/agents/h1/skills", 422, "skill",
        body=j({"skill": "", "level": 3}), field="skill"),
    Bad("a list of skills in one", "POST", "/api/agents/h1/skills", 422, "skill",
        body=j({"skill": ["gen"], "level": 3}), field="skill"),
    Bad("an empty pool name", "POST", "/api/agents/h1/pool", 422, "pool",
        body=j({"pool": ""}), field="pool"),
    Bad("a pool named like a path", "POST", "/api/agents/h1/pool", 422, "../floor",
        body=j({"pool": "../floor"}), field="pool"),
    Bad("a pool of null", "POST", "/api/agents/h1/pool", 422, "pool",
        body=j({"pool": None}), field="pool"),
    Bad("surge stage 101", "POST", "/api/surge", 422, "stage", body=j({"stage": 101}),
        field="stage"),
    Bad("surge stage -1", "POST", "/api/surge", 422, "stage", body=j({"stage": -1}),
        field="stage"),
    Bad("surge stage as a string", "POST", "/api/surge", 422, "stage", body=j({"stage": "2"}),
        field="stage"),
    Bad("a surge stage the site does not configure", "POST", "/api/surge", 422,
        "no surge stage 1", body=j({"stage": 1}), field="stage"),
    Bad("a surge stage of 1e308", "POST", "/api/surge", 422, "stage", body=b'{"stage": 1e308}',
        field="stage"),
    Bad("surge stage null hands it back to the rule", "POST", "/api/surge", 200,
        body=j({"stage": None}), done=lambda f: f.engine.surge.pinned is None),
    Bad("an announcement over 200 characters", "POST", "/api/queues/gen/announcement", 422,
        "media", body=j({"media": ["sound:" + "a" * 201]}), field="media"),
    Bad("an announcement of 11 sounds", "POST", "/api/queues/gen/announcement", 422, "media",
        body=j({"media": ["sound:a"] * 11}), field="media"),
    Bad("an announcement with a space", "POST", "/api/queues/gen/announcement", 422, "media",
        body=j({"media": ["sound:flood warning"]}), field="media"),
    Bad("an announcement ending in a newline", "POST", "/api/queues/gen/announcement", 422,
        "media", body=j({"media": ["sound:flood\n"]}), field="media"),
    Bad("an announcement as one string", "POST", "/api/queues/gen/announcement", 422, "media",
        body=j({"media": "sound:flood"}), field="media"),
    Bad("an announcement in Hangul", "POST", "/api/queues/gen/announcement", 422, "media",
        body=j({"media": ["sound:홍수"]}), field="media"),
    Bad("a supervisor's phone with a NUL", "POST", "/api/calls/c1/listen", 422, "endpoint",
        body=j({"endpoint": "PJSIP/sup\x00"}), field="endpoint"),
    Bad("a supervisor's phone ending in a newline", "POST", "/api/calls/c1/barge", 422,
        "endpoint", body=j({"endpoint": "PJSIP/sup01\n"}), field="endpoint"),
    Bad("a supervisor's phone without a technology", "POST", "/api/calls/c1/whisper", 422,
        "endpoint", body=j({"endpoint": "sup01"}), field="endpoint"),
    Bad("waiting callers, limit abc", "GET", "/api/queues/gen/waiting?limit=abc", 422, "limit",
        field="limit"),
    Bad("waiting callers, limit 10^23", "GET",
        "/api/queues/gen/waiting?limit=99999999999999999999999", 422, "limit", field="limit"),
    Bad("the audit trail, limit -5", "GET", "/api/audit?limit=-5", 422, "limit",
        field="limit"),
]

TARGETS = [
    Bad("an agent id climbing out with ..%2F", "POST", "/api/agents/..%2F..%2Fa1/pause", 404,
        "../../a1", body=j({})),
    Bad("an agent id of 4,000 characters", "GET", "/api/agents/" + "x" * 4000, 404,
        "no agent 'xxx"),
    Bad("an agent id of a NUL", "GET", "/api/agents/%00", 404, "no agent '\\x00'"),
    Bad("an agent id in Hangul", "POST", "/api/agents/%EC%83%81%EB%8B%B4/logoff", 404,
        "no agent '상담'", body=j({})),
    Bad("an agent id with a space and a quote", "POST", "/api/agents/a1%22%20x/pause", 404,
        "no agent", body=j({})),
    Bad("a queue nobody configured", "GET", "/api/queues/vip/waiting", 404, "no queue 'vip'"),
    Bad("an announcement for a queue nobody configured", "POST",
        "/api/queues/gen%2F..%2Fvip/announcement", 404, "no queue", body=j({"media": []})),
    Bad("listening to a call that does not exist", "POST", "/api/calls/c999/listen", 404,
        "no call 'c999'", body=j({"endpoint": "PJSIP/sup01"})),
    Bad("unpausing an agent who is not paused", "POST", "/api/agents/h1/unpause", 409,
        "refused", body=j({})),
    Bad("a body on GET is ignored", "GET", "/api/agents", 200, body=j({"reason": "x"}),
        done=lambda f: f.engine.agents["h1"].state is AgentState.AVAILABLE),
    Bad("GET on an action", "GET", "/api/agents/h1/pause", 405, "POST"),
    Bad("PUT on the surge stage", "PUT", "/api/surge", 405, "POST", body=j({"stage": None})),
    Bad("DELETE on an agent", "DELETE", "/api/agents/h1", 405, "GET"),
    Bad("a path nobody serves", "POST", "/api/agents/h1/fire", 404, "/api/agents/h1/fire",
        body=j({})),
]

CASES = AUTH + BODIES + FIELDS + TARGETS


async def send(board: Board, case: Bad) -> tuple[int, str, dict[str, Any], str]:
    """The request of `case`: (status, content type, the JSON answer, Allow header)."""
    headers = dict(case.headers)
    if case.body is not None and case.content_type is not None:
        headers["Content-Type"] = case.content_type
    async with asyncio.timeout(REQUEST_BOUND), board.client(case.token) as http, \
            http.request(case.method, case.path, data=case.body, headers=headers) as r:
        answer = await r.json(content_type=None)
        return r.status, r.content_type, answer, r.headers.get("Allow", "")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_bad_request_is_refused_naming_what_is_wrong_and_changes_nothing(
    case: Bad, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with served(floor()) as board:
            f = board.floor
            before = lasting(f)
            status, content_type, answer, allow = await send(board, case)
            after = lasting(f)
            assert status == case.status, (status, answer)
            if case.accepted:
                assert case.done is not None and case.done(f), answer
                return
            assert content_type == JSON
            message = answer.get("error") or answer.get("message") or ""
            assert case.names in message, answer
            assert answer.get("field", "") == case.field, answer
            if status == 405:
                assert case.names in re.split(r",\s*", allow), allow
            # A refusal changes nothing; the engine's own refusal (409) is counted as
            # the anomaly that says why.
            if status == 409:
                assert after["anomalies"] != before["anomalies"]
                before.pop("anomalies"), after.pop("anomalies")
            assert after == before

    with caplog.at_level(logging.WARNING):
        run_virtual(main())
    tracebacks = [r.getMessage() for r in caplog.records if r.exc_info is not None]
    assert tracebacks == []


def test_every_case_is_named_once_and_there_are_enough() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    assert len(CASES) >= 25


def test_a_request_line_over_8_kib_is_refused_with_one_log_line_not_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """aiohttp's HTTP parser refuses it before any handler (400, its own text/plain);
    the operator's log gets one WARNING line naming the client, never a traceback."""

    async def main() -> None:
        async with served(floor()) as board:
            before = lasting(board.floor)
            async with asyncio.timeout(REQUEST_BOUND), board.client(SUPERVISOR) as http, \
                    http.get("/api/agents/" + "x" * 9000) as r:
                assert r.status == 400
                assert "8190" in await r.text()
            assert lasting(board.floor) == before

    with caplog.at_level(logging.INFO):
        run_virtual(main())
    lines = [r for r in caplog.records if "8190" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    assert lines[0].exc_info is None and "\n" not in lines[0].getMessage()
    assert "127.0.0.1" in lines[0].getMessage()


LAST_EVENT_IDS = {
    "garbage": "not an id; DROP TABLE <script>",
    "an id of another server run": "18f00000000.7",
    "four thousand characters": "9" * 4000,
    "a number far past the last": "1.99999999999999999999999",
    "empty dots": "..",
}


@pytest.mark.parametrize("last_event_id", LAST_EVENT_IDS.values(), ids=list(LAST_EVENT_IDS))
def test_a_stream_resumed_with_a_last_event_id_it_never_sent_gets_the_floor_at_once(
    last_event_id: str,
) -> None:
    """Documented: an id that does not match the latest gets the latest update at once
    (as after a server restart); the stream then goes on as for any page."""

    async def main() -> None:
        async with served(floor()) as board:
            f = board.floor
            async with asyncio.timeout(REQUEST_BOUND), board.client(VIEWER) as wall, \
                    stream(wall, last_event_id=last_event_id) as events:
                event_id, update = await events.next()
                assert event_id == board.web.broadcaster.event_id
                assert {a.id: a.state for a in update.snapshot.agents}["a1"] == "on_call"
                f.call("c2")  # h1 is offered it: the next update follows
                _, later = await events.next()
                assert later.seq > update.seq

    run_virtual(main())
