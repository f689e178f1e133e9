"""The simulated people on the virtual PBX: callers, agents, vendor trunks, citizens.

`Population` places the callers of a surge curve on a `phones.Pbx`, within a window
of the simulated day, and answers the phones the controller rings. Every decision is
`softphone_sim.people.People`'s, the same model the surge replay uses; this module only
turns what a phone hears (`phones.FarEnd`) into questions to it, and its answers into
what a phone does (`phones.Line`), on the PBX's virtual clock. It uses nothing of the
PBX beyond the `phones` contract, and nothing of the engine's routing.

- Callers: one `Caller` per call. It presses its branch's keys on the menus, accepts a
  callback offer or not, waits on hold with its patience, may hang up on a long
  announced wait, and when it gives up may redial later from the same number (a new
  call). The outcome is recorded as the caller saw it (`CallRecord`).
- Agents: one `AgentPhone` per agent endpoint; agents log in and out at their shift
  edges by feature calls (`dial_feature(endpoint, ["login"])`), answer after the
  modelled delay or let it ring (a miss), and hang up after the talk time of the
  caller's branch.
- Vendor trunks: one `VendorTrunk` per vendor; it answers after
  `vendor_answer_seconds` and hangs up after the talk time.
- Called-back citizens: a `CitizenPhone` per callback leg (the site's `dial_out`
  pattern); it picks up or not (`callback_reached`) and talks until the agent hangs up.

Seeds: the seed is split as the replay splits it (one draw for the engine the replay
has and the PBX has not, one for the people, one for the arrivals), so the PBX places
the same first calls as `acd simulate` with the same seed; the people's later draws
differ, as the order of events on a live PBX differs from the replay's.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Final

import msgspec

from acd.config.schema import SiteConfig
from acd.softphone_sim.curves import Arrival, Curve
from acd.softphone_sim.pbx.phones import Line, Pbx, Unmoved
from acd.softphone_sim.people import DRAIN_SECONDS, People, day_start, shift_logins

FEATURE_CALL_SECONDS: Final = 30.0
"""A login/logout call the controller has not ended by then is hung up by the agent."""
HOLDTIME_SOUND: Final = "sound:queue-holdtime"
"""app_queue's "the estimated hold time is": the announced wait follows it in minutes."""

# The outcomes of a call as its caller saw them.
ANSWERED_AGENT: Final = "answered_agent"
ANSWERED_VENDOR: Final = "answered_vendor"
ANSWERED_OTHER: Final = "answered_other"
"""Bridged with a channel that is none of the population's phones."""
ABANDONED: Final = "abandoned"
"""Hung up on hold when their patience ran out."""
ABANDONED_ON_ANNOUNCEMENT: Final = "abandoned_on_announcement"
"""Hung up on hearing a long expected wait (`hang_up_on_wait`)."""
CALLBACK_REQUESTED: Final = "callback_requested"
"""Accepted a callback offer; the PBX side then ended the call."""
HUNG_UP_BY_PBX: Final = "hung_up_by_pbx"
"""Ended from the PBX side unanswered: a closing prompt, a full queue, no controller."""
CALLBACK_ANSWERED: Final = "callback_answered"
CALLBACK_NOT_REACHED: Final = "callback_not_reached"
IN_PROGRESS: Final = "in_progress"
"""Still going when the run stopped."""
ANSWERED: Final = frozenset({ANSWERED_AGENT, ANSWERED_VENDOR, ANSWERED_OTHER})


class CallRecord(msgspec.Struct, kw_only=True):
    """One call as the person on the PSTN side saw it. Times are seconds since local
    midnight of `simulation.date` (they pass 86400 after midnight)."""

    kind: str
    """"inbound" (a caller dialled the DNIS) or "callback" (the site called them)."""
    number: str
    branch: str
    attempt: int
    """Inbound: 1 for a first call, 2... for redials. Callback: the leg's number."""
    channel_id: str
    outcome: str = IN_PROGRESS
    placed_at: float
    answered_at: float | None = None
    ended_at: float | None = None
    wait_seconds: float | None = None
    """On hold (in a queue) until answered or gone; None if never on hold."""
    answered_by: str | None = None
    """The agent's endpoint or the vendor's name."""
    cause: int | None = None
    """Q.850 cause when the PBX side ended the call."""
    parties: list[str] = []
    """The channel ids of every agent or vendor leg this caller was bridged with, in
    order: more than one means the call was answered twice (a failover must not)."""


