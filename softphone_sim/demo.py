"""A busy stretch of a day on the embedded default: no Redis, no Asterisk.

`run(site, ...)` replays `hours` of Poisson arrivals through the real engine in
virtual time, with callers who listen to the menus and press the keys of the
branch they want, lose patience, sometimes take a callback, and agents who ring,
answer, talk, sometimes miss a ring. It returns a wallboard-style text report.

This is the README's first command until the full surge replay (issue 3) takes
its place; its models are deliberately plain, and every number is marked modelled.
"""

from __future__ import annotations

import math
import random
from collections import deque
from typing import Any

from config.schema import AnnounceNode, MenuNode, Route, ScheduleNode, SiteConfig
from engine import Engine
from engine import commands as cmd
from engine import events as ev
from engine.localtime import LocalTime, in_window, parse_offset
from softphone_sim.loop import VirtualTime

PROMPT_SECONDS_PER_SOUND = 2.5  # modelled: a short Korean prompt
PATIENCE_MEAN_SECONDS = 150.0  # modelled: exponential patience in a surge
TALK_MEDIAN_SECONDS = 150.0  # modelled: log-normal talk time (field facts give none)
TALK_SIGMA = 0.6
RING_ANSWER_SECONDS = (2.0, 6.0)  # modelled: agents pick up within a few rings
MISS_PROBABILITY = 0.03  # modelled
CALLBACK_TAKE_PROBABILITY = 0.4  # modelled
CALLBACK_REACHED_PROBABILITY = 0.85  # modelled
BRANCH_MIX = {  # modelled from the field facts' subject mix and 2020 COVID share
    "covid": 0.19,
    "general": 0.50,
    "transport": 0.06,
    "water": 0.07,
    "directory": 0.10,
    "foreign": 0.03,
}


def ivr_paths(site: SiteConfig) -> dict[str, dict[str, str]]:
    """For each queue the IVR can reach: what a caller who wants it presses on
    hearing each menu (menu's first sound -> digit), found by a breadth-first walk."""
    nodes = site.ivr.nodes
    paths: dict[str, dict[str, str]] = {}
    todo: deque[tuple[Route, dict[str, str]]] = deque([(Route(goto=site.ivr.entry), {})])
    seen: set[str] = set()
    while todo:
        route, keys = todo.popleft()
        if route.queue is not None:
            paths.setdefault(route.queue, keys)
            continue
        name = route.goto or ""
        if name in seen:
            continue
        seen.add(name)
        node = nodes.get(name)
        if isinstance(node, MenuNode) and node.prompt:
            for digit, option in node.options.items():
                todo.append((option, {**keys, node.prompt[0]: digit}))
        elif isinstance(node, AnnounceNode):
            todo.append((node.next, keys))
        elif isinstance(node, ScheduleNode):
            for branch in node.branches:
                todo.append((branch.then, keys))
            todo.append((node.otherwise, keys))
    return paths


