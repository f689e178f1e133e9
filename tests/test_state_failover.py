"""The queue state in a real Redis through a compressed surge: the engine is killed and
restarted, a standby takes over, a paused engine is fenced out, Redis itself restarts,
and foreign data sits in its keys. Each time, from the callers' side: nobody who was
in line is lost or answered twice; and the metrics reconcile with the journal.

Each step of a story waits for what it needs to see, never for a time: callers in
line and journal entries in Redis (the read model a wallboard reads), a line in an
engine's log, calls answered at the PBX. The surge is short (SURGE_MINUTES of
arrivals, then the last callers drain) and every step comes early in it: a line has
formed by about 10:04 of its virtual time."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acd.config.loader import load_site
from acd.store.redis import RedisStore
from acd.store.writer import recover
from tests.failover import SITE, Engine, Floor, Surge
from tests.redis_server import RedisServer

SITE_NAME = "consistency"
JOURNAL = "acd:{consistency}:journal"
SURGE_MINUTES = 10
"""Calls arrive from 10:00 to 10:10 (virtual; a minute is a wall second at 60x)."""
IN_LINE = 4
"""Callers waiting in the queue that make "a queue has built up"."""
FOLLOWED = 250
"""Journal entries the active engine writes after the standby says it follows and
before the active is stopped: well over the 100 the take-over must show it followed,
so the standby's first load (just after it says so) is well inside the margin. Not a
multiple of the engines' --snapshot-every (300): the stop comes at no special point."""
ANSWERED_WITHOUT_REDIS = 8
"""Callers who start talking to an agent while Redis is down: routing went on."""


@pytest.fixture
def floor(redis_server: RedisServer) -> Iterator[Floor]:
    """The test's view of the site's keys in its Redis."""
    seen = Floor(redis_server.url)
    try:
        yield seen
    finally:
        seen.close()


def check_callers(result: dict[str, Any]) -> None:
    """Nobody in line was dropped, nobody was answered twice, nobody is left hanging."""
    calls = result["calls"]
    assert calls
    assert result["summary"]["in_progress"] == 0
    twice = [c for c in calls if len(c["parties"]) > 1]
    assert twice == [], twice[:3]
    # The only calls the PBX side ended are those that came while no engine was
    # connected (the dialplan hangs them up at once): never one the engine had.
    dropped = [
        c for c in calls
        if c["outcome"] == "hung_up_by_pbx" and c["ended_at"] - c["placed_at"] > 1.0
    ]
    assert dropped == [], dropped[:3]
    assert {c["outcome"] for c in calls} <= {"answered_agent", "abandoned", "hung_up_by_pbx"}


def check_journal(redis_url: str, report: dict[str, Any]) -> None:
    """Snapshot plus journal in Redis give the metrics the engine reported at exit."""

    async def load() -> Any:
        store = RedisStore(SITE_NAME, redis_url)
        try:
            return await store.load()
        finally:
            await store.close()

    engine, _last, problems = recover(load_site(SITE), asyncio.run(load()), "acd:{consistency}:")
    assert problems == []
    assert engine is not None
    assert engine.metrics.total.summary() == report["engine"]["totals"]


def answered_close(result: dict[str, Any], report: dict[str, Any]) -> None:
    # The engine counts an answer when it connects; a caller whose hang-up crossed
    # the bridging is counted and not lived: a handful at most.
    lived = result["summary"]["answered_by_agent"]
    assert 0 <= report["engine"]["totals"]["answered"] - lived <= 3


def check_survivors(result: dict[str, Any], report: dict[str, Any], redis_url: str) -> None:
    """What every failover must leave: the callers served, the figures true."""
    check_callers(result)
    answered_close(result, report)
    check_journal(redis_url, report)


def a_line_has_formed(floor: Floor) -> bool:
    return len(floor.waiting()) >= IN_LINE


def journal_written(floor: Floor) -> int:
    """Entries the current epoch has written to the journal (0 before the first)."""
    last = floor.journal_last()
    return 0 if last is None else last[1]


def start_active_and_standby(surge: Surge, floor: Floor) -> tuple[Engine, Engine]:
    """An active engine and a standby, started together (the standby cannot take the
    lease before a snapshot exists, so the first is the active one); returned once a
    line has formed and the standby has followed FOLLOWED journal entries."""
    active = surge.engine("active")
    standby = surge.engine("standby", standby=True)
    active.wait_log("serving site")
    standby.wait_log("standby for site")
    followed_from = journal_written(floor)
    surge.wait_for(
        f"a line of {IN_LINE} callers and {FOLLOWED} journal entries followed",
        lambda: a_line_has_formed(floor) and journal_written(floor) >= followed_from + FOLLOWED,
    )
    assert active.holds(floor.lease())
    return active, standby


def test_killed_engine_restarts_from_redis_and_nobody_in_line_is_lost(
    redis_server: RedisServer, floor: Floor, tmp_path: Path
) -> None:
    with Surge(tmp_path, redis_server.url, minutes=SURGE_MINUTES) as surge:
        first = surge.engine("first")
        first.wait_log("serving site")
        surge.wait_for(f"a line of {IN_LINE} callers", lambda: a_line_has_formed(floor))
        first.signal(signal.SIGKILL)
        first.proc.wait()
        in_line = floor.waiting()  # what a wallboard showed at the crash
        second = surge.engine("second")
        line = second.wait_log(r"carrying on from the stored state \(epoch \d+\): (\d+) calls, "
                               r"(\d+) waiting")
        assert int(line.group(2)) == len(in_line) >= IN_LINE  # the line at the crash, all of it
        result = surge.pbx.wait()
        assert second.stop() == 0
        report = second.report()
    outcomes = {c["channel_id"]: c["outcome"] for c in result["calls"]}
    assert {outcomes[call] for call in in_line} <= {"answered_agent", "abandoned"}
    check_survivors(result, report, redis_server.url)


