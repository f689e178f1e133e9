"""Snapshot plus journal rebuild exactly the engine's state.

A busy hour is replayed through the engine while every event it handles is kept (the
journal). Half-way, the state is exported and encoded as MessagePack (the snapshot).
A fresh engine restored from the snapshot and fed the rest of the journal must give
the same commands, event by event, and end in the same state, field by field.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from acd.config.loader import load_site
from acd.engine import Engine
from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine.metrics import QueueCounters, roll_up
from acd.engine.persist import (
    EngineState,
    StateMismatch,
    decode_state,
    export_state,
    replay,
    restore,
)
from acd.engine.records import Agent, Call
from acd.engine.state import AgentRecord, CallRecord
from acd.engine.states import AgentState
from acd.softphone_sim.curves import load_curve
from acd.softphone_sim.loop import VirtualTime
from acd.softphone_sim.people import day_start, shift_logins
from acd.softphone_sim.replay import Day
from tests.test_scenario_surge import SITE as SURGE_SITE
from tests.test_scenario_surge import floor as surge_floor

FIXTURES = Path(__file__).parent / "fixtures" / "live"
SEOUL = Path(__file__).resolve().parent.parent / "config" / "seoul120.yaml"
SURGE = Path(__file__).resolve().parent.parent / "config" / "curves" / "surge-stage2-80k.csv"

Journal = list[tuple[ev.Event, float, list[cmd.Command]]]


def busy_day(config: Path, curve: Path, hours: float, snapshot_at: float) -> tuple[
    Engine, bytes, Journal
]:
    """Replay `hours` of the day; the snapshot taken at `snapshot_at` hours and the
    journal of every event handled after it."""
    site = load_site(config)
    start = day_start(site)
    master = random.Random(7)
    engine = Engine(site, rng=random.Random(master.randrange(1 << 62)), start=start)
    day = Day(site, engine, random.Random(master.randrange(1 << 62)), lambda _t: None)
    vt = VirtualTime(engine, start, day.on_command, day.on_item)
    day.vt = vt
    for at, agent_id, working in shift_logins(site, start, start + 86400):
        vt.schedule(at, ev.AgentLogin(agent_id=agent_id) if working
                    else ev.AgentLogout(agent_id=agent_id))
    day.day_start = start
    day.arrivals = load_curve(curve).iter_arrivals(master.randrange(1 << 62))
    day.next_arrival()
    vt.run(start + snapshot_at * 3600)
    snapshot = msgspec.msgpack.encode(export_state(engine))
    journal: Journal = []
    # The loop's engine from now on: records the journal, hands the rest to the engine
    # (a compiled Engine's methods cannot be replaced on the instance; the loop drives
    # anything that handles events, `loop.Driven`).
    vt.engine = _Journalled(engine, journal)
    vt.run(start + hours * 3600)
    return engine, snapshot, journal


class _Journalled:
    """An engine that records every event it handles and its commands."""

    def __init__(self, engine: Engine, journal: Journal) -> None:
        self._engine = engine
        self._journal = journal

    def handle(self, event: ev.Event, now: float) -> list[cmd.Command]:
        out = self._engine.handle(event, now)
        self._journal.append((event, now, list(out)))
        return out

    def next_deadline(self) -> float | None:
        return self._engine.next_deadline()


def field_by_field(a: object, b: object, path: str = "state") -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            field_by_field(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            field_by_field(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@pytest.mark.parametrize(
    ("config", "curve", "hours", "at"),
    [
        (FIXTURES / "consistency.yaml", FIXTURES / "consistency.csv", 11.5, 10.5),
        (SEOUL, SURGE, 9.5, 9.0),  # the 80k surge morning: hundreds waiting, vendors, callbacks
    ],
    ids=["small-site", "seoul-surge-morning"],
)
def test_snapshot_plus_journal_rebuilds_the_state_exactly(
    config: Path, curve: Path, hours: float, at: float
) -> None:
    original, snapshot, journal = busy_day(config, curve, hours, at)
    assert len(journal) > 1000
    site = load_site(config)
    state = msgspec.msgpack.decode(snapshot, type=EngineState)
    rebuilt = restore(site, state)
    # Right after the restore: the very state that was exported.
    assert msgspec.msgpack.encode(export_state(rebuilt)) == snapshot
    for event, now, commands in journal[:200]:
        assert rebuilt.handle(event, now) == commands, (event, now)
        rebuilt.next_deadline()  # as the live driver does after every event
    replay(rebuilt, ((event, now) for event, now, _ in journal[200:]))
    field_by_field(
        msgspec.to_builtins(export_state(original)), msgspec.to_builtins(export_state(rebuilt))
    )
    assert rebuilt.next_deadline() == original.next_deadline()
    if "seoul" in str(config):
        assert sum(len(q.waiting) for q in rebuilt.queues.values()) > 100


def test_a_prompt_end_nobody_awaits_changes_nothing() -> None:
    """The replay leaves out the prompt ends no call awaits (`Engine.awaits_prompt`):
    the join prompt, position announcements, prompts cut short. Handed them anyway (as
    Asterisk reports every playback), the engine answers nothing and changes nothing."""
    engine, _snapshot, journal = busy_day(SEOUL, SURGE, 9.1, 9.0)
    now = journal[-1][1]
    played = [(c.call_id, c.prompt_id) for _, _, out in journal for c in out
              if isinstance(c, cmd.Play)]
    left_out = [(call_id, prompt) for call_id, prompt in played
                if call_id in engine.calls and not engine.awaits_prompt(call_id, prompt)]
    assert len(left_out) > 100
    before = msgspec.msgpack.encode(export_state(engine))
    for call_id, prompt in left_out:
        assert engine.handle(ev.PromptFinished(call_id=call_id, prompt_id=prompt), now) == []
    assert msgspec.msgpack.encode(export_state(engine)) == before
    awaited = [e for e, _, _ in journal if isinstance(e, ev.PromptFinished)]
    assert awaited, "the prompt ends calls wait for are delivered"


@pytest.mark.parametrize(("live", "stored"), [(Call, CallRecord), (Agent, AgentRecord)])
def test_every_field_of_a_live_call_and_agent_is_in_the_stored_state(
    live: type, stored: type[msgspec.Struct]
) -> None:
    """The engine's calls and agents are plain classes (compiled with mypyc), stored as
    Structs with the same fields: a field added to one and not the other would be lost
    at every restore (or refused by the record)."""
    # A compiled class lists its attributes in __mypyc_attrs__; in plain Python, slots.
    attributes = vars(live)
    fields = attributes.get("__mypyc_attrs__") or attributes["__slots__"]
    assert sorted(fields) == sorted(stored.__struct_fields__)


def test_a_state_from_another_configuration_is_refused() -> None:
    site = load_site(FIXTURES / "consistency.yaml")
    state = export_state(Engine(site, start=1.0))
    other = load_site(SEOUL)
    with pytest.raises(StateMismatch, match="another configuration"):
        restore(other, state)


def all_in_heap(timers: dict[str, Any]) -> dict[str, Any]:
    """Format 3's timers as format 2 kept them: every timer armed and not yet fired in
    the heap, no lines."""
    heap = [tuple(t) for t in timers["heap"]]
    for line in timers["lines"].values():
        # The line's first pending timer is in the heap already.
        heap.extend(tuple(t) for t in line[0][line[1] + 1 :])
    heapq.heapify(heap)
    return {"heap": [list(t) for t in heap], "seq": timers["seq"]}


def as_format_2(state: dict[str, object]) -> dict[str, object]:
    """A format-3 state (builtins) as an engine before the timer lines and the
    agents' rest and standby states wrote it."""
    s: dict[str, Any] = dict(state)
    s["version"] = 2
    s["timers"] = all_in_heap(s["timers"])
    as_reasons = {
        "wrap_up": ("wrap_up", "acw"),
        "resting": ("wrap_up", "missed"),
        "cooling_down": ("wrap_up", "cool-down"),
        "standby": ("paused", "standby"),
    }
    s["agents"] = [
        {**a, "state": as_reasons[a["state"]][0], "reason": as_reasons[a["state"]][1]}
        if a["state"] in as_reasons
        else a
        for a in s["agents"]
    ]
    # Format 2 also kept the site's and each interval's totals, counted as events came
    # (format 3 rolls them up from the queues' when read, and reads past them).
    metrics = s["metrics"]
    s["metrics"] = {
        **metrics,
        "total": total_of(metrics["queues"]),
        "intervals": {
            index: {**slot, "total": total_of(slot["queues"])}
            for index, slot in metrics["intervals"].items()
        },
    }
    return s


