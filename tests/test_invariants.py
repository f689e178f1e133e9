"""Property-based tests: the engine's invariants hold for every sequence of events.

A hypothesis state machine drives a small but rich site (two strategy variants)
through random sequences of what callers, agents, vendors, the PBX and supervisors
do: calls arriving with a menu choice (by barge-in or after the prompt), digits,
callback requests, hang-ups, line-down reports of lines the engine hung up; agents
answering (then talking, hanging up, flagging abuse, referring a callback), missing,
logging in and out, pausing, asking for a break or a logout on a call; vendors
answering, failing, hanging up; callbacks picked up or not; supervisors setting surge
stages, distancing levels, skills, pools and announcements; time passing by 0-120 s.
Most actions pick their target from the engine's own tables, so sequences mean
something; some name ended calls, agents not on the call, or ids nobody knows.

`tests.invariants.CheckedFloor` checks the design's invariants after every event the
engine handles, and when each ring is issued (see its docstring for the full list):
no call waits while an eligible agent is available; no agent holds two calls; within
a priority, first come first served (and weight / priority order across queues); one
outcome per call, and at the end of a run (callers hang up, time passes,
conversations end) every call has exactly one; the metrics reconcile with the
`CallOutcome` records; no exception escapes `Engine.handle`. The same action sequence
replayed on a fresh floor gives a byte-identical log.

The regression tests at the end are engine bugs the machine found, each as the
shortest story that shows it: fixed ones must stay passing; open ones are
`xfail(strict=True)`, and `KNOWN_BUGS` excuses their symptoms in the machine meanwhile.
"""

from __future__ import annotations

from string import Template
from typing import Literal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from acd.engine import events as ev
from acd.engine.records import Call
from acd.engine.states import AgentState, CallState
from tests.harness import Floor, site_from_yaml
from tests.invariants import ACTIVE, CheckedFloor

A = AgentState
C = CallState

