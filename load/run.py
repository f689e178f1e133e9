"""One load run: the plan's callers through SIPp, the agents' phones and the vendors'
floors on asyncio, against a PBX with `acd serve` attached; what the callers lived,
beside what the replay predicts.

Order: check SIPp and the inputs; register the agents' phones (a PBX that does not
answer stops the run here, before any call); log the agents in by their feature
code; start SIPp; every second read its log and print a progress line; stop when
SIPp has placed every call and they have all ended, or at the drain bound; unregister
the phones and stop SIPp by its pid whatever happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import msgspec

from acd.config.schema import SiteConfig
from acd.load.compare import Predicted, predict
from acd.load.health import CpuWatch, LogWatch, cpu_seconds, find_servers
from acd.load.outcomes import CONNECTED, Figures, figures, read_attempts
from acd.load.phones import Account, CallRecord, Floor, Ring, Trunk
from acd.load.plan import Person, Sounds, plan
from acd.load.probe import probe
from acd.load.scenarios import Layout, injection, person_scenario
from acd.load.sipp import OPEN_RATE, SippCallers, free_media_port
from acd.softphone_sim.curves import Curve
from acd.softphone_sim.people import People, day_start, shift_logins

REGISTER_CONCURRENCY: Final = 20
LOGIN_SECONDS: Final = 30.0
"""An agent's log-in call (confirmation prompt, then the engine hangs up) takes a
few seconds; one not over by then names the agent and the code."""


@dataclass(frozen=True)
class LoadPlan:
    """What to run (checked by the command line before it gets here)."""

    site: SiteConfig
    curve: Curve
    """Already scaled."""
    seed: int
    start_minute: int
    minutes: int
    pbx: tuple[str, int]
    caller_port: int
    """The SIP port SIPp sends from: the carrier's address the PBX trusts."""
    credentials: dict[str, str]
    """SIP username -> password of the agents' phones."""
    agents: int | None = None
    """Log in this many agents (the site's first) instead of those on shift."""
    login_code: str = "*51"
    vendors: dict[str, int] = field(default_factory=dict)
    """Vendor name -> the 127.0.0.1 port its floor answers on (the trunk's contact)."""
    sounds: tuple[Path, ...] = ()
    drain_seconds: float = 1800.0
    """After the window, how long the last callers (and redials) may go on."""
    home: Path | None = None
    """Where SIPp's files go (a temporary folder when None)."""
    asterisk_log: Path | None = None
    """Asterisk's messages log, for its task-processor warnings during the calls."""


class Interval(msgspec.Struct, kw_only=True):
    start: str
    figures: Figures


class CallLine(msgspec.Struct, kw_only=True):
    """One call placed, for tools that check it against the engine's records."""

    number: str
    branch: str
    attempt: int
    outcome: str
    code: int | None
    answered_by: str | None
    """The phone (agent's SIP user, or vendor trunk) that answered it."""
    invite: float
    """Seconds since the callers started."""
    to_agent: float | None


class LoadResult(msgspec.Struct, kw_only=True):
    """A load run as JSON tools read it."""

    site: str
    curve: str
    seed: int
    window: str
    persons: int
    agents_logged_in: int
    totals: Figures
    intervals: list[Interval]
    predicted: Predicted
    answered_by_agent: int
    answered_by_vendor: int
    agent_misses: int
    late_starts: int
    """Calls whose first INVITE left more than 100 ms after its planned time."""
    cpu_seconds: dict[str, float]
    """Per process during the calls: "acd load", "sipp", and the servers found."""
    taskprocessor_warnings: int | None
    wall_seconds: float
    sl_seconds: float
    calls: list[CallLine]


class FloorPeople:
    """The agents and the vendors' staff at the phones, deciding call by call from
    the people model: an agent answers after the modelled delay or lets it ring (a
    miss); a vendor answers after `vendor_answer_seconds`; both talk the caller's
    branch's talk time (the caller found by their number) and then hang up."""

    def __init__(self, people: People, branch_of: dict[str, str], vendors: set[str]) -> None:
        self.people = people
        self.branch_of = branch_of
        self.vendors = vendors

    def decide(self, phone_user: str, caller_number: str) -> Ring:
        people = self.people
        talk = people.talk_seconds(self.branch_of.get(caller_number))
        if phone_user in self.vendors:
            return Ring(answer_after=people.vendor_answer_seconds, talk=talk)
        return Ring(answer_after=people.ring_answer_delay(False), talk=talk)