class Floor:
    """Callers and agents of the demo: reacts to the engine's commands."""

    def __init__(self, site: SiteConfig, engine: Engine, rng: random.Random) -> None:
        self.site = site
        self.engine = engine
        self.rng = rng
        self.sim: VirtualTime
        self.paths = ivr_paths(site)
        mix = {q: BRANCH_MIX.get(q, 0.0) for q in self.paths}
        if not any(mix.values()):
            mix = dict.fromkeys(self.paths, 1.0)
        self.queues = [q for q in mix if mix[q] > 0]
        self.weights = [mix[q] for q in self.queues]
        self.wants: dict[str, dict[str, str]] = {}
        self.waiting: set[str] = set()
        self.playing: dict[str, int] = {}
        self.offers = {
            name: q.callback.offer_prompt[0]
            for name, q in site.queues.items()
            if q.callback is not None and q.callback.offer_prompt
        }
        self.outcomes: dict[str, int] = {}
        self.cancelled: set[tuple[str, str]] = set()
        """Rings the engine took back before the agent picked up."""

    def arrive(self, call_id: str) -> None:
        queue = self.rng.choices(self.queues, self.weights)[0]
        self.wants[call_id] = self.paths[queue]
        self.sim.send(
            ev.CallArrived(
                call_id=call_id, caller=f"010{self.rng.randrange(10**8):08d}", dnis="120"
            )
        )

    def on_item(self, item: Any, now: float) -> None:
        kind, *args = item
        if kind == "arrive":
            self.arrive(args[0])
        elif kind == "pick_up":
            agent_id, call_id = args
            if (agent_id, call_id) not in self.cancelled:
                self.sim.send(ev.AgentAnswered(agent_id=agent_id, call_id=call_id))
            self.cancelled.discard((agent_id, call_id))
        elif kind == "patience" and args[0] in self.waiting:
            self.waiting.discard(args[0])
            self.sim.send(ev.CallerHungUp(call_id=args[0]))

    def on_command(self, c: cmd.Command, now: float) -> None:
        sim, rng = self.sim, self.rng
        if isinstance(c, cmd.Play):
            self.playing[c.call_id] = c.prompt_id
            sim.schedule(
                now + PROMPT_SECONDS_PER_SOUND * len(c.media),
                ev.PromptFinished(call_id=c.call_id, prompt_id=c.prompt_id),
            )
            keys = self.wants.get(c.call_id, {})
            for sound in c.media:
                if sound in keys:  # barge in with the key for the wanted branch
                    sim.schedule(now + 1.0, ev.DigitPressed(call_id=c.call_id, digit=keys[sound]))
                    break
            for queue, offer in self.offers.items():
                if offer in c.media and rng.random() < CALLBACK_TAKE_PROBABILITY:
                    digit = self.site.queues[queue].callback
                    assert digit is not None
                    sim.schedule(
                        now + PROMPT_SECONDS_PER_SOUND,
                        ev.DigitPressed(call_id=c.call_id, digit=digit.digit),
                    )
        elif isinstance(c, cmd.StopPlayback):
            stopped = self.playing.pop(c.call_id, None)
            if stopped is not None:
                sim.schedule(now, ev.PromptFinished(call_id=c.call_id, prompt_id=stopped))
        elif isinstance(c, cmd.Hold):
            self.waiting.add(c.call_id)
            sim.schedule(now + rng.expovariate(1 / PATIENCE_MEAN_SECONDS), ("patience", c.call_id))
        elif isinstance(c, cmd.RingAgent):
            if c.callback or rng.random() >= MISS_PROBABILITY:
                sim.schedule(
                    now + rng.uniform(*RING_ANSWER_SECONDS), ("pick_up", c.agent_id, c.call_id)
                )
        elif isinstance(c, cmd.CancelRing):
            self.cancelled.add((c.agent_id, c.call_id))
        elif isinstance(c, cmd.Connect):
            self.waiting.discard(c.call_id)
            talk = TALK_MEDIAN_SECONDS * math.exp(rng.gauss(0, TALK_SIGMA))
            sim.schedule(now + talk, ev.AgentHungUp(agent_id=c.agent_id, call_id=c.call_id))
        elif isinstance(c, cmd.DialVendor):
            self.waiting.discard(c.call_id)
            sim.schedule(now + 5.0, ev.VendorAnswered(call_id=c.call_id))
            talk = TALK_MEDIAN_SECONDS * math.exp(rng.gauss(0, TALK_SIGMA))
            sim.schedule(now + 5.0 + talk, ev.VendorHungUp(call_id=c.call_id))
        elif isinstance(c, cmd.DialCallback):
            if rng.random() < CALLBACK_REACHED_PROBABILITY:
                sim.schedule(now + 8.0, ev.CallbackAnswered(call_id=c.call_id))
            else:
                sim.schedule(now + 8.0, ev.CallbackFailed(call_id=c.call_id))
        elif isinstance(c, cmd.HangupCaller):
            self.waiting.discard(c.call_id)
        elif isinstance(c, cmd.CallOutcome):
            self.outcomes[c.outcome] = self.outcomes.get(c.outcome, 0) + 1
            self.wants.pop(c.call_id, None)


