"""Compile the engine (and the replay's loop) with mypyc into this environment's build.

    python -m acd.native.build [--if-needed]

The sources are copied to a scratch folder (only the `.py` files of the package),
compiled there (mypyc, with the machine's C compiler), and the extension modules
assembled beside `<venv>/acd-native/` with the fingerprint of the sources they were
made from, then swapped in whole: nothing is written into the source tree, and a
build cut short is never loaded. Prints one line saying
what happened. Exit status 0 whether or not the machine could compile (the plain-
Python engine then runs, with the same output); 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import acd
from acd import native
from acd.native import built, fingerprint, modules

PACKAGE = Path(acd.__file__).parent
"""The installed package (src/acd in a checkout)."""


def can_compile() -> str | None:
    """Why this machine cannot compile the engine, or None if it can."""
    try:
        import mypyc  # noqa: F401
    except ImportError:
        return "mypyc is not installed"
    compiler = sysconfig.get_config_var("CC") or "cc"
    if shutil.which(compiler.split()[0]) is None:
        return f"no C compiler ({compiler.split()[0]})"
    include = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not include.exists():
        return f"no Python headers ({include})"
    return None


def build() -> None:
    """Compile into a scratch folder, then move the build into place."""
    stamp = fingerprint()  # of the sources as copied (an edit meanwhile: a new build)
    with tempfile.TemporaryDirectory(prefix="acd-native-") as scratch:
        root = Path(scratch)
        # The package's .py files (src/acd links to the parts' folders: follow them).
        for folder, _dirs, names in os.walk(PACKAGE, followlinks=True):
            for name in names:
                if name.endswith(".py"):
                    path = Path(folder) / name
                    target = root / "acd" / path.relative_to(PACKAGE)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
        files = [f"acd/{name}.py" for name in modules()]
        subprocess.run(
            [sys.executable, "-m", "mypyc", *files],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        )
        # Assembled beside the build, then swapped in: a process starting meanwhile
        # finds the old build, none (plain Python), or the new one, never half of one.
        build = Path(native.BUILD)
        new, old = build.with_name(build.name + ".new"), build.with_name(build.name + ".old")
        for leftover in (new, old):
            shutil.rmtree(leftover, ignore_errors=True)
        new.mkdir(parents=True)
        for so in root.glob("*.so"):  # mypyc's shared runtime module
            shutil.move(so, new / so.name)
        for so in (root / "acd").rglob("*.so"):
            target = new / so.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(so, target)
        (new / "FINGERPRINT").write_text(stamp + "\n", encoding="utf-8")
        if build.exists():
            build.rename(old)
        new.rename(build)
        shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m acd.native.build", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--if-needed", action="store_true",
                        help="do nothing if the build is of the current sources")
    args = parser.parse_args(argv)
    lock = Path(native.BUILD).with_name("acd-native.lock")
    with open(lock, "w", encoding="utf-8") as held:
        # One build at a time (two `./acd` started together after an edit): the
        # second waits, then finds the build made.
        fcntl.flock(held, fcntl.LOCK_EX)
        return _build_once(args.if_needed)


def _build_once(if_needed: bool) -> int:
    if if_needed and built():
        return 0
    why = can_compile()
    if why is None:
        started = time.perf_counter()
        try:
            build()
        except (subprocess.CalledProcessError, OSError) as e:
            out = e.stdout if isinstance(e, subprocess.CalledProcessError) else ""
            lines = (out or str(e)).strip().splitlines()
            why = f"mypyc failed: {lines[-1] if lines else e}"
    if why is not None:
        # Not tried again for these sources (the set-up reads TRIED): one line, once.
        Path(native.BUILD).mkdir(parents=True, exist_ok=True)
        (Path(native.BUILD) / "TRIED").write_text(fingerprint() + "\n", encoding="utf-8")
        print(f"acd: the engine runs as plain Python ({why}; the output is the same)")
        return 0
    print(f"acd: engine compiled with mypyc in {time.perf_counter() - started:.0f} s "
          f"(about 1.6x faster replays; ACD_PURE=1 runs it as plain Python)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