def total_of(queues: dict[str, Any]) -> Any:
    """Queues' counters (builtins) as one, as format 2 kept them."""
    return msgspec.to_builtins(
        roll_up(msgspec.convert(q, QueueCounters) for q in queues.values())
    )


def as_format_1(state: dict[str, object]) -> dict[str, object]:
    """A format-3 state (builtins) as an engine before format 2 wrote it: one flat
    record. Written out here field by field, from format 1's definition."""
    s: dict[str, Any] = as_format_2(state)
    surge, conditions = s.pop("surge"), s.pop("conditions")
    timers, seq = s.pop("timers"), s.pop("seq")
    s["version"] = 1
    s["queues"] = {name: {**q, "pushes": 0} for name, q in s["queues"].items()}
    s.update(
        inbound=surge["inbound"], stage=surge["stage"], stage_pinned=surge["pinned"],
        stage_log=surge["log"], surge_armed=surge["armed"],
        distancing_level=conditions["distancing_level"],
        announcement=conditions["announcement"],
        announcement_queues=conditions["announcement_queues"],
        timers=timers["heap"], timer_seq=timers["seq"],
        prompt_seq=seq["prompt"], queue_seq=seq["queue"], offer_seq=seq["offer"],
        referral_seq=seq["referral"],
    )
    return s


