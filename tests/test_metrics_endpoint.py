"""Prometheus `/metrics`, as an operator's Prometheus and Grafana read it.

The Seoul 120 line is replayed through the surge morning (hundreds waiting, vendors,
callbacks), the engine's snapshot is rendered and parsed back with
prometheus_client's own parser, and what an operator would build on it is checked:
the counters say what the wallboard says, the wait histogram gives the service
level the engine reports, the names follow Prometheus's conventions and no label
carries a call or an agent id. A state stored before the histograms existed still
restores.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import msgspec
import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from acd.config.loader import load_site
from acd.config.schema import SiteConfig
from acd.engine import Engine
from acd.engine import events as ev
from acd.engine.metrics import WAIT_OUTCOMES, wait_bounds
from acd.engine.persist import EngineState, export_state, restore
from acd.engine.snapshot import Snapshot
from acd.engine.states import SHOWN_STATES
from acd.softphone_sim.curves import load_curve
from acd.softphone_sim.loop import VirtualTime
from acd.softphone_sim.people import day_start, shift_logins
from acd.softphone_sim.replay import Day
from acd.web.metrics import CONTENT_TYPE, QUEUE_OUTCOMES, exposition, render
from tests.harness import Floor

ROOT = Path(__file__).resolve().parent.parent
SEOUL = ROOT / "config" / "seoul120.yaml"
SURGE = ROOT / "config" / "curves" / "surge-stage2-80k.csv"


def surge_morning(hours: float) -> tuple[SiteConfig, Engine, float]:
    """The Seoul site, its engine after `hours` of the 80k surge day (seed 7), and
    the time then."""
    site = load_site(SEOUL)
    start = day_start(site)
    master = random.Random(7)
    engine = Engine(site, rng=random.Random(master.randrange(1 << 62)), start=start)
    day = Day(site, engine, random.Random(master.randrange(1 << 62)), lambda _t: None)
    vt = VirtualTime(engine, start, day.on_command, day.on_item)
    day.vt = vt
    for at, agent_id, working in shift_logins(site, start, start + 86400):
        vt.schedule(
            at, ev.AgentLogin(agent_id=agent_id) if working else ev.AgentLogout(agent_id=agent_id)
        )
    day.day_start = start
    day.arrivals = load_curve(SURGE).iter_arrivals(master.randrange(1 << 62))
    day.next_arrival()
    vt.run(start + hours * 3600)
    return site, engine, start + hours * 3600


@pytest.fixture(scope="module")
def morning() -> tuple[SiteConfig, Engine, Snapshot]:
    site, engine, now = surge_morning(9.5)
    return site, engine, engine.snapshot(now)


def parse(body: bytes) -> dict[str, Metric]:
    return {f.name: f for f in text_string_to_metric_families(body.decode())}


@pytest.fixture(scope="module")
def scraped(morning: tuple[SiteConfig, Engine, Snapshot]) -> dict[str, Metric]:
    site, _engine, board = morning
    body, content_type = exposition(board, site)
    assert content_type == CONTENT_TYPE and content_type.startswith("text/plain; version=0.0.4")
    assert body == render(board, site)
    return parse(body)


def value(families: dict[str, Metric], sample: str, **labels: str) -> float:
    """The one sample named `sample` with exactly these labels."""
    family = families[re.sub(r"_(total|bucket|count|sum)$", "", sample)]
    found = [s.value for s in family.samples if s.name == sample and s.labels == labels]
    assert len(found) == 1, (sample, labels, found)
    return found[0]


def histogram(families: dict[str, Metric], queue: str, outcome: str) -> tuple[
    dict[float, float], float, float
]:
    """(cumulative count by bucket bound, _count, _sum) of one queue's waits."""
    buckets = {
        float(s.labels["le"]): s.value
        for s in families["acd_queue_wait_seconds"].samples
        if s.name == "acd_queue_wait_seconds_bucket"
        and s.labels["queue"] == queue
        and s.labels["outcome"] == outcome
    }
    labels = {"queue": queue, "outcome": outcome}
    return (
        buckets,
        value(families, "acd_queue_wait_seconds_count", **labels),
        value(families, "acd_queue_wait_seconds_sum", **labels),
    )