def agents_on_duty(site: SiteConfig, start_minute: int, count: int | None) -> list[str]:
    """The agent ids to log in: `count` first agents of the site, or those on shift
    when the window starts. They stay logged in to the end: a shift edge inside the
    window is not followed (the replay follows it; choose windows between edges)."""
    if count is not None:
        return [a.id for a in site.agents[:count]]
    at = day_start(site) + start_minute * 60.0
    return [agent for t, agent, working in shift_logins(site, at, at) if working and t == at]


def sip_user(endpoint: str) -> str:
    """The SIP user of an agent endpoint "PJSIP/agent1001" -> "agent1001"."""
    return endpoint.split("/", 1)[-1]


@dataclass
class Progress:
    """Counts from SIPp's log lines as they come, for the progress line."""

    placed: int = 0
    answered: int = 0
    connected: int = 0
    ended: int = 0
    failed: int = 0
    recent: list[float] = field(default_factory=list)

    def feed(self, lines: list[str], now: float) -> None:
        for line in lines:
            parts = line.split()
            if len(parts) < 4:
                continue
            step = parts[2]
            if step == "invite":
                self.placed += 1
                self.recent.append(now)
            elif step == "answered":
                self.answered += 1
            elif step == "connected":
                self.connected += 1
            elif step in ("ended", "abandoned"):
                self.ended += 1
            elif step == "failed":
                self.failed += 1
        self.recent = [t for t in self.recent if t > now - 10.0]

    def line(self, elapsed: float) -> str:
        in_pbx = self.answered - self.ended
        return (
            f"[{elapsed:6.0f} s] rate {len(self.recent) / 10.0:5.1f}/s  placed {self.placed}  "
            f"in the PBX {in_pbx}  connected {self.connected}  failed {self.failed}"
        )


class Placed(msgspec.Struct, kw_only=True):
    """What SIPp's callers lived in one placing, and what it cost."""

    lines: list[str]
    cpu_seconds: dict[str, float]
    complete: bool
    """False when the bound stopped callers still up."""
    wall_seconds: float
    """From SIPp's start until the last call ended (or the bound)."""
    taskprocessor_warnings: int | None
    """Asterisk's task-processor warnings meanwhile (None: its log was not given)."""


def build_floor(plan_: LoadPlan, branch_of: dict[str, str]) -> tuple[Floor, list[Account]]:
    """The phones of the agents to log in and of the vendors' floors, deciding from
    a people model of their own (seeded from the run's seed); `branch_of` (number ->
    branch, filled as callers are planned) gives each caller's talk time."""
    site = plan_.site
    people = People(site, random.Random(f"phones-{plan_.seed}"))
    vendor_trunks = {sip_user(v.trunk): v for v in site.vendors.values()}
    endpoints = {a.id: sip_user(a.endpoint) for a in site.agents}
    accounts = []
    for agent in agents_on_duty(site, plan_.start_minute, plan_.agents):
        user = endpoints[agent]
        if user not in plan_.credentials:
            raise RuntimeError(f"agent {agent}: no SIP account {user!r} in the agents file")
        accounts.append(Account(user, plan_.credentials[user], 0))
    trunks = [
        Trunk(name, port, vendor_trunks[name].max_concurrent)
        for name, port in plan_.vendors.items()
    ]
    floor = Floor(
        f"{plan_.pbx[0]}:{plan_.pbx[1]}",
        accounts,
        FloorPeople(people, branch_of, set(vendor_trunks)),
        vendors=trunks,
    )
    return floor, accounts


