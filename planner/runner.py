"""The replays of a plan, on every core.

A plan replays many rosters on many seeds, each day independent of the others, so
they go to a process pool (`concurrent.futures.ProcessPoolExecutor`, one worker a
core by default): each worker calls the replay itself (`softphone_sim.replay.replay`,
unchanged) on a site and a seed, and sends back only the counts a plan judges by
(`Replayed`), not the whole result. With one job the replays run in this process.

A roster replayed on a seed is the same day every time (the replay is deterministic
by seed), so each (roster, seed) is replayed once and kept.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import TypeVar

import msgspec

from acd.config.schema import SiteConfig
from acd.planner.target import Counts
from acd.softphone_sim.curves import Curve
from acd.softphone_sim.result import Figures

K = TypeVar("K", bound=Hashable)


class IntervalCounts(msgspec.Struct, frozen=True, array_like=True):
    """One reporting interval of a replayed day: the calls that joined a queue in it."""

    total: Counts
    queues: dict[str, Counts]
    """Per queue; a queue no call joined is left out."""
    stage: int
    """The surge stage at the interval's start."""


class Replayed(msgspec.Struct, frozen=True):
    """What a plan keeps of one replayed day."""

    seed: int
    total: Counts
    intervals: list[IntervalCounts]
    aht: dict[str, float]
    """Per queue, the day's handle time (talk plus after-call work) where some call
    was handled."""


def _counts(f: Figures) -> Counts:
    return Counts(f.calls, f.offered, f.answered, f.answered_within_sl, f.abandoned_after_sl)


def replay_counts(site: SiteConfig, curve: Curve, seed: int) -> Replayed:
    """Replay the day (`softphone_sim.replay.replay`) and keep what a plan judges by."""
    from acd.softphone_sim.replay import replay

    result = replay(site, curve, seed)
    return Replayed(
        seed=seed,
        total=_counts(result.total),
        intervals=[
            IntervalCounts(
                total=_counts(iv.figures),
                queues={name: _counts(f) for name, f in iv.queues.items()},
                stage=iv.stage,
            )
            for iv in result.intervals
        ],
        aht={
            name: f.aht_seconds for name, f in result.queues.items() if f.aht_seconds is not None
        },
    )


def _task(task: tuple[SiteConfig, Curve, int]) -> Replayed:
    return replay_counts(*task)


class Runner:
    """Replays rosters of one curve on seeds, on `jobs` processes, and remembers them.
    Use as a context manager: the pool's processes end with it."""

    def __init__(self, curve: Curve, jobs: int) -> None:
        self.curve = curve
        self.jobs = jobs
        self.replays = 0
        """Days replayed (each kept day counts once)."""
        self._pool: Executor | None = ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else None
        self._kept: dict[tuple[Hashable, int], Replayed] = {}

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def days(
        self, rosters: Sequence[tuple[K, Callable[[], SiteConfig]]], seeds: Sequence[int]
    ) -> dict[K, list[Replayed]]:
        """Each roster (a key and how to build its site) replayed on every seed, the
        days in the seeds' order. All the replays not yet kept go to the pool at once,
        so every core stays busy."""
        todo: list[tuple[Hashable, int]] = []
        tasks: list[tuple[SiteConfig, Curve, int]] = []
        for key, build in rosters:
            missing = [s for s in seeds if (key, s) not in self._kept]
            if missing:
                site = build()
                for seed in missing:
                    todo.append((key, seed))
                    tasks.append((site, self.curve, seed))
        if tasks:
            if self._pool is None:
                done = [_task(t) for t in tasks]
            else:
                done = list(self._pool.map(_task, tasks))
            self.replays += len(done)
            self._kept.update(zip(todo, done, strict=True))
        return {key: [self._kept[(key, s)] for s in seeds] for key, _ in rosters}

