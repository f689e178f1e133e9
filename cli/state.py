"""`acd state SITE_NAME --redis URL`: what the engine's live read model in Redis holds,
read straight from Redis (no engine, no configuration): the status (epoch, owner,
surge stage), per queue the waiting calls in service order, the agents by state, and
the figures per queue, pool and vendor. `--json` prints the same as JSON.

Durations ("waiting 2m05s") are measured against this machine's clock. Caller numbers
show their last four digits only. A record that fails to decode (or a key of the wrong
type) is reported on stderr with its key and skipped; the rest still prints.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.parse
from typing import Any

import msgspec
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from acd.store.keys import Keys
from acd.store.records import AgentView, CallView, FiguresView, decode_or_report
from acd.store.redis import connect, redact

CALL_DECODER = msgspec.msgpack.Decoder(CallView)
AGENT_DECODER = msgspec.msgpack.Decoder(AgentView)
FIGURES_DECODER = msgspec.msgpack.Decoder(FiguresView)

AGENT_STATES = ["on_call", "reserved", "wrap_up", "available", "paused", "logged_out"]
"""The order agents are grouped in (unknown states come after, by name)."""


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "state",
        help="show a site's live queue state from Redis (no engine needed)",
        description="Read the read model the engine keeps in Redis: status, waiting calls "
        "in service order, agents by state, figures. Caller numbers are masked.",
    )
    p.add_argument("site", metavar="SITE_NAME", help="the site's `site.name`")
    p.add_argument("--redis", metavar="URL", required=True,
                   help="redis://, rediss:// or redis+sentinel://host:port/service")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=run_state)


def run_state(args: argparse.Namespace) -> int:
    problems: list[str] = []
    try:
        state = asyncio.run(read_state(args.site, args.redis, problems))
    except ValueError as e:  # a site name Keys refuses, a URL connect() does not take
        print(f"acd state: {e}", file=sys.stderr)
        return 1
    except (RedisConnectionError, RedisTimeoutError, OSError) as e:
        print(
            f"acd state: cannot reach Redis at --redis {redact(args.redis)}: "
            f"{_hide_password(str(e), args.redis)}",
            file=sys.stderr,
        )
        return 1
    for problem in problems:
        print(problem, file=sys.stderr)
    if args.json:
        print(json.dumps(state, indent=2))
    else:
        print(render(state))
    return 0


def _hide_password(text: str, url: str) -> str:
    password = urllib.parse.urlsplit(url).password
    return text.replace(password, "***") if password else text


def mask(number: str) -> str:
    """A caller number with only its last four digits shown."""
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]


def duration(seconds: float) -> str:
    """`1h02m03s`, `2m05s`, `45s` (negative clock skew shows as 0s)."""
    s = max(int(seconds), 0)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}h{m:02d}m{s:02d}s"
    if m:
        return f"{m}m{s:02d}s"
    return f"{s}s"


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


async def _read(what: Any, key: str, problems: list[str]) -> Any:
    """A read, or None with a report when the key holds another type."""
    try:
        return await what
    except ResponseError as e:
        problems.append(f"{key}: skipped ({e})")
        return None


async def read_state(site: str, url: str, problems: list[str]) -> dict[str, Any]:
    """Everything `acd state` shows, as plain data (JSON-ready)."""
    keys = Keys(site)
    r = connect(url)
    try:
        state = await _read_state(r, keys, problems, time.time())
    finally:
        await r.aclose()
    return {"site": site, **state}


async def _read_state(r: Any, keys: Keys, problems: list[str], now: float) -> dict[str, Any]:
    raw_status = await _read(r.hgetall(keys.status), keys.status, problems) or {}
    status = {_text(k): _text(v) for k, v in raw_status.items()}
    lease = await _read(r.get(keys.lease), keys.lease, problems)
    out_status: dict[str, Any] = {
        "epoch": _int(status.get("epoch")),
        "owner": status.get("owner"),
        "stage": _int(status.get("stage")),
        "updated_at": _float(status.get("updated_at")),
        "lease": _text(lease) if lease is not None else None,
    }

    raw_figures = await _read(r.hgetall(keys.figures), keys.figures, problems) or {}
    figures: dict[str, dict[str, Any]] = {"site": {}, "queue": {}, "pool": {}, "vendor": {}}
    queue_names: set[str] = set()
    for field, data in sorted((_text(k), v) for k, v in raw_figures.items()):
        view = decode_or_report(FIGURES_DECODER, data, f"{keys.figures} {field}", problems)
        if view is None:
            continue
        kind, _, name = field.partition(":")
        if field == "site":
            figures["site"] = view.figures
        elif kind in ("queue", "pool", "vendor") and name:
            figures[kind][name] = view.figures
            if kind == "queue":
                queue_names.add(name)

    prefix = keys.waiting("")
    async for key in r.scan_iter(match=_glob_escape(prefix) + "*", count=500):
        queue_names.add(_text(key)[len(prefix):])

    queues: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(queue_names):
        key = keys.waiting(name)
        members = await _read(r.zrange(key, 0, -1), key, problems) or []
        ids = [_text(m) for m in members]
        views = await r.mget([keys.call(i) for i in ids]) if ids else []
        waiting: list[dict[str, Any]] = []
        for position, (call_id, data) in enumerate(zip(ids, views, strict=True), start=1):
            entry: dict[str, Any] = {"position": position, "call": call_id}
            call = None
            if data is not None:
                call = decode_or_report(CALL_DECODER, data, keys.call(call_id), problems)
            if call is not None:
                entry.update(
                    caller=mask(call.caller),
                    since=call.since,
                    waiting=duration(now - call.since),
                    priority=call.priority,
                    state=call.state,
                )
            waiting.append(entry)
        queues[name] = waiting

    raw_agents = await _read(r.hgetall(keys.agents), keys.agents, problems) or {}
    agents: dict[str, list[dict[str, Any]]] = {}
    for field, data in sorted((_text(k), v) for k, v in raw_agents.items()):
        agent = decode_or_report(AGENT_DECODER, data, f"{keys.agents} {field}", problems)
        if agent is None:
            continue
        row: dict[str, Any] = {
            "id": agent.id, "pool": agent.pool, "since": agent.since,
            "for": duration(now - agent.since),
        }
        if agent.reason:
            row["reason"] = agent.reason
        if agent.call:
            row["call"] = agent.call
        agents.setdefault(agent.state, []).append(row)
    order = {s: i for i, s in enumerate(AGENT_STATES)}
    agents = dict(sorted(agents.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))

    return {
        "status": out_status,
        "queues": queues,
        "agents": agents,
        "figures": figures,
    }


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _value(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1 else f"{v:.1f}"
    return str(v)


def render(state: dict[str, Any]) -> str:
    lines: list[str] = []
    st = state["status"]
    updated = st["updated_at"]
    lines.append(
        f"site {state['site']}: epoch {_value(st['epoch'])}, owner {_value(st['owner'])}, "
        f"stage {_value(st['stage'])}, updated "
        f"{'-' if updated is None else duration(time.time() - updated) + ' ago'}, "
        f"lease {'held by ' + st['lease'] if st['lease'] else 'free'}"
    )
    lines.append("")
    lines.append("waiting calls:")
    if not state["queues"]:
        lines.append("  (no queues)")
    for name, calls in state["queues"].items():
        lines.append(f"  {name}: {len(calls)} waiting")
        for c in calls:
            if "caller" in c:
                prio = f"  priority {c['priority']}" if c["priority"] else ""
                lines.append(
                    f"    {c['position']:>3}. {c['call']}  {c['caller']}  "
                    f"waiting {c['waiting']}{prio}"
                )
            else:
                lines.append(f"    {c['position']:>3}. {c['call']}  (no call record)")
    lines.append("")
    lines.append("agents:")
    if not state["agents"]:
        lines.append("  (none)")
    for agent_state, rows in state["agents"].items():
        lines.append(f"  {agent_state} ({len(rows)}):")
        for a in rows:
            extra = "".join(f"  {k} {a[k]}" for k in ("reason", "call") if k in a)
            lines.append(f"    {a['id']}  pool {a['pool']}  for {a['for']}{extra}")
    lines.append("")
    lines.append("figures:")
    figures = state["figures"]
    if figures["site"]:
        lines.append("  site: " + _figures_line(figures["site"]))
    for kind in ("queue", "pool", "vendor"):
        for name, values in figures[kind].items():
            lines.append(f"  {kind} {name}: " + _figures_line(values))
    return "\n".join(lines)


def _figures_line(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} {_value(v)}" for k, v in values.items())