def pending_timers(state: dict[str, Any]) -> list[list[Any]]:
    """The timers armed and not yet fired, in the order they fall due."""
    return sorted(all_in_heap(state["timers"])["heap"])


@pytest.mark.parametrize("older", [as_format_1, as_format_2], ids=["format-1", "format-2"])
def test_a_state_written_in_an_older_format_restores_into_the_same_engine(
    older: Callable[[dict[str, object]], dict[str, object]],
) -> None:
    """An engine upgraded in the middle of a surge carries on from the state its
    predecessor stored: the same callers in the same places, the same timers."""
    original, _snapshot, journal = busy_day(SEOUL, SURGE, 9.2, 9.0)
    site = load_site(SEOUL)
    exported = msgspec.to_builtins(export_state(original))
    assert exported["timers"]["lines"], "the surge morning has callers' timers in lines"
    rebuilt = restore(site, decode_state(msgspec.msgpack.encode(older(exported))))
    restored = msgspec.to_builtins(export_state(rebuilt))
    # The older formats kept every timer in the heap: the same timers, laid out so.
    assert pending_timers(restored) == pending_timers(exported)
    del exported["timers"], restored["timers"]
    field_by_field(exported, restored)
    assert sum(len(q.waiting) for q in rebuilt.queues.values()) > 100
    # And it goes on as the original would.
    later = journal[-1][1] + 60.0
    assert rebuilt.handle(ev.TimerFired(), later) == original.handle(ev.TimerFired(), later)


def test_rests_cool_downs_and_standby_kept_as_reasons_by_format_2_become_states() -> None:
    """An engine upgraded while one agent cools down after an abusive call, one rests
    after a missed ring and two wait on standby finds each in that state, and each
    comes back when it would have."""
    floor_agents = "".join(
        f"  - {{id: {a}, endpoint: PJSIP/{a}, pool: floor, skills: [{{skill: gen, level: 3}}]}}\n"
        for a in ("a1", "a2")
    )
    f = surge_floor(SURGE_SITE + floor_agents)  # the remote pool's size is 1: r2, r3 stand by
    f.login("a1", "a2")
    f.call("c2")
    f.press("c2", "1")
    cooling = f.rung("c2")[-1]
    f.answer(cooling, "c2")
    f.send(ev.AgentFlaggedAbusive(agent_id=cooling, call_id="c2"))
    f.advance(10)  # the warning, then 5 s of after-call work: now the cool-down
    f.call("c1")
    f.press("c1", "1")
    resting = f.rung("c1")[-1]
    f.miss(resting, "c1")
    before = {a.id: a.state for a in f.engine.agents.values()}
    assert before[cooling] is AgentState.COOLING_DOWN
    assert before[resting] is AgentState.RESTING
    assert before["r2"] is before["r3"] is AgentState.STANDBY
    old = msgspec.msgpack.encode(as_format_2(msgspec.to_builtins(export_state(f.engine))))
    rebuilt = restore(f.site, decode_state(old))
    assert {a.id: a.state for a in rebuilt.agents.values()} == before
    assert {a.reason for a in rebuilt.agents.values()} == {""}
    # And they come back as they would have: the rest first, then the cool-down.
    for seconds in (5.0, 130.0):
        later = f.now + seconds
        assert rebuilt.handle(ev.TimerFired(), later) == f.engine.handle(ev.TimerFired(), later)
        f.now = later
    assert rebuilt.agents[cooling].state is not AgentState.COOLING_DOWN


def test_a_state_of_an_unknown_format_is_refused_with_its_number() -> None:
    site = load_site(FIXTURES / "consistency.yaml")
    state = msgspec.to_builtins(export_state(Engine(site, start=1.0)))
    state["version"] = 99
    refused = "state format 99; this engine reads formats 1, 2 and 3"
    with pytest.raises(StateMismatch, match=refused):
        decode_state(msgspec.msgpack.encode(state))
    with pytest.raises(msgspec.DecodeError):
        decode_state(msgspec.msgpack.encode({"version": 2, "site": "x"}))