def test_the_morning_is_busy_enough_to_tell(
    morning: tuple[SiteConfig, Engine, Snapshot], scraped: dict[str, Metric]
) -> None:
    _site, _engine, board = morning
    assert sum(q.waiting for q in board.queues) > 100
    assert sum(value(scraped, "acd_queue_calls_waiting", queue=q.name) for q in board.queues) == (
        sum(q.waiting for q in board.queues)
    )
    assert sum(v.active for v in board.vendors) > 0
    assert sum(q.outcomes["vendor_answered"] for q in board.queues) > 0
    assert sum(q.outcomes["abandoned"] for q in board.queues) > 0
    assert board.stage > 0
    assert value(scraped, "acd_surge_stage") == board.stage


def test_counters_say_what_the_wallboard_says(
    morning: tuple[SiteConfig, Engine, Snapshot], scraped: dict[str, Metric]
) -> None:
    _site, engine, board = morning
    for q in board.queues:
        calls = {
            outcome: value(scraped, "acd_queue_calls_total", queue=q.name, outcome=outcome)
            for outcome in QUEUE_OUTCOMES
        }
        joined = value(scraped, "acd_queue_calls_joined_total", queue=q.name)
        assert joined - calls["short_abandoned"] == q.figures["offered"]
        assert calls["answered"] + calls["vendor_answered"] == q.figures["answered"]
        assert calls["abandoned"] == q.figures["abandoned"]
        assert calls["short_abandoned"] == q.figures["short_abandoned"]
        counters = engine.metrics.queues[q.name]
        assert (joined, calls["blocked"], calls["callback_failed"]) == (
            counters.joined,
            counters.blocked,
            counters.callback_failed,
        )
        assert value(scraped, "acd_queue_calls_overflowed_total", queue=q.name) == (
            q.figures["overflowed"]
        )
        # Calls still in line or talking have no outcome yet.
        assert sum(calls.values()) <= joined
    site_answered = sum(
        value(scraped, "acd_queue_calls_total", queue=q.name, outcome=o)
        for q in board.queues
        for o in ("answered", "vendor_answered")
    )
    assert site_answered == board.totals["answered"]


def test_gauges_show_the_floor_now(
    morning: tuple[SiteConfig, Engine, Snapshot], scraped: dict[str, Metric]
) -> None:
    _site, _engine, board = morning
    for q in board.queues:
        assert value(scraped, "acd_queue_oldest_wait_seconds", queue=q.name) == pytest.approx(
            q.longest_wait_seconds
        )
        assert value(scraped, "acd_queue_agents_available", queue=q.name) == q.agents_available
        assert value(scraped, "acd_queue_callbacks_waiting", queue=q.name) == q.callbacks_waiting
    for p in board.pools:
        by_state = {
            state: value(scraped, "acd_pool_agents", pool=p.name, state=state)
            for state in SHOWN_STATES
        }
        assert by_state == {state: p.by_state.get(state, 0) for state in SHOWN_STATES}
    for v in board.vendors:
        assert value(scraped, "acd_vendor_active_calls", vendor=v.name) == v.active
        assert value(scraped, "acd_vendor_max_concurrent_calls", vendor=v.name) == (
            v.max_concurrent
        )
        assert value(scraped, "acd_vendor_calls_today", vendor=v.name) == v.today
        assert value(scraped, "acd_vendor_calls_this_hour", vendor=v.name) == v.this_hour
    assert value(scraped, "acd_inbound_calls_per_second") * 86400 == pytest.approx(
        board.inbound_calls_per_day
    )


def test_wait_histogram_reconciles_with_the_counters(
    morning: tuple[SiteConfig, Engine, Snapshot], scraped: dict[str, Metric]
) -> None:
    _site, _engine, board = morning
    for q in board.queues:
        for outcome in WAIT_OUTCOMES:
            buckets, count, _sum = histogram(scraped, q.name, outcome)
            assert count == value(scraped, "acd_queue_calls_total", queue=q.name, outcome=outcome)
            assert buckets[float("inf")] == count
            ordered = [buckets[b] for b in sorted(buckets)]
            assert ordered == sorted(ordered)  # cumulative
        answered = [histogram(scraped, q.name, o) for o in ("answered", "vendor_answered")]
        if q.figures["answered"]:
            asa = sum(h[2] for h in answered) / sum(h[1] for h in answered)
            assert asa == pytest.approx(q.figures["asa_seconds"])


