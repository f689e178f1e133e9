"""`--redis redis+sentinel://...`: the store finds the master through a real Redis
Sentinel (`redis-server --sentinel`, from the same Debian package) and works there."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from acd.store.redis import RedisStore
from tests.redis_server import RedisServer, executable, free_port, until_answering


def test_the_store_reaches_the_master_through_sentinel(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    exe = executable()
    assert exe is not None
    port = free_port()
    conf = tmp_path / "sentinel.conf"  # Sentinel rewrites its file: it must be its own
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor acdmaster 127.0.0.1 {redis_server.port} 1\n"
        "sentinel down-after-milliseconds acdmaster 5000\n"
    )
    log = tmp_path / "sentinel.log"
    with log.open("wb") as out:
        sentinel = subprocess.Popen(
            [exe, str(conf), "--sentinel"], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        try:
            until_answering(sentinel, port, within=10.0)
        except RuntimeError as e:
            raise AssertionError(f"sentinel {e}:\n{log.read_text(errors='replace')}") from e

        async def body() -> None:
            store = RedisStore("s1", f"redis+sentinel://127.0.0.1:{port}/acdmaster")
            try:
                lease = await store.acquire("engine", 5000, need_snapshot=False)
                assert lease is not None and lease.epoch == 1
                await store.write(lease, [("1-1", b"entry")], [("set", store.keys.snapshot, b"s")])
                loaded = await store.load()
                assert loaded.snapshot == b"s" and loaded.journal == [("1-1", b"entry")]
            finally:
                await store.close()
            # The data is in the master the sentinel named: read it there directly.
            direct = RedisStore("s1", redis_server.url)
            try:
                assert (await direct.load()).journal == [("1-1", b"entry")]
            finally:
                await direct.close()

        asyncio.run(body())
    finally:
        sentinel.terminate()
        sentinel.wait(timeout=10)
