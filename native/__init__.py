"""The engine compiled with mypyc, when this Python environment has a build of it.

`tools/venv.sh` (the set-up of `./acd` and `./run-tests`) compiles the modules listed
in `MODULES` (the engine's parts and flows, the replay's loop, people and driver)
with mypyc into `<venv>/acd-native/` (`acd.native.build`), when the machine has a C
compiler; `activate`, run when `acd` is first imported, makes `import
acd.engine.core` and the others load that build. The build carries a
fingerprint of the sources it was made from: a build of other sources (an edited
engine) is never loaded, the plain-Python engine runs instead. `ACD_PURE=1` turns
the build off. Both give the same output (`tests/test_native.py`).
"""

from __future__ import annotations

# Only light modules here: this runs on every `import acd` (`acd --help` included),
# so no pathlib, importlib.abc or importlib.util, and hashlib only for a build.
import importlib.machinery
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(HERE)
"""The checkout (or the installed package) holding engine/, config/ and native/."""
BUILD = os.path.join(sys.prefix, "acd-native")
"""Where this environment's build lives (one per venv: it is made for its Python)."""


def modules() -> list[str]:
    """The compiled modules, as paths in the package without ".py" ("engine/core")."""
    with open(os.path.join(HERE, "MODULES"), encoding="utf-8") as f:
        lines = [line.strip() for line in f]
    return [line for line in lines if line and not line.startswith("#")]


def sources() -> list[str]:
    """What a build depends on, relative to `ROOT`, in name order: every module of the
    parts compiled from (compiled code checks the types it reads from the others), the
    configuration records, and the list."""
    parts = {m.split("/")[0] for m in modules()}
    found = [
        f"{part}/{n}"
        for part in parts
        for n in os.listdir(os.path.join(ROOT, part))
        if n.endswith(".py")
    ]
    return sorted([*found, "config/schema.py", "native/MODULES"])


def fingerprint() -> str:
    """A hash of the sources a build is made from: the sha256 of what `sha256sum`
    prints for them (`native/fingerprint.sh` computes the same in the shell)."""
    import hashlib  # only when there is a build to check, or one to make

    listing = ""
    for name in sources():
        with open(os.path.join(ROOT, name), "rb") as f:
            listing += f"{hashlib.sha256(f.read()).hexdigest()}  {name}\n"
    return hashlib.sha256(listing.encode()).hexdigest()


def built() -> bool:
    """Whether this environment holds a build of the engine's current sources."""
    try:
        with open(os.path.join(BUILD, "FINGERPRINT"), encoding="utf-8") as f:
            stamp = f.read().strip()
    except OSError:
        return False
    return stamp == fingerprint()


class _Compiled:
    """A meta path finder: the compiled modules from the build (`acd.engine.core`...)."""

    def __init__(self, files: dict[str, str]) -> None:
        self._files = files

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        file = self._files.get(fullname)
        if file is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, file)
        spec = ModuleSpec(fullname, loader, origin=file)
        spec.has_location = True
        return spec


ACTIVE = False
"""Whether `activate` found a current build (the compiled engine is in use)."""


def describe() -> str:
    """Which engine this process runs, in a line (benchmarks print it)."""
    if ACTIVE:
        return "engine: compiled with mypyc (acd.native; ACD_PURE=1 for plain Python)"
    return "engine: plain Python (no build of the current sources, or ACD_PURE=1)"


def activate() -> None:
    """Load the compiled engine modules from this environment's build, if it is a
    build of the current sources and `ACD_PURE` is not "1". Otherwise nothing: the
    engine runs as plain Python."""
    global ACTIVE
    if ACTIVE or os.environ.get("ACD_PURE") == "1" or not built():
        return
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    files = {
        "acd." + m.replace("/", "."): os.path.join(BUILD, "acd", *m.split("/")) + suffix
        for m in modules()
    }
    if not all(os.path.exists(f) for f in files.values()):
        return
    sys.path.append(BUILD)  # mypyc's shared runtime module of the build
    sys.meta_path.insert(0, _Compiled(files))
    ACTIVE = True