def test_the_service_level_is_one_ratio_of_buckets(
    morning: tuple[SiteConfig, Engine, Snapshot], scraped: dict[str, Metric]
) -> None:
    site, _engine, board = morning
    thresholds = {q.service_level_seconds for q in board.queues}
    assert {10.0, 20.0, 3600.0} <= thresholds  # 3600: not one of the standard bounds
    assert board.wait_bounds == wait_bounds(site)
    checked = 0
    for q in board.queues:
        t = value(scraped, "acd_queue_service_level_threshold_seconds", queue=q.name)
        assert t == q.service_level_seconds
        answered = [histogram(scraped, q.name, o) for o in ("answered", "vendor_answered")]
        abandoned, abandoned_count, _ = histogram(scraped, q.name, "abandoned")
        within = sum(h[0][t] for h in answered)  # a bucket bound: no interpolation
        answered_count = sum(h[1] for h in answered)
        if not answered_count:
            assert q.figures["service_level_asterisk"] is None
            continue
        # The Asterisk convention, and DESIGN.md's, exactly as the engine reports them.
        assert within / answered_count == q.figures["service_level_asterisk"]
        after = abandoned_count - abandoned[t]
        assert within / (answered_count + after) == q.figures["service_level"]
        checked += 1
    assert checked >= 3


def test_no_label_carries_a_call_or_an_agent_id(
    morning: tuple[SiteConfig, Engine, Snapshot], scraped: dict[str, Metric]
) -> None:
    site, engine, _board = morning
    allowed = (
        set(site.queues)
        | set(site.pools)
        | set(site.vendors)
        | set(SHOWN_STATES)
        | set(QUEUE_OUTCOMES)
    )
    ids = set(engine.agents) | set(engine.calls) | set(engine.ended_calls())
    for family in scraped.values():
        for sample in family.samples:
            for name, label in sample.labels.items():
                if name == "le":
                    float(label)
                    continue
                assert label in allowed, (sample.name, name, label)
                assert label not in ids, (sample.name, name, label)


def test_names_follow_prometheus_conventions(scraped: dict[str, Metric]) -> None:
    assert {"counter", "gauge", "histogram"} <= {f.type for f in scraped.values()}
    for name, family in scraped.items():
        assert re.fullmatch(r"acd_[a-z][a-z0-9_]*", name), name
        assert family.documentation, f"{name} has no HELP"
        # Base units only: seconds (not ms, minutes...), ratios 0-1 (not percent).
        assert not re.search(r"_(ms|milliseconds|minutes|hours|days|percent)(_|$)", name), name
        samples = {s.name for s in family.samples}
        if family.type == "counter":
            assert samples and all(s.endswith("_total") for s in samples), name
        else:
            assert not name.endswith("_total"), name
        if family.type == "histogram":
            assert name.endswith("_seconds"), name
    # Times and durations are in seconds, and say so.
    time_valued = [n for n in scraped if {"wait", "time", "timestamp"} & set(n.split("_"))]
    assert time_valued and all(n.endswith("_seconds") for n in time_valued), time_valued


def test_openmetrics_when_asked(morning: tuple[SiteConfig, Engine, Snapshot]) -> None:
    site, _engine, board = morning
    body, content_type = exposition(
        board, site, accept="application/openmetrics-text; version=1.0.0"
    )
    assert content_type.startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")
    assert b"acd_queue_calls_total{" in body


# ---------------------------------------------------------------- restarts

SITE = """
site: {name: board, utc_offset: "+09:00", service_level_seconds: 25}
skills: {gen: {}}
pools:
  floor: {kind: in_house}
queues:
  gen: {skill: gen, pools: [floor], wrap_up_seconds: 10}
ivr:
  entry: in
  nodes:
    in: {kind: announce, prompt: [], next: {queue: gen}}
agents:
  - {id: a1, endpoint: PJSIP/a1, pool: floor, skills: [{skill: gen, level: 3}]}
"""


