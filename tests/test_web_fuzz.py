"""The supervisor API fuzzed from its own OpenAPI description (schemathesis).

The document is loaded from the server itself (/api/openapi.json), and every operation in
it gets generated requests, well-formed and malformed (schemathesis's positive and
negative modes), as a supervisor, as a wall screen (viewer token) and as a stranger (no
token, a made-up one, a forged session cookie). Every answer must be one the document
promises (status code, content type, body schema) and never a 5xx; a request the
document allows is never refused as malformed; a refusal leaves the floor exactly as it
was; a viewer is refused every action and a stranger everything but logging in.

The server is the real web part on a real socket, reading a real engine floor (agents on
calls, at lunch, on standby; callers waiting). schemathesis sends its requests
synchronously, so the server runs on an event loop of its own in a background thread.
Every case starts from the same freshly built floor: each is independent of the ones
before it, and a failure replays on its own. Generation is derandomized: every run sends
the same cases. (Each operation's cases come from Hypothesis's @given over
`operation.as_strategy`: schemathesis's lazy pytest integration, `from_fixture`, fails
under pytest 9 with "'Function' object has no attribute '_nodeid'".)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import msgspec
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, GenerationMode, HookContext
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from acd.engine import events as ev
from acd.store.memory import MemoryStore
from acd.web.api import ROUTES, Route
from acd.web.app import MAX_BODY, Web
from acd.web.sources import EngineSource
from tests.harness import Floor, site_from_yaml
from tests.web import SUPERVISOR, TOKENS, VIEWER

T = TypeVar("T")

SITE = site_from_yaml("""
    site: {name: fuzz, utc_offset: "+09:00", distancing_level: "1"}
    skills: {gen: {}, vip: {}}
    pools:
      floor: {kind: in_house}
      home: {kind: remote, size_by_distancing_level: {"1": 1, "2": 2}}
    queues:
      gen: {skill: gen, pools: [floor, home], wrap_up_seconds: 10}
      vip: {skill: vip, pools: [floor], wrap_up_seconds: 10}
    ivr:
      entry: in
      nodes:
        in: {kind: announce, prompt: [], next: {queue: gen}}
    surge:
      auto: false
      stages:
        - {stage: 1, enter_at_calls_per_day: 1440, pool_sizes: {home: 2}}
        - {stage: 2, enter_at_calls_per_day: 2880, pool_sizes: {home: 2}}
    agents:
      - {id: a1, endpoint: PJSIP/a1, pool: floor, skills: [{skill: gen, level: 3}]}
      - {id: a2, endpoint: PJSIP/a2, pool: floor, skills: [{skill: vip, level: 2}]}
      - {id: a3, endpoint: PJSIP/a3, pool: floor, skills: [{skill: gen, level: 1}]}
      - {id: a4, endpoint: PJSIP/a4, pool: floor, skills: [{skill: vip, level: 4}]}
      - {id: h1, endpoint: PJSIP/h1, pool: home, skills: [{skill: gen, level: 3}]}
      - {id: h2, endpoint: PJSIP/h2, pool: home, skills: [{skill: gen, level: 2}]}
