"""The typed configuration of one site (one contact centre).

These records are the *contract* between the YAML files an operator writes and the
engine: `config.loader` turns a file into a `SiteConfig` (or a list of errors naming
file, line and field), and `engine` compiles a `SiteConfig` into its routing indexes.
Nothing here does IO, so the engine may import it.

Every struct forbids unknown fields: a misspelt key is an error, never silently
ignored. Durations are seconds, clock times are local "HH:MM" in the site's UTC
offset, sound names are Asterisk media URIs ("sound:queue-thereare").

Every figure has the range a real centre can have (`config/README.md`, "Ranges", says
why each): a typo such as `ring_timeout_seconds: 1e300` or `max_concurrent: 5000000`
is refused by the loader with its line, never run. The bounds are `Meta(ge=..., le=...)`
on the aliases and fields below; the checks that involve two fields (a vendor's
hourly cap against its lines) are the loader's.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from msgspec import Meta, Struct, field

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

ClockTime = Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]
Date = Annotated[str, Meta(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
UtcOffset = Annotated[str, Meta(pattern=r"^[+-][0-9]{2}:[0-9]{2}$")]
DAY_SECONDS: Final = 86_400
MAX_AGENTS: Final = 100_000
"""Most agents a site may have (in all, per pool, per surge stage): ten times the
largest single-site centres, and a bound on what the loader allocates."""
MAX_CALLS_PER_DAY: Final = 10_000_000
"""Ten times Seoul 120's worst surge day is 800,000 calls; a site's surge thresholds
go no further than this."""

Seconds = Annotated[float, Meta(ge=0, le=DAY_SECONDS)]
"""A duration: no waiting time, threshold or delay of a contact centre exceeds a day."""
PositiveSeconds = Annotated[float, Meta(gt=0, le=DAY_SECONDS)]
RingSeconds = Annotated[float, Meta(ge=1, le=600)]
"""How long a phone rings before it counts as not answered: from a second (nobody can
answer faster) to ten minutes (carriers give up long before)."""
CallSeconds = Annotated[float, Meta(gt=0, le=4 * 3600)]
"""A conversation's or a caller's patience's typical length: at most four hours."""
Count = Annotated[int, Meta(ge=0, le=MAX_AGENTS)]
"""A number of agents, or of callers in a queue."""
Rank = Annotated[int, Meta(ge=-1000, le=1000)]
"""A queue's weight or a caller's priority: they rank a handful of queues and callers.
The read model packs a priority with a sequence number in one float (exact while
|priority| < 8192, store/projection.py), so a wide range would also be a wrong one."""
SkillLevel = Annotated[int, Meta(ge=1, le=5)]
Digit = Annotated[str, Meta(pattern=r"^[0-9*#]$")]
Media = list[str]
"""A playlist of Asterisk media URIs, played in order."""


