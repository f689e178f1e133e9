"""The callers of a load run, drawn before the run: who calls when, which keys they
press and when, how long they wait on hold, and when they call again.

A caller placed by SIPp cannot hear which prompt is playing, so what the virtual
PBX's people decide on hearing a prompt is decided here, ahead, from the same
`People` model and the site's IVR:

- **When keys are pressed.** The IVR is walked for the caller's branch at the
  window's local time (schedules, announcements, menus, language switches), timing
  each prompt by its sound file (`Sounds`); on each menu the caller presses the
  branch's next key a `MENU_KEY_SECONDS` draw after the menu starts, as the people
  model's regulars do (barge-in). Keys pressed during an announcement would be
  ignored by the IVR, so the timing matters.
- **Patience** counts from the last key (the caller cannot hear the queue start),
  a few seconds earlier than the replay's hold start.
- **Redials** after abandoning: drawn per attempt from `People.redial_after`; the
  run places a redial only if that attempt was in fact abandoned.
- Not modelled live (they need the caller to hear a prompt): accepting a callback
  offer, hanging up on a long announced wait. The report says so.

Arrivals are the curve's, drawn with the seed split as `acd simulate` splits it, so
the first calls of the window are the replay's first calls.
"""

from __future__ import annotations

import random
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import msgspec

from acd.config.schema import (
    AnnounceNode,
    HangupNode,
    MenuNode,
    Route,
    ScheduleNode,
    SendLinkNode,
    SiteConfig,
)
from acd.engine import LocalTime, in_window, parse_offset
from acd.softphone_sim.curves import Curve
from acd.softphone_sim.people import MENU_KEY_SECONDS, People, day_start

DTMF_INFO_SHARE: Final = 0.5
"""Share of callers whose phone sends keys by SIP INFO; the others by RFC 2833."""
MAX_IVR_STEPS: Final = 50
"""A walk longer than this is a loop the site check should have refused."""


class Attempt(msgspec.Struct, frozen=True):
    """One call of a person: how long they hold on, and when they call again if
    they gave up (None: they do not)."""

    patience: float
    redial_after: float | None


class Person(msgspec.Struct, frozen=True):
    """A caller of the window: their number, branch, first call (seconds after the
    window starts), DTMF method, keys as (seconds after the previous key, or after
    the answer for the first, digit), and their attempts (the first call, then
    redials)."""

    number: str
    branch: str
    at: float
    info: bool
    keys: tuple[tuple[float, str], ...]
    attempts: tuple[Attempt, ...]


class Sounds:
    """How long a prompt plays: each sound's WAV file under `roots` (the project's
    prompts, and optionally the PBX's sounds folder), `<root>/<lang>/<name>.wav`;
    a sound found nowhere counts `fallback` seconds (the replay's model)."""

    def __init__(self, roots: Sequence[Path], fallback: float) -> None:
        self.roots = tuple(roots)
        self.fallback = fallback
        self._seconds: dict[tuple[str, str], float] = {}

    def seconds(self, media: Sequence[str], language: str) -> float:
        return sum(self._sound(item, language) for item in media)

    def _sound(self, item: str, language: str) -> float:
        kind, _, name = item.partition(":")
        if kind != "sound":
            return self.fallback
        key = (name, language)
        known = self._seconds.get(key)
        if known is None:
            known = self.fallback
            for root in self.roots:
                path = root / language / f"{name}.wav"
                if path.is_file():
                    try:
                        with wave.open(str(path)) as w:
                            known = w.getnframes() / float(w.getframerate())
                    except (wave.Error, EOFError, OSError):
                        continue
                    break
            self._seconds[key] = known
        return known