class Summary(msgspec.Struct, kw_only=True):
    """The run in figures. `answer_rate` is answered / calls (inbound calls placed,
    redials included), as the callers lived it; None with no calls."""

    calls: int
    first_calls: int
    redials: int
    answered: int
    answered_by_agent: int
    answered_by_vendor: int
    abandoned: int
    hung_up_by_pbx: int
    callbacks_requested: int
    callback_legs: int
    callbacks_answered: int
    in_progress: int
    answer_rate: float | None
    mean_wait_answered_seconds: float | None
    agent_misses: int
    logins: int
    logouts: int
    outcomes: dict[str, int]


def announced_wait_minutes(media: Sequence[str]) -> int | None:
    """The expected wait in minutes of an app_queue announcement, or None.

    The controller renders it as app_queue does: ... "sound:queue-holdtime", the
    number, "sound:queue-minutes". The number may be "digits:N", "number:N", or
    Asterisk's say-number sounds ("sound:digits/20", "sound:digits/5": summed)."""
    try:
        at = list(media).index(HOLDTIME_SOUND)
    except ValueError:
        return None
    said: int | None = None
    for item in media[at + 1 :]:
        kind, _, value = item.partition(":")
        if kind in ("digits", "number") and value.isdigit():
            return int(value)
        if kind == "sound" and value.startswith("digits/") and value[7:].isdigit():
            said = (said or 0) + int(value[7:])
        elif said is not None:
            break
    return said


def caller_number(caller_id: str) -> str:
    """The number of a caller id as a phone shows it: `"Name" <number>` or a number."""
    text = caller_id.strip()
    if text.endswith(">") and "<" in text:
        return text[text.rindex("<") + 1 : -1].strip()
    return text


def _endpoint_pattern(template: str) -> tuple[str, str, str]:
    """(fnmatch pattern, prefix, suffix) of a `dial_out` template "PJSIP/{number}@pstn"."""
    if template.count("{number}") != 1:
        raise ValueError(f"site.dial_out: {template!r} needs exactly one {{number}}")
    prefix, suffix = template.split("{number}")
    return f"{prefix}*{suffix}", prefix, suffix