def a_few_calls(f: Floor, prefix: str) -> None:
    """One call answered at once, one after 40 s, one abandoned after 30 s."""
    f.call(f"{prefix}1")
    f.answer("a1", f"{prefix}1")
    f.call(f"{prefix}2")
    f.call(f"{prefix}3")
    f.advance(30)
    f.hang_up(f"{prefix}3")
    f.advance(10)
    f.agent_hangs_up("a1", f"{prefix}1")
    f.advance(10)  # wrap-up ends: a1 takes the second call, which waited 50 s
    f.answer("a1", f"{prefix}2")
    f.advance(5)
    f.agent_hangs_up("a1", f"{prefix}2")
    f.advance(15)


def drop(data: object, key: str) -> int:
    """Drop `key` from every map in `data`, however deep; how many were dropped."""
    dropped = 0
    if isinstance(data, dict):
        if key in data:
            del data[key]
            dropped += 1
        for v in data.values():
            dropped += drop(v, key)
    elif isinstance(data, list):
        for v in data:
            dropped += drop(v, key)
    return dropped


def test_a_restart_keeps_the_histograms() -> None:
    f = Floor(SITE)
    f.login("a1")
    a_few_calls(f, "c")
    before = exposition(f.engine.snapshot(f.now))[0]
    stored = msgspec.msgpack.encode(export_state(f.engine))
    f.engine = restore(f.site, msgspec.msgpack.decode(stored, type=EngineState))
    assert exposition(f.engine.snapshot(f.now))[0] == before
    families = parse(before)
    buckets, count, total = histogram(families, "gen", "answered")
    assert (count, total) == (2, 50)
    assert (buckets[20.0], buckets[25.0], buckets[45.0], buckets[60.0]) == (1, 1, 1, 2)
    assert value(families, "acd_queue_wait_seconds_count", queue="gen", outcome="abandoned") == 1


def test_a_state_from_before_the_histograms_still_restores() -> None:
    f = Floor(SITE)
    f.login("a1")
    a_few_calls(f, "c")
    old = msgspec.to_builtins(export_state(f.engine))
    assert drop(old, "waits") > 1 and drop(old, "wait_bounds") == 1
    stored = msgspec.msgpack.encode(old)

    f.engine = restore(f.site, msgspec.msgpack.decode(stored, type=EngineState))
    families = parse(exposition(f.engine.snapshot(f.now))[0])
    # The counters carry on; the histograms start now, with the site's bounds (25 s).
    assert value(families, "acd_queue_calls_total", queue="gen", outcome="answered") == 2
    assert value(families, "acd_queue_wait_seconds_count", queue="gen", outcome="answered") == 0
    assert f.engine.metrics.wait_bounds == wait_bounds(f.site)
    assert 25.0 in f.engine.snapshot(f.now).wait_bounds

    a_few_calls(f, "d")
    families = parse(exposition(f.engine.snapshot(f.now))[0])
    assert value(families, "acd_queue_calls_total", queue="gen", outcome="answered") == 4
    buckets, count, _ = histogram(families, "gen", "answered")
    assert (count, buckets[25.0]) == (2, 1)
    assert histogram(families, "gen", "abandoned")[1] == 1


def test_a_snapshot_from_before_the_histograms_still_renders() -> None:
    f = Floor(SITE)
    f.login("a1")
    a_few_calls(f, "c")
    old = msgspec.to_builtins(f.engine.snapshot(f.now))
    assert (drop(old, "waits"), drop(old, "outcomes"), drop(old, "wait_bounds")) == (1, 1, 1)
    board = msgspec.json.decode(msgspec.json.encode(old), type=Snapshot)
    families = parse(render(board, f.site))
    # The same series as after the upgrade (the site's bounds), counting from zero...
    buckets, count, _ = histogram(families, "gen", "answered")
    assert set(buckets) == {*wait_bounds(f.site), float("inf")} and count == 0
    # ...but no counter by outcome rather than a false zero that would later jump.
    assert not [s for s in families["acd_queue_calls"].samples if s.labels["queue"] == "gen"]
    assert value(families, "acd_queue_calls_joined_total", queue="gen") == 3
