"""Replay a whole day through the engine in virtual time.

`replay(site, curve, seed)` draws the day's callers from the surge curve (Poisson
within each interval), lets them walk the IVR, wait, lose patience, redial, take
callbacks, talk; lets agents log in and out by their shifts, ring, answer and now
and then miss; and feeds all of it to the same `engine.Engine` that runs live.
The replay holds no routing logic: it only acts the people.

Determinism: the curve's arrivals, the people's choices and the engine each get a
generator derived from the seed, and nothing reads the wall clock except `run`
timing, so one seed gives one result, byte for byte, outside `Result.run`.
"""

from __future__ import annotations

import random
import resource
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Protocol, assert_never

from acd.config.schema import SiteConfig
from acd.engine import (
    HANDLING_STATES,
    STAFFED_STATES,
    AgentState,
    Engine,
    Interval,
    QueueCounters,
)
from acd.engine import commands as cmd
from acd.engine import events as ev
from acd.softphone_sim.bound import pooled_limit
from acd.softphone_sim.curves import Arrival, Curve
from acd.softphone_sim.loop import VirtualTime
from acd.softphone_sim.people import DRAIN_SECONDS, People, day_start, shift_logins
from acd.softphone_sim.result import (
    Figures,
    IntervalResult,
    PoolResult,
    Result,
    RunInfo,
    VendorResult,
    find_idle_while_abandoning,
)

SAMPLE_SECONDS = 60.0
"""How often the queue lengths are sampled for the per-interval longest queue."""


class Sample(NamedTuple):
    """The queues at one sampling minute, all queues together."""

    at: float
    in_line: int
    """Calls in line: callers on the line and callbacks waiting for their turn."""
    callbacks: int
    """Of those, callbacks (the caller's line down, their place kept)."""


class Caller:
    """One call of one person (a redial is a new call of the same person)."""

    __slots__ = ("attempt", "branch", "keys", "patience", "pressed", "waiting")

    def __init__(self, branch: str, attempt: int) -> None:
        self.branch = branch
        self.attempt = attempt
        self.keys = 0
        self.pressed: dict[str, str] = {}
        """How many of the branch's keys have been pressed."""
        self.waiting = False
        self.patience = 0.0