class Population:
    """The people of a window of the simulated day on one virtual PBX.

    `start_minute` and `duration_minutes` (default: to the end of the day) set the
    window in which first calls are placed, in local time of `simulation.date`. After
    it, redials and callbacks go on until the last caller is done (`done`), at most
    `drain_seconds` (default `DRAIN_SECONDS`). Raises ValueError naming the field for
    bad input: no
    `simulation:` section, a curve branch with no `simulation.branches` entry, a
    window outside the day."""

    def __init__(
        self,
        site: SiteConfig,
        curve: Curve,
        pbx: Pbx,
        *,
        seed: int,
        start_minute: int = 0,
        duration_minutes: int | None = None,
        drain_seconds: float = DRAIN_SECONDS,
    ) -> None:
        if not 0 <= start_minute < 24 * 60:
            raise ValueError(f"start: {start_minute} minutes is outside the day (00:00-23:59)")
        rest = 24 * 60 - start_minute
        if duration_minutes is None:
            duration_minutes = rest
        if not 0 < duration_minutes <= rest:
            raise ValueError(
                f"duration: {duration_minutes} minutes from minute {start_minute} "
                f"(expected 1 to {rest}, to the end of the day)"
            )
        master = random.Random(seed)
        master.randrange(1 << 62)  # the replay's engine draw: the same people and arrivals
        self.people = People(site, random.Random(master.randrange(1 << 62)))
        self.people.check_branches(curve.branches, f"curve {curve.name}")
        arrivals_seed = master.randrange(1 << 62)
        self.site = site
        self.pbx = pbx
        self.clock = pbx.clock
        self.day_start = day_start(site)
        self.window_start = self.day_start + start_minute * 60.0
        self.window_end = self.window_start + duration_minutes * 60.0
        self.deadline = self.window_end + drain_seconds
        first, last = start_minute * 60.0, (start_minute + duration_minutes) * 60.0
        # The curve's arrivals come in time order, so the window is a slice of them.
        self._arrivals: Iterator[Arrival] = itertools.takewhile(
            lambda a: a.at < last,
            (a for a in curve.iter_arrivals(arrivals_seed) if a.at >= first),
        )
        self._dial_out, self._dial_prefix, self._dial_suffix = _endpoint_pattern(site.site.dial_out)
        self._max_callback_legs = max(
            (q.callback.max_attempts for q in site.queues.values() if q.callback is not None),
            default=0,
        )
        self.records: list[CallRecord] = []
        """Every call, in the order placed (inbound) or rung (callback)."""
        self.logins: list[tuple[float, str, bool]] = []
        """(time since local midnight, agent id, logging in?) as the feature calls went."""
        self.first_calls = 0
        self.redials = 0
        self.agent_misses = 0
        self.on_done: Callable[[], None] | None = None
        """Called once when the run is over (see `done`)."""
        self.on_window_over: Callable[[], None] | None = None
        """Called once when the window ends, before the run may end with it."""
        self.done = False
        """True once the window is over and no caller, redial or callback is left (or
        the drain deadline passed)."""
        self._window_over = False
        self._live: dict[str, Caller] = {}
        """Inbound calls still up, by channel id."""
        self._live_numbers: dict[str, int] = {}
        self._pending_redials = 0
        self._callbacks: dict[str, int] = {}
        """Numbers that asked for a callback not yet answered → legs rung out so far."""
        self._callback_legs: dict[str, CitizenPhone] = {}
        self._branch_of_number: dict[str, str] = {}
        self._legs_to: dict[str, int] = {}
        """Callback legs rung to each number so far."""
        self._branch_of_channel: dict[str, str] = {}
        """Caller and citizen channels → branch: what the agent's talk time is drawn for."""
        self._party_of_channel: dict[str, tuple[str, str]] = {}
        """Agent and vendor legs → ("agent", endpoint) or ("vendor", name)."""

    # ------------------------------------------------------------------ set-up

    def start(self) -> None:
        """Register the phones, schedule the agents' logins and the first caller."""
        pbx, clock = self.pbx, self.clock
        for agent in self.site.agents:
            pbx.register(agent.endpoint, AgentPhone(self, agent.id, agent.endpoint))
        for name, vendor in self.site.vendors.items():
            pbx.register(vendor.trunk, VendorTrunk(self, name))
        pbx.register_pattern(self._dial_out, self._citizen)
        endpoints = {a.id: a.endpoint for a in self.site.agents}
        for at, agent_id, working in shift_logins(self.site, self.window_start, self.deadline):
            clock.call_at(
                at, functools.partial(self._feature, agent_id, endpoints[agent_id], working)
            )
        self._next_arrival()
        clock.call_at(self.window_end, self._end_window)
        clock.call_at(self.deadline, self._finish_run)

    def _feature(self, agent_id: str, endpoint: str, login: bool) -> None:
        self.logins.append((self._t(self.clock.now()), agent_id, login))
        line = self.pbx.dial_feature(endpoint, ["login" if login else "logout"], FeatureCall())

        def give_up() -> None:
            if line.up:
                line.hang_up()

        self.clock.call_later(FEATURE_CALL_SECONDS, give_up)

    def _next_arrival(self) -> None:
        """Schedule the curve's next caller: one at a time, so memory stays flat."""
        arrival = next(self._arrivals, None)
        if arrival is not None:
            self.clock.call_at(self.day_start + arrival.at, lambda: self._arrive(arrival.branch))

    def _arrive(self, branch: str) -> None:
        self.place(branch, 1, self.people.new_number())
        self._next_arrival()

    # ------------------------------------------------------------------ callers

    def place(self, branch: str, attempt: int, number: str) -> Caller:
        """Place one inbound call of `number` (attempt 1: a first call)."""
        if attempt == 1:
            self.first_calls += 1
        else:
            self.redials += 1
        self._branch_of_number[number] = branch
        self._live_numbers[number] = self._live_numbers.get(number, 0) + 1
        caller = Caller(self, branch, attempt, number)
        record = caller.record
        self.records.append(record)
        line = self.pbx.place_inbound(number, self.people.dnis, caller)
        record.channel_id = line.channel_id
        caller.line = line
        if record.ended_at is None:
            self._live[line.channel_id] = caller
            self._branch_of_channel[line.channel_id] = branch
        else:  # ended while being placed (no controller on the app)
            self._caller_done(caller)
        return caller

    def _redial_later(self, delay: float, branch: str, attempt: int, number: str) -> None:
        if self.clock.now() + delay >= self.deadline:
            return
        self._pending_redials += 1

        def redial() -> None:
            self._pending_redials -= 1
            self.place(branch, attempt, number)

        self.clock.call_later(delay, redial)

    def _caller_done(self, caller: Caller) -> None:
        channel = caller.record.channel_id
        self._live.pop(channel, None)
        self._branch_of_channel.pop(channel, None)
        left = self._live_numbers.get(caller.number, 0) - 1
        if left > 0:
            self._live_numbers[caller.number] = left
        else:
            self._live_numbers.pop(caller.number, None)
        if caller.callback_requested:
            self._callbacks.setdefault(caller.number, 0)
        self._check_done()

    # ------------------------------------------------------------------ callbacks

    def _citizen(self, endpoint: str) -> CitizenPhone:
        number = endpoint
        if endpoint.startswith(self._dial_prefix) and endpoint.endswith(self._dial_suffix):
            number = endpoint[len(self._dial_prefix) : len(endpoint) - len(self._dial_suffix)]
        return CitizenPhone(self, number)

    def is_callback_ring(self, caller_id: str) -> bool:
        """An agent's ring is taken for the start of a callback when it shows a number
        that asked for one and has no inbound call up (a callback's agent leg is rung
        before the citizen is dialled). `caller_id` as the phone shows it."""
        number = caller_number(caller_id)
        return number in self._callbacks and number not in self._live_numbers

    def _callback_done(self, phone: CitizenPhone) -> None:
        record = phone.record
        if record is None:
            return
        self._callback_legs.pop(record.channel_id, None)
        self._branch_of_channel.pop(record.channel_id, None)
        if record.outcome == CALLBACK_ANSWERED:
            self._callbacks.pop(phone.number, None)
        elif phone.number in self._callbacks:
            self._callbacks[phone.number] += 1
            if self._callbacks[phone.number] >= self._max_callback_legs:
                del self._callbacks[phone.number]
        self._check_done()

    # ------------------------------------------------------------------ the end

    @property
    def outstanding(self) -> bool:
        """Whether a caller is still up, a redial or a callback still to come."""
        return bool(
            self._live or self._pending_redials or self._callback_legs or self._callbacks
        )

    def _end_window(self) -> None:
        self._window_over = True
        if self.on_window_over is not None:
            self.on_window_over()
        self._check_done()

    def _check_done(self) -> None:
        if self._window_over and not self.outstanding:
            self._finish_run()

    def _finish_run(self) -> None:
        if not self.done:
            self.done = True
            if self.on_done is not None:
                self.on_done()

    @property
    def callbacks_owed(self) -> int:
        """Citizens who asked for a callback and have neither been reached nor run out
        of attempts yet: what keeps a run going after its window."""
        return len(self._callbacks)

    def summary(self) -> Summary:
        """The figures of the calls so far."""
        outcomes: dict[str, int] = {}
        inbound = [r for r in self.records if r.kind == "inbound"]
        for r in self.records:
            outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
        answered = [r for r in inbound if r.outcome in ANSWERED]
        waits = [r.wait_seconds for r in answered if r.wait_seconds is not None]
        legs = [r for r in self.records if r.kind == "callback"]
        return Summary(
            calls=len(inbound),
            first_calls=self.first_calls,
            redials=self.redials,
            answered=len(answered),
            answered_by_agent=outcomes.get(ANSWERED_AGENT, 0),
            answered_by_vendor=outcomes.get(ANSWERED_VENDOR, 0),
            abandoned=outcomes.get(ABANDONED, 0) + outcomes.get(ABANDONED_ON_ANNOUNCEMENT, 0),
            hung_up_by_pbx=outcomes.get(HUNG_UP_BY_PBX, 0),
            callbacks_requested=outcomes.get(CALLBACK_REQUESTED, 0),
            callback_legs=len(legs),
            callbacks_answered=outcomes.get(CALLBACK_ANSWERED, 0),
            in_progress=outcomes.get(IN_PROGRESS, 0),
            answer_rate=round(len(answered) / len(inbound), 4) if inbound else None,
            mean_wait_answered_seconds=round(sum(waits) / len(waits), 1) if waits else None,
            agent_misses=self.agent_misses,
            logins=sum(1 for _, _, login in self.logins if login),
            logouts=sum(1 for _, _, login in self.logins if not login),
            outcomes=dict(sorted(outcomes.items())),
        )

    # ------------------------------------------------------------------ helpers

    def _t(self, now: float) -> float:
        """Virtual epoch seconds → seconds since local midnight of the simulated day."""
        return round(now - self.day_start, 3)

    def branch_of(self, channels: Sequence[str]) -> str | None:
        """The branch of the first caller or citizen among `channels`, if any."""
        for channel in channels:
            branch = self._branch_of_channel.get(channel)
            if branch is not None:
                return branch
        return None

    def party_of(self, channels: Sequence[str]) -> tuple[str, str] | None:
        """("agent", endpoint) or ("vendor", name) of the first such leg in `channels`."""
        for channel in channels:
            party = self._party_of_channel.get(channel)
            if party is not None:
                return party
        return None


