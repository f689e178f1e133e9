"""The supervisor API: JSON over HTTP, its routes written once as data (`ROUTES`), from
which both the server's router and the OpenAPI description (`web.openapi`) are made.

Reading needs a viewer or supervisor token (`Authorization: Bearer TOKEN`, the scheme
in any case, or the session cookie), acting a supervisor token (`web.auth`): missing or
wrong, 401; a viewer acting, 403; nothing changes. Bodies are JSON (`Content-Type:
application/json`, which a cross-site form cannot send), decoded into typed records: a
bad one gets 400 (not JSON) or 422 naming the field. Taken as any JSON client means
them: a `charset` parameter on the content type, an empty body (`{}`: every field its
default), a key given twice (the last counts, as `JSON.parse`), `2.0` for 2; a body
sent with a read is ignored. Reads come from the update the broadcaster built last (at
most a second old), never from a new snapshot per request.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
from aiohttp import web

from acd.engine.events import SuperviseMode
from acd.engine.snapshot import AgentView, IntervalView, QueueView
from acd.store.records import CallView
from acd.web import actions as act
from acd.web.auth import COOKIE, SESSION_SECONDS, Principal, Role, Tokens
from acd.web.sources import AuditEntry, Source
from acd.web.stream import Broadcaster
from acd.web.update import Update

MAX_LIMIT = 1000
WHO = web.RequestKey("who", Principal)
LIMIT = web.RequestKey("limit", int)


class ErrorBody(msgspec.Struct, kw_only=True):
    error: str
    field: str = ""


class SessionBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    token: str


class SessionView(msgspec.Struct, kw_only=True):
    name: str
    role: str


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    name: str
    """The handler's name on `Api`, and the OpenAPI operationId."""
    role: Role | None
    """Who may call it: None for anyone (the OpenAPI document, logging in)."""
    summary: str
    body: type | None = None
    answer: Any = None
    """The type of a 200 answer's JSON (None: not JSON, e.g. the event stream)."""
    query_limit: bool = False


ROUTES: list[Route] = [
    Route("GET", "/api/session", "get_session", "viewer", "Who this session is",
          answer=SessionView),
    Route("POST", "/api/session", "login", None,
          "Log in with a token; sets the session cookie", body=SessionBody, answer=SessionView),
    Route("DELETE", "/api/session", "logout", None, "Log out (clears the cookie)"),
    Route("GET", "/api/stream", "stream", "viewer",
          "Server-sent events: the latest Update on connect, then at most one a second"),
    Route("GET", "/api/site", "site", "viewer", "The latest Update (the whole floor)",
          answer=Update),
    Route("GET", "/api/queues", "queues", "viewer", "Every queue now", answer=list[QueueView]),
    Route("GET", "/api/queues/{queue}", "queue", "viewer", "One queue now", answer=QueueView),
    Route("GET", "/api/queues/{queue}/waiting", "waiting", "viewer",
          "The queue's waiting callers, in service order", answer=list[CallView],
          query_limit=True),
    Route("GET", "/api/agents", "agents", "viewer", "Every agent now", answer=list[AgentView]),
    Route("GET", "/api/agents/{agent}", "agent", "viewer", "One agent now", answer=AgentView),
    Route("GET", "/api/intervals", "intervals", "viewer",
          "The day's reporting intervals so far", answer=list[IntervalView]),
    Route("GET", "/api/audit", "audit", "viewer",
          "Supervisor actions, newest first", answer=list[AuditEntry], query_limit=True),
    Route("POST", "/api/agents/{agent}/pause", "pause", "supervisor",
          "Pause an agent with a reason (after the current call if on one)",
          body=act.PauseBody, answer=act.Result),
    Route("POST", "/api/agents/{agent}/unpause", "unpause", "supervisor",
          "Unpause an agent", body=act.EmptyBody, answer=act.Result),
    Route("POST", "/api/agents/{agent}/logoff", "logoff", "supervisor",
          "Log an agent off (after the current call if on one)",
          body=act.EmptyBody, answer=act.Result),
    Route("POST", "/api/agents/{agent}/pool", "move", "supervisor",
          "Move an agent to another pool", body=act.PoolBody, answer=act.Result),
    Route("POST", "/api/agents/{agent}/skills", "skill", "supervisor",
          "Grant, change or withdraw one of an agent's skills",
          body=act.SkillBody, answer=act.Result),
    Route("POST", "/api/surge", "surge", "supervisor",
          "Pin the surge stage, or release it to the automatic rule (stage null)",
          body=act.StageBody, answer=act.Result),
    Route("POST", "/api/queues/{queue}/announcement", "announce", "supervisor",
          "Start (media) or stop ([]) the emergency announcement of a queue",
          body=act.AnnouncementBody, answer=act.Result),
    Route("POST", "/api/calls/{call}/listen", "listen", "supervisor",
          "Ring the supervisor's phone to hear both sides of a call with an agent "
          "(nobody hears them)", body=act.SuperviseBody, answer=act.Result),
    Route("POST", "/api/calls/{call}/whisper", "whisper", "supervisor",
          "Ring the supervisor's phone to hear a call and speak to the agent alone "
          "(coaching)", body=act.SuperviseBody, answer=act.Result),
    Route("POST", "/api/calls/{call}/barge", "barge", "supervisor",
          "Ring the supervisor's phone to join a call's conversation (everyone hears "
          "everyone)", body=act.SuperviseBody, answer=act.Result),
]


