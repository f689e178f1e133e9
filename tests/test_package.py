"""The wheel is the whole program: installed outside the checkout, `acd simulate`
runs a day from the configuration and curve shipped inside it.

The wheel is built from a copy of the working tree (links kept, so src/acd still
points at the top-level folders), not from the checkout itself: setuptools leaves
build/ behind and reuses it, and a file deleted from the tree but still in an old
build/lib would ship. The fresh venv has no pip and reaches the dependencies through
a `deps.pth` naming the project venv's site-packages; the editable install's own .pth
in that folder is not processed (it is not a site dir), so `import acd` can only find
the installed wheel. The tests assert that too, as they would pass vacuously otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
# What a checkout holds besides the package's sources; none of it goes into a wheel.
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".*_cache",
    ".hypothesis",
    "tests",
    "benchmarks",
    "out*.json",
    "out*.html",
)


def _run(args: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    # Nothing from the caller's environment may point back at the checkout.
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built without build isolation (the venv has setuptools)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCES)
    done = _run(
        [
            VENV_PYTHON,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            work / "dist",
            source,
        ],
        cwd=work,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = (work / "dist").glob("acd_engine-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the wheel installed; its dependencies come from the
    project venv through deps.pth. Returns the venv's folder."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    done = _run([sys.executable, "-m", "venv", "--without-pip", root], cwd=root.parent)
    assert done.returncode == 0, done.stderr
    python = root / "bin" / "python"
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root)
    deps = _run(
        [VENV_PYTHON, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root
    )
    (Path(site.stdout.strip()) / "deps.pth").write_text(deps.stdout.strip() + "\n")
    done = _run(
        [VENV_PYTHON, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel],
        cwd=root.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def test_the_wheel_holds_only_the_acd_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    dist_info = "-".join(wheel.name.split("-")[:2]) + ".dist-info"  # acd_engine-0.1.0
    # No bare `engine`, `config`, `cli`, ... that would shadow other installs.
    assert tops == {"acd", dist_info}
    # The links were followed: the parts' sources and data are in, under acd/.
    for needed in (
        "acd/__init__.py",
        "acd/engine/core.py",
        "acd/cli/main.py",
        "acd/ari/controller.py",
        "acd/store/redis.py",
        "acd/softphone_sim/replay.py",
        "acd/config/seoul120.yaml",
        "acd/config/curves/normal-weekday.csv",
    ):
        assert needed in names


def test_the_installed_wheel_simulates_a_day_from_its_own_data(venv: Path, tmp_path: Path) -> None:
    python = venv / "bin" / "python"
    where = _run(
        [
            python,
            "-c",
            "import sysconfig, acd, acd.engine, acd.cli.main\n"
            "print(sysconfig.get_paths()['purelib'])\n"
            "print(acd.engine.__file__)",
        ],
        cwd=tmp_path,
    )
    assert where.returncode == 0, where.stderr
    installed, engine_file = (Path(line) for line in where.stdout.splitlines())
    assert engine_file.is_relative_to(installed), engine_file
    assert not engine_file.resolve().is_relative_to(ROOT), engine_file

    config = installed / "acd" / "config"
    done = _run(
        [
            venv / "bin" / "acd",
            "simulate",
            config / "seoul120.yaml",
            "--curve",
            config / "curves" / "normal-weekday.csv",
            "--seed",
            "1",
            "--json",
            "out.json",
            "--quiet",
        ],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["seed"] == 1
    assert result["curve"] == "normal-weekday"
    assert result["offered"] > 1000
    assert result["answered"] > 0
    # The day ran through the installed copy's config, not the checkout's.
    assert Path(result["config"]).is_relative_to(installed)