def test_standby_takes_over_with_a_newer_epoch_when_the_active_engine_dies(
    redis_server: RedisServer, floor: Floor, tmp_path: Path
) -> None:
    # Not timed in wall seconds (a margin a loaded machine breaks): the take-over shows
    # in who holds the lease and with which epoch, in callers answered after it, and
    # in nobody in line lost.
    with Surge(tmp_path, redis_server.url, minutes=SURGE_MINUTES) as surge:
        active, standby = start_active_and_standby(surge, floor)
        held = floor.lease()
        assert held is not None
        active.signal(signal.SIGKILL)
        active.proc.wait()
        took = standby.wait_log(r"took over with epoch (\d+) after (\d+) journal entries")
        assert int(took.group(2)) > 100  # it had followed the journal all along
        taken_at = surge.pbx.day_time()
        now = floor.lease()
        assert standby.holds(now)
        assert now is not None and now[0] == int(took.group(1)) > held[0]
        result = surge.pbx.wait()
        assert standby.stop() == 0
        report = standby.report()
    answered_after = [c for c in result["calls"] if (c["answered_at"] or 0) > taken_at]
    assert answered_after  # the standby answers callers now
    assert floor.journal_epochs() <= {now[0]}
    check_survivors(result, report, redis_server.url)


def test_a_paused_engine_is_fenced_out_when_it_wakes(
    redis_server: RedisServer, floor: Floor, tmp_path: Path
) -> None:
    with Surge(tmp_path, redis_server.url, minutes=SURGE_MINUTES) as surge:
        active, standby = start_active_and_standby(surge, floor)
        active.signal(signal.SIGSTOP)  # a long GC pause, a frozen VM
        took = standby.wait_log(r"took over with epoch (\d+)")
        new_epoch = int(took.group(1))
        # The paused engine wakes while the new holder is routing and writing.
        surge.wait_for(
            f"journal entries of epoch {new_epoch}",
            lambda: (floor.journal_last() or (0, 0))[0] == new_epoch,
        )
        assert standby.holds(floor.lease())
        active.signal(signal.SIGCONT)
        assert active.proc.wait(timeout=30) == 3  # it stepped down
        assert "fenced out" in active.log()
        # Nothing the paused engine did after waking reached Redis: every journal
        # entry is the new holder's.
        assert floor.journal_epochs() <= {new_epoch}
        result = surge.pbx.wait()
        assert standby.stop() == 0
        report = standby.report()
    check_survivors(result, report, redis_server.url)


def test_redis_restart_mid_surge_routing_goes_on_and_the_read_model_is_rewritten(
    redis_server: RedisServer, floor: Floor, tmp_path: Path
) -> None:
    with Surge(tmp_path, redis_server.url, minutes=SURGE_MINUTES) as surge:
        engine = surge.engine("engine")
        engine.wait_log("serving site")
        surge.wait_for(f"a line of {IN_LINE} callers", lambda: a_line_has_formed(floor))
        talking = surge.pbx.talks()
        redis_server.kill()  # no persistence: it comes back empty
        engine.wait_log("store unreachable")
        # Surge time passes with no Redis: callers still reach agents.
        answered: set[str] = set()

        def answered_meanwhile() -> bool:
            answered.update(surge.pbx.talks() - talking)
            return len(answered) >= ANSWERED_WITHOUT_REDIS

        surge.wait_for(f"{ANSWERED_WITHOUT_REDIS} callers answered without Redis",
                       answered_meanwhile)
        redis_server.restart()
        engine.wait_log("answers again: snapshot and read model rewritten")
        assert floor.client.hlen("acd:{consistency}:agents") == 14
        assert floor.client.exists("acd:{consistency}:snapshot")
        result = surge.pbx.wait()
        assert engine.stop() == 0
        report = engine.report()
    # The engine never went away: no call was refused by the dialplan.
    assert result["summary"]["hung_up_by_pbx"] == 0
    assert report["store"]["rewrites"] >= 1 and not report["store"]["degraded"]
    assert report["store"]["dropped_entries"] > 0  # it routed on while Redis was down
    check_survivors(result, report, redis_server.url)


def test_corrupt_and_foreign_data_are_reported_and_skipped(
    redis_server: RedisServer, floor: Floor, tmp_path: Path
) -> None:
    client = floor.client
    client.set("acd:{consistency}:snapshot", b"\xc1 not a snapshot")
    client.xadd(JOURNAL, {"e": b"\xff\xfe garbage"}, id="1-1")
    client.xadd(JOURNAL, {"someone-else": b"x"}, id="1-2")
    with Surge(tmp_path, redis_server.url, minutes=2) as surge:
        engine = surge.engine("engine")
        engine.wait_log("serving site")
        log = engine.log()
        assert "acd:{consistency}:snapshot: undecodable record skipped" in log
        assert "starting with an empty floor" in log
        result = surge.pbx.wait()
        assert engine.stop() == 0
    check_callers(result)
    assert result["summary"]["answered"] > 0
