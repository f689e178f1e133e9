"""The people's shared behaviour model (softphone_sim/people.py) and the simulated
population of the virtual PBX (softphone_sim/pbx/population.py), the latter against a
fake PBX on a fake clock: no sockets, no event loop."""

from __future__ import annotations

import heapq
import itertools
import random
import statistics
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from acd.config.loader import load_site
from acd.config.schema import (
    AgentBehaviour,
    HangUpOnWait,
    Patience,
    Redial,
    Simulation,
    SiteConfig,
    SurvivalPoint,
)
from acd.softphone_sim.behaviour import duration
from acd.softphone_sim.curves import Curve
from acd.softphone_sim.pbx.phones import FarEnd, Phone
from acd.softphone_sim.pbx.population import (
    ABANDONED,
    ABANDONED_ON_ANNOUNCEMENT,
    ANSWERED_AGENT,
    ANSWERED_VENDOR,
    CALLBACK_ANSWERED,
    CALLBACK_REQUESTED,
    HUNG_UP_BY_PBX,
    Caller,
    Population,
    announced_wait_minutes,
    caller_number,
)
from acd.softphone_sim.people import People, day_start, shift_logins

ROOT = Path(__file__).resolve().parent.parent
SEOUL = ROOT / "config" / "seoul120.yaml"
MAIN_MENU = "sound:custom/main-menu"
LANGUAGE_MENU = "sound:custom/language-menu"
OFFER = "sound:custom/callback-offer"
NEVER = Patience(kind="exponential", mean_seconds=1e12)  # nobody gives up in a test


@pytest.fixture(scope="module")
def seoul() -> SiteConfig:
    return load_site(SEOUL)


def with_simulation(site: SiteConfig, **changes: object) -> SiteConfig:
    assert site.simulation is not None
    sim: Simulation = msgspec.structs.replace(site.simulation, **changes)
    return msgspec.structs.replace(site, simulation=sim)


class Dialler:
    def __init__(self, branch: str) -> None:
        self.branch = branch
        self.keys = 0
        self.pressed: dict[str, str] = {}


# ---------------------------------------------------------------------- the model


def test_a_caller_presses_its_branch_keys_in_order_one_per_menu(seoul: SiteConfig) -> None:
    people = People(seoul, random.Random(1))
    caller = Dialler("foreign")  # keys ["9", "1"]: main menu, then the language menu
    first = people.key_for_media(caller, [MAIN_MENU])
    second = people.key_for_media(caller, [LANGUAGE_MENU])
    assert first is not None and second is not None
    assert (first.digit, second.digit) == ("9", "1")
    assert 1.0 <= first.delay <= 3.0 and not first.accepts_callback
    repeat = people.key_for_media(caller, [MAIN_MENU])  # the menu again: the same key
    assert repeat is not None and repeat.digit == "9"
    assert caller.keys == 2
    assert people.key_for_media(Dialler("water"), ["sound:custom/invalid-option"]) is None


def test_a_callback_offer_is_taken_with_the_configured_probability(seoul: SiteConfig) -> None:
    always = People(with_simulation(seoul, callback_acceptance=1.0), random.Random(1))
    press = always.key_for_media(Dialler("general"), [OFFER])
    assert press is not None and press.accepts_callback and press.digit == "1"
    assert press.delay == always.prompt_seconds_per_sound  # as the offer's sound ends
    never = People(with_simulation(seoul, callback_acceptance=0.0), random.Random(1))
    assert never.key_for_media(Dialler("general"), [OFFER]) is None
    some = People(with_simulation(seoul, callback_acceptance=0.35), random.Random(2))
    taken = sum(some.key_for_media(Dialler("general"), [OFFER]) is not None for _ in range(4000))
    assert 0.32 < taken / 4000 < 0.38


def test_patience_follows_the_configured_model(seoul: SiteConfig) -> None:
    people = People(seoul, random.Random(3))  # lognormal, median 150 s
    draws = [people.patience("general") for _ in range(4000)]
    assert 135 < statistics.median(draws) < 165
    table = Patience(
        kind="table",
        points=[
            SurvivalPoint(after_seconds=0, still_waiting=1.0),
            SurvivalPoint(after_seconds=60, still_waiting=0.0),
        ],
    )
    flat = People(with_simulation(seoul, patience=table), random.Random(1))
    assert all(0 <= flat.patience("water") <= 60 for _ in range(200))


