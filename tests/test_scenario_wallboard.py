"""The live snapshot, as a supervisor reads it off the wallboard at any moment."""

from __future__ import annotations

import msgspec

from acd.engine import events as ev
from tests.harness import Floor

SITE = """
site: {name: board, utc_offset: "+09:00", distancing_level: "1"}
skills: {gen: {}}
pools:
  floor: {kind: in_house}
  home: {kind: remote, size_by_distancing_level: {"1": 1, "2": 2}}
vendors:
  va: {trunk: PJSIP/vendor-a, skills: [gen], max_concurrent: 2, max_per_hour: 10}
queues:
  gen:
    skill: gen
    pools: [floor, home]
    wrap_up_seconds: 10
    overflow: [{vendors: [va], when: {waited_over_seconds: 60}}]
ivr:
  entry: in
  nodes:
    in: {kind: announce, prompt: [], next: {queue: gen}}
agents:
  - {id: a1, endpoint: PJSIP/a1, pool: floor, skills: [{skill: gen, level: 3}]}
  - {id: h1, endpoint: PJSIP/h1, pool: home, skills: [{skill: gen, level: 3}]}
  - {id: h2, endpoint: PJSIP/h2, pool: home, skills: [{skill: gen, level: 2}]}
"""


def test_wallboard_shows_line_agents_pools_and_vendors() -> None:
    f = Floor(SITE)
    f.login("a1", "h1", "h2")  # the home pool may have one agent in service: h2 waits on standby
    f.call("c1")
    f.answer("a1", "c1")
    f.call("c2")
    f.answer("h1", "c2")
    f.advance(5)
    f.call("c3")
    f.advance(20)
    f.call("c4")
    f.advance(10)

    board = f.engine.snapshot(f.now)
    (gen,) = board.queues
    assert (gen.waiting, gen.agents_available, gen.agents_staffed) == (2, 0, 2)
    assert gen.longest_wait_seconds == 30
    pools = {p.name: p for p in board.pools}
    assert pools["floor"].by_state == {"on_call": 1}
    assert pools["home"].by_state == {"on_call": 1, "paused": 1}
    assert (pools["home"].size, pools["home"].standby) == (1, 1)
    agents = {a.id: a for a in board.agents}
    assert (agents["h2"].state, agents["h2"].reason) == ("paused", "standby")
    assert agents["a1"].call_id == "c1"
    assert agents["a1"].since == f.now - 35

    f.advance(30)  # c3 has waited 60 s: it goes to the vendor
    board = f.engine.snapshot(f.now)
    assert board.queues[0].waiting == 1
    assert board.queues[0].figures["overflowed"] == 1
    (va,) = board.vendors
    assert (va.active, va.this_hour, va.max_per_hour) == (1, 1, 10)

    f.send(ev.SetDistancingLevel(level="2"))  # the home pool grows: h2 comes off standby
    board = f.engine.snapshot(f.now)
    assert {a.id: a.state for a in board.agents}["h2"] == "reserved"  # and takes c4 at once
    assert board.distancing_level == "2"
    assert board.queues[0].waiting == 0

    decoded = msgspec.json.decode(msgspec.json.encode(board))
    assert decoded["queues"][0]["name"] == "gen"
    assert decoded["stage"] == 0


def test_snapshot_changes_nothing() -> None:
    f = Floor(SITE)
    f.login("a1")
    f.call("c1")
    f.call("c2")
    before = f.encode_log(), msgspec.json.encode(f.engine.snapshot(f.now))
    for _ in range(3):
        f.engine.snapshot(f.now + 100)
    assert (f.encode_log(), msgspec.json.encode(f.engine.snapshot(f.now))) == before
