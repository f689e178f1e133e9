"""The engine compiled with mypyc (acd.native) against the plain-Python engine.

Both must give the same replay, byte for byte outside its `run` timings; the
compiled one must really be the one loaded when a build of the current sources is
there, and never a build of other sources. Without a C compiler the set-up builds
nothing: the comparison skips (CI sets ACD_REQUIRE_NATIVE=1 so that it runs).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from acd import native

ROOT = Path(__file__).resolve().parent.parent
ACD = Path(sys.executable).parent / "acd"


def needs_build() -> None:
    if not native.built():
        if os.environ.get("ACD_REQUIRE_NATIVE") == "1":
            pytest.fail("ACD_REQUIRE_NATIVE=1 but this environment has no build of the engine")
        pytest.skip("no build of the engine here (no C compiler?): `python -m acd.native.build`")


def engine_file(pure: bool) -> str:
    env = {**os.environ, "ACD_PURE": "1" if pure else "0"}
    out = subprocess.run(
        [sys.executable, "-c", "import acd.engine.core as c; print(c.__file__)"],
        env=env, check=True, capture_output=True, text=True,
    )
    return out.stdout.strip()


def replay(tmp: Path, pure: bool) -> dict[str, object]:
    out = tmp / f"{'pure' if pure else 'native'}.json"
    subprocess.run(
        [str(ACD), "simulate", str(ROOT / "config" / "seoul120.yaml"),
         "--curve", str(ROOT / "config" / "curves" / "normal-weekday.csv"),
         "--seed", "3", "--json", str(out), "--quiet"],
        env={**os.environ, "ACD_PURE": "1" if pure else "0"}, check=True, capture_output=True,
    )
    result: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    result.pop("run")  # wall-clock timings of the run itself
    return result


def test_the_build_is_what_runs_and_ACD_PURE_turns_it_off() -> None:
    needs_build()
    assert engine_file(pure=False).endswith(".so")
    assert engine_file(pure=True) == str(ROOT / "src" / "acd" / "engine" / "core.py")


def test_the_compiled_engine_replays_a_day_exactly_as_the_plain_one(tmp_path: Path) -> None:
    needs_build()
    compiled, plain = replay(tmp_path, pure=False), replay(tmp_path, pure=True)
    assert compiled["calls"] == plain["calls"] and isinstance(plain["calls"], int)
    assert plain["calls"] > 10_000
    assert json.dumps(compiled, sort_keys=True) == json.dumps(plain, sort_keys=True)


def test_a_build_of_other_sources_is_never_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An engine edited after its build runs as plain Python until built again."""
    monkeypatch.setattr(native, "BUILD", str(tmp_path))
    assert not native.built()  # no build at all
    (tmp_path / "FINGERPRINT").write_text("0" * 64 + "\n", encoding="utf-8")
    assert not native.built()  # a build of other sources
    (tmp_path / "FINGERPRINT").write_text(native.fingerprint() + "\n", encoding="utf-8")
    assert native.built()


def test_the_set_up_and_the_loader_agree_on_the_fingerprint() -> None:
    """The set-up (shell) decides to build, `activate` (Python) to load: were their
    fingerprints to differ, every start would build again, or a build never load."""
    shell = subprocess.run(
        ["bash", str(ROOT / "native" / "fingerprint.sh")],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    assert shell == native.fingerprint()


def test_no_compiled_module_defines_a_msgspec_record() -> None:
    """mypyc cannot build msgspec Structs (their class keywords and defaults are
    lost): the parts' records live in uncompiled modules (engine/state.py, ...)."""
    for name in native.modules():
        tree = ast.parse((ROOT / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = [ast.unparse(b) for b in node.bases]
                assert not any("Struct" in b for b in bases), f"{name}.py: {node.name}"