async def open_floor(
    plan_: LoadPlan, floor: Floor, accounts: list[Account], say: Callable[[str], None]
) -> None:
    """Check that the PBX answers SIP, register every phone, log every agent in."""
    await probe(*plan_.pbx)
    await floor.start()
    say(f"{len(accounts)} agents' phones registered at {plan_.pbx[0]}:{plan_.pbx[1]}")
    gate = asyncio.Semaphore(REGISTER_CONCURRENCY)

    async def login(user: str) -> None:
        async with gate:
            try:
                async with asyncio.timeout(LOGIN_SECONDS):
                    await floor.phones[user].dial(plan_.login_code)
            except TimeoutError:
                raise RuntimeError(
                    f"{user} dialling {plan_.login_code}: no answer within {LOGIN_SECONDS:g} s "
                    "(is the feature code in the agents' dialplan context, and acd serve up?)"
                ) from None

    async with asyncio.TaskGroup() as tg:
        for account in accounts:
            tg.create_task(login(account.user))
    say(f"{len(accounts)} agents logged in ({plan_.login_code})")


async def place(
    plan_: LoadPlan,
    persons: list[Person],
    home: Path,
    progress: Callable[[str], None],
    bound_seconds: float,
) -> Placed:
    """Place `persons` through SIPp (their `at` counted from SIPp's start) and wait
    until every call has ended, or `bound_seconds`; SIPp is stopped by its pid in
    any case."""
    assert plan_.site.simulation is not None
    if not persons:
        raise RuntimeError("no caller falls in the window: nothing to place")
    layout = Layout(
        max((len(p.keys) for p in persons), default=0),
        max((len(p.attempts) for p in persons), default=1),
    )
    digits = sorted({d for p in persons for _, d in p.keys})
    # Call i opens about i / OPEN_RATE s after SIPp starts: it waits the rest.
    lines = [layout.line(p, p.at * 1000 - i * 1000 / OPEN_RATE) for i, p in enumerate(persons)]
    callers = SippCallers(
        home, person_scenario(layout, digits), injection(layout, lines),
        f"{plan_.pbx[0]}:{plan_.pbx[1]}", plan_.site.simulation.dnis, plan_.caller_port,
        free_media_port(), len(persons),
    )  # fmt: skip
    servers = CpuWatch(find_servers())
    servers.start()
    warnings = LogWatch(plan_.asterisk_log)
    warnings.start()
    cpu0 = time.process_time()
    try:
        await callers.start()
        assert callers.process is not None
        sipp_pid = callers.process.pid
        sipp_cpu = 0.0
        counts = Progress()
        seen: list[str] = []
        t0 = time.monotonic()
        while callers.running and time.monotonic() < t0 + bound_seconds:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(callers.wait(), 1.0)
            used = cpu_seconds(sipp_pid)
            if used is not None:
                sipp_cpu = used
            new = callers.new_lines()
            seen += new
            counts.feed(new, time.monotonic())
            progress(counts.line(time.monotonic() - t0))
        complete = not callers.running
        await callers.stop()
        seen += callers.new_lines()
        if not seen:
            # SIPp placed nothing: it refused its scenario, data or port.
            raise RuntimeError(f"SIPp placed no call:\n{callers.output()}")
    finally:
        await callers.stop()
    cpu = {"acd load": time.process_time() - cpu0, "sipp": sipp_cpu, **servers.read()}
    return Placed(
        lines=seen, cpu_seconds=cpu, complete=complete, wall_seconds=time.monotonic() - t0,
        taskprocessor_warnings=warnings.read(),
    )  # fmt: skip