SITE_TEMPLATE = Template("""
site:
  name: invariants
  utc_offset: "+09:00"
  languages: [ko, en]
  default_language: ko
  short_abandon_seconds: 5
  service_level_seconds: 20
  interval_minutes: 15
  distancing_level: "1"

skills:
  gen: {name: General}
  vax: {name: Vaccine}
  lang: {name: Foreign languages}

pools:
  house: {kind: in_house}
  remote:
    kind: remote
    size_by_distancing_level: {"1": 2, "2": 1, "3": 0}

vendors:
  vend:
    trunk: PJSIP/vendor
    skills: [gen]
    max_concurrent: 1
    max_per_hour: 4
    ring_timeout_seconds: 20
  night:                        # open a few minutes of the run only: 05:30-05:45 local
    trunk: PJSIP/night
    skills: [gen, vax]
    max_concurrent: 2
    hours: {open: [{start: "05:30", end: "05:45"}]}

queues:
  general:                      # relaxes level then pools, overflows, small, callbacks
    skill: gen
    pools: [house]
    min_level: 3
    strategy: $general
    weight: 0
    priority: 0
    wrap_up_seconds: 10
    ring_timeout_seconds: 15
    max_waiting: 3
    announce: {first_after_seconds: 15, every_seconds: 30}
    relax:
      - {after_seconds: 20, min_level: 2}
      - {after_seconds: 45, min_level: 1, pools: [remote]}
    overflow:
      - {vendors: [vend, night], when: {waited_over_seconds: 40}}
      - {vendors: [vend], when: {stage_at_least: 1, queue_longer_than: 1}}
      - {vendors: [vend], when: {predicted_wait_over_seconds: 500}}
    $predicted
    callback:
      when_expected_wait_over_seconds: 100
      digit: "2"
      max_attempts: 1
  vaccine:                      # the heaviest, worker protection
    skill: vax
    pools: [house, remote]
    min_level: 2
    strategy: $vaccine
    weight: 5
    priority: 1
    wrap_up_seconds: 5
    ring_timeout_seconds: 10
    pre_connect: ["sound:protect"]
  foreign:                      # callbacks
    skill: lang
    pools: [house, remote]
    strategy: $foreign
    weight: 2
    wrap_up_seconds: 8
    ring_timeout_seconds: 12
    announce: {first_after_seconds: 20, every_seconds: 40}
    callback:
      when_expected_wait_over_seconds: 30
      digit: "1"
      max_attempts: 2
      retry_after_seconds: 30
      ring_timeout_seconds: 20

ivr:
  entry: main
  by_dnis: {"1339": hotline}
  nodes:
    main:
      kind: menu
      prompt: ["sound:main"]
      timeout_seconds: 5
      retries: 1
      options:
        "1": {queue: general}
        "2": {queue: vaccine, priority: 2}
        "3": {queue: general, priority: 1}
        "4": {goto: sub}
        "5": {goto: link}
        "6": {goto: news}
        "9": {queue: foreign, language: en}
        "0": {goto: bye}
    sub:
      kind: menu
      prompt: ["sound:sub"]
      timeout_seconds: 4
      retries: 0
      options:
        "1": {queue: vaccine}
        "2": {queue: foreign, priority: 3}
        "3": {queue: general, priority: 2}
      on_fail: {queue: general}
    news: {kind: announce, prompt: ["sound:news"], next: {goto: main}}
    hotline:
      kind: schedule
      branches:
        - {window: {start: "05:00", end: "05:40"}, then: {queue: vaccine, priority: 4}}
      otherwise: {goto: link}
    link: {kind: send_link, link: "https://example.org/v", next: {goto: bye}}
    bye: {kind: hangup, prompt: ["sound:bye"]}

agents:
  - id: a1
    endpoint: PJSIP/a1
    pool: house
    skills: [{skill: gen, level: 5}, {skill: vax, level: 2}]
  - id: a2
    endpoint: PJSIP/a2
    pool: house
    skills: [{skill: gen, level: 3}, {skill: lang, level: 4}]
  - id: a3
    endpoint: PJSIP/a3
    pool: house
    skills: [{skill: gen, level: 1}, {skill: vax, level: 5}, {skill: lang, level: 2}]
  - id: a4
    endpoint: PJSIP/a4
    pool: remote
    skills: [{skill: gen, level: 4}, {skill: vax, level: 3}]
  - id: a5
    endpoint: PJSIP/a5
    pool: remote
    skills: [{skill: lang, level: 5}, {skill: gen, level: 2}]
  - id: a6
    endpoint: PJSIP/a6
    pool: remote
    skills: [{skill: vax, level: 1}, {skill: lang, level: 1}, {skill: gen, level: 5}]
  - id: a7
    endpoint: PJSIP/a7
    pool: house
    skills: [{skill: vax, level: 4}]

missed_ring: {pause_after: 2, rest_seconds: 5}
abusive: {warning: ["sound:warning"], cool_down_seconds: 30}

surge:
  auto: true
  window_minutes: 1
  stages:
    - stage: 1
      enter_at_calls_per_day: 4000
      pool_sizes: {remote: 3}
      announcement: ["sound:surge"]
    - {stage: 2, enter_at_calls_per_day: 7000, pool_sizes: {remote: 4}}
""")
"""Three skills; an in-house and a capped remote pool; three queues with different
weights, priorities and strategies, one that relaxes (level, then the remote pool),
overflows to a one-line vendor and is small enough to fill, one with worker
protection, two with callbacks; a menu and a sub-menu routing digits to queues with
priorities; seven agents with overlapping skills and levels; two surge stages."""

STRATEGIES = [
    {"general": "longest_idle", "vaccine": "skill_level", "foreign": "random",
     "predicted": ""},
    # The general queue routes on predicted waits too: a caller may take the last
    # relaxation step and qualify for overflow on joining.
    {"general": "least_occupied", "vaccine": "round_robin", "foreign": "longest_idle",
     "predicted": "predicted_wait: {share_of_patience: 0.5}"},
]
SITES = [site_from_yaml(SITE_TEMPLATE.substitute(s)) for s in STRATEGIES]
SITE = SITES[0]
AGENTS = [a.id for a in SITE.agents]
ORIGINAL = {a.id: (a.pool, {g.skill: g.level for g in a.skills}) for a in SITE.agents}
QUEUES = list(SITE.queues)
DIGITS = "0123456789*#"
MENU_CHOICES = ["1", "1", "2", "2", "3", "9", "9", "4", "5", "0", "7", "*", "#"]

Op = tuple[Literal["send"], ev.Event] | tuple[Literal["advance"], float]
"""("send", event) or ("advance", seconds): what the machine did, for the replay."""


def apply(floor: Floor, op: Op) -> None:
    if op[0] == "send":
        floor.send(op[1])
    else:
        floor.advance(op[1])


picks = st.integers(min_value=0, max_value=63)