class Day:
    """The people of one simulated day: reacts to the engine's commands.

    Every decision a person takes is `People`'s (shared with the virtual PBX); the Day
    only turns the engine's commands into questions to it and its answers into events."""

    def __init__(
        self,
        site: SiteConfig,
        engine: Engine,
        rng: random.Random,
        on_arrival: Callable[[float], None],
    ) -> None:
        self.people = People(site, rng)
        self.cfg = self.people.cfg
        self.site = site
        self.engine = engine
        self.vt: VirtualTime
        self.callers: dict[str, Caller] = {}
        self.playing: dict[str, int] = {}
        self.stopped: set[tuple[str, int]] = set()
        """(call, prompt) stopped before their natural end, until that end comes."""
        self.pick_ups: set[tuple[str, str]] = set()
        self.outcomes: dict[str, int] = {}
        self.first_calls = 0
        self.redials = 0
        self._next_id = 0
        self._on_arrival = on_arrival
        self._number: dict[str, str] = {}
        self.samples: list[Sample] = []
        """The queues once a minute."""
        self.vendor_calls: dict[int, dict[str, int]] = {}
        """Calls sent to each vendor, by interval of the day."""
        self.arrivals: Iterator[Arrival] = iter(())
        self.day_start = 0.0
        self.interval_seconds = engine.metrics.interval_seconds

    # ------------------------------------------------------------------ callers

    def call(self, branch: str, attempt: int, number: str) -> None:
        self._next_id += 1
        call_id = f"c{self._next_id}"
        self.callers[call_id] = Caller(branch, attempt)
        self._number[call_id] = number
        if attempt == 1:
            self.first_calls += 1
        else:
            self.redials += 1
        self._on_arrival(self.vt.now)
        self.vt.send(ev.CallArrived(call_id=call_id, caller=number, dnis=self.cfg.dnis))

    def on_item(self, item: tuple[Any, ...], now: float) -> None:
        kind = item[0]
        if kind == "arrive":
            self.call(item[1], 1, self.people.new_number())
            self.next_arrival()
        elif kind == "redial":
            self.call(item[1], item[2], item[3])
        elif kind == "patience":
            caller = self.callers.get(item[1])
            if caller is not None and caller.waiting and caller.patience == item[2]:
                self._give_up(item[1], caller)
        elif kind == "pick_up":
            if (item[1], item[2]) in self.pick_ups:
                self.pick_ups.discard((item[1], item[2]))
                self.vt.send(ev.AgentAnswered(agent_id=item[1], call_id=item[2]))
        elif kind == "prompt_end":
            key = (item[1], item[2])
            if key in self.stopped:
                self.stopped.discard(key)
            else:
                self._prompt_ended(item[1], item[2])
        elif kind == "prompt_stopped":
            self._prompt_ended(item[1], item[2])
        elif kind == "sample":
            self._sample(now)

    def next_arrival(self) -> None:
        """Schedule the curve's next caller: one at a time, so memory does not grow
        with the length of the day."""
        arrival = next(self.arrivals, None)
        if arrival is not None:
            self.vt.schedule(self.day_start + arrival.at, ("arrive", arrival.branch))

    def _give_up(self, call_id: str, caller: Caller) -> None:
        caller.waiting = False
        delay = self.people.redial_after(caller.attempt)
        if delay is not None:
            self.vt.schedule(
                self.vt.now + delay,
                ("redial", caller.branch, caller.attempt + 1, self._number[call_id]),
            )
        self.vt.send(ev.CallerHungUp(call_id=call_id))

    # ------------------------------------------------------------------ the engine's commands

    def on_command(self, c: cmd.Command, now: float) -> None:
        """What the people and the PBX do on one engine command. Every kind is matched,
        the most frequent first (mypy's `assert_never` says when one is missing)."""
        match c:
            case cmd.Play():
                self._play(c, now)
            case cmd.CallOutcome():
                self._outcome(c, now)
            case cmd.StopPlayback():
                self._stop(c, now)
            case cmd.Hold():
                self._hold(c, now)
            case cmd.RingAgent():
                self._ring(c, now)
            case cmd.Connect():
                self._connect(c, now)
            case cmd.AnnounceWait():
                self._announce(c, now)
            case cmd.CancelRing():
                self._cancel_ring(c, now)
            case cmd.DialVendor():
                self._dial_vendor(c, now)
            case cmd.DialCallback():
                self._dial_callback(c, now)
            case cmd.HangupCaller():
                self._hangup_caller(c, now)
            case cmd.Answer() | cmd.HangupAgent() | cmd.CancelVendor() | cmd.SendLink():
                # Nothing the replay's people notice: answering costs no time, an
                # agent's or vendor's leg ends with the call's own end, a text message
                # goes to a phone the replay does not model.
                pass
            case cmd.Supervise():
                pass  # no supervisor listens in a replay
            case _:
                assert_never(c)

    def _play(self, c: cmd.Play, now: float) -> None:
        vt = self.vt
        self.playing[c.call_id] = c.prompt_id
        # The prompt's natural end, delivered unless the prompt was stopped before (a
        # key pressed, an agent answered): it has had its end then (`_stop`), and the
        # engine would only discard a second one.
        vt.schedule(
            now + self.people.prompt_seconds_per_sound * len(c.media),
            ("prompt_end", c.call_id, c.prompt_id),
        )
        caller = self.callers.get(c.call_id)
        if caller is None:
            return
        press = self.people.key_for_media(caller, c.media)
        if press is not None:
            vt.schedule(now + press.delay, ev.DigitPressed(call_id=c.call_id, digit=press.digit))

    def _stop(self, c: cmd.StopPlayback, now: float) -> None:
        stopped = self.playing.pop(c.call_id, None)
        if stopped is not None:
            self.stopped.add((c.call_id, stopped))
            self.vt.schedule(now, ("prompt_stopped", c.call_id, stopped))

    def _prompt_ended(self, call_id: str, prompt_id: int) -> None:
        """A prompt has ended: the engine hears of it if the call awaits it. The rest
        (the join prompt, a position announcement, a prompt cut short by an answer)
        the engine would only drop: most prompt ends, not delivered."""
        if self.engine.awaits_prompt(call_id, prompt_id):
            self.vt.send(ev.PromptFinished(call_id=call_id, prompt_id=prompt_id))

    def _hold(self, c: cmd.Hold, now: float) -> None:
        caller = self.callers.get(c.call_id)
        if caller is None:
            return
        caller.waiting = True
        caller.patience = now + self.people.patience(caller.branch)
        self.vt.schedule(caller.patience, ("patience", c.call_id, caller.patience))

    def _announce(self, c: cmd.AnnounceWait, now: float) -> None:
        caller = self.callers.get(c.call_id)
        if caller is None or not caller.waiting:
            return
        if self.people.hangs_up_on_announcement(c.expected_wait_seconds):
            self._give_up(c.call_id, caller)

    def _ring(self, c: cmd.RingAgent, now: float) -> None:
        delay = self.people.ring_answer_delay(c.callback)
        if delay is None:
            return  # lets it ring out: the engine's ring timer settles it
        self.pick_ups.add((c.agent_id, c.call_id))
        self.vt.schedule(now + delay, ("pick_up", c.agent_id, c.call_id))

    def _cancel_ring(self, c: cmd.CancelRing, now: float) -> None:
        self.pick_ups.discard((c.agent_id, c.call_id))

    def _talk_seconds(self, call_id: str) -> float:
        caller = self.callers.get(call_id)
        return self.people.talk_seconds(caller.branch if caller is not None else None)

    def _connect(self, c: cmd.Connect, now: float) -> None:
        caller = self.callers.get(c.call_id)
        if caller is not None:
            caller.waiting = False
        self.vt.schedule(
            now + self._talk_seconds(c.call_id),
            ev.AgentHungUp(agent_id=c.agent_id, call_id=c.call_id),
        )

    def _dial_vendor(self, c: cmd.DialVendor, now: float) -> None:
        caller = self.callers.get(c.call_id)
        if caller is not None:
            caller.waiting = False
        slot = self.vendor_calls.setdefault(
            int((now - self.day_start) // self.interval_seconds), {}
        )
        slot[c.vendor] = slot.get(c.vendor, 0) + 1
        answer = now + self.people.vendor_answer_seconds
        self.vt.schedule(answer, ev.VendorAnswered(call_id=c.call_id))
        self.vt.schedule(answer + self._talk_seconds(c.call_id), ev.VendorHungUp(call_id=c.call_id))

    def _dial_callback(self, c: cmd.DialCallback, now: float) -> None:
        delay = self.people.callback_pickup()
        if delay is not None:
            self.vt.schedule(now + delay, ev.CallbackAnswered(call_id=c.call_id))
        else:
            self.vt.schedule(now + c.timeout, ev.CallbackFailed(call_id=c.call_id))

    def _hangup_caller(self, c: cmd.HangupCaller, now: float) -> None:
        caller = self.callers.get(c.call_id)
        if caller is not None:
            caller.waiting = False
        # The PBX reports the line down, as Asterisk's StasisEnd would.
        self.vt.schedule(now, ev.CallerHungUp(call_id=c.call_id))

    def _outcome(self, c: cmd.CallOutcome, now: float) -> None:
        self.outcomes[c.outcome] = self.outcomes.get(c.outcome, 0) + 1

    def forget_ended(self) -> None:
        """Drop the people whose calls the engine no longer holds (memory stays flat)."""
        live = self.engine.calls
        for call_id in [k for k in self.callers if k not in live]:
            del self.callers[call_id]
            self._number.pop(call_id, None)
            self.playing.pop(call_id, None)

    # ------------------------------------------------------------------ sampling

    def _sample(self, now: float) -> None:
        in_line = callbacks = 0
        for q in self.engine.queues.values():
            in_line += len(q.waiting)
            # Callbacks keep their place in `waiting` with the line down: counted apart
            # so the report does not show them as callers on hold.
            callbacks += q.callbacks_in_line
        self.samples.append(Sample(now, in_line, callbacks))
        self.vt.schedule(now + SAMPLE_SECONDS, ("sample",))
        if len(self.callers) > 2 * len(self.engine.calls) + 1000:
            self.forget_ended()


def _figures(q: QueueCounters) -> Figures:
    return Figures(
        calls=q.joined,
        offered=q.offered,
        answered=q.answered_all,
        abandoned=q.abandoned,
        short_abandoned=q.short_abandoned,
        answer_rate=q.answer_rate,
        service_level=q.service_level,
        service_level_asterisk=q.service_level_asterisk,
        asa_seconds=q.asa_seconds,
        aht_seconds=q.aht_seconds,
        longest_wait_seconds=q.longest_wait_seconds,
        overflowed=q.overflowed,
        vendor_answered=q.vendor_answered,
        callbacks=q.callbacks_requested,
        blocked=q.blocked,
        answered_within_sl=q.answered_within_sl,
        abandoned_after_sl=q.abandoned_after_sl,
    )


def _open_agent_time(
    engine: Engine, start: float, interval_seconds: float, intervals: int, now: float
) -> dict[tuple[int, str], tuple[float, float]]:
    """(interval of the day, pool) -> (available, handling) seconds of the agents'
    stretches still open when the replay ends. The engine credits an agent's time to
    the pool when the agent changes state (engine/metrics.py), so an agent available
    from 15:00 to the end without a change would count for nothing: a pool that sat
    idle all along would look logged out. Counted the way `Engine` counts it."""
    found: dict[tuple[int, str], tuple[float, float]] = {}
    end = start + intervals * interval_seconds
    for agent in engine.agents.values():
        handling = agent.state in HANDLING_STATES
        if agent.state is not AgentState.AVAILABLE and not handling:
            continue
        t = max(agent.state_since, start)
        while t < min(now, end):
            i = int((t - start) // interval_seconds)
            upto = min(now, end, start + (i + 1) * interval_seconds)
            available, busy = found.get((i, agent.pool), (0.0, 0.0))
            if handling:
                busy += upto - t
            else:
                available += upto - t
            found[(i, agent.pool)] = (available, busy)
            t = upto
    return found


def _occupancy(
    slot: Interval | None, pool: str, open_time: tuple[float, float] | None
) -> float | None:
    """The pool's occupancy in the interval, its agents' open stretches included
    (`_open_agent_time`); None when none of its agents was in service in it."""
    counters = slot.pools.get(pool) if slot is not None else None
    if open_time is None:
        return counters.occupancy if counters is not None else None
    handling = (counters.handling_seconds if counters is not None else 0.0) + open_time[1]
    available = (counters.available_seconds if counters is not None else 0.0) + open_time[0]
    return handling / (handling + available) if handling + available else None


def _hhmm(t: float, start: float) -> str:
    minutes = int((t - start) // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class Follower(Protocol):
    """Something that follows the engine through a replayed day (e.g. its queue_log,
    `acd.queue_log.file.QueueLog`): `drain` is called after each interval and at the
    end, to take what the engine reported meanwhile (its facts carry their times)."""

    def drain(self) -> object: ...


def replay(
    site: SiteConfig,
    curve: Curve,
    seed: int,
    *,
    config_name: str = "",
    progress: Callable[[float], None] | None = None,
    follow: Callable[[Engine, float], Follower] | None = None,
) -> Result:
    """Replay the curve's day through the engine; the result of the whole day.
    `follow(engine, start)`, if given, is called once before the day starts (with
    the epoch time it starts at) and gives the follower to drain as it goes."""
    started = time.perf_counter()
    start = day_start(site)
    end = start + 86400.0
    master = random.Random(seed)
    engine = Engine(site, rng=random.Random(master.randrange(1 << 62)), start=start)
    people_rng = random.Random(master.randrange(1 << 62))
    arrivals_seed = master.randrange(1 << 62)
    interval_seconds = engine.metrics.interval_seconds
    n_intervals = int(86400 // interval_seconds)
    arrivals_per_interval = [0] * (n_intervals + int(DRAIN_SECONDS // interval_seconds) + 1)

    def count_arrival(now: float) -> None:
        arrivals_per_interval[
            min(int((now - start) // interval_seconds), len(arrivals_per_interval) - 1)
        ] += 1

    day = Day(site, engine, people_rng, count_arrival)
    vt = VirtualTime(engine, start, day.on_command, day.on_item)
    day.vt = vt
    for at, agent_id, working in shift_logins(site, start, end + DRAIN_SECONDS):
        vt.schedule(
            at, ev.AgentLogin(agent_id=agent_id) if working else ev.AgentLogout(agent_id=agent_id)
        )
    day.people.check_branches(curve.branches, f"curve {curve.name}")
    day.day_start = start
    day.arrivals = curve.iter_arrivals(arrivals_seed)
    day.next_arrival()
    vt.schedule(start, ("sample",))
    follower = follow(engine, start) if follow is not None else None

    staffed_at: list[dict[str, int]] = []
    stage_at: list[int] = []
    for i in range(n_intervals):
        vt.run(start + i * interval_seconds)
        staffed = dict.fromkeys(site.pools, 0)
        for agent in engine.agents.values():
            if agent.state in STAFFED_STATES:
                staffed[agent.pool] = staffed.get(agent.pool, 0) + 1
        staffed_at.append(staffed)
        stage_at.append(engine.surge.stage)
        if follower is not None:
            follower.drain()
        if progress is not None:
            progress(i / n_intervals)
    vt.run(end)
    # The drain: no new first calls; the last callers are served or give up.
    drain_end = end + DRAIN_SECONDS
    while vt.now < drain_end and (engine.calls or vt.now < end + 60):
        vt.run(min(drain_end, vt.now + 600))
        if follower is not None:
            follower.drain()
    if follower is not None:
        follower.drain()
    if progress is not None:
        progress(1.0)
    wall = time.perf_counter() - started
    result = _result(
        site,
        curve,
        seed,
        config_name,
        engine,
        day,
        vt,
        start,
        staffed_at,
        stage_at,
        arrivals_per_interval,
        wall,
    )
    result.bound = pooled_limit(site, result, start)
    result.idle_while_abandoning = find_idle_while_abandoning(
        result.intervals, round(interval_seconds / 60)
    )
    return result


def _result(
    site: SiteConfig,
    curve: Curve,
    seed: int,
    config_name: str,
    engine: Engine,
    day: Day,
    vt: VirtualTime,
    start: float,
    staffed_at: list[dict[str, int]],
    stage_at: list[int],
    arrivals: list[int],
    wall: float,
) -> Result:
    m = engine.metrics
    interval_seconds = m.interval_seconds
    first_index = engine.interval_of(start)
    total = m.total
    aht = total.aht_seconds or 1.0
    expected = curve.expected_per_interval(interval_seconds)
    longest: dict[int, int] = {}
    on_line: dict[int, int] = {}
    callbacks: dict[int, int] = {}
    for sample in day.samples:
        i = int((sample.at - start) // interval_seconds)
        longest[i] = max(longest.get(i, 0), sample.in_line)
        on_line[i] = max(on_line.get(i, 0), sample.in_line - sample.callbacks)
        callbacks[i] = max(callbacks.get(i, 0), sample.callbacks)
    vendor_calls = day.vendor_calls
    open_time = _open_agent_time(engine, start, interval_seconds, len(staffed_at), vt.now)
    intervals = []
    for i in range(len(staffed_at)):
        slot = m.intervals.get(first_index + i)
        figures = _figures(slot.total) if slot is not None else _figures(QueueCounters())
        occupancy = {
            name: _occupancy(slot, name, open_time.get((i, name)))
            for name in site.pools
        }
        staffed = sum(staffed_at[i].values())
        intervals.append(
            IntervalResult(
                start=_hhmm(start + i * interval_seconds, start),
                arrivals=arrivals[i],
                expected=round(expected[i], 3) if i < len(expected) else 0.0,
                agents_staffed=staffed,
                capacity_calls=round(staffed * interval_seconds / aht, 1),
                longest_queue=longest.get(i, 0),
                stage=stage_at[i],
                figures=figures,
                occupancy=occupancy,
                vendor_calls=vendor_calls.get(i, {}),
                longest_queue_on_line=on_line.get(i, 0),
                most_callbacks_waiting=callbacks.get(i, 0),
                pools_staffed=staffed_at[i],
                queues=(
                    # In the site's queue order, as the day's table.
                    {
                        name: _figures(slot.queues[name])
                        for name in m.queues
                        if name in slot.queues and slot.queues[name].joined
                    }
                    if slot is not None
                    else {}
                ),
            )
        )
    worked: dict[str, set[str]] = {name: set() for name in site.pools}
    for agent in engine.agents.values():
        if agent.logged_in_at > 0:
            worked[agent.pool].add(agent.id)
    pools = {
        name: PoolResult(
            kind=cfg.kind,
            agents=len(worked[name]),
            answered=m.pools[name].answered,
            handled=m.pools[name].handled,
            occupancy=m.pools[name].occupancy,
            aht_seconds=(
                (m.pools[name].talk_seconds + m.pools[name].wrap_up_seconds) / m.pools[name].handled
                if m.pools[name].handled
                else None
            ),
        )
        for name, cfg in site.pools.items()
    }
    vendors = {
        name: VendorResult(
            max_concurrent=v.cfg.max_concurrent,
            max_per_hour=v.cfg.max_per_hour,
            max_per_day=v.cfg.max_per_day,
            dialled=m.vendors[name].dialled,
            answered=m.vendors[name].answered,
            failed=m.vendors[name].failed,
            peak_concurrent=m.vendors[name].peak_concurrent,
        )
        for name, v in engine.vendors.items()
    }
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    calls = m.ivr.arrived
    return Result(
        config=config_name,
        curve=curve.name,
        seed=seed,
        date=site.simulation.date if site.simulation is not None else "",
        calls=calls,
        first_calls=day.first_calls,
        redials=day.redials,
        offered=total.offered,
        answered=total.answered_all,
        abandoned=total.abandoned,
        answer_rate=total.answer_rate,
        service_level=total.service_level,
        service_level_asterisk=total.service_level_asterisk,
        asa_seconds=total.asa_seconds,
        outcomes=dict(sorted(day.outcomes.items())),
        total=_figures(total),
        queues={name: _figures(q) for name, q in m.queues.items()},
        pools=pools,
        vendors=vendors,
        intervals=intervals,
        stages=[(_hhmm(t, start), stage) for t, stage in engine.surge.log],
        run=RunInfo(
            wall_seconds=round(wall, 3),
            events=vt.delivered,
            events_per_second=round(vt.delivered / wall) if wall else 0.0,
            calls_per_second=round(calls / wall) if wall else 0.0,
            peak_rss_mb=round(peak_rss_mb, 1),
        ),
    )
