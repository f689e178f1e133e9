"""The parts keep their boundaries, and the checks that guard them can fail.

Two checks, each proven against a sample that must break it:

- import-linter contracts (`[tool.importlinter]` in pyproject.toml): the layers
  cli > load > ari/store/softphone_sim/web/queue_log > engine > config, and no IO,
  clock, thread or network module anywhere in the engine's imports, direct or indirect;
- `engine_problems`, an AST check for what an import graph cannot see: reading the
  clock through an allowed module (`datetime.datetime.now()`), module-level
  randomness (`random.random()`, `from random import choice`), and open/print/input.

Together they keep the engine core a pure function of its events, its `now` and the
seeded `random.Random` it is given, so a replay does not depend on the machine.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"
LINT_IMPORTS = ROOT / ".venv" / "bin" / "lint-imports"
SOURCES = sorted(ENGINE.glob("*.py"))

# Qualified names that read the wall clock. A name counts if it is one of these or
# lies under one (`time` stands for the whole module: every part of it is a clock).
CLOCKS = (
    "time",
    "datetime.datetime.now",
    "datetime.datetime.utcnow",
    "datetime.datetime.today",
    "datetime.date.today",
    "uuid.uuid1",  # built from the clock
    "uuid.uuid4",  # built from os.urandom
)
# Builtins that do IO; `__import__` would bring in a module the checks never see.
IO_BUILTINS = frozenset({"open", "print", "input", "__import__"})


def _forbidden(qualname: str) -> str | None:
    """Why `qualname` (e.g. "datetime.datetime.now") may not appear in the engine,
    or None if it may."""
    for clock in CLOCKS:
        if qualname == clock or qualname.startswith(clock + "."):
            return f"reads the clock ({clock})"
    parts = qualname.split(".")
    # Only the class is allowed: the engine draws from the Random it was given.
    # The module's functions share one hidden global state, seeded from the OS.
    if parts[0] == "random" and len(parts) > 1 and parts[1] != "Random":
        return f"module-level randomness ({qualname})"
    return None


def _dotted(node: ast.expr) -> list[str] | None:
    """["a", "b", "c"] for the expression `a.b.c`; None if it is not a plain chain."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def engine_problems(source: str | Path) -> list[str]:
    """The clock reads, module-level randomness and IO builtins in one module.

    `source` is the module's text or a path to it. Returns one "line N: what"
    entry per finding, in line order; an empty list means the module is clean.

    Names are resolved through the module's imports, aliases included
    (`import datetime as dt; dt.datetime.now()` is `datetime.datetime.now`), and
    are found whether called or only referenced (`clock = time.monotonic`).
    Aliasing the random module is refused outright: `r.random()` should not have
    to be traced to be reviewed. Scopes are not tracked: a local variable that
    shadows an imported module's name is read as that module.
    """
    text = source.read_text() if isinstance(source, Path) else source
    tree = ast.parse(text)
    problems: set[tuple[int, str]] = set()
    # Local name -> the qualified name it was imported as.
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    imported[alias.asname] = alias.name
                    if alias.name == "random":
                        problems.add((node.lineno, f"import random as {alias.asname}: aliased"))
                else:
                    # `import a.b` binds `a`.
                    top = alias.name.split(".")[0]
                    imported[top] = top
                why = _forbidden(alias.name)
                if why:
                    problems.add((node.lineno, f"import {alias.name}: {why}"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                qualname = f"{node.module}.{alias.name}"
                imported[alias.asname or alias.name] = qualname
                why = _forbidden(qualname)
                if why:
                    problems.add((node.lineno, f"from {node.module} import {alias.name}: {why}"))

    # Chains inside a longer chain are the same use: `dt.datetime.now` is one
    # finding, not three. Visit outermost first and skip what they contain.
    inner: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute | ast.Name) or id(node) in inner:
            continue
        parts = _dotted(node)
        if parts is None:
            continue
        for sub in ast.walk(node):
            if sub is not node:
                inner.add(id(sub))
        head = parts[0]
        if head in imported:
            qualname = ".".join([imported[head], *parts[1:]])
            why = _forbidden(qualname)
            if qualname == "random":
                # The module passed around as if it were a generator.
                why = "module-level randomness (the random module itself)"
            if why:
                problems.add((node.lineno, f"{'.'.join(parts)}: {why}"))
        elif len(parts) == 1 and head in IO_BUILTINS:
            problems.add((node.lineno, f"{head}: IO"))
    # A generator made without a seed is seeded from the OS: a replay would differ.
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and not node.args and not node.keywords:
            parts = _dotted(node.func)
            if parts and parts[0] in imported:
                qualname = ".".join([imported[parts[0]], *parts[1:]])
                if qualname == "random.Random":
                    why = "module-level randomness (unseeded: the OS seeds it)"
                    problems.add((node.lineno, f"{'.'.join(parts)}(): {why}"))
    return [f"line {line}: {what}" for line, what in sorted(problems)]


# --- the engine as it is --------------------------------------------------------


def test_engine_sources_found() -> None:
    # Guards against a moved folder turning every check below into a no-op.
    assert len(SOURCES) >= 8
    assert ENGINE / "core.py" in SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_engine_module_reads_no_clock_and_no_global_randomness(path: Path) -> None:
    assert engine_problems(path) == []


FACE_MODULES = {"__init__", "events", "commands", "snapshot", "facts"}
"""The engine's face (engine/__init__.py): the modules adapters may import."""


def test_every_engine_module_but_the_face_is_closed_to_adapters() -> None:
    """A part added to the engine is the engine's own at once: the import contract
    "engine-face" names every engine module outside the face."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (face,) = [
        c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "engine-face"
    ]
    closed = {m.removeprefix("acd.engine.") for m in face["forbidden_modules"]}
    modules = {p.stem for p in ENGINE.glob("*.py")}
    assert closed == modules - FACE_MODULES


def _lint_imports(cwd: Path, config: Path, pythonpath: Path | None = None) -> tuple[int, str]:
    env = dict(os.environ)
    if pythonpath is not None:
        # Ahead of site-packages, whose editable-install .pth points at /work/main/src.
        env["PYTHONPATH"] = str(pythonpath)
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(config)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout + done.stderr


def test_the_import_contracts_hold() -> None:
    code, out = _lint_imports(ROOT, ROOT / "pyproject.toml")
    assert code == 0, out
    assert "3 kept, 0 broken" in out


# --- each sample breaks a check -------------------------------------------------


def _in_engine_module(sample: str) -> tuple[str, int]:
    """The text of engine/core.py with `sample` appended, and the number of core.py's
    last line: the sample is checked where it would be written, beside the real
    module's own `import random` and its draws from self.rng."""
    core = (ENGINE / "core.py").read_text()
    return core + "\n" + sample, core.count("\n") + 1


def _sample_id(value: object) -> str | None:
    return value.strip().splitlines()[-1] if isinstance(value, str) else None


@pytest.mark.parametrize(
    ("sample", "line", "finding"),
    [
        ("import datetime\nstamp = datetime.datetime.now()\n", 2, "datetime.datetime.now"),
        ("from datetime import datetime\nstamp = datetime.now()\n", 2, "datetime.now"),
        ("from datetime import datetime\nstamp = datetime.utcnow()\n", 2, "datetime.utcnow"),
        ("from datetime import datetime\nstamp = datetime.today()\n", 2, "datetime.today"),
        ("from datetime import date\nday = date.today()\n", 2, "date.today"),
        ("import time\nstamp = time.time()\n", 2, "time.time"),
        ("import datetime as dt\nstamp = dt.datetime.now()\n", 2, "dt.datetime.now"),
        ("from datetime import datetime as D\nstamp = D.now()\n", 2, "D.now"),
        ("from time import monotonic\n", 1, "from time import monotonic"),
        ("import datetime\nclock = datetime.datetime.now\n", 2, "datetime.datetime.now"),
    ],
    ids=_sample_id,
)
def test_sample_1_a_clock_read_is_found(sample: str, line: int, finding: str) -> None:
    source, base = _in_engine_module(sample)
    problems = engine_problems(source)
    expected = f"line {base + line}: {finding}: reads the clock"
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize(
    ("sample", "line", "finding"),
    [
        ("from random import random\n", 1, "from random import random"),
        ("from random import choice\n", 1, "from random import choice"),
        ("x = random.random()\n", 1, "random.random"),
        ("random.seed(4)\n", 1, "random.seed"),
        ("rng = random.Random()\n", 1, "random.Random()"),
        ("rng = random\n", 1, "random"),
    ],
    ids=_sample_id,
)
def test_sample_2_module_level_randomness_is_found(sample: str, line: int, finding: str) -> None:
    # core.py's own `import random` is what binds `random` in the last four.
    source, base = _in_engine_module(sample)
    problems = engine_problems(source)
    expected = f"line {base + line}: {finding}: module-level randomness"
    assert any(p.startswith(expected) for p in problems), problems


def test_sample_3_an_aliased_random_module_is_found() -> None:
    source, base = _in_engine_module("import random as r\n")
    assert engine_problems(source) == [f"line {base + 1}: import random as r: aliased"]
    # And its use, traced through the alias.
    source, base = _in_engine_module("import random as r\nx = r.random()\n")
    assert f"line {base + 2}: r.random: module-level randomness (random.random)" in (
        engine_problems(source)
    )


def test_the_seeded_generator_is_allowed() -> None:
    """What the engine does today: the class for hints and construction, and
    draws from the instance it holds; none of it is a finding."""
    sample = (
        "import random\n"
        "from random import Random\n"
        "def make(seed: int) -> random.Random:\n"
        "    return Random(seed)\n"
        "class E:\n"
        "    rng: random.Random\n"
        "    def draw(self) -> float:\n"
        "        return self.rng.random()\n"
    )
    assert engine_problems(sample) == []


def test_io_builtins_are_found() -> None:
    problems = engine_problems("print('x')\nwith open('f') as f:\n    pass\n")
    assert problems == ["line 1: print: IO", "line 2: open: IO"]


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real copy of src/acd (its links followed) in a fresh folder, with the
    project's contracts beside it: what grimp analyses there is this copy only."""
    root = tmp_path_factory.mktemp("tree")
    shutil.copytree(
        ROOT / "src" / "acd",
        root / "acd",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


LAYERS_BROKEN = (
    "Layers: cli over load over ari/store/softphone_sim/web/queue_log over engine over config"
    " BROKEN"
)


@pytest.mark.parametrize(
    ("sample", "contract", "chain"),
    [
        (
            "from acd.store.redis import connect\n",
            LAYERS_BROKEN,
            "acd.engine.sample -> acd.store.redis (l.1)",
        ),
        (
            "from acd.ari import controller\n",
            LAYERS_BROKEN,
            "acd.engine.sample -> acd.ari.controller (l.1)",
        ),
    ],
    ids=["4-store", "5-ari"],
)
def test_samples_4_and_5_the_engine_importing_a_part_above_it_breaks_the_layers(
    package_copy: Path, sample: str, contract: str, chain: str
) -> None:
    module = package_copy / "acd" / "engine" / "sample.py"
    module.write_text(sample)
    try:
        code, out = _lint_imports(package_copy, package_copy / "pyproject.toml", package_copy)
    finally:
        module.unlink()
    assert code == 1, out
    assert contract in " ".join(out.split()), out  # lint-imports wraps long names
    assert chain in out, out


def test_sample_6_an_adapter_reaching_into_the_engine_breaks_its_face(
    package_copy: Path,
) -> None:
    """The web part importing the engine's routing indexes (not its face) is refused;
    the same name through the face is not what this sample does."""
    module = package_copy / "acd" / "web" / "sample.py"
    module.write_text("from acd.engine.queues import QueueRuntime\n")
    try:
        code, out = _lint_imports(package_copy, package_copy / "pyproject.toml", package_copy)
    finally:
        module.unlink()
    assert code == 1, out
    assert "Adapters import the engine through its face only BROKEN" in " ".join(out.split())
    assert "acd.web.sample -> acd.engine.queues (l.1)" in out, out


def test_the_copy_without_a_sample_keeps_the_contracts(package_copy: Path) -> None:
    """The samples' failures come from the samples, not from the copying."""
    code, out = _lint_imports(package_copy, package_copy / "pyproject.toml", package_copy)
    assert code == 0, out
