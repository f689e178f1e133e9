"""Waiting for another process (Asterisk, SIPp, `acd serve`) to do something.

Those live in real time, so a test looks again and again at what it can observe (a
step in a log, an answer on a port, a channel in Asterisk) until it holds. The bound
measures nothing: it only turns a thing that never happens into a failure that says
what did happen instead of a hang.
"""

from __future__ import annotations

import time
from collections.abc import Callable

POLL = 0.05
"""Wall seconds between two looks: cheap for the machine, quick for the test."""


def until(condition: Callable[[], bool], what: str | Callable[[], str], within: float) -> None:
    """Return as soon as `condition()` holds; raise AssertionError with `what` (a text,
    or a function making it then, e.g. to show a log) after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            message = what() if callable(what) else what
            raise AssertionError(f"{message}: not within {within} s")
        time.sleep(POLL)