""")

KNOWN_PATH = {
    "agent": ["a1", "a2", "a3", "a4", "h1", "h2"],
    "queue": ["gen", "vip"],
    "call": ["c1", "c2", "c3", "c4"],  # c1, c2 in conversation; c3, c4 waiting
}
"""Names the site knows. Random strings alone would only ever be answered 404 (or 422)."""
KNOWN_BODY = {"pool": ["floor", "home"], "skill": ["gen", "vip"], "token": [SUPERVISOR, VIEWER]}

SUPERVISOR_EXAMPLES = 40
"""Generated cases per operation for a supervisor, who reaches every action..."""
OTHER_EXAMPLES = 12
"""...and for a viewer and for a stranger, most of whose requests stop at the token."""


def busy_floor() -> Floor:
    """The middle of a shift: a1 and h1 on calls, c3 and c4 waiting in gen, a2 (vip)
    available, a3 at lunch, a4 in training, h2 on standby (the home pool has one seat)."""
    f = Floor(SITE)
    f.login("a1", "a2", "a3", "a4", "h1", "h2")
    f.send(ev.AgentPause(agent_id="a3", reason="lunch"))
    f.send(ev.AgentPause(agent_id="a4", reason="training"))
    f.call("c1")
    f.answer("a1", "c1")
    f.call("c2")
    f.answer("h1", "c2")
    f.call("c3")
    f.call("c4")
    f.advance(5)
    return f


def lasting(floor: Floor) -> dict[str, Any]:
    """The floor as a supervisor sees it, less the engine's count of the events it
    refused (`anomalies`): counting an event it refuses is how the engine says no (409)."""
    seen = msgspec.to_builtins(floor.engine.snapshot(floor.now))
    assert isinstance(seen, dict)
    seen.pop("anomalies")
    return seen


class Server:
    """The web part on 127.0.0.1, on an event loop of its own in a background thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="web-fuzz", daemon=True)
        self.floor = busy_floor()
        self.store = MemoryStore(SITE.site.name)
        self.source = EngineSource(
            self.floor.engine, lambda: self.floor.now, self._feed, self.store
        )
        self.url = ""
        self._task: asyncio.Task[None] | None = None

    def _feed(self, event: ev.Event) -> None:
        self.floor.send(event)

    def start(self) -> None:
        self.thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result(30)

    async def _serve(self) -> str:
        web = Web(SITE, TOKENS, self.source)
        bound = asyncio.Event()
        self._task = asyncio.create_task(web.run("127.0.0.1", 0, lambda _url: bound.set()))
        ready = asyncio.create_task(bound.wait())
        await asyncio.wait([self._task, ready], return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            self._task.result()  # raises why it did not start
        return web.url.rstrip("/")

    def on_loop(self, fn: Callable[[], T]) -> T:
        """`fn()` run on the server's loop, between two of its callbacks: the engine is
        only ever touched from there."""

        async def call() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(30)

    def fresh(self) -> dict[str, Any]:
        """Put a fresh busy floor behind the server; returns how it looks."""

        def swap() -> dict[str, Any]:
            self.floor = busy_floor()
            self.source.engine = self.floor.engine
            return lasting(self.floor)

        return self.on_loop(swap)

    def state(self) -> dict[str, Any]:
        return self.on_loop(lambda: lasting(self.floor))

    def stop(self) -> None:
        async def stop() -> None:
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            await self.store.close()

        try:
            if self.thread.is_alive():
                asyncio.run_coroutine_threadsafe(stop(), self.loop).result(30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(30)
            assert not self.thread.is_alive(), "the server thread did not stop"
            self.loop.close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    served = Server()
    try:
        served.start()
        yield served
    finally:
        served.stop()


def _aimed(values: Any, known: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    """`values` as generated or, three times in four, with its strings that name something
    replaced by names the site knows. Only a string is replaced, and by a string: a value
    made invalid on purpose (negative mode) is never a string there, and is left alone."""
    if not isinstance(values, dict):
        return st.just(values)
    names = {k: st.sampled_from(known[k]) for k, v in values.items()
             if k in known and isinstance(v, str)}
    if not names:
        return st.just(values)
    aimed = st.fixed_dictionaries(names).map(lambda n: {**values, **n})
    return st.sampled_from([True, True, True, False]).flatmap(
        lambda aim: aimed if aim else st.just(values)
    )


def aim_path_parameters(_ctx: HookContext, path_parameters: Any) -> st.SearchStrategy[Any]:
    return _aimed(path_parameters, KNOWN_PATH)


def aim_body(_ctx: HookContext, body: Any) -> st.SearchStrategy[Any]:
    return _aimed(body, KNOWN_BODY)


@pytest.fixture(scope="module")
def api(server: Server) -> BaseSchema:
    """The document as the server serves it."""
    config = schemathesis.Config.from_dict({
        # The stream sends the latest update at once, then only when the floor changes:
        # its first event is what there is to check.
        "max-stream-events": 1,
    })
    schema = schemathesis.openapi.from_url(f"{server.url}/api/openapi.json", config=config)
    schema.hooks.register_hook_with_name(aim_path_parameters, "flatmap_path_parameters")
    schema.hooks.register_hook_with_name(aim_body, "flatmap_body")
    return schema


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def schema_valid_requests_are_read(_ctx: CheckContext, response: Response, case: Case[Any]) -> None:
    """A request the document allows is never refused as malformed: no 400 or 415, and no
    422 with an `ErrorBody` (those come from reading the body or the query). A 422 in an
    engine `Result` (a pool, skill or stage the site does not configure), 404 and 409 are
    this API's answers to well-formed requests."""
    if case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE:
        return
    try:
        answer = response.json()
    except ValueError:
        answer = None
    refused = response.status_code in (400, 415) or (
        response.status_code == 422 and isinstance(answer, dict) and "error" in answer
    )
    assert not refused, (
        f"the document allows this request, yet it was refused as malformed: "
        f"{response.status_code} {answer}"
    )


CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,  # a malformed request is refused (4xx)
    ignored_auth,  # after a 2xx, the same request without or with a bad token is refused
    schema_valid_requests_are_read,
]
"""Not here: positive_data_acceptance, because this API answers a well-formed name the site
does not configure with 422, and a document for any site cannot list the names
(`schema_valid_requests_are_read` checks the rest of it); checks of stateful runs and of
the coverage phase, which this test does not run."""

OPERATIONS = [pytest.param(r, id=f"{r.method} {r.path}") for r in ROUTES]


def fuzz(server: Server, http: requests.Session, api: BaseSchema, route: Route,
         token: str | None, examples: int) -> Counter[int]:
    """Send `examples` generated requests of `route`'s operation with `token` (None: the
    credentials schemathesis makes up itself, if any), each to a fresh floor, and check
    every answer; returns how many of each status came back."""
    operation = api[route.path][route.method]
    headers = {"Authorization": f"Bearer {token}"} if token else None
    may_change = token == SUPERVISOR and route.role == "supervisor"
    seen: Counter[int] = Counter()

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.data_too_large])
    @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE)))
    def one(case: Case[Any]) -> None:
        before = server.fresh()
        http.cookies.clear()  # a session cookie from an earlier case's login is not this one's

        def refusals_change_nothing(_ctx: CheckContext, response: Response, _: Case[Any]) -> None:
            if may_change and 200 <= response.status_code < 300:
                return  # a supervisor's action, done: the floor may well change
            after = server.state()
            changed = sorted(k for k in before if before[k] != after[k])
            assert not changed, f"answered {response.status_code}, yet the floor changed: {changed}"

        response = case.call_and_validate(
            base_url=server.url, session=http, headers=headers,
            checks=[*CHECKS, refusals_change_nothing],
        )
        seen[response.status_code] += 1

    one()
    return seen