KNOWN_BUGS: frozenset[str] = frozenset()
"""Open engine bugs, each pinned by an xfail test at the end of this file, whose
symptoms the state machine excuses meanwhile (see `CheckedFloor.known_bugs`). Remove
a name when its test passes (and drop the xfail)."""


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.site = SITE
        self.floor = CheckedFloor(self.site, known_bugs=KNOWN_BUGS)
        self.ops: list[Op] = []
        self.next_call = 0
        self.broken = False

    # ------------------------------------------------------------ plumbing

    def do(self, op: Op) -> None:
        self.ops.append(op)
        self.broken = True  # until the op returns: a failed op leaves the floor half-way
        apply(self.floor, op)
        self.broken = False

    def send(self, event: ev.Event) -> None:
        self.do(("send", event))

    def calls_in(self, *states: CallState) -> list[str]:
        return sorted(c.id for c in self.floor.engine.calls.values() if c.state in states)

    def has(self, *states: CallState) -> bool:
        return any(c.state in states for c in self.floor.engine.calls.values())

    @staticmethod
    def pick(items: list[str], i: int) -> str:
        return items[i % len(items)]

    def call(self, call_id: str) -> Call:
        return self.floor.engine.calls[call_id]

    # ------------------------------------------------------------ start

    @initialize(
        variant=st.sampled_from(range(len(SITES))), logged_in=st.sets(st.sampled_from(AGENTS))
    )
    def start(self, variant: int, logged_in: set[str]) -> None:
        self.site = SITES[variant]
        self.floor = CheckedFloor(self.site, known_bugs=KNOWN_BUGS)
        for agent_id in sorted(logged_in):
            self.send(ev.AgentLogin(agent_id=agent_id))

    # ------------------------------------------------------------ callers

    @rule(
        caller=st.sampled_from(["01012345678", "01099998888", ""]),
        digit=st.none() | st.sampled_from(MENU_CHOICES),
        barge_in=st.booleans(),
        dnis=st.sampled_from(["120", "120", "120", "1339"]),
    )
    def new_call(self, caller: str, digit: str | None, barge_in: bool, dnis: str = "120") -> None:
        self.next_call += 1
        call_id = f"c{self.next_call}"
        self.send(ev.CallArrived(call_id=call_id, caller=caller, dnis=dnis))
        if digit is not None:
            if not barge_in:
                self.do(("advance", 2.5))  # the menu prompt has finished
            self.send(ev.DigitPressed(call_id=call_id, digit=digit))

    @rule(digit=st.sampled_from(MENU_CHOICES))
    def another_call(self, digit: str) -> None:
        self.new_call("01055550000", digit, True)

    @precondition(lambda self: self.has(C.IVR, C.WAITING))
    @rule(i=picks, digit=st.sampled_from([*DIGITS, "1", "1", "12", "x"]))
    def caller_presses(self, i: int, digit: str) -> None:
        self.send(
            ev.DigitPressed(call_id=self.pick(self.calls_in(C.IVR, C.WAITING), i), digit=digit)
        )

    @precondition(lambda self: bool(self.offered_callback()))
    @rule(i=picks)
    def caller_accepts_callback(self, i: int) -> None:
        call = self.call(self.pick(self.offered_callback(), i))
        offer = self.site.queues[call.queue].callback
        assert offer is not None
        self.send(ev.DigitPressed(call_id=call.id, digit=offer.digit))

    def offered_callback(self) -> list[str]:
        return sorted(
            c.id
            for c in self.floor.engine.calls.values()
            if c.state is C.WAITING and c.callback_offered and not c.callback
        )

    @precondition(lambda self: bool(self.floor.engine.calls))
    @rule(i=picks)
    def caller_hangs_up(self, i: int) -> None:
        self.send(ev.CallerHungUp(call_id=self.pick(sorted(self.floor.engine.calls), i)))

    @precondition(lambda self: bool(self.floor.lines_to_report))
    @rule(i=picks)
    def pbx_reports_line_down(self, i: int) -> None:
        """The PBX reports a line the engine hung up as gone (ARI's StasisEnd), as it
        does for every line: late, possibly after the call has moved on."""
        pending = self.floor.lines_to_report
        self.send(ev.CallerHungUp(call_id=pending.pop(i % len(pending))))

    # ------------------------------------------------------------ agents on calls

    @precondition(lambda self: self.has(C.OFFERED))
    @rule(i=picks)
    def agent_answers(self, i: int) -> None:
        call = self.call(self.pick(self.calls_in(C.OFFERED), i))
        self.send(ev.AgentAnswered(agent_id=call.agent_id, call_id=call.id))

    @precondition(lambda self: self.has(C.OFFERED))
    @rule(i=picks, then=st.sampled_from(["picks_up", "not_reached", "hangs_up", "abusive"]))
    def agent_answers_and_then(self, i: int, then: str) -> None:
        """The agent answers and the call goes on at once: a callback is picked up or
        not; a conversation ends, or turns abusive."""
        call = self.call(self.pick(self.calls_in(C.OFFERED), i))
        self.send(ev.AgentAnswered(agent_id=call.agent_id, call_id=call.id))
        state = self.floor.call_state(call.id)
        if state is C.DIALING_BACK:
            if then == "picks_up":
                self.send(ev.CallbackAnswered(call_id=call.id))
            else:
                self.send(ev.CallbackFailed(call_id=call.id, cause="busy"))
        elif state is C.CONNECTED and then == "hangs_up":
            self.send(ev.AgentHungUp(agent_id=call.agent_id, call_id=call.id))
        elif state is C.CONNECTED and then == "abusive":
            self.send(ev.AgentFlaggedAbusive(agent_id=call.agent_id, call_id=call.id))

    @precondition(lambda self: self.has(C.OFFERED))
    @rule(i=picks, cause=st.sampled_from(["no_answer", "busy", "unreachable", "declined"]))
    def agent_misses(self, i: int, cause: ev.MissCause) -> None:
        call = self.call(self.pick(self.calls_in(C.OFFERED), i))
        self.send(ev.AgentMissed(agent_id=call.agent_id, call_id=call.id, cause=cause))

    @precondition(lambda self: self.has(*ACTIVE))
    @rule(i=picks)
    def agent_hangs_up(self, i: int) -> None:
        call = self.call(self.pick(self.calls_in(*ACTIVE), i))
        self.send(ev.AgentHungUp(agent_id=call.agent_id, call_id=call.id))

    @precondition(lambda self: self.has(C.CONNECTED))
    @rule(i=picks)
    def conversation_ends(self, i: int) -> None:
        self.agent_hangs_up_connected(i)

    def agent_hangs_up_connected(self, i: int) -> None:
        call = self.call(self.pick(self.calls_in(C.CONNECTED), i))
        self.send(ev.AgentHungUp(agent_id=call.agent_id, call_id=call.id))

    @precondition(lambda self: self.has(C.CONNECTED))
    @rule(i=picks)
    def agent_flags_abusive(self, i: int) -> None:
        call = self.call(self.pick(self.calls_in(C.CONNECTED), i))
        self.send(ev.AgentFlaggedAbusive(agent_id=call.agent_id, call_id=call.id))

    @precondition(lambda self: self.has(C.CONNECTED))
    @rule(i=picks, queue=st.sampled_from([*QUEUES, "foreign", "nowhere"]))
    def agent_refers_callback(self, i: int, queue: str) -> None:
        call = self.call(self.pick(self.calls_in(C.CONNECTED), i))
        self.send(ev.AgentReferredCallback(agent_id=call.agent_id, call_id=call.id, queue=queue))

    @precondition(lambda self: any(c.agent_id for c in self.floor.engine.calls.values()))
    @rule(
        i=picks,
        kind=st.sampled_from(["answer", "miss", "hang_up", "abusive", "refer"]),
    )
    def agent_event_again(self, i: int, kind: str) -> None:
        """An agent event about the agent's own call, whatever state the call is in
        (a duplicate, or one that crossed another event on the way)."""
        held = sorted(c.id for c in self.floor.engine.calls.values() if c.agent_id)
        call = self.call(self.pick(held, i))
        event: ev.Event
        if kind == "answer":
            event = ev.AgentAnswered(agent_id=call.agent_id, call_id=call.id)
        elif kind == "miss":
            event = ev.AgentMissed(agent_id=call.agent_id, call_id=call.id)
        elif kind == "hang_up":
            event = ev.AgentHungUp(agent_id=call.agent_id, call_id=call.id)
        elif kind == "abusive":
            event = ev.AgentFlaggedAbusive(agent_id=call.agent_id, call_id=call.id)
        else:
            event = ev.AgentReferredCallback(
                agent_id=call.agent_id, call_id=call.id, queue="general"
            )
        self.send(event)

    # ------------------------------------------------------------ agents' presence

    @precondition(
        lambda self: any(
            a.state in (A.RESERVED, A.ON_CALL) for a in self.floor.engine.agents.values()
        )
    )
    @rule(i=picks, action=st.sampled_from(["logout", "pause", "pause_then_unpause"]))
    def busy_agent_asks_break(self, i: int, action: str) -> None:
        """A logout or a break asked for during a call: applied after it."""
        busy = sorted(
            a.id for a in self.floor.engine.agents.values() if a.state in (A.RESERVED, A.ON_CALL)
        )
        agent = self.pick(busy, i)
        if action == "logout":
            self.send(ev.AgentLogout(agent_id=agent))
        else:
            self.send(ev.AgentPause(agent_id=agent, reason="lunch"))
            if action == "pause_then_unpause":
                self.send(ev.AgentUnpause(agent_id=agent))

    @rule(
        agent=st.sampled_from([*AGENTS, "ghost"]),
        action=st.sampled_from(
            ["login", "login", "logout", "pause", "unpause", "unpause", "ready", "standby"]
        ),
    )
    def agent_presence(self, agent: str, action: str) -> None:
        event: ev.Event
        if action == "login":
            event = ev.AgentLogin(agent_id=agent)
        elif action == "logout":
            event = ev.AgentLogout(agent_id=agent)
        elif action == "pause":
            event = ev.AgentPause(agent_id=agent, reason="break")
        elif action == "standby":
            event = ev.AgentPause(agent_id=agent, reason="standby")  # refused: set by pool size
        elif action == "unpause":
            event = ev.AgentUnpause(agent_id=agent)
        else:
            event = ev.AgentReady(agent_id=agent)
        self.send(event)

    @rule(agent=st.sampled_from(AGENTS))
    def agent_comes_back(self, agent: str) -> None:
        """Log in, or end a pause or a wrap-up: whatever brings the agent back."""
        state = self.floor.engine.agents[agent].state
        if state is A.LOGGED_OUT:
            self.send(ev.AgentLogin(agent_id=agent))
        elif state is A.PAUSED:
            self.send(ev.AgentUnpause(agent_id=agent))
        else:
            self.send(ev.AgentReady(agent_id=agent))

    # ------------------------------------------------------------ vendors and callbacks

    @precondition(lambda self: self.has(C.VENDOR_DIALING, C.VENDOR_CONNECTED))
    @rule(i=picks, action=st.sampled_from(["answered", "answered", "failed", "hung_up"]))
    def vendor_acts(self, i: int, action: str) -> None:
        call_id = self.pick(self.calls_in(C.VENDOR_DIALING, C.VENDOR_CONNECTED), i)
        if action == "answered":
            self.send(ev.VendorAnswered(call_id=call_id))
        elif action == "failed":
            self.send(ev.VendorFailed(call_id=call_id))
        else:
            self.send(ev.VendorHungUp(call_id=call_id))

    @precondition(lambda self: self.has(C.VENDOR_CONNECTED))
    @rule(i=picks, vendor_first=st.booleans())
    def vendor_call_ends(self, i: int, vendor_first: bool) -> None:
        call_id = self.pick(self.calls_in(C.VENDOR_CONNECTED), i)
        if vendor_first:
            self.send(ev.VendorHungUp(call_id=call_id))
        else:
            self.send(ev.CallerHungUp(call_id=call_id))

    @precondition(lambda self: self.has(C.DIALING_BACK))
    @rule(i=picks, answered=st.booleans())
    def callback_result(self, i: int, answered: bool) -> None:
        call_id = self.pick(self.calls_in(C.DIALING_BACK), i)
        if answered:
            self.send(ev.CallbackAnswered(call_id=call_id))
        else:
            self.send(ev.CallbackFailed(call_id=call_id))

    @precondition(lambda self: self.has(C.DIALING_BACK))
    @rule(i=picks)
    def caller_picks_up_callback(self, i: int) -> None:
        self.send(ev.CallbackAnswered(call_id=self.pick(self.calls_in(C.DIALING_BACK), i)))

    # ------------------------------------------------------------ supervisors

    @rule(
        action=st.sampled_from(["stage", "stage", "distancing", "skill", "move", "announcement"]),
        agent=st.sampled_from([*AGENTS, "ghost"]),
        skill=st.sampled_from(["gen", "vax", "lang", "cooking"]),
        level=st.none() | st.integers(min_value=0, max_value=5),
        stage=st.sampled_from([None, 0, 1, 2, 7]),
        pool=st.sampled_from(["house", "remote", "nowhere"]),
        distancing=st.sampled_from(["1", "2", "3"]),
        queues=st.sampled_from([[], ["vaccine"], ["general", "foreign"], ["nowhere"]]),
    )
    def supervisor_acts(
        self,
        action: str,
        agent: str,
        skill: str,
        level: int | None,
        stage: int | None,
        pool: str,
        distancing: str,
        queues: list[str],
    ) -> None:
        if action == "stage":
            self.send(ev.SetSurgeStage(stage=stage))
        elif action == "distancing":
            self.send(ev.SetDistancingLevel(level=distancing))
        elif action == "skill":
            self.send(ev.SetAgentSkill(agent_id=agent, skill=skill, level=level))
        elif action == "announcement":
            media = [] if level is None else ["sound:emergency"]
            self.send(ev.SetAnnouncement(media=media, queues=queues))
        else:
            self.send(ev.MoveAgent(agent_id=agent, pool=pool))

    # ------------------------------------------------------------ time

    @rule(seconds=st.integers(min_value=0, max_value=120))
    def time_passes(self, seconds: int) -> None:
        self.do(("advance", float(seconds)))

    @rule(seconds=st.sampled_from([0.5, 1.0, 2.0, 3.0, 5.0, 8.0]))
    def a_moment_passes(self, seconds: float) -> None:
        self.do(("advance", seconds))

    @rule(seconds=st.sampled_from([0.0, 1.0, 2.5, 6.0, 12.0, 21.0]))
    def a_little_time_passes(self, seconds: float) -> None:
        self.do(("advance", seconds))

    # ------------------------------------------------------------ late, duplicated, unknown

    @rule(
        kind=st.sampled_from(
            [
                "answer",
                "miss",
                "hangup_agent",
                "abusive",
                "refer",
                "vendor_answer",
                "vendor_fail",
                "vendor_hangup",
                "callback_answer",
                "callback_fail",
                "caller_hangup",
                "digit",
                "duplicate_arrival",
                "prompt_finished",
            ]
        ),
        agent=st.sampled_from([*AGENTS, "ghost"]),
        i=picks,
    )
    def stale_event(self, kind: str, agent: str, i: int) -> None:
        """An event about a call that ended, a call in another state, an agent who is
        not on it, or ids nobody knows."""
        known = sorted(self.floor.seen)
        call_id = self.pick([*known, "nobody"], i)
        event: ev.Event
        if kind == "answer":
            event = ev.AgentAnswered(agent_id=agent, call_id=call_id)
        elif kind == "miss":
            event = ev.AgentMissed(agent_id=agent, call_id=call_id)
        elif kind == "hangup_agent":
            event = ev.AgentHungUp(agent_id=agent, call_id=call_id)
        elif kind == "abusive":
            event = ev.AgentFlaggedAbusive(agent_id=agent, call_id=call_id)
        elif kind == "refer":
            event = ev.AgentReferredCallback(agent_id=agent, call_id=call_id, queue="foreign")
        elif kind == "vendor_answer":
            event = ev.VendorAnswered(call_id=call_id)
        elif kind == "vendor_fail":
            event = ev.VendorFailed(call_id=call_id)
        elif kind == "vendor_hangup":
            event = ev.VendorHungUp(call_id=call_id)
        elif kind == "callback_answer":
            event = ev.CallbackAnswered(call_id=call_id)
        elif kind == "callback_fail":
            event = ev.CallbackFailed(call_id=call_id)
        elif kind == "caller_hangup":
            # Only ids that ended (or never were): a live caller's hang-up is not stale.
            if call_id in self.floor.engine.calls:
                call_id = "nobody"
            event = ev.CallerHungUp(call_id=call_id)
        elif kind == "digit":
            event = ev.DigitPressed(call_id=call_id, digit="1")
        elif kind == "duplicate_arrival":
            # A live id only: a finished id arriving again would be a new call to the
            # engine (channel ids are unique in Asterisk, so that never happens).
            live = sorted(self.floor.engine.calls)
            if not live:
                return
            event = ev.CallArrived(call_id=self.pick(live, i), caller="0101")
        else:
            event = ev.PromptFinished(call_id=call_id, prompt_id=i)
        self.send(event)

    # ------------------------------------------------------------ invariants

    @invariant()
    def metrics_reconcile(self) -> None:
        self.floor.check_metrics()

    def teardown(self) -> None:
        if self.broken:
            return  # a step failed: that is the report, the end-of-run checks would add noise
        self.drain()
        self.floor.check_metrics(final=True)
        replay = Floor(self.site)
        for op in self.ops:
            apply(replay, op)
        assert replay.encode_log() == self.floor.encode_log(), (
            "determinism: the same action sequence gave a different log on a fresh floor"
        )

    def drain(self) -> None:
        """End the run: restore the floor, let every caller go and every
        conversation end, so that every call reaches its outcome."""
        engine = self.floor.engine
        self.send(ev.SetSurgeStage(stage=2))
        self.send(ev.SetDistancingLevel(level="1"))
        for agent_id, (pool, skills) in ORIGINAL.items():
            agent = engine.agents[agent_id]
            if agent.pool != pool:
                self.send(ev.MoveAgent(agent_id=agent_id, pool=pool))
            for skill in sorted(set(agent.skills) | set(skills)):
                if agent.skills.get(skill) != skills.get(skill):
                    self.send(
                        ev.SetAgentSkill(agent_id=agent_id, skill=skill, level=skills.get(skill))
                    )
        for _ in range(100):
            if not engine.calls:
                break
            for call_id in sorted(engine.calls):
                call = engine.calls.get(call_id)
                if call is None:
                    continue
                if call.state is C.OFFERED:
                    self.send(ev.AgentAnswered(agent_id=call.agent_id, call_id=call.id))
                elif call.state is C.DIALING_BACK:
                    self.send(ev.CallbackAnswered(call_id=call.id))
                elif call.state is C.RETRY_WAIT or (call.state is C.WAITING and call.callback):
                    pass  # the line is down: an agent must call back
                else:
                    self.send(ev.CallerHungUp(call_id=call.id))
            for agent_id in AGENTS:
                agent = engine.agents[agent_id]
                if agent.state is A.LOGGED_OUT:
                    self.send(ev.AgentLogin(agent_id=agent_id))
                elif agent.state is A.PAUSED or agent.pending == "pause":
                    self.send(ev.AgentUnpause(agent_id=agent_id))
            self.do(("advance", 20.0))
        self.do(("advance", 600.0))