def on_shift(site: SiteConfig, now: float) -> list[str]:
    """Agents whose shift covers `now` (agents with no shift always work)."""
    at = LocalTime(now, parse_offset(site.site.utc_offset))
    ids = []
    for agent in site.agents:
        shift = site.shifts.get(agent.shift) if agent.shift else None
        if shift is None or any(in_window(w, at) for w in shift.windows):
            ids.append(agent.id)
    return ids


_COLUMNS = (
    ("joined", 7),
    ("offered", 8),
    ("answered", 9),
    ("abandon", 8),
    ("ans.rate", 9),
    ("SL", 7),
    ("ASA s", 7),
    ("max wait", 9),
    ("vendor", 7),
    ("callbk", 7),
)


def _fmt(value: float | int | None, percent: bool = False) -> str:
    if value is None:
        return "-"
    if percent:
        return f"{value * 100:.1f}%"
    return f"{value:.0f}" if isinstance(value, float) else str(value)


def run(
    site: SiteConfig, *, calls_per_hour: int, hours: float, seed: int, start_hour: int = 10
) -> str:
    rng = random.Random(seed)
    offset = parse_offset(site.site.utc_offset)
    monday = 1_780_272_000.0  # 2026-06-01, a Monday, 00:00 UTC
    # Tuesday 2026-06-09, local time: an ordinary weekday (06-03 is election day).
    start = monday + 8 * 86400 + start_hour * 3600 - offset
    engine = Engine(site, rng=random.Random(seed), start=start)
    floor = Floor(site, engine, rng)
    sim = VirtualTime(engine, start, floor.on_command, floor.on_item)
    floor.sim = sim
    for agent_id in on_shift(site, start):
        sim.send(ev.AgentLogin(agent_id=agent_id))
    end = start + hours * 3600
    t, n = start, 0
    while True:
        t += rng.expovariate(calls_per_hour / 3600)
        if t >= end:
            break
        n += 1
        sim.schedule(t, ("arrive", f"demo-{n}"))
    sim.run(end + 3600)  # an hour more for the last callers to be served or give up
    m = engine.metrics
    staffed = len(on_shift(site, start))
    lines = [
        f"{site.site.name}: {hours:g} h from {start_hour:02d}:00 on Tuesday 2026-06-09, "
        f"{calls_per_hour} calls/h offered to the IVR, seed {seed}, {staffed} agents on shift",
        f"calls {m.ivr.arrived}  outcomes {dict(sorted(floor.outcomes.items()))}  "
        f"surge stage {engine.stage}",
        "",
        "queue".ljust(14) + "".join(h.rjust(w) for h, w in _COLUMNS),
    ]
    for name, q in [*m.queues.items(), ("TOTAL", m.total)]:
        cells = (
            q.joined,
            q.offered,
            q.answered_all,
            q.abandoned,
            _fmt(q.answer_rate, True),
            _fmt(q.service_level, True),
            _fmt(q.asa_seconds),
            _fmt(q.longest_wait_seconds),
            q.overflowed,
            q.callbacks_requested,
        )
        lines.append(
            name.ljust(14)
            + "".join(str(c).rjust(w) for c, (_, w) in zip(cells, _COLUMNS, strict=True))
        )
    lines += ["", f"{'pool':<14}{'answered':>9}{'occupancy':>10}"]
    for name, p in m.pools.items():
        lines.append(f"{name:<14}{p.answered:>9}{_fmt(p.occupancy, True):>10}")
    lines.append("")
    lines.append(f"events delivered {sim.delivered}; anomalies {engine.anomalies or 'none'}")
    return "\n".join(lines)
