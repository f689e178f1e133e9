"""The people's decisions: one behaviour model for the surge replay and the virtual PBX.

`People` holds the `simulation:` section of a site configuration (branches and their
keys, patience, redial, hang-up on a long announced wait, callback acceptance and
reach, agents' answer delay and misses, talk times, vendor answer time) and takes every
decision a person makes, drawing from one `random.Random`. It knows nothing of who
asks: `softphone_sim.replay.Day` asks on the engine's commands in virtual time, and
`softphone_sim.pbx.population` asks on what the virtual PBX lets a phone hear.

The calendar helpers `day_start` and `shift_logins` (when agents log in and out) are
shared the same way; they use only `engine.localtime`'s pure arithmetic, the same the
engine uses to read shift windows.

Each method makes the draws it makes in a fixed order and only when the decision needs
them (e.g. no redial draw once the caller has used up their attempts), so a replay
with a given seed draws the same numbers in the same order whatever drives it.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol

from acd.config.schema import Branch, MenuNode, Simulation, SiteConfig
from acd.engine import LocalTime, Window, parse_offset
from acd.softphone_sim.behaviour import PatienceDraw, check_duration, duration

CALLBACK_ANSWER_SECONDS = (3.0, 10.0)
"""Modelled: how long a called-back citizen takes to pick up (uniform)."""
MENU_KEY_SECONDS = (1.0, 3.0)
"""Modelled: regulars know the menu and press this soon after it starts (barge-in)."""


class MenuCaller(Protocol):
    """What `People.key_for_media` needs of a caller: the branch they want, how many
    of its keys they have pressed so far, and which key they pressed on which menu
    (both kept up to date by `key_for_media`)."""

    branch: str
    keys: int
    pressed: dict[str, str]


class KeyPress(NamedTuple):
    """A key a caller decides to press, `delay` seconds after the prompt started."""

    delay: float
    digit: str
    accepts_callback: bool
    """True when the key accepts a callback offer (not a menu choice)."""


class People:
    """The callers, agents, vendor trunks and called-back citizens of one site.

    Raises ValueError naming the field if the site has no `simulation:` section or a
    branch's talk time lacks its parameter."""

    def __init__(self, site: SiteConfig, rng: random.Random) -> None:
        sim_cfg = site.simulation
        if sim_cfg is None:
            raise ValueError("the configuration has no `simulation:` section (caller behaviour)")
        self.cfg: Simulation = sim_cfg
        self.rng = rng
        self.branches: dict[str, Branch] = dict(sim_cfg.branches)
        if not self.branches:
            raise ValueError("simulation.branches: at least one branch is needed")
        for name, branch in self.branches.items():
            check_duration(branch.talk, f"simulation.branches.{name}.talk")
        self._patience = {
            name: PatienceDraw(b.patience or sim_cfg.patience) for name, b in self.branches.items()
        }
        self.first_branch = next(iter(self.branches))
        """The branch assumed for a call whose caller is unknown (e.g. a callback)."""
        self.menu_sounds = frozenset(
            n.prompt[0] for n in site.ivr.nodes.values() if isinstance(n, MenuNode) and n.prompt
        )
        """A menu is recognised by the first sound of its prompt."""
        self.offer_sounds: dict[str, str] = {
            q.callback.offer_prompt[0]: q.callback.digit
            for q in site.queues.values()
            if q.callback is not None and q.callback.offer_prompt
        }
        """First sound of a queue's callback offer → the digit that accepts it."""

    @property
    def prompt_seconds_per_sound(self) -> float:
        """How long one sound of a prompt plays (the replay's playback model)."""
        return self.cfg.prompt_seconds_per_sound

    @property
    def vendor_answer_seconds(self) -> float:
        """How long a vendor trunk rings before it answers (no draw)."""
        return self.cfg.vendor_answer_seconds

    @property
    def dnis(self) -> str:
        """The number the callers dial."""
        return self.cfg.dnis

    def check_branches(self, branches: Iterable[str], what: str) -> None:
        """Raise ValueError naming `what` if a branch has no `simulation.branches` entry."""
        unknown = [b for b in branches if b not in self.branches]
        if unknown:
            raise ValueError(f"{what}: branch {unknown[0]!r} has no `simulation.branches` entry")

    # ------------------------------------------------------------------ callers

    def new_number(self) -> str:
        """The phone number of a new (first-time) caller: a Korean mobile number."""
        return f"010{self.rng.randrange(10**8):08d}"

    def key_for_media(self, caller: MenuCaller, media: Sequence[str]) -> KeyPress | None:
        """The key the caller presses on hearing `media`, or None.

        On a menu (its first sound) the caller presses the next of their branch's keys,
        once per menu played, and counts it in `caller.keys`; a menu they hear again
        (it timed out before their key counted, e.g. while the engine was away) gets
        the same key again; once all are pressed they wait for the menu to time out.
        On a callback offer they accept with
        `callback_acceptance`, pressing the offer's digit as its first sound ends."""
        rng = self.rng
        for sound in media:
            if sound in self.menu_sounds:
                again = caller.pressed.get(sound)
                if again is not None:
                    return KeyPress(rng.uniform(*MENU_KEY_SECONDS), again, False)
                keys = self.branches[caller.branch].keys
                if caller.keys < len(keys):
                    key = keys[caller.keys]
                    caller.keys += 1
                    caller.pressed[sound] = key
                    return KeyPress(rng.uniform(*MENU_KEY_SECONDS), key, False)
                return None
            digit = self.offer_sounds.get(sound)
            if digit is not None and rng.random() < self.cfg.callback_acceptance:
                return KeyPress(self.cfg.prompt_seconds_per_sound, digit, True)
        return None

    def patience(self, branch: str) -> float:
        """How long (seconds) a caller of `branch` waits on hold before hanging up."""
        return self._patience[branch].draw(self.rng)

    def redial_after(self, attempt: int) -> float | None:
        """Seconds after giving up on call number `attempt` that the caller calls again,
        or None if they do not (attempts used up, or they let it be)."""
        redial = self.cfg.redial
        if attempt < redial.max_attempts and self.rng.random() < redial.probability:
            return self.rng.expovariate(1.0 / redial.mean_delay_seconds)
        return None

    def hangs_up_on_announcement(self, expected_wait: float | None) -> bool:
        """True if a waiting caller told to expect `expected_wait` seconds hangs up
        (`hang_up_on_wait`); no announced wait, or no rule, and they stay."""
        rule = self.cfg.hang_up_on_wait
        if rule is None or expected_wait is None:
            return False
        return expected_wait > rule.over_seconds and self.rng.random() < rule.probability

    def talk_seconds(self, branch: str | None) -> float:
        """How long a conversation on `branch` lasts (None or unknown: the first branch)."""
        model = self.branches.get(branch) if branch is not None else None
        if model is None:
            model = self.branches[self.first_branch]
        return duration(model.talk, self.rng)

    # ------------------------------------------------------------------ phones

    def ring_answer_delay(self, callback: bool) -> float | None:
        """Seconds an agent's phone rings before the agent answers, or None if they let
        it ring (a miss, `agents.miss_probability`). An agent never misses the ring that
        starts a callback they asked for."""
        behaviour = self.cfg.agents
        if not callback and self.rng.random() < behaviour.miss_probability:
            return None
        return self.rng.uniform(behaviour.answer_min_seconds, behaviour.answer_max_seconds)

    def callback_pickup(self) -> float | None:
        """Seconds a called-back citizen takes to pick up, or None if they are not
        reached (`callback_reached`): the call rings out."""
        if self.rng.random() < self.cfg.callback_reached:
            return self.rng.uniform(*CALLBACK_ANSWER_SECONDS)
        return None


