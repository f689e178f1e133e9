"""A test floor: drives the engine the way callers, agents and supervisors would.

Tests speak the trade's language ("the caller presses 1", "agent 1001 answers",
"ten seconds pass") and check what a person would notice: what the caller hears,
whose phone rings, the call's outcome, the wallboard figures.

Time is in the test's hands (trio's MockClock idea): `advance(seconds)` fires the
engine's timers and any scheduled events in time order. Prompts finish by
themselves `prompt_seconds` after they start (or at once when stopped), as the
PBX's PlaybackFinished would, unless `prompt_seconds` is None.
"""

from __future__ import annotations

import heapq
import random
import textwrap
from typing import TypeVar

import msgspec

from acd.config.loader import parse_site
from acd.config.schema import SiteConfig
from acd.engine import Engine
from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.engine.metrics import QueueCounters
from acd.engine.states import AgentState, CallState

T = TypeVar("T")

EPOCH = 1_780_000_000.0
"""2026-05-28 (a Thursday) 20:26:40 UTC = Friday 05:26:40 in Seoul; tests that care
about the local time start from `local_start(...)`."""


def local_start(weekday: int, hour: int, minute: int = 0, offset_hours: int = 9) -> float:
    """An epoch time that is `weekday` (0 = Monday) at hh:mm local time."""
    # 2026-06-01 00:00 UTC is a Monday.
    monday = 1_780_272_000.0
    return monday + weekday * 86400 + hour * 3600 + minute * 60 - offset_hours * 3600


def site_from_yaml(text: str) -> SiteConfig:
    return parse_site(textwrap.dedent(text), file="<test>")


class Floor:
    def __init__(
        self,
        site: SiteConfig | str,
        *,
        start: float = EPOCH,
        prompt_seconds: float | None = 2.0,
        seed: int = 0,
    ) -> None:
        self.site = site_from_yaml(site) if isinstance(site, str) else site
        self.engine = Engine(self.site, rng=random.Random(seed), start=start)
        self.now = start
        self.prompt_seconds = prompt_seconds
        self.log: list[tuple[float, ev.Event, list[cmd.Command]]] = []
        self._pending: list[tuple[float, int, ev.Event]] = []
        self._seq = 0
        self._playing: dict[str, int] = {}

    # ---------------------------------------------------------------- time

    def send(self, event: ev.Event) -> list[cmd.Command]:
        """Deliver one event now and return the engine's commands."""
        out = self.engine.handle(event, self.now)
        self.log.append((self.now, event, out))
        for c in out:
            if isinstance(c, cmd.Play) and self.prompt_seconds is not None:
                self._playing[c.call_id] = c.prompt_id
                self.schedule(
                    self.prompt_seconds, ev.PromptFinished(call_id=c.call_id, prompt_id=c.prompt_id)
                )
            elif isinstance(c, cmd.StopPlayback):
                stopped = self._playing.pop(c.call_id, None)
                if stopped is not None:
                    self.schedule(0.0, ev.PromptFinished(call_id=c.call_id, prompt_id=stopped))
        return out

    def schedule(self, delay: float, event: ev.Event) -> None:
        self._seq += 1
        heapq.heappush(self._pending, (self.now + delay, self._seq, event))

    def advance(self, seconds: float) -> list[cmd.Command]:
        """Let `seconds` pass; return every command issued meanwhile."""
        target = self.now + seconds
        issued: list[cmd.Command] = []
        while True:
            deadline = self.engine.next_deadline()
            pending = self._pending[0][0] if self._pending else None
            candidates = [t for t in (deadline, pending) if t is not None and t <= target]
            if not candidates:
                break
            self.now = max(self.now, min(candidates))
            if pending is not None and pending <= self.now:
                _, _, event = heapq.heappop(self._pending)
                issued += self.send(event)
            else:
                issued += self.send(ev.TimerFired())
        self.now = target
        return issued

    # ---------------------------------------------------------------- people

    def call(self, call_id: str, caller: str = "01012345678", dnis: str = "") -> list[cmd.Command]:
        return self.send(ev.CallArrived(call_id=call_id, caller=caller, dnis=dnis))

    def press(self, call_id: str, digit: str) -> list[cmd.Command]:
        return self.send(ev.DigitPressed(call_id=call_id, digit=digit))

    def hang_up(self, call_id: str) -> list[cmd.Command]:
        return self.send(ev.CallerHungUp(call_id=call_id))

    def login(self, *agent_ids: str) -> list[cmd.Command]:
        out: list[cmd.Command] = []
        for agent_id in agent_ids:
            out += self.send(ev.AgentLogin(agent_id=agent_id))
        return out

    def answer(self, agent_id: str, call_id: str) -> list[cmd.Command]:
        return self.send(ev.AgentAnswered(agent_id=agent_id, call_id=call_id))

    def miss(
        self, agent_id: str, call_id: str, cause: ev.MissCause = "no_answer"
    ) -> list[cmd.Command]:
        return self.send(ev.AgentMissed(agent_id=agent_id, call_id=call_id, cause=cause))

    def agent_hangs_up(self, agent_id: str, call_id: str) -> list[cmd.Command]:
        return self.send(ev.AgentHungUp(agent_id=agent_id, call_id=call_id))

    # ---------------------------------------------------------------- what people notice

    def commands(self, kind: type[T], call_id: str | None = None) -> list[T]:
        """Every command of this type issued so far (for this call)."""
        found: list[T] = []
        for _, _, out in self.log:
            for c in out:
                if isinstance(c, kind) and (
                    call_id is None or getattr(c, "call_id", None) == call_id
                ):
                    found.append(c)
        return found

    def heard(self, call_id: str) -> list[str]:
        """Every sound played to the caller so far, in order."""
        return [m for p in self.commands(cmd.Play, call_id) for m in p.media]

    def rung(self, call_id: str | None = None) -> list[str]:
        """The agents rung, in order (for one call, or all)."""
        return [r.agent_id for r in self.commands(cmd.RingAgent, call_id)]

    def outcome(self, call_id: str) -> str | None:
        found = self.commands(cmd.CallOutcome, call_id)
        assert len(found) <= 1, f"{call_id} has {len(found)} outcomes"
        return found[0].outcome if found else None

    def agent_state(self, agent_id: str) -> AgentState:
        return self.engine.agents[agent_id].state

    def call_state(self, call_id: str) -> CallState | None:
        call = self.engine.calls.get(call_id)
        return call.state if call is not None else None

    def queue(self, name: str) -> QueueCounters:
        return self.engine.metrics.queues[name]

    def encode_log(self) -> bytes:
        """The whole run as JSON: determinism checks compare these."""
        return msgspec.json.encode([(t, e, out) for t, e, out in self.log])
