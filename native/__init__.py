"""The engine compiled with mypyc, when this Python environment has a build of it.

`tools/venv.sh` (the set-up of `./acd` and `./run-tests`) compiles the engine modules
listed in `MODULES` with mypyc into `<venv>/acd-native/` (`acd.native.build`), when
the machine has a C compiler; `activate`, run when `acd` is first imported, makes
`import acd.engine.core` and the others load that build. The build carries a
fingerprint of the sources it was made from: a build of other sources (an edited
engine) is never loaded, the plain-Python engine runs instead. `ACD_PURE=1` turns
the build off. Both give the same output (`tests/test_native.py`).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
ENGINE = HERE.parent / "engine"
BUILD = Path(sys.prefix) / "acd-native"
"""Where this environment's build lives (one per venv: it is made for its Python)."""


def modules() -> list[str]:
    """The compiled engine modules, by name (`native/MODULES`)."""
    text = (HERE / "MODULES").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


SOURCES = ("engine/*.py", "config/schema.py", "native/MODULES")
"""What a build depends on: the compiled modules, the engine modules and the
configuration records they read (compiled code checks the types it reads), and the
list. `tools/venv.sh` computes the same fingerprint in the shell."""


def fingerprint() -> str:
    """A hash of the sources a build is made from, file by file in name order."""
    root = HERE.parent
    digest = hashlib.sha256()
    for path in sorted(p for pattern in SOURCES for p in root.glob(pattern)):
        name = path.relative_to(root).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def built() -> bool:
    """Whether this environment holds a build of the engine's current sources."""
    stamp = BUILD / "FINGERPRINT"
    try:
        return stamp.read_text(encoding="utf-8").strip() == fingerprint()
    except OSError:
        return False


class _Compiled(importlib.abc.MetaPathFinder):
    """Finds `acd.engine.<name>` in the build for the compiled modules."""

    def __init__(self, files: dict[str, Path]) -> None:
        self._files = files

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        file = self._files.get(fullname)
        if file is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(file))
        return importlib.util.spec_from_file_location(fullname, file, loader=loader)


ACTIVE = False
"""Whether `activate` found a current build (the compiled engine is in use)."""


def activate() -> None:
    """Load the compiled engine modules from this environment's build, if it is a
    build of the current sources and `ACD_PURE` is not "1". Otherwise nothing: the
    engine runs as plain Python."""
    global ACTIVE
    if ACTIVE or os.environ.get("ACD_PURE") == "1" or not built():
        return
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    files = {f"acd.engine.{n}": BUILD / "acd" / "engine" / f"{n}{suffix}" for n in modules()}
    if not all(f.exists() for f in files.values()):
        return
    sys.path.append(str(BUILD))  # mypyc's shared runtime module of the build
    sys.meta_path.insert(0, _Compiled(files))
    ACTIVE = True
