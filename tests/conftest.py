"""Fixtures shared by the tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.redis_server import DEBIAN_PACKAGE, RedisServer, executable


@pytest.fixture
def redis_server(request: pytest.FixtureRequest) -> Iterator[RedisServer]:
    """A real redis-server of this test's own, stopped (and its directory removed)
    afterwards. Options by indirect parametrization:
    `@pytest.mark.parametrize("redis_server", [{"appendonly": True}], indirect=True)`.

    Without redis-server the test is skipped, unless ACD_REQUIRE_REDIS=1 (set by
    .ci/run, which installs it): then it fails, so CI never skips silently."""
    if executable() is None:
        message = (
            f"redis-server is not installed (Debian package {DEBIAN_PACKAGE}: "
            f"apt-get install {DEBIAN_PACKAGE})"
        )
        if os.environ.get("ACD_REQUIRE_REDIS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    options = getattr(request, "param", None) or {}
    server = RedisServer(**options)
    try:
        yield server
    finally:
        server.close()