def test_every_route_is_in_the_document(api: BaseSchema) -> None:
    """So that fuzzing every route is fuzzing every operation of the document."""
    served = set()
    for result in api.get_all_operations():
        assert isinstance(result, Ok), result
        served.add((result.ok().method.upper(), result.ok().path))
    assert served == {(r.method, r.path) for r in ROUTES}


@pytest.mark.parametrize("route", OPERATIONS)
def test_a_supervisor_gets_what_the_document_promises(
    route: Route, api: BaseSchema, server: Server, http: requests.Session
) -> None:
    seen = fuzz(server, http, api, route, SUPERVISOR, SUPERVISOR_EXAMPLES)
    # The generated requests got past the checks in front to what the operation is for
    # (a read, an action done), not only to refusals.
    assert any(200 <= status < 300 for status in seen), dict(seen)


@pytest.mark.parametrize("route", OPERATIONS)
def test_a_viewer_reads_and_is_refused_every_action(
    route: Route, api: BaseSchema, server: Server, http: requests.Session
) -> None:
    seen = fuzz(server, http, api, route, VIEWER, OTHER_EXAMPLES)
    if route.role == "supervisor":
        assert set(seen) == {403}, dict(seen)
    else:
        assert any(200 <= status < 300 for status in seen), dict(seen)


@pytest.mark.parametrize("route", OPERATIONS)
def test_a_stranger_is_refused_all_but_logging_in(
    route: Route, api: BaseSchema, server: Server, http: requests.Session
) -> None:
    seen = fuzz(server, http, api, route, None, OTHER_EXAMPLES)
    if route.role is not None:
        assert set(seen) == {401}, dict(seen)


BODIES = [pytest.param(r, id=f"{r.method} {r.path}") for r in ROUTES if r.body is not None]


@pytest.mark.parametrize("route", BODIES)
def test_an_oversized_body_gets_a_documented_refusal(
    route: Route, api: BaseSchema, server: Server
) -> None:
    """A body over what the server reads (MAX_BODY), a size no generated body reaches."""
    path = route.path
    for name, known in KNOWN_PATH.items():
        path = path.replace(f"{{{name}}}", known[0])
    before = server.state()
    response = requests.request(
        route.method, f"{server.url}{path}", data=b'{"padding": "' + b"x" * MAX_BODY + b'"}',
        timeout=10, headers={"Authorization": f"Bearer {SUPERVISOR}",
                             "Content-Type": "application/json", "Connection": "close"},
    )
    assert response.status_code == 413
    documented = api.raw_schema["paths"][route.path][route.method.lower()]["responses"]
    assert "413" in documented, (
        f"{route.method} {route.path} answers 413, which the document does not list "
        f"({', '.join(documented)})"
    )
    assert response.headers["Content-Type"] == "application/json"
    assert server.state() == before