async def run_load(
    plan_: LoadPlan, say: Callable[[str], None], progress: Callable[[str], None]
) -> LoadResult:
    """Run `plan_`; `say` tells what is being done, `progress` gets the progress line
    once a second while calls are placed. Raises RuntimeError (or OSError,
    RegistrationError, DialError) with a clear message when the PBX does not answer
    or refuses the phones; every process and socket is released in any case."""
    site = plan_.site
    assert site.simulation is not None
    started = time.monotonic()
    sounds = Sounds(plan_.sounds, site.simulation.prompt_seconds_per_sound)
    persons = plan(site, plan_.curve, plan_.seed, plan_.start_minute, plan_.minutes, sounds)
    if not persons:
        raise RuntimeError("no caller falls in the window: nothing to place")
    say(f"{len(persons)} callers planned in the window")
    floor, accounts = build_floor(plan_, {p.number: p.branch for p in persons})
    with tempfile.TemporaryDirectory(prefix="acd-load-") as tmp:
        try:
            await open_floor(plan_, floor, accounts, say)
            placed = await place(
                plan_, persons, plan_.home or Path(tmp), progress,
                plan_.minutes * 60.0 + plan_.drain_seconds,
            )  # fmt: skip
        finally:
            await floor.close()
    if not placed.complete:
        say("drain bound reached: the callers still up were stopped (counted unfinished)")
    return summarise(plan_, persons, placed, floor.records, len(accounts), started)


def summarise(
    plan_: LoadPlan,
    persons: list[Person],
    placed: Placed,
    records: list[CallRecord],
    agents: int,
    started: float,
) -> LoadResult:
    """The run in figures: the callers' attempts from SIPp's log, per interval (by
    when each person's call was planned) and in total, each answered call matched to
    the phone that answered it, and the replay's prediction for the window."""
    site = plan_.site
    vendor_trunks = {sip_user(v.trunk) for v in site.vendors.values()}
    all_lines, cpu = placed.lines, placed.cpu_seconds
    attempts = read_attempts(all_lines)
    end_minute = plan_.start_minute + plan_.minutes
    sl = site.site.service_level_seconds
    short = site.site.short_abandon_seconds
    interval = site.site.interval_minutes * 60  # the engine's and replay's reporting
    by_interval: dict[int, list[int]] = {}
    first_invite = {a.person: a.invite for a in attempts if a.attempt == 1}
    late = sum(1 for a in attempts if a.attempt == 1 and a.invite - persons[a.person].at > 0.1)
    for i, a in enumerate(attempts):
        start = first_invite.get(a.person, a.invite)
        offset = persons[a.person].at + (a.invite - start)
        by_interval.setdefault(int(offset // interval), []).append(i)
    intervals = [
        Interval(
            start=_hhmm(plan_.start_minute * 60 + k * interval),
            figures=figures([attempts[i] for i in idx], sl, short),
        )
        for k, idx in sorted(by_interval.items())
    ]
    answered = [r for r in records if r.direction == "inbound" and r.outcome == "answered"]
    # The n-th answer a phone gave a number is that number's n-th connected call.
    answers: dict[str, list[str]] = {}
    for record in sorted(answered, key=lambda r: r.rang_at):
        answers.setdefault(record.caller_number, []).append(record.phone)
    lines_ = []
    for a in attempts:
        person = persons[a.person]
        by = None
        if a.outcome == CONNECTED:
            queue = answers.get(person.number, [])
            by = queue.pop(0) if queue else None
        lines_.append(CallLine(
            number=person.number, branch=person.branch, attempt=a.attempt, outcome=a.outcome,
            code=a.code, answered_by=by, invite=a.invite,
            to_agent=None if a.connected is None else a.connected - a.invite,
        ))  # fmt: skip
    return LoadResult(
        site=site.site.name,
        curve=plan_.curve.name,
        seed=plan_.seed,
        window=f"{_hhmm(plan_.start_minute * 60)}-{_hhmm(end_minute * 60)}",
        persons=len(persons),
        agents_logged_in=agents,
        totals=figures(attempts, sl, short),
        intervals=intervals,
        predicted=predict(site, plan_.curve, plan_.seed, plan_.start_minute, plan_.minutes),
        answered_by_agent=sum(1 for r in answered if r.phone not in vendor_trunks),
        answered_by_vendor=sum(1 for r in answered if r.phone in vendor_trunks),
        agent_misses=sum(1 for r in records if r.outcome == "missed"),
        late_starts=late,
        cpu_seconds=cpu,
        taskprocessor_warnings=placed.taskprocessor_warnings,
        wall_seconds=time.monotonic() - started,
        sl_seconds=sl,
        calls=lines_,
    )



def _hhmm(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"
