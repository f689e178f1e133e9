"""`acd state SITE_NAME --redis URL`: what the engine's live read model in Redis holds,
read straight from Redis (no engine, no configuration): the status (epoch, owner,
surge stage), per queue the waiting calls in service order, the agents by state, and
the figures per queue, pool and vendor. `--json` prints the same as JSON.

Durations ("waiting 2m05s") are measured on the engine's clock: when the read model
shows that the engine runs on this machine's wall clock (its clock and the wall clock
at its last write agree within `CLOCK_TOLERANCE`), against the wall clock now; when it
runs compressed (`acd serve --speed 30`: its clock is hours or months away from the
wall's), against the engine's own clock at its last write, and the header says so;
with no clock in the read model, each time is shown as "since <UTC time>" instead of a
duration. Caller numbers show their last four digits only. A record that fails to
decode (or a key of the wrong type) is reported once on stderr with its key and
skipped; the rest still prints.

Exit status: 0 printed; 1 no such site in that Redis (none of its keys exist; the
sites there are named), a site name or URL refused, or Redis not reachable, refusing,
or not Redis at all (each one line naming --redis); 2 a command line argparse refuses.
A reader that stops early (`acd state ... | head`) ends it quietly, status 0.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import os
import sys
import time
import urllib.parse
from typing import Any, TypeVar

import msgspec
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from acd.cli.commands import help_of
from acd.store.keys import Keys
from acd.store.records import AgentView, CallView, FiguresView
from acd.store.redis import connect, redact

T = TypeVar("T")

CALL_DECODER = msgspec.msgpack.Decoder(CallView)
AGENT_DECODER = msgspec.msgpack.Decoder(AgentView)
FIGURES_DECODER = msgspec.msgpack.Decoder(FiguresView)

AGENT_STATES = ["on_call", "reserved", "wrap_up", "available", "paused", "logged_out"]
"""The order agents are grouped in (unknown states come after, by name)."""

CLOCK_TOLERANCE = 60.0
"""Seconds the engine's clock and the wall clock may differ at a write (the figures
are written up to a lease tick after the last event) for the engine to count as
running on the wall clock."""


class NoSuchSite(Exception):
    """Redis holds no key of the site; the message is the user's one line."""


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "state",
        help=help_of("state"),
        description="Read the read model the engine keeps in Redis: status, waiting calls "
        "in service order, agents by state, figures. Caller numbers are masked.",
        epilog="Exit status: 0 printed (also when a reader such as `head` stops early); 1 no "
        "such site in that Redis, or Redis unreachable, refusing or not Redis (one line "
        "naming --redis); 2 a command line argparse refuses.",
    )
    p.add_argument("site", metavar="SITE_NAME", help="the site's `site.name`")
    p.add_argument("--redis", metavar="URL", required=True,
                   help="redis://, rediss:// or redis+sentinel://host:port/service")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=run_state)


def run_state(args: argparse.Namespace) -> int:
    problems: list[str] = []
    where = f"--redis {redact(args.redis)}"
    try:
        state = asyncio.run(read_state(args.site, args.redis, problems))
    except (ValueError, NoSuchSite) as e:  # a name Keys refuses, a URL, no such site
        print(f"acd state: {e}", file=sys.stderr)
        return 1
    except ResponseError as e:  # Redis answered, with a refusal
        text = _hide_password(str(e), args.redis)
        if "DB index is out of range" in text:
            db = urllib.parse.urlsplit(args.redis).path.strip("/") or "0"
            text = (
                f"Redis has no database {db} ({text}; it has 16, 0-15, unless redis.conf "
                "sets `databases`)"
            )
        print(f"acd state: {where}: {text}", file=sys.stderr)
        return 1
    except InvalidResponse as e:
        print(
            f"acd state: {where}: the server there does not speak Redis ({e}): is it "
            "Redis's port (6379 by default)?",
            file=sys.stderr,
        )
        return 1
    except (RedisConnectionError, RedisTimeoutError, OSError) as e:
        print(
            f"acd state: cannot reach Redis at {where}: {_hide_password(str(e), args.redis)}",
            file=sys.stderr,
        )
        return 1
    except RedisError as e:  # anything else Redis's client raises: still one line
        print(f"acd state: {where}: {_hide_password(str(e), args.redis)}", file=sys.stderr)
        return 1
    for problem in problems:
        print(problem, file=sys.stderr)
    try:
        print(json.dumps(state, indent=2) if args.json else render(state))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped (`| head`): what it wanted is printed. Point stdout at
        # /dev/null so that Python's own flush at exit does not fail again.
        _quiet_stdout()
    return 0


