"""The API's OpenAPI 3.1 description, made from the route table (`web.api.ROUTES`) and the
records' own JSON Schemas (msgspec), so that it cannot drift from what is served."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from acd.web import actions as act
from acd.web.api import ROUTES, ErrorBody, Route

_REF = "#/components/schemas/{name}"
_EVENT = {
    # One server-sent event: an update carrying an Update as JSON, or a heartbeat.
    "oneOf": [
        {
            "type": "object",
            "required": ["id", "event", "data"],
            "properties": {
                "id": {"type": "string"},
                "event": {"const": "update"},
                "data": {"type": "string", "contentMediaType": "application/json",
                         "contentSchema": {"$ref": "#/components/schemas/Update"}},
            },
        },
        {
            "type": "object",
            "required": ["event", "data"],
            "properties": {"event": {"const": "heartbeat"}, "data": {"const": "{}"}},
        },
    ],
}


def document(title: str, version: str) -> dict[str, Any]:
    types: list[Any] = [ErrorBody]
    for r in ROUTES:
        types += [t for t in (r.body, r.answer) if t is not None]
    schemas, components = msgspec.json.schema_components(types, ref_template=_REF)
    schema_of = dict(zip(types, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for r in ROUTES:
        paths.setdefault(r.path, {})[r.method.lower()] = _operation(r, schema_of)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Wallboard reads and supervisor actions of one ACD site. Reading "
            "needs a viewer or supervisor token, acting a supervisor token.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "acd_session"},
            },
        },
    }


def _operation(r: Route, schema_of: dict[Any, Any]) -> dict[str, Any]:
    error = {"application/json": {"schema": schema_of[ErrorBody]}}
    op: dict[str, Any] = {"operationId": r.name, "summary": r.summary, "responses": {}}
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "string", "minLength": 1}}
        for name in re.findall(r"{(\w+)}", r.path)
    ]
    if r.query_limit:
        params.append({
            "name": "limit", "in": "query", "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
        })
    if params:
        op["parameters"] = params
    responses = op["responses"]
    if r.query_limit:
        responses["422"] = {"description": "`limit` is not a whole number from 1 to 1000",
                            "content": error}
    if r.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema_of[r.body]}},
        }
    if r.answer is None:
        responses["204" if r.method == "DELETE" else "200"] = {
            "description": "done" if r.method == "DELETE"
            else "text/event-stream of `update` events carrying an Update (and a "
            "`heartbeat` event every 15 s on a quiet floor)",
        }
        if r.method == "GET":
            responses["200"]["content"] = {"text/event-stream": {"schema": _EVENT}}
    else:
        responses["200"] = {
            "description": "OK",
            "content": {"application/json": {"schema": schema_of[r.answer]}},
        }
    if r.role is not None:
        op["security"] = [{"bearer": []}, {"session": []}]
        responses["401"] = {"description": "no or unknown token", "content": error}
    if r.role == "supervisor":
        responses["403"] = {"description": "a viewer's token", "content": error}
    if r.body is not None:
        responses["400"] = {"description": "the body is not JSON", "content": error}
        responses["413"] = {"description": "the body is over 64 KiB", "content": error}
        responses["415"] = {"description": "the body is not sent as JSON", "content": error}
        responses["422"] = {"description": "a field is bad (named in `field`)",
                            "content": error}
    if r.path == "/api/session" and r.method == "POST":
        responses["401"] = {"description": "unknown token", "content": error}
    if "{" in r.path or r.answer is act.Result:
        responses["404"] = {
            "description": "no such agent or queue",
            "content": {"application/json": {"schema": schema_of.get(r.answer, error)
                                             if r.answer is act.Result else schema_of[ErrorBody]}},
        }
    if r.answer is act.Result:
        responses["409"] = {
            "description": "refused in the agent's or the floor's state",
            "content": {"application/json": {"schema": schema_of[r.answer]}},
        }
        responses["422"] = {
            "description": "a field is bad (named in `field`)",
            "content": {"application/json": {"schema": {"anyOf": [schema_of[r.answer],
                                                                   schema_of[ErrorBody]]}}},
        }
    if r.role is not None and r.answer is not None and r.answer is not act.Result:
        responses["503"] = {"description": "the floor has not been read yet", "content": error}
    return op


def encoded(title: str, version: str) -> bytes:
    return msgspec.json.encode(document(title, version))