def test_redial_follows_probability_delay_and_attempts(seoul: SiteConfig) -> None:
    always = People(
        with_simulation(
            seoul, redial=Redial(probability=1.0, mean_delay_seconds=600, max_attempts=3)
        ),
        random.Random(4),
    )
    delays = [always.redial_after(1) for _ in range(3000)]
    assert all(d is not None for d in delays)
    assert 560 < statistics.mean(d for d in delays if d is not None) < 640
    assert always.redial_after(3) is None  # the third call was the last
    never = People(with_simulation(seoul, redial=Redial(probability=0.0)), random.Random(4))
    assert never.redial_after(1) is None


def test_a_long_announced_wait_sends_some_callers_away(seoul: SiteConfig) -> None:
    sure = People(
        with_simulation(seoul, hang_up_on_wait=HangUpOnWait(over_seconds=600, probability=1.0)),
        random.Random(5),
    )
    assert sure.hangs_up_on_announcement(660.0)
    assert not sure.hangs_up_on_announcement(600.0)
    assert not sure.hangs_up_on_announcement(None)
    no_rule = People(with_simulation(seoul, hang_up_on_wait=None), random.Random(5))
    assert not no_rule.hangs_up_on_announcement(3600.0)


def test_agents_miss_rings_but_never_their_callbacks(seoul: SiteConfig) -> None:
    behaviour = AgentBehaviour(answer_min_seconds=2, answer_max_seconds=6, miss_probability=1.0)
    people = People(with_simulation(seoul, agents=behaviour), random.Random(6))
    assert people.ring_answer_delay(callback=False) is None
    delay = people.ring_answer_delay(callback=True)
    assert delay is not None and 2 <= delay <= 6


def test_callback_pickup_and_talk_times(seoul: SiteConfig) -> None:
    reached = People(with_simulation(seoul, callback_reached=1.0), random.Random(7))
    delay = reached.callback_pickup()
    assert delay is not None and 3 <= delay <= 10
    assert (
        People(with_simulation(seoul, callback_reached=0.0), random.Random(7)).callback_pickup()
        is None
    )
    # An unknown caller talks as the first branch does, drawing what `duration` draws.
    people, rng = People(seoul, random.Random(8)), random.Random(8)
    assert seoul.simulation is not None
    first = next(iter(seoul.simulation.branches.values()))
    assert people.talk_seconds(None) == duration(first.talk, rng)
    assert people.talk_seconds("directory") == duration(
        seoul.simulation.branches["directory"].talk, rng
    )


def test_unknown_branches_and_missing_simulation_are_named(seoul: SiteConfig) -> None:
    people = People(seoul, random.Random(1))
    with pytest.raises(ValueError, match=r"curve x: branch 'chatbot' has no `simulation.branches`"):
        people.check_branches(["covid", "chatbot"], "curve x")
    with pytest.raises(ValueError, match="simulation"):
        People(msgspec.structs.replace(seoul, simulation=None), random.Random(1))


def test_announced_wait_is_read_from_app_queue_sounds() -> None:
    media = [
        "sound:queue-thereare",
        "digits:3",
        "sound:queue-callswaiting",
        "sound:queue-holdtime",
        "digits:4",
        "sound:queue-minutes",
    ]
    assert announced_wait_minutes(media) == 4
    assert (
        announced_wait_minutes(["sound:queue-holdtime", "number:12", "sound:queue-minutes"]) == 12
    )
    said = ["sound:queue-holdtime", "sound:digits/20", "sound:digits/5", "sound:queue-minutes"]
    assert announced_wait_minutes(said) == 25
    assert announced_wait_minutes(["sound:queue-thereare", "digits:3"]) is None
    assert caller_number('"Agent 1001" <1001>') == "1001"
    assert caller_number("01012345678") == "01012345678"


# ---------------------------------------------------------------------- a fake PBX