def json_response(value: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(value), status=status, content_type="application/json"
    )


def error(status: int, message: str, field: str = "") -> web.Response:
    return json_response(ErrorBody(error=message, field=field), status)


class Api:
    """The handlers; `routes()` binds them to `ROUTES` with their checks."""

    def __init__(self, tokens: Tokens, source: Source, broadcaster: Broadcaster) -> None:
        self.tokens = tokens
        self.source = source
        self.broadcaster = broadcaster

    # ------------------------------------------------------------ the checks

    def principal(self, request: web.Request) -> Principal | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer":  # schemes are case-insensitive (RFC 9110, 11.1)
            return self.tokens.check(token.strip())
        cookie = request.cookies.get(COOKIE)
        if cookie:
            return self.tokens.from_cookie(cookie, time.time())
        return None

    def routes(self) -> list[web.RouteDef]:
        return [web.route(r.method, r.path, self._checked(r)) for r in ROUTES]

    def _checked(self, route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        handler = getattr(self, route.name)

        async def checked(request: web.Request) -> web.StreamResponse:
            who: Principal | None = None
            if route.role is not None:
                who = self.principal(request)
                if who is None:
                    return error(401, "a viewer or supervisor token is needed (Authorization: "
                                 "Bearer TOKEN, or log in at POST /api/session)")
                if route.role == "supervisor" and not who.may_act:
                    return error(403, f"{who.name} is a viewer: acting needs a supervisor token")
            body: Any = None
            if route.body is not None:
                decoded = await _body(request, route.body)
                if isinstance(decoded, web.Response):
                    return decoded
                body = decoded
            if route.query_limit:
                limit = _limit(request)
                if isinstance(limit, web.Response):
                    return limit
                request[LIMIT] = limit
            if who is not None:
                request[WHO] = who
            response: web.StreamResponse = await handler(request, body)
            return response

        return checked

    def _update(self) -> Update:
        update = self.broadcaster.update
        if update is None:
            raise web.HTTPServiceUnavailable(
                text='{"error": "the floor has not been read yet; try again in a second"}',
                content_type="application/json",
            )
        return update

    # ------------------------------------------------------------ session

    async def get_session(self, request: web.Request, _body: None) -> web.Response:
        who = request[WHO]
        return json_response(SessionView(name=who.name, role=who.role))

    async def login(self, request: web.Request, body: SessionBody) -> web.Response:
        who = self.tokens.check(body.token)
        if who is None:
            return error(401, "that token is not known here", "token")
        response = json_response(SessionView(name=who.name, role=who.role))
        response.set_cookie(
            COOKIE, self.tokens.cookie(who, time.time()), max_age=SESSION_SECONDS,
            httponly=True, samesite="Strict", path="/",
        )
        return response

    async def logout(self, request: web.Request, _body: None) -> web.Response:
        response = web.Response(status=204)
        response.del_cookie(COOKIE, path="/")
        return response

    # ------------------------------------------------------------ reading

    async def stream(self, request: web.Request, _body: None) -> web.StreamResponse:
        return await self.broadcaster.stream(request)

    async def site(self, request: web.Request, _body: None) -> web.Response:
        self._update()
        return web.Response(body=self.broadcaster.json, content_type="application/json")

    async def queues(self, request: web.Request, _body: None) -> web.Response:
        return json_response(self._update().snapshot.queues)

    async def queue(self, request: web.Request, _body: None) -> web.Response:
        name = request.match_info["queue"]
        for q in self._update().snapshot.queues:
            if q.name == name:
                return json_response(q)
        return error(404, f"no queue {name!r} at this site")

    async def waiting(self, request: web.Request, _body: None) -> web.Response:
        name = request.match_info["queue"]
        if name not in self.broadcaster.site.queues:
            return error(404, f"no queue {name!r} at this site")
        return json_response(await self.source.waiting(name, request[LIMIT]))

    async def agents(self, request: web.Request, _body: None) -> web.Response:
        return json_response(self._update().snapshot.agents)

    async def agent(self, request: web.Request, _body: None) -> web.Response:
        agent_id = request.match_info["agent"]
        for a in self._update().snapshot.agents:
            if a.id == agent_id:
                return json_response(a)
        return error(404, f"no agent {agent_id!r} at this site")

    async def intervals(self, request: web.Request, _body: None) -> web.Response:
        return json_response(self._update().snapshot.intervals)

    async def audit(self, request: web.Request, _body: None) -> web.Response:
        return json_response(await self.source.audit_tail(request[LIMIT]))

    # ------------------------------------------------------------ acting

    async def _act(self, request: web.Request, action: act.Action) -> web.Response:
        result = await self.source.act(action, request[WHO])
        return json_response(result, result.status)

    async def pause(self, request: web.Request, body: act.PauseBody) -> web.Response:
        return await self._act(request, act.Pause(agent=request.match_info["agent"],
                                                  reason=body.reason))

    async def unpause(self, request: web.Request, _body: act.EmptyBody) -> web.Response:
        return await self._act(request, act.Unpause(agent=request.match_info["agent"]))

    async def logoff(self, request: web.Request, _body: act.EmptyBody) -> web.Response:
        return await self._act(request, act.LogOff(agent=request.match_info["agent"]))

    async def move(self, request: web.Request, body: act.PoolBody) -> web.Response:
        return await self._act(request, act.MovePool(agent=request.match_info["agent"],
                                                     pool=body.pool))

    async def skill(self, request: web.Request, body: act.SkillBody) -> web.Response:
        return await self._act(request, act.SetSkill(
            agent=request.match_info["agent"], skill=body.skill, level=body.level))

    async def surge(self, request: web.Request, body: act.StageBody) -> web.Response:
        return await self._act(request, act.PinStage(stage=body.stage))

    async def announce(self, request: web.Request, body: act.AnnouncementBody) -> web.Response:
        return await self._act(request, act.Announce(queue=request.match_info["queue"],
                                                     media=list(body.media)))


    async def listen(self, request: web.Request, body: act.SuperviseBody) -> web.Response:
        return await self._supervise(request, body, "listen")

    async def whisper(self, request: web.Request, body: act.SuperviseBody) -> web.Response:
        return await self._supervise(request, body, "whisper")

    async def barge(self, request: web.Request, body: act.SuperviseBody) -> web.Response:
        return await self._supervise(request, body, "barge")

    async def _supervise(
        self, request: web.Request, body: act.SuperviseBody, mode: SuperviseMode
    ) -> web.Response:
        return await self._act(request, act.Supervise(
            call=request.match_info["call"], endpoint=body.endpoint, mode=mode))


FIELD_NAMED = re.compile(r"(?:unknown|missing required) field `([^`]+)`")
"""msgspec's words for a field the body has and should not, or lacks."""


async def _body(request: web.Request, kind: type) -> Any:
    """The request's JSON body as `kind`, or the error response naming what is wrong."""
    if request.content_type != "application/json":
        return error(415, "send the body as JSON (Content-Type: application/json)")
    try:
        raw = await request.read()
    except web.HTTPException:
        raise  # e.g. 413: a body over MAX_BODY
    except (aiohttp.web.RequestPayloadError, aiohttp.ClientPayloadError) as e:
        refusal = error(400, f"the body could not be read ({e})")
        refusal.force_close()  # the rest of the body cannot be read either: end here
        return refusal
    try:
        value = _whole_numbers(msgspec.json.decode(raw or b"{}"))
    except msgspec.DecodeError as e:
        return error(400, f"the body is not JSON ({e})")
    try:
        return msgspec.convert(value, type=kind)
    except msgspec.ValidationError as e:
        text = str(e)
        named = FIELD_NAMED.search(text)  # "Object missing required field `reason`"
        field = (
            text.rsplit("`$.", 1)[1].rstrip("`").split("[")[0] if "`$." in text
            else named.group(1) if named else ""
        )
        return error(422, f"bad body: {text}", field)


def _whole_numbers(value: Any) -> Any:
    """JSON's 2.0 is the integer 2 to JSON Schema (and so to the OpenAPI description):
    take it as such where a whole number is expected, as any client may send it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


def _limit(request: web.Request) -> int | web.Response:
    text = request.query.get("limit", "100")
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        return error(422, f"limit {text!r}: expected a whole number from 1 to {MAX_LIMIT}",
                     "limit")
    return limit
