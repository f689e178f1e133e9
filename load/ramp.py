"""`acd load --ramp`: rising call rates until calls fail or are turned away.

One floor of phones for the whole ramp (registered and logged in once); per step,
callers arrive at the step's rate (Poisson) for `step_seconds`, mixed over the
branches as the curve's window mixes them, none redialling, and the step ends when
the last of them has hung up. A step is clean when every call reached the IVR and
ended (answered, abandoned, or ended by the PBX) with no SIP failure and none turned
away; the knee is the highest clean rate. The ramp stops at the first step that is
not clean.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

import msgspec

from acd.load.outcomes import figures, read_attempts
from acd.load.plan import Sounds, steady
from acd.load.run import LoadPlan, build_floor, open_floor, place

STEP_DRAIN_SECONDS: Final = 900.0
"""A step's callers may take this long after the step to finish before they are
stopped (and counted unfinished)."""


class RampStep(msgspec.Struct, kw_only=True):
    rate: float
    placed: int
    connected: int
    abandoned: int
    turned_away: int
    failed: int
    """SIP failures, calls that never ended (aborted by SIPp, or still up at the
    bound), and callers SIPp never placed."""
    unfinished: int
    clean: bool
    cpu_seconds: dict[str, float]
    """Per process during the step (callers placing and talking)."""
    generator_core_share: float
    """CPU of `acd load` and SIPp over the step's wall time (placing, then the last
    calls talking): the share of one core the load generator used (goal: under 0.2
    at the knee)."""
    generator_ms_per_call: float
    taskprocessor_warnings: int | None


class Ramp(msgspec.Struct, kw_only=True):
    site: str
    step_seconds: float
    steps: list[RampStep]
    knee: float | None
    """The highest clean rate, or None if the first step was not clean."""


async def run_ramp(
    plan_: LoadPlan,
    rates: Sequence[float],
    step_seconds: float,
    say: Callable[[str], None],
    progress: Callable[[str], None],
) -> Ramp:
    """Run the ramp (see the module's docstring)."""
    site = plan_.site
    assert site.simulation is not None
    sounds = Sounds(plan_.sounds, site.simulation.prompt_seconds_per_sound)
    branch_of: dict[str, str] = {}
    floor, accounts = build_floor(plan_, branch_of)
    steps: list[RampStep] = []
    with tempfile.TemporaryDirectory(prefix="acd-ramp-") as tmp:
        try:
            await open_floor(plan_, floor, accounts, say)
            for rate in rates:
                persons = steady(site, plan_.curve, plan_.seed, plan_.start_minute,
                                 plan_.minutes, sounds, rate, step_seconds)  # fmt: skip
                branch_of.update((p.number, p.branch) for p in persons)
                say(f"step {rate:g}/s: {len(persons)} callers over {step_seconds:g} s")
                home = (plan_.home or Path(tmp)) / f"step-{rate:g}"
                placed = await place(plan_, persons, home, progress,
                                     step_seconds + STEP_DRAIN_SECONDS)  # fmt: skip
                f = figures(read_attempts(placed.lines), site.site.service_level_seconds,
                            site.site.short_abandon_seconds)  # fmt: skip
                unreached = len(persons) - f.placed
                generator = placed.cpu_seconds["acd load"] + placed.cpu_seconds["sipp"]
                step = RampStep(
                    rate=rate, placed=f.placed, connected=f.connected,
                    abandoned=f.abandoned + f.short_abandoned, turned_away=f.turned_away,
                    failed=sum(f.failed.values()) + f.unfinished + unreached,
                    unfinished=f.unfinished + unreached, clean=False,
                    cpu_seconds=placed.cpu_seconds,
                    generator_core_share=generator / max(placed.wall_seconds, 1e-9),
                    generator_ms_per_call=generator * 1000.0 / max(f.placed, 1),
                    taskprocessor_warnings=placed.taskprocessor_warnings,
                )  # fmt: skip
                step.clean = step.failed == 0 and step.turned_away == 0
                steps.append(step)
                say(step_line(step))
                if not step.clean:
                    break
        finally:
            await floor.close()
    clean = [s.rate for s in steps if s.clean]
    return Ramp(
        site=site.site.name,
        step_seconds=step_seconds,
        steps=steps,
        knee=max(clean) if clean else None,
    )


def step_line(s: RampStep) -> str:
    cpu = ", ".join(f"{name} {sec:.1f} s" for name, sec in s.cpu_seconds.items())
    return (
        f"{s.rate:>6g}/s: placed {s.placed}, answered {s.connected}, abandoned {s.abandoned}, "
        f"turned away {s.turned_away}, failed {s.failed}: {'clean' if s.clean else 'NOT clean'}; "
        f"CPU {cpu}; generator {s.generator_core_share * 100:.0f} % of a core, "
        f"{s.generator_ms_per_call:.1f} ms per call"
        + ("" if s.taskprocessor_warnings is None
           else f"; Asterisk task-processor warnings {s.taskprocessor_warnings}")
    )


def ramp_summary(r: Ramp) -> str:
    lines = [step_line(s) for s in r.steps]
    if r.knee is None:
        lines.append("knee: none (the first step was not clean)")
    else:
        knee = next(s for s in r.steps if s.rate == r.knee)
        lines.append(
            f"knee: {r.knee:g} new calls/s clean; the generator used "
            f"{knee.generator_core_share * 100:.0f} % of a core there"
            + ("" if knee.generator_core_share < 0.2 else " -- goal (< 20 %) MISSED")
        )
    return "\n".join(lines)
