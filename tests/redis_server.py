"""A real `redis-server` for tests: its own free 127.0.0.1 port and temporary
directory, in the foreground (not daemonized), without persistence unless asked.

    server = RedisServer()          # started, answers PING
    server.url                      # redis://127.0.0.1:PORT/0
    server.kill(); server.restart() # a crash, then the same server again
    server.close()                  # stopped, directory removed

`tests/conftest.py` has the `redis_server` fixture that makes one per test.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DEBIAN_PACKAGE = "redis-server"


def executable() -> str | None:
    """The `redis-server` on PATH, or None."""
    return shutil.which("redis-server")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def ping(port: int, timeout: float = 0.5) -> bool:
    """Whether a Redis server answers PING on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class Exited(RuntimeError):
    """The server process ended before it answered."""


class NotAnswering(RuntimeError):
    """The server process runs but does not answer."""


def until_answering(proc: subprocess.Popen[bytes], port: int, within: float) -> None:
    """Return as soon as the server `proc` started (a redis-server or a Sentinel)
    answers PING on 127.0.0.1:`port`, looking every 20 ms. Raises `Exited` if `proc`
    exits first (a port taken, a bad option), `NotAnswering` if it still does not
    answer after `within` seconds: a bound on a hung start, not a measure of one."""
    deadline = time.monotonic() + within
    while not ping(port):
        if proc.poll() is not None:
            raise Exited(f"exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise NotAnswering(f"did not answer PING on port {port} within {within} s")
        time.sleep(0.02)


class RedisServer:
    """One redis-server process; `restart()` brings it back on the same port and
    directory (so with `appendonly=True` it finds its data again)."""

    def __init__(self, *, appendonly: bool = False, start_timeout: float = 10.0) -> None:
        exe = executable()
        if exe is None:
            raise RuntimeError(
                f"redis-server is not on PATH (Debian: apt-get install {DEBIAN_PACKAGE})"
            )
        self.executable = exe
        self.appendonly = appendonly
        self.start_timeout = start_timeout
        self.dir = Path(tempfile.mkdtemp(prefix="acd-redis-"))
        self.log = self.dir / "redis.log"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        try:
            self._start_on_a_free_port()
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _start_on_a_free_port(self) -> None:
        # Another process may take the port between free_port() and the bind: retry.
        for attempt in range(5):
            self.port = free_port()
            try:
                self.start()
                return
            except RuntimeError:
                if attempt == 4:
                    raise

    def start(self) -> None:
        """Start the server (on `port`, in `dir`) and wait until it answers PING."""
        if self.running:
            return
        args = [
            self.executable,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.dir),
            "--daemonize", "no",
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--logfile", "",
            # A SIGTERM is acted on in the next cron tick: 10 ms rather than 100 ms.
            "--hz", "100",
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            until_answering(self.proc, self.port, self.start_timeout)
        except Exited as e:
            raise RuntimeError(f"redis-server {e}:\n{self.log_tail()}") from e
        except NotAnswering as e:
            self.kill()
            raise RuntimeError(f"redis-server {e}:\n{self.log_tail()}") from e

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (a clean shutdown: an append-only file is flushed), then wait."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        self.proc = None

    def restart(self) -> None:
        """Stop (if running) and start again on the same port and directory."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop and remove the directory."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