def key_times(
    site: SiteConfig, sounds: Sounds, keys: Sequence[str], at: float, rng: random.Random
) -> list[tuple[float, str]]:
    """When (seconds after the answer) the caller presses each of `keys`, walking the
    IVR at epoch second `at`; keys the walk never asks for are not pressed."""
    assert site.simulation is not None
    ivr = site.ivr
    local = LocalTime(at, parse_offset(site.site.utc_offset))
    language = site.site.default_language
    node_name = ivr.by_dnis.get(site.simulation.dnis, ivr.entry)
    elapsed = 0.0
    pressed: list[tuple[float, str]] = []
    for _ in range(MAX_IVR_STEPS):
        node = ivr.nodes[node_name]
        route: Route | None
        if isinstance(node, ScheduleNode):
            route = node.otherwise
            if local.date in node.holidays and node.on_holiday is not None:
                route = node.on_holiday
            else:
                for branch in node.branches:
                    if in_window(branch.window, local):
                        route = branch.then
                        break
        elif isinstance(node, AnnounceNode):
            elapsed += sounds.seconds(node.prompt, language)
            route = node.next
        elif isinstance(node, MenuNode):
            if len(pressed) == len(keys):
                return pressed
            digit = keys[len(pressed)]
            elapsed += rng.uniform(*MENU_KEY_SECONDS)
            pressed.append((elapsed, digit))
            route = node.options.get(digit)
        else:
            assert isinstance(node, SendLinkNode | HangupNode)
            return pressed
        if route is None or route.goto is None:
            return pressed
        if route.language is not None:
            language = route.language
        node_name = route.goto
    return pressed


def person(
    people: People,
    site: SiteConfig,
    sounds: Sounds,
    branch: str,
    epoch: float,
    at: float,
    redials: bool = True,
) -> Person:
    """One new caller of `branch` whose first call is at epoch second `epoch` (`at`
    seconds into the run), with their keys, DTMF method and attempts drawn from
    `people` (one attempt only without `redials`)."""
    rng = people.rng
    number = people.new_number()
    times = key_times(site, sounds, people.branches[branch].keys, epoch, rng)
    steps: list[tuple[float, str]] = []
    previous = 0.0
    for when, digit in times:
        steps.append((when - previous, digit))
        previous = when
    max_attempts = people.cfg.redial.max_attempts if redials else 1
    attempts: list[Attempt] = []
    for attempt in range(1, max_attempts + 1):
        patience = people.patience(branch)
        redial = people.redial_after(attempt) if attempt < max_attempts else None
        attempts.append(Attempt(patience, redial))
        if redial is None:
            break
    return Person(
        number=number,
        branch=branch,
        at=at,
        info=rng.random() < DTMF_INFO_SHARE,
        keys=tuple(steps),
        attempts=tuple(attempts),
    )


def plan(
    site: SiteConfig,
    curve: Curve,
    seed: int,
    start_minute: int,
    minutes: int,
    sounds: Sounds,
) -> list[Person]:
    """The people whose first call falls in the window (`start_minute` of the local
    day of `simulation.date`, `minutes` long), in order of their first call.

    Raises ValueError naming the field: no `simulation:` section, a curve branch
    with no `simulation.branches` entry."""
    master = random.Random(seed)
    master.randrange(1 << 62)  # the replay's engine draw: the same people and arrivals
    people = People(site, random.Random(master.randrange(1 << 62)))
    people.check_branches(curve.branches, f"curve {curve.name}")
    arrivals_seed = master.randrange(1 << 62)
    first, last = start_minute * 60.0, (start_minute + minutes) * 60.0
    midnight = day_start(site)
    persons: list[Person] = []
    for arrival in curve.iter_arrivals(arrivals_seed):
        if arrival.at >= last:
            break
        if arrival.at >= first:
            persons.append(
                person(people, site, sounds, arrival.branch, midnight + arrival.at,
                       arrival.at - first)
            )  # fmt: skip
    return persons


def steady(
    site: SiteConfig,
    curve: Curve,
    seed: int,
    start_minute: int,
    minutes: int,
    sounds: Sounds,
    rate: float,
    seconds: float,
) -> list[Person]:
    """Callers arriving at `rate` a second (Poisson) for `seconds`, branches mixed as
    the curve's window mixes them, at the window's local time, none redialling: one
    step of a ramp."""
    people = People(site, random.Random(f"ramp-{seed}-{rate}"))
    people.check_branches(curve.branches, f"curve {curve.name}")
    window = [
        values for start, values in curve.rows if start_minute <= start < start_minute + minutes
    ]
    weights = [sum(column) for column in zip(*window, strict=True)] if window else []
    if not any(weights):
        raise ValueError("--window: the curve places no call in it")
    epoch = day_start(site) + start_minute * 60.0
    persons: list[Person] = []
    at = people.rng.expovariate(rate)
    while at < seconds:
        branch = people.rng.choices(curve.branches, weights)[0]
        persons.append(person(people, site, sounds, branch, epoch + at, at, redials=False))
        at += people.rng.expovariate(rate)
    return persons
