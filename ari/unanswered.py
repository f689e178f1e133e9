"""Requests Asterisk did not answer, reported as one log line every few seconds.

While Asterisk is down, restarting, or gone from under a demo, every call's next
request fails with no answer (status 0): a line each would bury the log (a demo's
engine wrote 800 in a minute after its virtual PBX stopped). The calls themselves are
settled by the reconciliation when the events socket is back; the operator needs to
know that requests are failing, how many, and the latest one.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.ari.brakes import REPORT_EVERY


@dataclass
class Unanswered:
    """Counts unanswered requests; `add` returns the line to log, at most one per
    `every` seconds of the clock it is given (the first at once)."""

    every: float = REPORT_EVERY
    total: int = 0
    _since_report: int = 0
    _reported_at: float | None = None

    def add(self, what: str, now: float) -> str | None:
        """One more request went unanswered (`what`: the request and its error)."""
        self.total += 1
        self._since_report += 1
        if self._reported_at is not None and now - self._reported_at < self.every:
            return None
        line = (
            f"Asterisk did not answer {self._since_report} request(s)"
            + (f" in {self.every:g} s" if self._reported_at is not None else "")
            + f" (the latest: {what}); {self.total} so far. Calls are settled with "
            "Asterisk's own lists once the events socket is back"
        )
        self._since_report = 0
        self._reported_at = now
        return line
