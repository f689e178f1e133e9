"""The queue state in a real Redis through a compressed surge: the engine is killed and
restarted, a standby takes over, a paused engine is fenced out, Redis itself restarts,
and foreign data sits in its keys. Each time, from the callers' side: nobody who was
in line is lost or answered twice; and the metrics reconcile with the journal."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import redis

from acd.config.loader import load_site
from acd.store.redis import RedisStore
from acd.store.writer import recover, stream_id
from tests.failover import SITE, Surge, log_time
from tests.redis_server import RedisServer

SITE_NAME = "consistency"
JOURNAL = "acd:{consistency}:journal"


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


def test_killed_engine_restarts_from_redis_and_nobody_in_line_is_lost(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with Surge(tmp_path, redis_server.url) as surge:
        first = surge.engine("first")
        first.wait_log("serving site")
        time.sleep(8)  # eight minutes of the surge: a queue has built up
        first.signal(signal.SIGKILL)
        first.proc.wait()
        second = surge.engine("second")
        line = second.wait_log(r"carrying on from the stored state \(epoch \d+\): (\d+) calls, "
                               r"(\d+) waiting")
        assert int(line.group(2)) > 0  # there were callers waiting at the crash
        result = surge.pbx.wait()
        assert second.stop() == 0
        report = second.report()
    check_survivors(result, report, redis_server.url)


def test_standby_takes_over_within_two_seconds_of_the_lease_lapsing(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    lease_ms = 1500
    with Surge(tmp_path, redis_server.url) as surge:
        active = surge.engine("active", lease_ms=lease_ms)
        active.wait_log("serving site")
        standby = surge.engine("standby", standby=True, lease_ms=lease_ms)
        standby.wait_log("standby for site")
        time.sleep(7)
        killed_at = time.time()
        active.signal(signal.SIGKILL)
        active.proc.wait()
        took = standby.wait_log(r".*took over with epoch \d+ after (\d+) journal entries")
        assert int(took.group(1)) > 100  # it had followed the journal all along
        assert log_time(took.group(0)) - killed_at <= lease_ms / 1000 + 2.0
        result = surge.pbx.wait()
        assert standby.stop() == 0
        report = standby.report()
    check_survivors(result, report, redis_server.url)


def test_a_paused_engine_is_fenced_out_when_it_wakes(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with Surge(tmp_path, redis_server.url) as surge:
        active = surge.engine("active")
        active.wait_log("serving site")
        standby = surge.engine("standby", standby=True)
        standby.wait_log("standby for site")
        time.sleep(5)
        active.signal(signal.SIGSTOP)  # a long GC pause, a frozen VM
        took = standby.wait_log(r"took over with epoch (\d+)")
        new_epoch = int(took.group(1))
        time.sleep(1)
        active.signal(signal.SIGCONT)
        assert active.proc.wait(timeout=30) == 3  # it stepped down
        assert "fenced out" in active.log()
        # Nothing the paused engine did after waking reached Redis: every journal
        # entry is the new holder's.
        client = redis.Redis.from_url(redis_server.url)
        epochs = {stream_id(i.decode())[0] for i, _ in client.xrange(JOURNAL)}
        client.close()
        assert epochs <= {new_epoch}
        result = surge.pbx.wait()
        assert standby.stop() == 0
        report = standby.report()
    check_survivors(result, report, redis_server.url)


def test_redis_restart_mid_surge_routing_goes_on_and_the_read_model_is_rewritten(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with Surge(tmp_path, redis_server.url) as surge:
        engine = surge.engine("engine")
        engine.wait_log("serving site")
        time.sleep(5)
        redis_server.kill()  # no persistence: it comes back empty
        engine.wait_log("store unreachable")
        time.sleep(3)  # three minutes of surge with no Redis
        redis_server.restart()
        engine.wait_log("answers again: snapshot and read model rewritten")
        client = redis.Redis.from_url(redis_server.url)
        assert client.hlen("acd:{consistency}:agents") == 14
        assert client.exists("acd:{consistency}:snapshot")
        client.close()
        result = surge.pbx.wait()
        assert engine.stop() == 0
        report = engine.report()
    # The engine never went away: no call was refused by the dialplan.
    assert result["summary"]["hung_up_by_pbx"] == 0
    assert report["store"]["rewrites"] >= 1 and not report["store"]["degraded"]
    assert report["store"]["dropped_entries"] > 0  # it routed on while Redis was down
    check_survivors(result, report, redis_server.url)


def test_corrupt_and_foreign_data_are_reported_and_skipped(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    client = redis.Redis.from_url(redis_server.url)
    client.set("acd:{consistency}:snapshot", b"\xc1 not a snapshot")
    client.xadd(JOURNAL, {"e": b"\xff\xfe garbage"}, id="1-1")
    client.xadd(JOURNAL, {"someone-else": b"x"}, id="1-2")
    client.close()
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
