"""How the planner writes its figures, the same in the terminal and the report."""

from __future__ import annotations

from collections.abc import Sequence


def pct(value: float | None) -> str:
    """A share as "97.1%"; "-" for none."""
    return "-" if value is None else f"{value:.1%}"


def seed_list(seeds: Sequence[int]) -> str:
    """Seeds as "4-8" when they run on (three or more), else "1, 3"."""
    if len(seeds) > 2 and list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(map(str, seeds))