def _quiet_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (a test's captured stdout)
        pass


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


def _decode(
    decoder: msgspec.msgpack.Decoder[T], data: bytes, key: str, problems: list[str]
) -> T | None:
    """The decoded record, or None with one report naming the key (printed once, by
    run_state: store.records.decode_or_report would also log it)."""
    try:
        return decoder.decode(data)
    except msgspec.DecodeError as e:
        problems.append(f"{key}: undecodable record skipped ({e})")
        return None


async def read_state(site: str, url: str, problems: list[str]) -> dict[str, Any]:
    """Everything `acd state` shows, as plain data (JSON-ready). Raises NoSuchSite
    when Redis holds no key of `site`, and Redis's own errors when it cannot be read
    at all (a PING first, so a wrong database or a server that is not Redis fails
    before anything is read)."""
    keys = Keys(site)
    r = connect(url)
    try:
        await r.ping()
        if not await _exists(r, keys):
            raise NoSuchSite(await _no_such_site(r, site, url))
        state = await _read_state(r, keys, problems, time.time())
    finally:
        await r.aclose()
    return {"site": site, **state}


async def _exists(r: Any, keys: Keys) -> bool:
    """Whether Redis holds any key of the site."""
    fixed = (keys.status, keys.lease, keys.epoch, keys.journal, keys.snapshot, keys.agents,
             keys.figures)
    if await r.exists(*fixed):
        return True
    async for _ in r.scan_iter(match=_glob_escape(keys.prefix) + "*", count=500):
        return True
    return False


async def _no_such_site(r: Any, site: str, url: str) -> str:
    """The line saying there is no such site, with the sites that are there."""
    import difflib

    sites: set[str] = set()
    for kind in ("epoch", "status"):
        async for key in r.scan_iter(match=f"acd:{{*}}:{kind}", count=500):
            name = _text(key)[len("acd:{"):-len(f"}}:{kind}")]
            sites.add(name)
    close = difflib.get_close_matches(site, sorted(sites), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    there = f"; sites there: {', '.join(sorted(sites))}" if sites else "; it holds no site"
    return (
        f"no site {site!r} in Redis at --redis {redact(url)}{hint}: none of its keys exist"
        f" (SITE_NAME is the site.name of its configuration){there}"
    )


def _utc(epoch: float) -> str:
    """Epoch seconds as "2026-06-09 05:03:12 UTC"."""
    try:
        moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return f"{epoch:.0f} (epoch seconds)"
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def engine_clock(status: dict[str, str], wall: float) -> dict[str, Any]:
    """Which clock the durations are measured on, from the read model's status.

    `updated_at` is the engine's clock at its last write, `written_at` this machine's
    wall clock then. When they agree within CLOCK_TOLERANCE the engine runs on the
    wall clock: durations are measured against `wall` (now). When they do not, it
    runs compressed (or virtual): durations are measured against `updated_at`, the
    engine's own latest time. Without `written_at` (an older engine), `updated_at` is
    compared with `wall` instead. Without `updated_at`: no clock (`now` None), times
    are shown as they are."""
    updated = _float(status.get("updated_at"))
    written = _float(status.get("written_at"))
    if updated is None:
        return {"measured_on": None, "now": None, "updated_at": None, "written_at": written}
    reference = written if written is not None else wall
    on_wall = abs(reference - updated) <= CLOCK_TOLERANCE
    return {
        "measured_on": "wall" if on_wall else "engine",
        "now": wall if on_wall else updated,
        "updated_at": updated,
        "written_at": written,
        "wall": wall,
    }


async def _read_state(r: Any, keys: Keys, problems: list[str], wall: float) -> dict[str, Any]:
    raw_status = await _read(r.hgetall(keys.status), keys.status, problems) or {}
    status = {_text(k): _text(v) for k, v in raw_status.items()}
    for field in ("updated_at", "written_at"):
        value = status.get(field)
        if value is not None and _float(value) is None:
            # Not a time: the durations are shown as they are, not measured on it.
            problems.append(f"{keys.status} {field}: {value[:40]!r} is not a time "
                            "(epoch seconds); ignored")
            del status[field]
    lease = await _read(r.get(keys.lease), keys.lease, problems)
    clock = engine_clock(status, wall)
    now: float | None = clock["now"]
    out_status: dict[str, Any] = {
        "epoch": _int(status.get("epoch")),
        "owner": status.get("owner"),
        "stage": _int(status.get("stage")),
        "updated_at": _float(status.get("updated_at")),
        "lease": _text(lease) if lease is not None else None,
        "clock": clock,
    }

    raw_figures = await _read(r.hgetall(keys.figures), keys.figures, problems) or {}
    figures: dict[str, dict[str, Any]] = {"site": {}, "queue": {}, "pool": {}, "vendor": {}}
    queue_names: set[str] = set()
    for field, data in sorted((_text(k), v) for k, v in raw_figures.items()):
        view = _decode(FIGURES_DECODER, data, f"{keys.figures} {field}", problems)
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
        # MGET answers nil for a key of another type as for no key: say which it is.
        absent = [keys.call(i) for i, data in zip(ids, views, strict=True) if data is None]
        for absent_key in absent:
            kind = _text(await r.type(absent_key))
            if kind != "none":
                problems.append(f"{absent_key}: skipped (it holds a {kind}, not a call record)")
        waiting: list[dict[str, Any]] = []
        for position, (call_id, data) in enumerate(zip(ids, views, strict=True), start=1):
            entry: dict[str, Any] = {"position": position, "call": call_id}
            call = None
            if data is not None:
                call = _decode(CALL_DECODER, data, keys.call(call_id), problems)
            if call is not None:
                entry.update(
                    caller=mask(call.caller),
                    since=call.since,
                    waiting=None if now is None else duration(now - call.since),
                    priority=call.priority,
                    state=call.state,
                )
            waiting.append(entry)
        queues[name] = waiting

    raw_agents = await _read(r.hgetall(keys.agents), keys.agents, problems) or {}
    agents: dict[str, list[dict[str, Any]]] = {}
    for field, data in sorted((_text(k), v) for k, v in raw_agents.items()):
        agent = _decode(AGENT_DECODER, data, f"{keys.agents} {field}", problems)
        if agent is None:
            continue
        row: dict[str, Any] = {
            "id": agent.id, "pool": agent.pool, "since": agent.since,
            "for": None if now is None else duration(now - agent.since),
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
    """A finite number, or None (absent, not a number, inf, nan)."""
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _value(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1 else f"{v:.1f}"
    return str(v)


def _updated(clock: dict[str, Any]) -> str:
    """When the engine last wrote, in words, on the clock the durations use."""
    if clock["measured_on"] is None:
        return "-"
    wall, written = clock["wall"], clock["written_at"]
    if clock["measured_on"] == "wall":
        return duration(wall - (written if written is not None else clock["updated_at"])) + " ago"
    ago = f", written {duration(wall - written)} ago" if written is not None else ""
    return (
        f"at {_utc(clock['updated_at'])} on the engine's clock{ago} (the engine's clock is "
        "not this machine's: compressed time; durations below are as of that update)"
    )


def _age(seconds: str | None, since: float) -> str:
    return seconds if seconds is not None else f"since {_utc(since)}"


def render(state: dict[str, Any]) -> str:
    lines: list[str] = []
    st = state["status"]
    lines.append(
        f"site {state['site']}: epoch {_value(st['epoch'])}, owner {_value(st['owner'])}, "
        f"stage {_value(st['stage'])}, updated {_updated(st['clock'])}, "
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
                    f"waiting {_age(c['waiting'], c['since'])}{prio}"
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
            since = _age(a["for"], a["since"])
            lines.append(f"    {a['id']}  pool {a['pool']}  for {since}{extra}")
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
