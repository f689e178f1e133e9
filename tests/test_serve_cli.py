"""`acd serve` as an operator starts it: credentials from the environment or a file,
clear errors naming what is wrong, secrets never in its output, a clean stop on
SIGTERM even when Asterisk is not there yet."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from acd.cli.main import main
from tests.redis_server import free_port

ROOT = Path(__file__).resolve().parent.parent
CONFIG = str(ROOT / "config" / "seoul120.yaml")


def test_no_password_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ACD_ARI_PASSWORD", raising=False)
    assert main(["serve", CONFIG, "--ari-url", "http://127.0.0.1:1"]) == 1
    assert "ACD_ARI_PASSWORD" in capsys.readouterr().err


def test_unreadable_password_file_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope"
    args = ["serve", CONFIG, "--ari-url", "http://x", "--ari-password-file", str(missing)]
    assert main(args) == 1
    assert "--ari-password-file" in capsys.readouterr().err


def test_bad_start_time_names_the_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACD_ARI_PASSWORD", "pw")
    assert main(["serve", CONFIG, "--ari-url", "http://x", "--start", "25:99"]) == 1
    assert "--start 25:99" in capsys.readouterr().err


def wait_for_text(path: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Return once `text` is in the file `path` the process writes; fail with what it
    wrote if the process exits first or `timeout` wall seconds pass."""
    deadline = time.monotonic() + timeout
    while text not in path.read_text():
        if proc.poll() is not None or time.monotonic() >= deadline:
            why = f"exited with {proc.returncode}" if proc.poll() is not None else "timed out"
            raise AssertionError(f"no {text!r} ({why}); it wrote:\n{path.read_text()[-3000:]}")
        time.sleep(0.02)


def test_waits_for_asterisk_stops_on_sigterm_and_never_shows_the_password(
    tmp_path: Path,
) -> None:
    secret = "s3cr3t-Pa55-do-not-log"
    pw_file = tmp_path / "ari-password"
    pw_file.write_text(secret + "\n")
    stats = tmp_path / "stats.json"
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACD_ARI")}
    env["ACD_ARI_USER"] = "acd"
    with out_path.open("wb") as out_file, err_path.open("wb") as err_file:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "acd.cli.main", "serve", CONFIG,
                "--ari-url", f"http://127.0.0.1:{free_port()}",  # nobody listens there
                "--ari-password-file", str(pw_file), "--stats-json", str(stats),
                "--log-level", "DEBUG", "--speed", "30", "--start", "2026-06-09T10:00",
            ],
            cwd=ROOT, env=env, stdout=out_file, stderr=err_file,
        )
    try:
        # It says what it waits for; its SIGTERM handler is in place by then.
        wait_for_text(err_path, "cannot connect", proc, timeout=30)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out, err = out_path.read_text(), err_path.read_text()
    assert proc.returncode == 0, err
    assert "stopped: 0 calls" in err  # a clean stop, not a kill
    assert secret not in out + err
    assert stats.exists() and secret not in stats.read_text()
    # The log's times are the engine's clock in the site's time (10:00 in Seoul at
    # 30x), not the wall clock: they match the queue_log and the wallboard.
    stamps = [line[:16] for line in err.splitlines() if line[:2] == "20"]
    assert stamps and set(stamps) <= {f"2026-06-09 10:0{m}" for m in range(10)}, err


def test_sample_asterisk_agents_match_the_reference_roster() -> None:
    # config/asterisk/pjsip_agents.conf is generated from config/seoul120.yaml: an
    # agent missing there would never ring on a real Asterisk.
    made = subprocess.run(
        [sys.executable, "config/asterisk/make_pjsip_agents.py", "config/seoul120.yaml"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    assert made == (ROOT / "config" / "asterisk" / "pjsip_agents.conf").read_text()