class FeatureCall(Unmoved):
    """The far end of an agent's login/logout call: hears the confirmation, nothing else."""


class Caller(Unmoved):
    """One call of one person from the PSTN (a redial is a new `Caller`)."""

    def __init__(self, population: Population, branch: str, attempt: int, number: str) -> None:
        self.population = population
        self.branch = branch
        self.attempt = attempt
        self.number = number
        self.keys = 0
        self.pressed: dict[str, str] = {}
        """Menu sound -> the key pressed on it (pressed again if the menu repeats)."""
        """How many of the branch's keys have been pressed (advanced by People)."""
        self.waiting = False
        self.callback_requested = False
        self.line: Line | None = None
        self._held_at: float | None = None
        self._hold = 0
        """Counts the holds: a patience timer of an earlier hold is stale."""
        self.record = CallRecord(
            kind="inbound",
            number=number,
            branch=branch,
            attempt=attempt,
            channel_id="",
            placed_at=population._t(population.clock.now()),
        )

    # -- what the caller hears

    def on_media(self, line: Line, media: list[str]) -> None:
        people = self.population.people
        press = people.key_for_media(self, media)
        if press is not None:
            digit, callback = press.digit, press.accepts_callback

            def press_key() -> None:
                if line.up and self.record.outcome == IN_PROGRESS:
                    self.callback_requested = self.callback_requested or callback
                    line.press(digit)

            self.population.clock.call_later(press.delay, press_key)
            return
        minutes = announced_wait_minutes(media)
        if minutes is not None and self.waiting and people.hangs_up_on_announcement(minutes * 60.0):
            self._give_up(line, ABANDONED_ON_ANNOUNCEMENT)

    def on_hold(self, line: Line) -> None:
        """Waiting starts (again): a fresh patience, as each hold in the replay."""
        now = self.population.clock.now()
        if self._held_at is None:
            self._held_at = now
        self.waiting = True
        self._hold += 1
        hold = self._hold

        def patience_over() -> None:
            if self.waiting and self._hold == hold and line.up:
                self._give_up(line, ABANDONED)

        self.population.clock.call_later(
            self.population.people.patience(self.branch), patience_over
        )

    def on_bridged(self, line: Line, others: list[str]) -> None:
        record = self.record
        for channel in others:
            if self.population.party_of([channel]) is not None and channel not in record.parties:
                record.parties.append(channel)
        if record.answered_at is not None or record.outcome != IN_PROGRESS:
            return
        now = self.population.clock.now()
        self.waiting = False
        self._hold += 1
        record.answered_at = self.population._t(now)
        record.wait_seconds = round(now - (self._held_at if self._held_at is not None else now), 3)
        party = self.population.party_of(others)
        if party is None:
            record.outcome = ANSWERED_OTHER
        else:
            kind, name = party
            record.outcome = ANSWERED_AGENT if kind == "agent" else ANSWERED_VENDOR
            record.answered_by = name

    def on_hangup(self, line: Line, cause: int) -> None:
        record = self.record
        if record.ended_at is not None:
            return
        record.cause = cause
        if record.answered_at is not None:
            self._end(record.outcome)
        elif self.callback_requested:
            self._end(CALLBACK_REQUESTED)
        else:
            self._end(HUNG_UP_BY_PBX)

    # -- what the caller does

    def _give_up(self, line: Line, outcome: str) -> None:
        """Hang up on hold, and perhaps call again later from the same number."""
        self.waiting = False
        delay = self.population.people.redial_after(self.attempt)
        if delay is not None:
            self.population._redial_later(delay, self.branch, self.attempt + 1, self.number)
        self._end(outcome)
        line.hang_up()

    def _end(self, outcome: str) -> None:
        record = self.record
        now = self.population.clock.now()
        self.waiting = False
        self._hold += 1
        record.outcome = outcome
        record.ended_at = self.population._t(now)
        if record.wait_seconds is None and self._held_at is not None:
            record.wait_seconds = round(now - self._held_at, 3)
        if self.line is not None:  # else place() has not seen the line yet
            self.population._caller_done(self)