class _Record(Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Base of every configuration record: strict keys, immutable once loaded."""


class TimeWindow(_Record, frozen=True):
    """Days of the week and a local time range. `end` before `start` crosses midnight
    (the evening shift 18:00-01:00); `end` "24:00" means the end of the day."""

    days: Annotated[list[Day], Meta(min_length=1)] = field(default_factory=lambda: list(DAYS))
    start: ClockTime = "00:00"
    end: ClockTime = "24:00"


class Hours(_Record, frozen=True):
    """Opening hours: open inside any window, closed on the listed holidays."""

    open: Annotated[list[TimeWindow], Meta(min_length=1)]
    holidays: list[Date] = []


SiteName = Annotated[str, Meta(pattern=r"^[^{}\s]([^{}\n\r\t]{0,98}[^{}\s])?$")]
"""1 to 100 characters, no leading or trailing space, no braces (the name is the Redis
hash tag of the site's keys, store/keys.py)."""
NonEmpty = Annotated[str, Meta(min_length=1)]


class Site(_Record, frozen=True):
    name: SiteName
    """The site's name: `acd state NAME` and the Redis keys use it."""
    utc_offset: UtcOffset = "+00:00"
    """Local time is UTC plus this fixed offset (Korea has no daylight saving)."""
    languages: Annotated[list[str], Meta(min_length=1)] = field(default_factory=lambda: ["en"])
    default_language: str = "en"
    short_abandon_seconds: Annotated[float, Meta(ge=0, le=60)] = 5.0
    """Callers who abandon within this many seconds of joining a queue are not offered."""
    service_level_seconds: Annotated[float, Meta(ge=1, le=3600)] = 20.0
    interval_minutes: Annotated[int, Meta(ge=1, le=60)] = 15
    dial_out: NonEmpty = "PJSIP/{number}@pstn"
    """Endpoint template for callbacks to a caller's number."""
    distancing_level: str = "1"
    """Social-distancing level in force, as written in the pools' size tables
    ("1", "1.5", "2", ...: matched as text); it sizes remote pools (field facts)."""


class Skill(_Record, frozen=True):
    name: str = ""
    description: str = ""


class Pool(_Record, frozen=True):
    """A group of agents who work under the same arrangement.

    `kind` is the trade's: in-house seats, remote (home) agents, vendor staff
    logged into this ACD. `size_by_distancing_level` caps how many of the pool's
    agents are in service at each distancing level (absent: no cap)."""

    kind: Literal["in_house", "remote", "vendor"]
    name: str = ""
    size_by_distancing_level: dict[str, Count] | None = None


class Vendor(_Record, frozen=True):
    """An outsourced vendor reached over a trunk, under a capacity-capped contract."""

    trunk: NonEmpty
    """The endpoint to dial, e.g. "PJSIP/vendor-a" or "PJSIP/1200@vendor-a"."""
    skills: list[str]
    max_concurrent: Annotated[int, Meta(ge=1, le=10_000)]
    """Lines (seats) of the contract: the largest outsourcing contracts have thousands."""
    max_per_hour: Annotated[int, Meta(ge=1)] | None = None
    """At most what `max_concurrent` lines can carry (the loader checks it)."""
    max_per_day: Annotated[int, Meta(ge=1)] | None = None
    """At most 24 times the hourly figure (the loader checks it)."""
    hours: Hours | None = None
    ring_timeout_seconds: RingSeconds = 30.0
    name: str = ""


class RelaxStep(_Record, frozen=True):
    """After a caller has waited `after_seconds`, widen who may take the call."""

    after_seconds: Seconds
    min_level: SkillLevel | None = None
    pools: list[str] = []
    """Pools admitted from this step on, in addition to those already admitted."""


class OverflowWhen(_Record, frozen=True):
    """All the conditions given must hold (at least one must be given)."""

    waited_over_seconds: Seconds | None = None
    queue_longer_than: Count | None = None
    predicted_wait_over_seconds: Seconds | None = None
    stage_at_least: Annotated[int, Meta(ge=0, le=100)] | None = None
    """A surge stage the site defines (the loader checks it)."""


class OverflowRule(_Record, frozen=True):
    """Send a waiting call to one of `vendors` (in order, first with capacity) when
    `when` holds. A queue's rules are alternatives: any rule that holds qualifies."""

    vendors: list[str]
    when: OverflowWhen


class PredictedWait(_Record, frozen=True):
    """Routing on each caller's predicted wait as well as on the fixed seconds.

    A caller whose predicted wait when joining (the queue's estimate, as announced)
    is over `share_of_patience` of the patience this queue's callers have shown (the
    time all of them waited, divided by those who gave up: the maximum-likelihood
    mean of an exponential patience, from the day's outcomes so far) would likely
    give up before the fixed seconds widen the call's reach. So at once:
    - with `relax`, the call takes the queue's last relaxation step (every level and
      pool the `relax` steps admit: the operator's bounds stay the steps themselves);
    - with `overflow`, it qualifies under each overflow rule whose other conditions
      hold (the surge stage, the vendors' caps and hours): the rule's waited, line
      length and predicted-wait triggers are what this replaces.
    Before the queue has seen a caller give up, nothing changes."""

    relax: bool = True
    overflow: bool = True
    share_of_patience: Annotated[float, Meta(gt=0, le=10)] = 1.0
    """Act when the predicted wait is over this share of the callers' mean patience."""


class Announcements(_Record, frozen=True):
    """Periodic position and expected-wait announcements to queued callers."""

    first_after_seconds: Annotated[float, Meta(ge=0, le=3600)] = 30.0
    every_seconds: Annotated[float, Meta(ge=10, le=3600)] = 60.0
    """At least 10 s: an announcement takes seconds to play."""
    position: bool = True
    expected_wait: bool = True


class CallbackOffer(_Record, frozen=True):
    """Virtual hold: offer a callback that keeps the caller's place in the queue."""

    when_expected_wait_over_seconds: Seconds
    digit: Digit = "1"
    offer_prompt: Media = field(default_factory=lambda: ["sound:queue-callback-offer"])
    confirm_prompt: Media = field(default_factory=lambda: ["sound:queue-callback-confirm"])
    max_attempts: Annotated[int, Meta(ge=1, le=10)] = 3
    retry_after_seconds: Seconds = 300.0
    ring_timeout_seconds: RingSeconds = 30.0


class Queue(_Record, frozen=True):
    """A queue: callers needing one skill, served by agents of admitted pools."""

    skill: str
    pools: list[str]
    """Pools admitted from the start; relaxation steps may admit more."""
    name: str = ""
    min_level: SkillLevel = 1
    strategy: Literal[
        "longest_idle", "skill_level", "least_occupied", "round_robin", "random"
    ] = "longest_idle"
    weight: Rank = 0
    """Across an agent's queues, a higher weight is served first (as app_queue)."""
    priority: Rank = 0
    """Default caller priority; an IVR route may set another."""
    wrap_up_seconds: Annotated[float, Meta(ge=0, le=3600)] = 10.0
    """After-call work: an hour is already far beyond any centre's."""
    ring_timeout_seconds: RingSeconds = 15.0
    service_level_seconds: Annotated[float, Meta(ge=1, le=3600)] | None = None
    music_on_hold: str = "default"
    join_prompt: Media = []
    pre_connect: Media = []
    """Played to the caller while the agent rings; the call is bridged only when
    both the agent has answered and this has finished (worker protection)."""
    announce: Announcements | None = None
    relax: list[RelaxStep] = []
    overflow: list[OverflowRule] = []
    predicted_wait: PredictedWait | None = None
    """Off by default: the relaxation and overflow rules act on the fixed seconds alone."""
    callback: CallbackOffer | None = None
    max_waiting: Count | None = None
    full_prompt: Media = field(default_factory=lambda: ["sound:queue-full"])


class SkillGrant(_Record, frozen=True):
    """One skill of one agent: a record with a source, not free text."""

    skill: str
    level: SkillLevel
    source: Literal["trained", "certified", "experience", "vendor"] = "trained"


class Agent(_Record, frozen=True):
    id: NonEmpty
    endpoint: NonEmpty
    pool: str
    skills: list[SkillGrant]
    name: str = ""
    shift: str | None = None


class AgentGroup(_Record, frozen=True):
    """A compact description of many alike agents: ids `first_id`, `first_id`+1, ...

    `endpoint` and `name` are templates with `{id}` and `{n}` (1-based index)."""

    count: Annotated[int, Meta(ge=1, le=MAX_AGENTS)]
    first_id: Annotated[int, Meta(ge=0, le=999_999_999)]
    pool: str
    skills: list[SkillGrant]
    endpoint: NonEmpty = "PJSIP/agent{id}"
    name: str = "{pool} {n}"
    shift: str | None = None


class Shift(_Record, frozen=True):
    """When the agents of a shift are scheduled to work."""

    windows: Annotated[list[TimeWindow], Meta(min_length=1)]
    name: str = ""


class Route(_Record, frozen=True):
    """Where an IVR step leads: another node, or a queue with a priority.

    Exactly one of `goto`, `queue` is given. `language` switches the caller's
    language from here on (the foreign-language branch)."""

    goto: str | None = None
    queue: str | None = None
    priority: Rank | None = None
    language: str | None = None


class MenuNode(_Record, frozen=True, tag_field="kind", tag="menu"):
    """Play a prompt, collect one digit. `#` goes back to the previous menu and `*`
    repeats, unless the options use those keys. After `retries` invalid or missing
    inputs the caller goes to `on_fail` (or is disconnected politely)."""

    prompt: Media
    options: dict[Digit, Route]
    timeout_seconds: Annotated[float, Meta(ge=1, le=60)] = 5.0
    """Silence after the prompt before the menu counts a try: 1 s to a minute."""
    retries: Annotated[int, Meta(ge=0, le=10)] = 2
    invalid_prompt: Media = field(default_factory=lambda: ["sound:option-is-invalid"])
    on_fail: Route | None = None
    fail_prompt: Media = field(default_factory=lambda: ["sound:vm-goodbye"])


class AnnounceNode(_Record, frozen=True, tag_field="kind", tag="announce"):
    """Play a prompt, then go on."""

    prompt: Media
    next: Route


class ScheduleBranch(_Record, frozen=True):
    window: TimeWindow
    then: Route


class ScheduleNode(_Record, frozen=True, tag_field="kind", tag="schedule"):
    """Branch on the local time: business hours, day-of-week scenarios, holidays.

    The first branch whose window holds is taken; on a holiday `on_holiday` (when
    given) wins over every branch; otherwise `otherwise` (the closed-hours branch)."""

    branches: list[ScheduleBranch]
    otherwise: Route
    holidays: list[Date] = []
    on_holiday: Route | None = None


class SendLinkNode(_Record, frozen=True, tag_field="kind", tag="send_link"):
    """Visible ARS: send the caller a link (text message) instead of waiting."""

    link: str
    prompt: Media = field(default_factory=lambda: ["sound:visible-ars-sent"])
    next: Route | None = None
    """Where to go after the confirmation; absent: the call ends, self-served."""


class HangupNode(_Record, frozen=True, tag_field="kind", tag="hangup"):
    """Play a last prompt and end the call (closed hours, information only)."""

    prompt: Media = []


IvrNode = MenuNode | AnnounceNode | ScheduleNode | SendLinkNode | HangupNode


class Ivr(_Record, frozen=True):
    entry: str
    nodes: dict[str, IvrNode]
    by_dnis: dict[str, str] = {}
    """Dialled number -> entry node, for sites with several published numbers."""


class MissedRing(_Record, frozen=True):
    """Ring-no-answer, busy and unreachable are all misses (app_queue's autopause)."""

    pause_after: Annotated[int, Meta(ge=1, le=100)] = 3
    rest_seconds: Annotated[float, Meta(ge=0, le=3600)] = 5.0
    """After a miss below `pause_after`, the agent rests this long before the next offer."""


class Abusive(_Record, frozen=True):
    warning: Media = field(default_factory=lambda: ["sound:abusive-caller-warning"])
    cool_down_seconds: Annotated[float, Meta(ge=0, le=3600)] = 120.0


class Admission(_Record, frozen=True):
    """Brakes under overload (`ari/brakes.py`): new callers past what the PBX and the
    engine can serve are turned away at once instead of degrading every call."""

    max_new_calls_per_second: Annotated[float, Meta(ge=0, le=10_000)] = 0.0
    """The knee measured for this PBX (benchmarks/asterisk_load.py); 0: no rate cap."""
    burst: Annotated[int, Meta(ge=1, le=100_000)] = 20
    """New callers let in at once above the rate (a bucket that many deep)."""
    max_ari_latency_ms: Annotated[float, Meta(ge=0, le=60_000)] = 1500.0
    """When the slowest tenth of recent ARI round trips takes longer, no new caller is
    let in until it falls to half of this; 0: off."""
    max_requests_in_flight: Annotated[int, Meta(ge=1, le=10_000)] = 128
    """ARI requests sent at once; more wait their turn in this process (Asterisk's
    HTTP server takes `sessionlimit` sessions, 200 in the sample http.conf)."""
    turn_away: Literal["busy", "continue"] = "busy"
    """What a caller turned away gets: `busy` (hung up with cause 17: a busy tone, the
    carrier may retry), or `continue`: the dialplan at `live.fallback_context`."""


class Live(_Record, frozen=True):
    """How `acd serve` works with a real PBX over ARI (ignored by the replay)."""

    caller_id: str = ""
    """The number agents and vendors see when they are rung ("" = the caller's own),
    and called-back citizens and text messages show ("" = the number the caller
    dialled, e.g. 120)."""
    on_shutdown: Literal["continue", "hangup"] = "continue"
    """What happens to callers still in the IVR or waiting when the engine stops:
    they hear `shutdown_prompt`, then go on in the dialplan at `fallback_context`
    (`continue`, e.g. to an operator) or are hung up politely (`hangup`)."""
    shutdown_prompt: Media = field(default_factory=lambda: ["sound:custom/acd-service-moving"])
    fallback_context: str = "acd-fallback"
    fallback_extension: str = "s"
    abusive_dtmf: Annotated[str, Meta(pattern=r"^[0-9*#]{1,4}$")] = "*9"
    """The keys an agent presses during a conversation to flag an abusive caller."""
    feature_prompt: Media = field(default_factory=lambda: ["sound:beep"])
    """Played to an agent who dialled a feature code (login, pause...) before hang-up."""
    admission: Admission = field(default_factory=Admission)


class SurgeStage(_Record, frozen=True):
    """A surge stage (field facts: 1 = 60,000 calls a day in-house, 2 = 80,000 with
    vendors and short-term hires)."""

    stage: Annotated[int, Meta(ge=1, le=100)]
    enter_at_calls_per_day: Annotated[int, Meta(ge=1, le=MAX_CALLS_PER_DAY)]
    leave_below_calls_per_day: Annotated[int, Meta(ge=0, le=MAX_CALLS_PER_DAY)] | None = None
    """Hysteresis; absent: 90 % of `enter_at_calls_per_day`."""
    pool_sizes: dict[str, Count] = {}
    """Raise these pools' in-service size while at this stage (or above)."""
    announcement: Media = []
    """Played to every caller joining a queue at this stage (or above)."""


class Surge(_Record, frozen=True):
    auto: bool = False
    """Switch stages from the rolling inbound rate (a supervisor can still pin one)."""
    window_minutes: Annotated[int, Meta(ge=1, le=24 * 60)] = 60
    stages: list[SurgeStage] = []


class Wallboard(_Record, frozen=True):
    """When the wallboard raises an alert a supervisor can't miss."""

    service_level_target: Annotated[float, Meta(ge=0, le=1)] = 0.8
    """A queue whose service level today falls under this (0-1) is flagged."""
    longest_wait_seconds: Annotated[float, Meta(ge=1, le=24 * 3600)] = 120.0
    """A queue whose longest current wait passes this is flagged."""
    vendor_near_cap: Annotated[float, Meta(gt=0, le=1)] = 0.9
    """A vendor at this share of any of its contract caps (concurrent, hour, day)."""
    agent_stuck_seconds: dict[
        Literal["reserved", "on_call", "wrap_up", "paused"],
        Annotated[float, Meta(ge=1, le=24 * 3600)],
    ] = field(
        default_factory=lambda: {
            "reserved": 60.0, "on_call": 1800.0, "wrap_up": 300.0, "paused": 1800.0,
        }
    )
    """An agent in one of these states longer than this is flagged."""


# --- simulation: how callers and agents behave in a replay (the engine ignores it) ---


class Duration(_Record, frozen=True):
    """A random duration: log-normal (`median_seconds` * exp(N(0, sigma)), the usual
    shape of talk times) or exponential (`mean_seconds`, as queueing theory assumes)."""

    kind: Literal["lognormal", "exponential"] = "lognormal"
    median_seconds: CallSeconds | None = None
    sigma: Annotated[float, Meta(ge=0, le=3)] = 0.6
    mean_seconds: CallSeconds | None = None


class SurvivalPoint(_Record, frozen=True):
    after_seconds: Annotated[float, Meta(ge=0, le=4 * 3600)]
    still_waiting: Annotated[float, Meta(ge=0, le=1)]


class Patience(_Record, frozen=True):
    """How long a queued caller waits before hanging up.

    `kind` exponential uses `mean_seconds`; lognormal uses `median_seconds` and
    `sigma`; table uses `points`: the share of callers still waiting after so many
    seconds, from (0, 1.0) down, interpolated linearly (an empirical survival
    curve); past the last point, callers wait no longer."""

    kind: Literal["exponential", "lognormal", "table"] = "exponential"
    mean_seconds: Annotated[float, Meta(gt=0)] | None = None
    """No upper bound (finite): a mean of 1e12 s is how a replay models callers who
    never hang up (Erlang C's assumption, tests/test_validation_erlang.py)."""
    median_seconds: Annotated[float, Meta(gt=0)] | None = None
    sigma: Annotated[float, Meta(ge=0, le=3)] = 0.8
    points: list[SurvivalPoint] = []


class Branch(_Record, frozen=True):
    """One IVR branch as callers use it: the keys they press, menu by menu, and how
    long the conversation lasts."""

    keys: list[Digit]
    talk: Duration
    patience: Patience | None = None
    """Overrides the simulation's patience for this branch's callers."""


class Redial(_Record, frozen=True):
    """In a surge the same people call again: after abandoning, with `probability`,
    they call back after an exponential delay, up to `max_attempts` calls in all."""

    probability: Annotated[float, Meta(ge=0, le=1)] = 0.0
    mean_delay_seconds: PositiveSeconds = 600.0
    max_attempts: Annotated[int, Meta(ge=1, le=20)] = 3


class HangUpOnWait(_Record, frozen=True):
    """Callers who hang up on hearing an expected wait over `over_seconds`."""

    over_seconds: Seconds
    probability: Annotated[float, Meta(ge=0, le=1)]


class AgentBehaviour(_Record, frozen=True):
    answer_min_seconds: Annotated[float, Meta(ge=0, le=120)] = 2.0
    answer_max_seconds: Annotated[float, Meta(ge=0, le=120)] = 6.0
    """At least `answer_min_seconds` (the loader checks it)."""
    miss_probability: Annotated[float, Meta(ge=0, le=1)] = 0.02
    """Offers the agent lets ring out (now and then, as people do)."""


class Simulation(_Record, frozen=True):
    """Caller and agent behaviour for `acd simulate` and the virtual PBX."""

    branches: dict[str, Branch]
    """Keyed by the branch names that head the surge curve's columns."""
    patience: Patience = Patience(mean_seconds=180.0)
    redial: Redial = Redial()
    callback_acceptance: Annotated[float, Meta(ge=0, le=1)] = 0.3
    """Share of callers offered a callback who take it."""
    callback_reached: Annotated[float, Meta(ge=0, le=1)] = 0.85
    hang_up_on_wait: HangUpOnWait | None = None
    agents: AgentBehaviour = AgentBehaviour()
    prompt_seconds_per_sound: Annotated[float, Meta(gt=0, le=600)] = 2.5
    vendor_answer_seconds: Annotated[float, Meta(ge=0, le=600)] = 5.0
    dnis: str = ""
    """The number callers dial (chooses the IVR entry through `ivr.by_dnis`)."""
    date: Date = "2026-06-09"
    """The local date of the simulated day (its weekday and holidays matter)."""


class SiteConfig(_Record, frozen=True):
    """A whole site. `agents` is the expanded roster: `agent_groups` are folded into
    it by the loader, so the engine only ever reads `agents`."""

    site: Site
    skills: dict[str, Skill]
    pools: dict[str, Pool]
    queues: dict[str, Queue]
    ivr: Ivr
    agents: list[Agent] = []
    agent_groups: list[AgentGroup] = []
    shifts: dict[str, Shift] = {}
    vendors: dict[str, Vendor] = {}
    missed_ring: MissedRing = MissedRing()
    abusive: Abusive = Abusive()
    surge: Surge = Surge()
    live: Live = Live()
    wallboard: Wallboard = Wallboard()
    simulation: Simulation | None = None


def expand_agent_group(group: AgentGroup) -> list[Agent]:
    """The agents a group stands for, in id order. Pure. Raises KeyError, IndexError
    or ValueError for a template with other placeholders than `{id}`, `{n}`,
    `{pool}` (the loader checks templates first and reports them by line)."""
    agents: list[Agent] = []
    for n in range(1, group.count + 1):
        agent_id = str(group.first_id + n - 1)
        values = {"id": agent_id, "n": n, "pool": group.pool}
        agents.append(
            Agent(
                id=agent_id,
                endpoint=group.endpoint.format(**values),
                pool=group.pool,
                skills=list(group.skills),
                name=group.name.format(**values),
                shift=group.shift,
            )
        )
    return agents