EngineMachine.TestCase.settings = settings(
    max_examples=400,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_engine_invariants = EngineMachine.TestCase


# ---------------------------------------------------------------------- regressions
# Engine bugs the state machine found, each as the shortest story that shows it.


def remote_agent_on_a_call_told_to_stand_by() -> CheckedFloor:
    """a4 (remote pool, size 2 at distancing level 1) takes a vaccine call; the level
    goes to 3, where the remote pool's size is 0: a4 is to stand by after the call."""
    f = CheckedFloor(SITE)
    f.login("a4")
    f.call("c1")
    f.press("c1", "2")
    assert f.rung("c1") == ["a4"]
    f.answer("a4", "c1")
    f.advance(2)  # the pre-connect prompt
    assert f.call_state("c1") is C.CONNECTED
    f.send(ev.SetDistancingLevel(level="3"))
    a4 = f.engine.agents["a4"]
    assert a4.standby_due  # the pool's decision, kept apart from a4's own requests
    return f


def test_a_break_asked_and_cancelled_during_the_call_keeps_the_pending_standby() -> None:
    """Was: `_on_pause` overwrote the pending standby with the break, and `_on_unpause`
    cleared whatever was pending: the pool-size decision was lost and a4 came back into
    service in a pool of size 0."""
    f = remote_agent_on_a_call_told_to_stand_by()
    f.send(ev.AgentPause(agent_id="a4", reason="lunch"))
    f.send(ev.AgentUnpause(agent_id="a4"))
    f.agent_hangs_up("a4", "c1")
    f.advance(10)  # wrap-up
    a4 = f.engine.agents["a4"]
    assert f.engine.pool_cap("remote") == 0
    assert a4.state is A.STANDBY


def test_a_break_asked_during_the_call_does_not_undo_the_pending_standby() -> None:
    """Was: after the call a4 was paused for lunch instead of on standby, so an unpause
    put a4 back in service in a pool of size 0."""
    f = remote_agent_on_a_call_told_to_stand_by()
    f.send(ev.AgentPause(agent_id="a4", reason="lunch"))
    f.agent_hangs_up("a4", "c1")
    f.advance(10)
    f.send(ev.AgentUnpause(agent_id="a4"))
    a4 = f.engine.agents["a4"]
    assert a4.state is not A.AVAILABLE, "a4 is in service in a pool of size 0"


def test_a_pending_standby_is_called_off_when_the_pool_grows_again() -> None:
    """Surge stage 1 raises the remote pool to 3 while a4 is still on the call. Was:
    `_apply_pool_cap` brought back agents already on standby but left a4's pending
    standby in place, so a4 went on standby with the pool at 0 of 3 (and stayed there
    until some later logout or stage change re-applied the pool size)."""
    f = remote_agent_on_a_call_told_to_stand_by()
    f.send(ev.SetSurgeStage(stage=1))
    assert f.engine.pool_cap("remote") == 3
    f.agent_hangs_up("a4", "c1")
    f.advance(10)
    a4 = f.engine.agents["a4"]
    assert a4.state is A.AVAILABLE, f"a4 is {a4.state.value}/{a4.reason} with room in the pool"


def test_after_call_work_cut_short_by_a_standby_still_counts_the_call_as_handled() -> None:
    """Was: `_apply_pool_cap` moved an agent in after-call work straight to standby
    without `_close_wrap`: the call was never counted as handled and its wrap-up time
    was lost (AHT, both queue and pool), unlike a break or a logout during wrap-up."""
    f = CheckedFloor(SITE)
    f.login("a4")
    f.call("c1")
    f.press("c1", "2")
    f.answer("a4", "c1")
    f.advance(32)  # pre-connect, then 30 s of talk
    f.agent_hangs_up("a4", "c1")
    f.advance(2)  # 2 s into the 5 s after-call work
    f.send(ev.SetDistancingLevel(level="3"))  # remote pool size 0: a4 stands by now
    assert f.engine.agents["a4"].state is A.STANDBY
    assert f.engine.metrics.queues["vaccine"].handled == 1
    assert f.engine.metrics.pools["remote"].handled == 1


def test_a_logout_asked_during_the_call_is_not_turned_into_a_standby() -> None:
    """a4 asks to log out during a call. Was: `_in_service` still counted a4, so when
    the pool size was applied again `_apply_pool_cap` overwrote the pending logout with
    a pending standby: after the call a4 was paused on standby instead of logged out,
    and once the pool grew a4 was put back in service and rung, though a4 went home."""
    f = CheckedFloor(SITE)
    f.login("a5")
    f.advance(1)
    f.login("a4")  # remote pool, size 2 at level 1: both in service, a5 first
    f.call("c1")
    f.press("c1", "2")
    assert f.rung("c1") == ["a4"]
    f.answer("a4", "c1")
    f.advance(2)
    f.send(ev.SetDistancingLevel(level="2"))  # size 1: a4, the later one, is to stand by
    f.send(ev.AgentLogout(agent_id="a4"))  # ... but a4 is going home anyway
    f.send(ev.SetDistancingLevel(level="2"))  # the supervisor confirms the level
    f.agent_hangs_up("a4", "c1")
    f.advance(10)
    f.send(ev.SetDistancingLevel(level="1"))  # the pool grows again
    f.call("c2")
    f.press("c2", "2")
    assert f.agent_state("a4") is A.LOGGED_OUT
    assert "a4" not in f.rung("c2")


def test_a_logout_withdrawn_for_a_break_does_not_overfill_the_pool() -> None:
    """a4 asks to log out during a call, so `_in_service` no longer counts a4 and a5,
    a6 log in to fill the remote pool (size 2). Then a4 asks for a break instead:
    `_on_pause` replaces the pending logout, a4 counts in service again, and nothing
    re-applies the pool size: three remote agents in service (after the call and the
    break, all three are available) in a pool of two."""
    f = CheckedFloor(SITE)
    f.login("a4")
    f.call("c1")
    f.press("c1", "2")
    assert f.rung("c1") == ["a4"]
    f.answer("a4", "c1")
    f.advance(2)
    f.send(ev.AgentLogout(agent_id="a4"))  # after this call
    f.advance(1)
    f.login("a5", "a6")  # the pool's two places, a4 going
    f.send(ev.AgentPause(agent_id="a4", reason="lunch"))  # a4 stays after all
    f.agent_hangs_up("a4", "c1")
    f.advance(10)
    f.send(ev.AgentUnpause(agent_id="a4"))
    available = [a for a in ("a4", "a5", "a6") if f.agent_state(a) is A.AVAILABLE]
    assert len(available) <= 2, f"{available} in service in the remote pool of size 2"