class _TalkingPhone(Unmoved):
    """A phone whose user talks for the caller's branch's talk time once bridged, then
    hangs up (an agent's softphone, a vendor trunk)."""

    party: tuple[str, str]

    def __init__(self, population: Population) -> None:
        self.population = population
        self._talking: set[str] = set()

    def _ringing(self, line: Line, answer_after: float | None) -> None:
        pop = self.population
        pop._party_of_channel[line.channel_id] = self.party
        if answer_after is None:
            return  # lets it ring: the PBX ends the leg at its timeout

        def answer() -> None:
            if line.up:
                line.answer()

        pop.clock.call_later(answer_after, answer)

    def on_bridged(self, line: Line, others: list[str]) -> None:
        """The conversation starts: draw its length once per leg, then hang up."""
        if line.channel_id in self._talking:
            return
        self._talking.add(line.channel_id)
        pop = self.population

        def hang_up() -> None:
            self._talking.discard(line.channel_id)
            pop._party_of_channel.pop(line.channel_id, None)
            if line.up:
                line.hang_up()

        pop.clock.call_later(pop.people.talk_seconds(pop.branch_of(others)), hang_up)

    def on_hangup(self, line: Line, cause: int) -> None:
        self._talking.discard(line.channel_id)
        self.population._party_of_channel.pop(line.channel_id, None)


