"""The engine core holds no IO and reads no clock (DESIGN.md, engine/).

Checked on the source itself, so a new import anywhere in engine/ fails here
before it can make a replay depend on the machine it runs on.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "engine"
BANNED_MODULES = {
    "asyncio",
    "aiohttp",
    "redis",
    "socket",
    "ssl",
    "uvloop",
    "time",
    "threading",
    "subprocess",
    "selectors",
    "http",
    "urllib",
    "os",
    "io",
    "pathlib",
    "secrets",
}
BANNED_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("random", "random"),
    ("random", "choice"),
    ("random", "randint"),
    ("random", "shuffle"),
    ("random", "seed"),
    ("random", "uniform"),
    ("random", "sample"),
}
SOURCES = sorted(ENGINE.glob("*.py"))


def test_engine_sources_found() -> None:
    assert len(SOURCES) >= 8


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_engine_module_does_no_io(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in BANNED_MODULES:
                    problems.append(f"line {node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in BANNED_MODULES:
                problems.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and (owner.id, node.func.attr) in BANNED_CALLS:
                problems.append(f"line {node.lineno}: {owner.id}.{node.func.attr}()")
        elif isinstance(node, ast.Name) and node.id in {"open", "print", "input"}:
            problems.append(f"line {node.lineno}: {node.id}")
    assert not problems, (
        f"{path.name} must stay free of IO, clocks and global randomness: {problems}"
    )


def test_the_ban_catches_a_clock_read(tmp_path: Path) -> None:
    """The checker itself works: a module that reads the clock is refused."""
    bad = tmp_path / "bad.py"
    bad.write_text("import time\nfrom datetime import datetime\nx = datetime.now()\n")
    with pytest.raises(AssertionError, match="import time"):
        test_engine_module_does_no_io(bad)