# ---------------------------------------------------------------------- the calendar


DRAIN_SECONDS = 3 * 3600.0
"""After the day (the replay) or the window (the virtual PBX), how long the run goes on
at most for the last callers (redials, callbacks) to be served or give up."""


def day_start(site: SiteConfig) -> float:
    """Epoch seconds of local midnight on `simulation.date` (the site's UTC offset)."""
    if site.simulation is None:
        raise ValueError("the configuration has no `simulation:` section (caller behaviour)")
    date = datetime.date.fromisoformat(site.simulation.date)
    midnight_utc = (date - datetime.date(1970, 1, 1)).days * 86400.0
    return midnight_utc - parse_offset(site.site.utc_offset)


def shift_logins(site: SiteConfig, start: float, end: float) -> list[tuple[float, str, bool]]:
    """(time, agent id, logging in?) for every agent's shifts between `start` and
    `end`, found minute by minute from the shift windows (a window's `days` name
    the day it starts on, so yesterday's evening shift runs into today). An agent on
    shift at `start` logs in at `start`; one with no shift logs in at `start`."""
    offset = parse_offset(site.site.utc_offset)
    times = [start + m * 60.0 for m in range(int((end - start) // 60) + 1)]
    edges: dict[str, list[tuple[float, bool]]] = {}
    for name, shift in site.shifts.items():
        working = False
        edges[name] = []
        windows = [Window(w) for w in shift.windows]
        for t in times:
            at = LocalTime(t, offset)
            now_working = any(w.contains(at) for w in windows)
            if now_working != working:
                edges[name].append((t, now_working))
                working = now_working
    moves: list[tuple[float, str, bool]] = []
    for agent in site.agents:
        if agent.shift is None:
            moves.append((start, agent.id, True))
        else:
            moves.extend((t, agent.id, working) for t, working in edges[agent.shift])
    moves.sort(key=lambda m: m[0])
    return moves