class AgentPhone(_TalkingPhone):
    """An agent's softphone at `endpoint`."""

    def __init__(self, population: Population, agent_id: str, endpoint: str) -> None:
        super().__init__(population)
        self.agent_id = agent_id
        self.endpoint = endpoint
        self.party = ("agent", endpoint)

    def on_incoming(self, line: Line, caller_id: str) -> None:
        pop = self.population
        delay = pop.people.ring_answer_delay(pop.is_callback_ring(caller_id))
        if delay is None:
            pop.agent_misses += 1
        self._ringing(line, delay)


class VendorTrunk(_TalkingPhone):
    """A vendor's trunk: its floor answers after `vendor_answer_seconds`."""

    def __init__(self, population: Population, vendor: str) -> None:
        super().__init__(population)
        self.vendor = vendor
        self.party = ("vendor", vendor)

    def on_incoming(self, line: Line, caller_id: str) -> None:
        self._ringing(line, self.population.people.vendor_answer_seconds)


class CitizenPhone(Unmoved):
    """The phone of a citizen the site calls back (one per callback leg): picks up or
    not (`callback_reached`), then talks until the agent hangs up."""

    def __init__(self, population: Population, number: str) -> None:
        self.population = population
        self.number = number
        self.record: CallRecord | None = None

    def on_incoming(self, line: Line, caller_id: str) -> None:
        pop = self.population
        branch = pop._branch_of_number.get(self.number, pop.people.first_branch)
        legs = pop._legs_to.get(self.number, 0) + 1
        pop._legs_to[self.number] = legs
        self.record = CallRecord(
            kind="callback",
            number=self.number,
            branch=branch,
            attempt=legs,
            channel_id=line.channel_id,
            outcome=CALLBACK_NOT_REACHED,
            placed_at=pop._t(pop.clock.now()),
        )
        pop.records.append(self.record)
        pop._callback_legs[line.channel_id] = self
        pop._branch_of_channel[line.channel_id] = branch
        delay = pop.people.callback_pickup()
        if delay is None:
            return  # not reached: it rings out

        def answer() -> None:
            if line.up and self.record is not None:
                line.answer()
                self.record.outcome = CALLBACK_ANSWERED
                self.record.answered_at = pop._t(pop.clock.now())

        pop.clock.call_later(delay, answer)

    def on_bridged(self, line: Line, others: list[str]) -> None:
        party = self.population.party_of(others)
        if self.record is not None and party is not None and self.record.answered_by is None:
            self.record.answered_by = party[1]

    def on_hangup(self, line: Line, cause: int) -> None:
        record = self.record
        if record is None or record.ended_at is not None:
            return
        record.cause = cause
        record.ended_at = self.population._t(self.population.clock.now())
        self.population._callback_done(self)
