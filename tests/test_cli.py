"""The `acd` command as an operator uses it: check a configuration, run the demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from acd.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
SEOUL = ROOT / "config" / "seoul120.yaml"


def test_check_accepts_the_reference_deployment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(SEOUL)]) == 0
    out = capsys.readouterr().out
    assert "ok" in out
    assert "414 agents" in out
    assert "2 surge stages" in out


def test_check_refuses_a_broken_copy_naming_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = SEOUL.read_text().splitlines()
    # Break the first queue's wrap-up time in a way an operator might: a unit in the value.
    index = next(
        i for i, line in enumerate(lines) if "wrap_up_seconds:" in line and "queues" not in line
    )
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines[index] = f"{indent}wrap_up_seconds: 20s"
    broken = tmp_path / "broken.yaml"
    broken.write_text("\n".join(lines) + "\n")

    assert main(["check", str(broken)]) == 1
    err = capsys.readouterr().err
    assert f"{broken}:{index + 1}:" in err
    assert "wrap_up_seconds" in err
    assert "20s" in err
    assert "1 error(s)" in err


def test_check_reports_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.yaml"
    assert main(["check", str(SEOUL), str(missing)]) == 1
    captured = capsys.readouterr()
    assert "ok" in captured.out
    assert str(missing) in captured.err


def test_acd_help_loads_no_sub_command() -> None:
    """`acd --help` lists every sub-command without importing one (nor asyncio, the
    engine, aiohttp or redis): the list comes from acd.cli.commands alone."""
    probe = (
        "import contextlib, io, sys\n"
        "from acd.cli.main import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    main(['--help'])\n"
        "heavy = sorted(m for m in sys.modules if m in ('asyncio', 'aiohttp', 'redis', "
        "'msgspec', 'yaml') or m.startswith(('acd.engine', 'acd.ari', 'acd.store', "
        "'acd.load', 'acd.softphone_sim', 'acd.config')) or m in "
        "{'acd.cli.' + c for c in ('check', 'simulate', 'serve', 'pbx', 'state', 'curve', "
        "'erlang', 'load')})\n"
        "print(heavy)\n"
        "print('load' in out.getvalue() and 'simulate' in out.getvalue())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)  # fmt: skip
    assert done.stdout.split("\n")[:2] == ["[]", "True"], done.stdout