class FakeClock:
    """`phones.Clock` driven by the test: `advance` runs what falls due, in order."""

    speed = 1.0

    def __init__(self, now: float) -> None:
        self._now = now
        self._heap: list[tuple[float, int, list[Callable[[], None] | None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_at(self, when: float, fn: Callable[[], None]) -> Callable[[], None]:
        entry: list[Callable[[], None] | None] = [fn]
        heapq.heappush(self._heap, (max(when, self._now), next(self._seq), entry))
        return lambda: entry.__setitem__(0, None)

    def call_later(self, delay: float, fn: Callable[[], None]) -> Callable[[], None]:
        return self.call_at(self._now + delay, fn)

    def run_until(self, until: float) -> None:
        while self._heap and self._heap[0][0] <= until:
            when, _, entry = heapq.heappop(self._heap)
            self._now = when
            fn = entry[0]
            if fn is not None:
                fn()
        self._now = max(self._now, until)

    def advance(self, seconds: float) -> None:
        self.run_until(self._now + seconds)


class FakeLine:
    _ids = itertools.count(1)

    def __init__(self, owner: str) -> None:
        self._id = f"{owner}-{next(self._ids)}"
        self._up = True
        self.did: list[str] = []

    @property
    def channel_id(self) -> str:
        return self._id

    @property
    def up(self) -> bool:
        return self._up

    def answer(self) -> None:
        self.did.append("answer")

    def reject(self, cause: int) -> None:
        self.did.append(f"reject {cause}")
        self._up = False

    def press(self, digit: str) -> None:
        self.did.append(f"press {digit}")

    def hang_up(self) -> None:
        self.did.append("hang_up")
        self._up = False

    def drop(self) -> None:
        """The PBX side ends the line (the far end hears of it by `on_hangup`)."""
        self._up = False


class FakePbx:
    """`phones.Pbx` that records what the people do; the test plays the controller."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.inbound: list[tuple[FakeLine, str, str, FarEnd]] = []
        self.features: list[tuple[float, str, list[str]]] = []
        self.phones: dict[str, Phone] = {}
        self.patterns: list[tuple[str, Callable[[str], Phone]]] = []

    def place_inbound(self, caller: str, dnis: str, far_end: FarEnd) -> FakeLine:
        line = FakeLine("pstn")
        self.inbound.append((line, caller, dnis, far_end))
        return line

    def dial_feature(self, endpoint: str, args: list[str], far_end: FarEnd) -> FakeLine:
        self.features.append((self.clock.now(), endpoint, args))
        return FakeLine("feature")

    def register(self, endpoint: str, phone: Phone) -> None:
        self.phones[endpoint] = phone

    def register_pattern(self, pattern: str, factory: Callable[[str], Phone]) -> None:
        self.patterns.append((pattern, factory))

    def ring(self, endpoint: str, caller_id: str) -> tuple[FakeLine, Phone]:
        phone = self.phones.get(endpoint)
        if phone is None:
            import fnmatch

            phone = next(f(endpoint) for p, f in self.patterns if fnmatch.fnmatchcase(endpoint, p))
        line = FakeLine(endpoint)
        phone.on_incoming(line, caller_id)
        return line, phone


def steady(calls_per_interval: float) -> Curve:
    """A curve with the same expected calls of `general` in every quarter hour."""
    return Curve.from_columns("steady", 15, {"general": [calls_per_interval] * 96})


def calm(site: SiteConfig, **changes: object) -> SiteConfig:
    """Deterministic people: nobody gives up, misses, or redials unless told."""
    settings: dict[str, object] = {
        "patience": NEVER,
        "redial": Redial(probability=0.0),
        "agents": AgentBehaviour(answer_min_seconds=2, answer_max_seconds=6, miss_probability=0.0),
        "hang_up_on_wait": None,
    }
    settings.update(changes)
    return with_simulation(site, **settings)


def population(
    site: SiteConfig, curve: Curve, start_minute: int = 600, duration_minutes: int = 60
) -> tuple[Population, FakePbx, FakeClock]:
    clock = FakeClock(day_start(site) + start_minute * 60.0)
    pbx = FakePbx(clock)
    pop = Population(
        site, curve, pbx, seed=5, start_minute=start_minute, duration_minutes=duration_minutes
    )
    pop.start()
    return pop, pbx, clock


def first_caller(pbx: FakePbx, clock: FakeClock) -> tuple[FakeLine, Caller]:
    while not pbx.inbound:
        clock.advance(10)
    line, _, _, far_end = pbx.inbound[0]
    assert isinstance(far_end, Caller)
    return line, far_end


# ---------------------------------------------------------------------- the population


def test_arrivals_follow_the_curve_window(seoul: SiteConfig) -> None:
    curve = steady(30.0)
    pop, pbx, clock = population(calm(seoul), curve, start_minute=600, duration_minutes=60)
    clock.run_until(pop.window_end + 1)
    master = random.Random(5)
    master.randrange(1 << 62)
    master.randrange(1 << 62)
    expected = curve.arrivals(master.randrange(1 << 62), start_seconds=36000.0, end_seconds=39600.0)
    placed = [r for r in pop.records if r.kind == "inbound"]
    assert len(placed) == len(expected) == len(pbx.inbound) > 90
    assert [r.placed_at for r in placed] == [round(a.at, 3) for a in expected]
    assert all(r.branch == "general" and r.attempt == 1 for r in placed)
    assert {dnis for _, _, dnis, _ in pbx.inbound} == {"120"}
    assert pop.first_calls == len(placed) and pop.redials == 0


def test_agents_log_in_and_out_at_their_shift_edges(seoul: SiteConfig) -> None:
    # 2026-06-09 is a Tuesday: the early shift works from 08:00, the day shift 09:00-18:00.
    # Callers from 08:00 to 18:00; shifts are followed until the drain ends at 21:00.
    pop, pbx, clock = population(
        calm(seoul), steady(0.0), start_minute=8 * 60, duration_minutes=600
    )
    clock.run_until(day_start(seoul) + 22 * 3600)
    by_shift = {a.shift: a for a in seoul.agents}
    day_agent, early_agent = by_shift["day"], by_shift["early"]
    moves = [
        (round(t - pop.day_start), args) for t, e, args in pbx.features if e == day_agent.endpoint
    ]
    assert moves == [(9 * 3600, ["login"]), (18 * 3600, ["logout"])]
    early = [
        (round(t - pop.day_start), args) for t, e, args in pbx.features if e == early_agent.endpoint
    ]
    assert early[0] == (8 * 3600, ["login"])
    start = day_start(seoul) + 8 * 3600
    assert len(pbx.features) == len(shift_logins(seoul, start, start + 13 * 3600))
    assert pop.done  # no callers: over when the window is
    assert set(pbx.phones) >= {a.endpoint for a in seoul.agents} | {
        v.trunk for v in seoul.vendors.values()
    }
    assert pbx.patterns[0][0] == "PJSIP/*@pstn"


def test_a_caller_bridged_to_an_agent_is_recorded_answered_with_its_wait(
    seoul: SiteConfig,
) -> None:
    pop, pbx, clock = population(calm(seoul), steady(10.0))
    line, caller = first_caller(pbx, clock)
    placed = clock.now()
    caller.on_media(line, [MAIN_MENU])
    clock.advance(3.0)
    assert line.did == ["press 3"]  # general
    clock.advance(5.0)
    caller.on_hold(line)
    clock.advance(40.0)
    agent = seoul.agents[0]
    agent_line, agent_phone = pbx.ring(agent.endpoint, f'"{caller.number}" <{caller.number}>')
    clock.advance(6.0)
    assert agent_line.did == ["answer"]
    caller.on_bridged(line, [agent_line.channel_id])
    agent_phone.on_bridged(agent_line, [line.channel_id])
    clock.advance(3 * 3600)
    assert agent_line.did == ["answer", "hang_up"]  # after the talk time
    line.drop()
    caller.on_hangup(line, 16)
    record = caller.record
    assert record.outcome == ANSWERED_AGENT and record.answered_by == agent.endpoint
    assert record.wait_seconds == 46.0
    assert 36000 <= record.placed_at <= placed - pop.day_start
    assert record.channel_id == line.channel_id and record.ended_at is not None
    summary = pop.summary()
    assert summary.answered == summary.answered_by_agent == 1


def test_a_caller_out_of_patience_hangs_up_and_redials_from_the_same_number(
    seoul: SiteConfig,
) -> None:
    site = calm(
        seoul,
        patience=Patience(kind="exponential", mean_seconds=30.0),
        redial=Redial(probability=1.0, mean_delay_seconds=60, max_attempts=2),
    )
    pop, pbx, clock = population(site, steady(1.0), duration_minutes=5)
    line, caller = first_caller(pbx, clock)
    caller.on_hold(line)
    clock.advance(3600)
    assert line.did == ["hang_up"] and caller.record.outcome == ABANDONED
    redials = [
        (c, far) for _, c, _, far in pbx.inbound if isinstance(far, Caller) and far.attempt == 2
    ]
    assert redials and redials[0][0] == caller.number
    again = redials[0][1]
    assert isinstance(again, Caller)
    again_line = next(ln for ln, _, _, far in pbx.inbound if far is again)
    again.on_hold(again_line)
    clock.advance(3600)
    assert again.record.outcome == ABANDONED
    assert not any(isinstance(f, Caller) and f.attempt == 3 for _, _, _, f in pbx.inbound)
    assert pop.summary().redials == pop.redials >= 1


def test_a_long_announced_wait_and_a_closing_prompt(seoul: SiteConfig) -> None:
    site = calm(seoul, hang_up_on_wait=HangUpOnWait(over_seconds=600, probability=1.0))
    _, pbx, clock = population(site, steady(10.0))
    line, caller = first_caller(pbx, clock)
    caller.on_hold(line)
    short = [
        "sound:queue-thereare",
        "digits:3",
        "sound:queue-callswaiting",
        "sound:queue-holdtime",
        "digits:4",
        "sound:queue-minutes",
    ]
    caller.on_media(line, short)
    assert line.up
    caller.on_media(line, [*short[:4], "digits:12", "sound:queue-minutes"])
    assert line.did == ["hang_up"] and caller.record.outcome == ABANDONED_ON_ANNOUNCEMENT
    clock.advance(60)
    other_line, _, _, other = pbx.inbound[1]
    other.on_hangup(other_line, 16)  # e.g. the queue was full: a prompt, then hung up
    assert isinstance(other, Caller) and other.record.outcome == HUNG_UP_BY_PBX
    assert other.record.cause == 16


def test_a_callback_taken_then_answered_by_the_citizen(seoul: SiteConfig) -> None:
    site = calm(
        seoul,
        callback_acceptance=1.0,
        callback_reached=1.0,
        agents=AgentBehaviour(miss_probability=1.0),  # misses everything but callbacks
    )
    pop, pbx, clock = population(site, steady(10.0))
    line, caller = first_caller(pbx, clock)
    caller.on_hold(line)
    caller.on_media(line, [OFFER])
    clock.advance(5)
    assert line.did == ["press 1"]
    line.drop()
    caller.on_hangup(line, 16)
    assert caller.record.outcome == CALLBACK_REQUESTED
    agent = seoul.agents[0]
    other_line, _ = pbx.ring(agent.endpoint, "01000000000")  # an inbound call
    clock.advance(10)
    assert other_line.did == []  # missed
    agent_line, agent_phone = pbx.ring(agent.endpoint, caller.number)  # the callback
    clock.advance(10)
    assert agent_line.did == ["answer"]
    citizen_line, citizen = pbx.ring(f"PJSIP/{caller.number}@pstn", caller.number)
    clock.advance(10)
    assert citizen_line.did == ["answer"]
    agent_phone.on_bridged(agent_line, [citizen_line.channel_id])
    citizen.on_bridged(citizen_line, [agent_line.channel_id])
    clock.advance(3 * 3600)
    assert agent_line.did == ["answer", "hang_up"]
    citizen_line.drop()
    citizen.on_hangup(citizen_line, 16)
    leg = next(r for r in pop.records if r.kind == "callback")
    assert leg.kind == "callback" and leg.number == caller.number
    assert leg.outcome == CALLBACK_ANSWERED and leg.branch == caller.branch
    assert leg.answered_by == agent.endpoint
    summary = pop.summary()
    assert summary.callbacks_requested == 1 and summary.callbacks_answered == 1
    assert summary.agent_misses == 1


def test_a_vendor_answers_after_its_answer_time(seoul: SiteConfig) -> None:
    _, pbx, clock = population(calm(seoul), steady(10.0))
    line, caller = first_caller(pbx, clock)
    caller.on_hold(line)
    trunk = next(iter(seoul.vendors.values())).trunk
    vendor_line, vendor = pbx.ring(trunk, caller.number)
    clock.advance(5.9)
    assert vendor_line.did == []
    clock.advance(0.2)
    assert vendor_line.did == ["answer"]
    caller.on_bridged(line, [vendor_line.channel_id])
    vendor.on_bridged(vendor_line, [line.channel_id])
    assert caller.record.outcome == ANSWERED_VENDOR
    assert caller.record.answered_by == next(iter(seoul.vendors))


def test_the_run_is_done_when_the_window_is_over_and_the_callers_are_gone(
    seoul: SiteConfig,
) -> None:
    pop, pbx, clock = population(calm(seoul), steady(4.0), duration_minutes=15)
    ended: list[bool] = []
    pop.on_done = lambda: ended.append(True)
    clock.run_until(pop.window_end + 1)
    assert not pop.done  # the callers are still on the line
    for line, _, _, far in pbx.inbound:
        line.drop()
        far.on_hangup(line, 16)
    assert pop.done and ended == [True]
    assert pop.summary().hung_up_by_pbx == len(pbx.inbound)


def test_bad_windows_and_branches_are_named(seoul: SiteConfig) -> None:
    pbx = FakePbx(FakeClock(0.0))
    with pytest.raises(ValueError, match="start"):
        Population(seoul, steady(1.0), pbx, seed=1, start_minute=24 * 60)
    with pytest.raises(ValueError, match="duration"):
        Population(seoul, steady(1.0), pbx, seed=1, start_minute=23 * 60, duration_minutes=61)
    chatbot = Curve.from_columns("bots", 15, {"chatbot": [1.0] * 96})
    with pytest.raises(ValueError, match="chatbot"):
        Population(seoul, chatbot, pbx, seed=1)


# ---------------------------------------------------------------------- acd pbx


NORMAL = ROOT / "config" / "curves" / "normal-weekday.csv"


def test_acd_pbx_refuses_bad_input_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from acd.cli.main import main

    base = ["pbx", str(SEOUL), "--listen", "127.0.0.1:0", "--curve", str(NORMAL)]
    monkeypatch.delenv("ACD_ARI_PASSWORD", raising=False)
    assert main(base) == 2
    assert "ACD_ARI_PASSWORD" in capsys.readouterr().err
    monkeypatch.setenv("ACD_ARI_PASSWORD", "not-to-be-seen")
    for extra, field in [
        (["--start", "25:00"], "--start"),
        (["--start", "10:00", "--duration", "900"], "--duration"),
        (["--speed", "0"], "--speed"),
        (["--drain", "-1"], "--drain"),
        (["--drain", "nan"], "--drain"),
    ]:
        assert main([*base, *extra]) == 2
        err = capsys.readouterr().err
        assert field in err and "not-to-be-seen" not in err
    assert main([*base[:3], "localhost", *base[4:]]) == 2
    assert "--listen" in capsys.readouterr().err


def test_acd_pbx_runs_its_window_and_writes_every_call(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    out = tmp_path / "pbx.json"
    env = {**os.environ, "ACD_ARI_PASSWORD": "not-to-be-seen"}
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "acd.cli.main", "pbx", str(SEOUL), "--listen", "127.0.0.1:0",
            "--curve", str(NORMAL), "--speed", "600", "--start", "10:00", "--duration", "20",
            "--no-wait", "--seed", "3", "--json", str(out),
        ],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("listening on http://127.0.0.1:") and not first.endswith(":0\n")
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "not-to-be-seen" not in first + stdout + stderr
    data = msgspec.json.decode(out.read_bytes())
    calls = data["calls"]
    assert data["summary"]["calls"] == len(calls) > 50
    assert all(36000 <= c["placed_at"] < 37200 + 2 for c in calls)  # + the timer jitter
    # No controller connected: the dialplan hangs every caller up (cause 16).
    assert {(c["outcome"], c["cause"]) for c in calls} == {(HUNG_UP_BY_PBX, 16)}
    # A line of figures every 15 minutes of the day and at the window's end; nothing
    # is left to wait for after it (every caller was hung up).
    lines = stdout.splitlines()
    progress = [line for line in lines if line[:2] == "10"]
    assert [line[:7] for line in progress] == ["10:15  ", "10:20  "], stdout
    assert progress[-1].startswith(f"10:20  {len(calls):,} calls: 0 answered"), stdout
    assert "the window is over" not in stdout


def test_a_menu_heard_again_gets_the_same_key_again(seoul: SiteConfig) -> None:
    # The menu timed out before the key counted (the engine was away): a person
    # presses the same key again, they do not give up on the menu.
    people = People(seoul, random.Random(1))
    caller = Dialler("general")  # keys ["3"]
    menu = ["sound:custom/main-menu"]
    first = people.key_for_media(caller, menu)
    again = people.key_for_media(caller, menu)
    assert first is not None and again is not None
    assert (first.digit, again.digit) == ("3", "3")
    assert caller.keys == 1
