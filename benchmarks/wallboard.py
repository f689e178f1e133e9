"""The wallboard under load: SSE clients on loopback while the live benchmark routes.

    python benchmarks/wallboard.py [--clients 1000] [--rate 200] [--seconds 20] [--agents 800]
                                   [--runs 2] [--connect-concurrency 100]

Runs of the set-up of benchmarks/ari_live.py (its site, callers and agents, imported
from it: a fresh `acd serve` process drives the virtual PBX in this process over ARI;
callers arrive evenly at `--rate` for `--seconds`, press 1, talk 2 s with an agent who
answers in 0.2 s), of two kinds:

1. the reference: `acd serve` without `--web`;
2. `acd serve ... --web 127.0.0.1:PORT` with `--clients` server-sent-event clients on
   `/api/stream` (viewer token), all in one separate client process (aiohttp, one
   session, uvloop) so that their work is not charged to the server. They connect
   before the first caller and read until the end.

Staleness is measured at each client, for every update it gets, as its wall clock when
the update's `data:` line has arrived minus the update's `snapshot.at`. `snapshot.at` is
the engine's clock when the producer polled the engine, i.e. when the update began to be
built; at speed 1 that clock is `time.time()` at `acd serve`'s start running on the
loop's monotonic clock, so on one machine it is the clients' wall clock too (the
measured offset, from the `--stats-json` snapshot against its file's time, is printed:
it can only make the ages look older). This measures the whole age of what a page
shows: build, encode, the fan-out, the socket, the client's own parsing. The ages are
also split against the first client that got the same update id (the "probe" view:
build -> first client, then first client -> this client), which needs no clock at all.

Over the same window in both runs (first caller to the end of the drain): calls placed,
answered, failed; the controller's StasisStart -> first REST answered (median, p99),
as ari_live prints it; call placed -> first prompt heard; the CPU of `acd serve`
(/proc/PID/stat utime + stime), of this process (the PBX), of the client process, and
of the whole machine.

The cost of the web part to routing, three ways: (a) the answered calls/s of the web
runs against the reference (under the knee this stays 1.00 whatever the web part
costs); (b) the engine's loop time the web part takes: `acd serve` is started through
this file (`--as-serve`, a hook on `uvloop.run`; no project file changed) with a probe
task on its loop that sleeps 10 ms again and again and notes how late it wakes, in both
kinds of run; `acd serve`'s CPU time in the stalls of 5 ms or more (its own work
there, whatever else the machine runs), web minus reference, is what routing loses at
the knee (one thread there, always busy) and what callers arriving meanwhile wait;
(c) `acd serve`'s CPU, web minus reference, as a share of its core (noisier: a loop
held for a while then handles the events that waited in bigger, cheaper batches). Also
ari_live's own criterion for the rate it quotes (no failed call, controller p99 under
20 ms), with and without the web part.

The goals (issue 10): staleness p99 <= 250 ms; routing cost under 5 %: (a) and (b)
under 5 % ((c) when the probe did not run), and ari_live's criterion kept when the
reference meets it. A missed goal is said plainly.

`--runs` runs of each kind (default 2), alternating no web / web, are pooled: the
CPU figures of single runs differ by a few points of a core from run to run (printed).

On a 2-core machine the PBX, `acd serve` and the client process share the cores: the
web run's latencies include that contention (the machine's load is printed, and what
other processes took of it: over 5 %, a warning says the figures are disturbed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acd.softphone_sim.pbx import VirtualPbx  # noqa: E402
from benchmarks.ari_live import SITE, Agent, Caller, pct  # noqa: E402
from tests.redis_server import free_port  # noqa: E402

GOAL_STALENESS_P99_MS = 250.0
GOAL_ROUTING_COST = 0.05
ARI_LIVE_P99_MS = 20.0
"""ari_live's criterion for the routing rate it quotes: no failed call, controller p99
under this."""
VIEWER_TOKEN = "wallboard-bench-viewer-0123456789"
DRAIN = 8.0
"""Seconds after the last caller, as in ari_live: the last calls get through and end."""
LATE = 3.0
"""Updates built in the last LATE seconds of the window are not counted: the clients
stop at the window's end, so such an update could be cut off on its way."""
SETTLE = 2.0
"""Seconds between the agents' logins (and the clients' connection) and the first caller."""
CONNECT_TIMEOUT = 30.0
PROBE_PERIOD = 0.010
"""The loop probe inside `acd serve` sleeps this long, again and again, and notes how
late it wakes: a late wake-up is the loop held by something else for that long."""
STALL = 0.005
"""A wake-up this late or later counts as a stall of the engine's loop."""
MAX_LINE = 64 * 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Every process this benchmark starts, so that a failure or Ctrl-C stops them all.
CHILDREN: list[subprocess.Popen[bytes]] = []


# -- small helpers ------------------------------------------------------------------------


def raise_nofile(need: int) -> tuple[int, int]:
    """Raise this process's open-files limit as far as allowed (its children inherit
    it); warn when it stays under `need`. Returns (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        print(f"warning: open files limited to {soft} (hard {hard}), {need} wanted: "
              "some clients will fail to connect", file=sys.stderr)
    return soft, hard


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) process `pid` has used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    total = sum(values[:8])  # user .. steal (guest time is inside user)
    return (total - idle) / CLK_TCK, total / CLK_TCK


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM, wait; SIGKILL if it does not end. Only our own child, by its pid."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def probe_serve(out: Path, argv: list[str]) -> int:
    """`acd serve` (`argv`) with a probe task on its event loop: every PROBE_PERIOD it
    notes (wall time, how late it woke, this thread's CPU time meanwhile); the samples
    go to `out` as JSON when serve's main coroutine ends. Costs ~100 wake-ups a second,
    in both kinds of run alike. It hooks `uvloop.run` / `asyncio.run`, which `acd
    serve` calls to start its loop; no file of the project is changed."""
    samples: list[tuple[float, float, float]] = []

    async def probe() -> None:
        while True:
            t, c = time.perf_counter(), time.thread_time()
            await asyncio.sleep(PROBE_PERIOD)
            samples.append((time.time(), time.perf_counter() - t - PROBE_PERIOD,
                            time.thread_time() - c))

    def probed(run: Callable[..., Any]) -> Callable[..., Any]:
        def run_probed(main: Coroutine[Any, Any, Any], **kwargs: Any) -> Any:
            async def with_probe() -> Any:
                task = asyncio.create_task(probe())
                try:
                    return await main
                finally:
                    task.cancel()
                    out.write_text(json.dumps(samples))

            return run(with_probe(), **kwargs)

        return run_probed

    asyncio.run = probed(asyncio.run)
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.run = probed(uvloop.run)
    from acd.cli.main import main as acd

    return acd(argv)


def stalls_in(probe: Path, t0: float, t1: float) -> tuple[float, list[tuple[float, float]]]:
    """(seconds the probe covered within [t0, t1], the stalls there: (late, CPU) s)."""
    if not probe.is_file() or probe.stat().st_size == 0:
        return 0.0, []
    samples = [(w, late, cpu) for w, late, cpu in json.loads(probe.read_text())
               if t0 <= w <= t1]
    if not samples:
        return 0.0, []
    return (samples[-1][0] - samples[0][0],
            [(late, cpu) for _w, late, cpu in samples if late >= STALL])


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# -- the client process -----------------------------------------------------------------


class _At(msgspec.Struct):
    at: float


class _Head(msgspec.Struct):
    """What a client reads of an update (msgspec skips the rest while validating it)."""

    seq: int
    snapshot: _At


_HEAD = msgspec.json.Decoder(_Head)
_AT = b'"snapshot":{"at":'
HEAD_BYTES = 64 * 1024
"""Where `snapshot.at` must be: `Update` encodes `seq` first, then the (short) names,
then the snapshot, whose first field is `at`."""


def read_head(data: bytes, check: bool) -> tuple[int, float]:
    """An update's seq and snapshot.at. Read off its head, which costs a client
    microseconds instead of a scan of the whole 100+ KB (the client process shares the
    machine with the server: its own cost would show in the ages); decoded in full, and
    compared, when `check` or when they are not where expected."""
    fast: tuple[int, float] | None = None
    i = data.find(_AT, 0, HEAD_BYTES)
    if i > 0 and data.startswith(b'{"seq":'):
        j = i + len(_AT)
        fast = int(data[7:data.index(b",", 7)]), float(data[j:data.index(b",", j)])
        if not check:
            return fast
    h = _HEAD.decode(data)
    full = h.seq, h.snapshot.at
    if fast is not None and fast != full:
        raise ValueError(f"update head misread: {fast} != {full}")
    return full


Row = tuple[int, float, float, int]
"""One update at one client: seq, wall time its data arrived, snapshot.at, JSON bytes."""


class ClientsOut(msgspec.Struct):
    """What the client process hands back (a JSON file)."""

    rows: list[list[Row]]
    connected: int
    connect_seconds: float
    errors: dict[str, int]
    ended_early: int
    """Clients whose stream ended (EOF or error) before they were told to stop."""
    sample: str
    """One update's JSON, for its breakdown by part."""


async def run_clients(url: str, token: str, n: int, out: Path, concurrency: int) -> None:
    """`n` SSE clients on `url` until SIGTERM/SIGINT; prints `ready CONNECTED FAILED` once
    every client has its first update (or has failed), then writes `ClientsOut` to `out`."""
    import aiohttp

    raise_nofile(n + 64)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    rows: list[list[Row]] = [[] for _ in range(n)]
    first: list[asyncio.Future[bool]] = [loop.create_future() for _ in range(n)]
    errors: dict[str, int] = {}
    ended_early = 0
    sample = b""
    gate = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}

    def failed(why: str) -> None:
        errors[why] = errors.get(why, 0) + 1

    async def one(i: int, session: aiohttp.ClientSession) -> None:
        nonlocal ended_early, sample
        got = rows[i]
        ok = first[i]
        try:
            async with gate:
                resp = await asyncio.wait_for(session.get(url, headers=headers), CONNECT_TIMEOUT)
            async with resp:
                if resp.status != 200:
                    failed(f"HTTP {resp.status}")
                    return
                event = data = b""
                received = 0.0
                while True:
                    line = await resp.content.readline(max_line_length=MAX_LINE)
                    if not line:
                        break  # the server ended the stream
                    if line == b"\n":  # end of an event: dispatch it
                        if event == b"update" and data:
                            seq, at = read_head(data, check=not got)
                            got.append((seq, received, at, len(data)))
                            if not ok.done():
                                ok.set_result(True)
                            if i == 0:
                                sample = data
                        event = data = b""
                        continue
                    name, _, value = line.rstrip(b"\r\n").partition(b":")
                    value = value.removeprefix(b" ")
                    if name == b"data":
                        received = time.time()
                        data = value
                    elif name == b"event":
                        event = value
            if not stop.is_set():
                ended_early += 1
        except asyncio.CancelledError:
            raise
        except Exception as e:
            if ok.done() and not stop.is_set():
                ended_early += 1
            elif not ok.done():
                failed(type(e).__name__)
        finally:
            if not ok.done():
                ok.set_result(False)

    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT, sock_read=None)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     read_bufsize=1 << 18) as session:
        # The server may still be starting: wait until it answers at all.
        deadline = loop.time() + CONNECT_TIMEOUT
        base = url.rsplit("/api/", 1)[0]
        while True:
            try:
                async with session.get(f"{base}/api/openapi.json") as r:
                    await r.read()
                    break
            except aiohttp.ClientConnectionError:
                if loop.time() > deadline or stop.is_set():
                    raise
                await asyncio.sleep(0.1)
        started = loop.time()
        tasks = [asyncio.create_task(one(i, session)) for i in range(n)]
        stopping = asyncio.create_task(stop.wait())
        everyone: asyncio.Future[list[bool]] = asyncio.gather(*first)
        waited: list[asyncio.Future[Any]] = [everyone, stopping]
        await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
        everyone.cancel()  # (when stopped before all were in)
        connect_seconds = loop.time() - started
        connected = sum(1 for f in first if f.done() and f.result())
        print(f"ready {connected} {n - connected}", flush=True)
        await stopping
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    out.write_bytes(msgspec.json.encode(ClientsOut(
        rows=rows, connected=connected, connect_seconds=connect_seconds, errors=errors,
        ended_early=ended_early, sample=sample.decode(),
    )))


# -- one run ----------------------------------------------------------------------------


@dataclass
class Run:
    """One run's figures, or several runs' pooled (`pooled`)."""

    placed: int
    placing_seconds: float
    answered: int
    turned_away: int
    first_ms: list[float]
    heard_ms: list[float]
    seconds: float
    """The measuring window: the first caller to the end of the drain (wall seconds)."""
    serve_cpu: float
    pbx_cpu: float
    clients_cpu: float
    machine_busy: float
    machine_total: float
    clock_behind_ms: float
    probed: float
    """Seconds of the window the loop probe in `acd serve` covered (0: it did not run)."""
    stalls: list[tuple[float, float]]
    """The engine loop's stalls in the window: how late the probe woke, the CPU time
    `acd serve`'s thread used meanwhile (s)."""
    """How far the engine's clock may lag the wall clock (upper bound)."""
    clients: list[tuple[tuple[float, float], ClientsOut]]
    """For each web run: its window (wall times) and what its clients got."""

    @property
    def failed(self) -> int:
        return self.placed - self.answered

    @property
    def answered_rate(self) -> float:
        """Answered calls per second of placing callers."""
        return self.answered / self.placing_seconds

    @property
    def serve_share(self) -> float:
        """`acd serve`'s CPU, as a share of one core."""
        return self.serve_cpu / self.seconds

    @property
    def held(self) -> float:
        """The share of the time the engine's loop was held in stalls (wall time; nan:
        no probe). A stall may include time the thread waited for a core."""
        return sum(late for late, _ in self.stalls) / self.probed if self.probed else math.nan

    @property
    def held_cpu(self) -> float:
        """The CPU time `acd serve`'s thread used in the probe intervals that ended in
        a stall, as a share of the time: the loop's own work in them, whatever the
        machine's other processes did."""
        return sum(cpu for _, cpu in self.stalls) / self.probed if self.probed else math.nan

    @property
    def others(self) -> float:
        """CPU seconds the machine spent outside our three processes."""
        return self.machine_busy - self.serve_cpu - self.pbx_cpu - self.clients_cpu


def pooled(runs: list[Run]) -> Run:
    return Run(
        placed=sum(r.placed for r in runs),
        placing_seconds=sum(r.placing_seconds for r in runs),
        answered=sum(r.answered for r in runs),
        turned_away=sum(r.turned_away for r in runs),
        first_ms=[x for r in runs for x in r.first_ms],
        heard_ms=[x for r in runs for x in r.heard_ms],
        seconds=sum(r.seconds for r in runs),
        serve_cpu=sum(r.serve_cpu for r in runs),
        pbx_cpu=sum(r.pbx_cpu for r in runs),
        clients_cpu=sum(r.clients_cpu for r in runs),
        machine_busy=sum(r.machine_busy for r in runs),
        machine_total=sum(r.machine_total for r in runs),
        clock_behind_ms=max(r.clock_behind_ms for r in runs),
        probed=sum(r.probed for r in runs),
        stalls=[x for r in runs for x in r.stalls],
        clients=[c for r in runs for c in r.clients],
    )


async def read_ready(proc: subprocess.Popen[bytes], timeout: float) -> tuple[int, int]:
    """The client process's `ready CONNECTED FAILED` line."""
    assert proc.stdout is not None
    stdout: IO[bytes] = proc.stdout
    try:
        line = await asyncio.wait_for(asyncio.to_thread(stdout.readline), timeout)
    except TimeoutError:
        raise RuntimeError(f"the clients did not connect within {timeout:.0f} s") from None
    words = line.split()
    if len(words) != 3 or words[0] != b"ready":
        raise RuntimeError(f"the client process failed (exit {proc.poll()}): {line!r}")
    return int(words[1]), int(words[2])


async def one_run(args: argparse.Namespace, config: Path, web: bool) -> Run:
    temps = [Path(tempfile.mkstemp(suffix=".json")[1]) for _ in range(3)]
    try:
        return await measure(args, config, web, *temps)
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)


async def measure(args: argparse.Namespace, config: Path, web: bool,
                  stats: Path, probe: Path, results: Path) -> Run:
    """One run; `stats`, `probe`, `results`: files for serve's --stats-json, its loop
    probe and the client process's figures."""
    rate: int = args.rate
    agents: int = args.agents
    port = free_port()
    env = dict(os.environ, ACD_ARI_USER="acd", ACD_ARI_PASSWORD="bench")
    env.pop("ACD_WEB_VIEWER_TOKEN", None)
    env.pop("ACD_WEB_SUPERVISOR_TOKEN", None)
    web_args: list[str] = []
    url = ""
    if web:
        web_port = free_port()
        env["ACD_WEB_VIEWER_TOKEN"] = VIEWER_TOKEN
        web_args = ["--web", f"127.0.0.1:{web_port}"]
        url = f"http://127.0.0.1:{web_port}/api/stream"
    pbx = VirtualPbx(speed=1.0, users={"acd": "bench"}, prompt_seconds_per_sound=1.0)
    for i in range(agents):
        pbx.register(f"PJSIP/agent{10000 + i}", Agent(pbx))
    await pbx.start("127.0.0.1", port)
    serve: subprocess.Popen[bytes] | None = None
    clients: subprocess.Popen[bytes] | None = None
    callers: list[Caller] = []
    try:
        serve = subprocess.Popen(
            [sys.executable, __file__, "--as-serve", str(probe), "serve", str(config),
             "--ari-url", f"http://127.0.0.1:{port}", "--stats-json", str(stats),
             "--log-level", "WARNING", "--seed", "1", *web_args],
            cwd=ROOT, env=env,
        )
        CHILDREN.append(serve)
        deadline = time.monotonic() + 60.0
        while not pbx.app_connected:
            if serve.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"acd serve did not connect (exit {serve.poll()})")
            await asyncio.sleep(0.05)
        # Log everyone in through the feature code, as phones would.
        for i in range(agents):
            pbx.dial_feature(f"PJSIP/agent{10000 + i}", ["login"], Caller(pbx.clock))
        if web:
            clients = subprocess.Popen(
                [sys.executable, __file__, "--as-clients", url, "--clients", str(args.clients),
                 "--connect-concurrency", str(args.connect_concurrency),
                 "--out", str(results)],
                cwd=ROOT, env=dict(os.environ, ACD_BENCH_TOKEN=VIEWER_TOKEN),
                stdout=subprocess.PIPE,
            )
            CHILDREN.append(clients)
            await read_ready(clients, CONNECT_TIMEOUT * 4)
        await asyncio.sleep(SETTLE)
        serve_cpu0 = proc_cpu(serve.pid)
        clients_cpu0 = proc_cpu(clients.pid) if clients is not None else 0.0
        pbx_cpu0 = time.process_time()
        busy0, total0 = machine_cpu()
        t0 = time.time()
        started = time.perf_counter()
        n = int(rate * args.seconds)
        for k in range(n):
            due = started + k / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            caller = Caller(pbx.clock)
            callers.append(caller)
            pbx.place_inbound(f"0100000{k:04d}", "120", caller)
        placing = time.perf_counter() - started
        await asyncio.sleep(DRAIN)
        t1 = time.time()
        serve_cpu = proc_cpu(serve.pid) - serve_cpu0
        clients_cpu = proc_cpu(clients.pid) - clients_cpu0 if clients is not None else 0.0
        pbx_cpu = time.process_time() - pbx_cpu0
        busy1, total1 = machine_cpu()
        # Figures from a run whose server or clients went away meanwhile mean nothing.
        if serve.poll() is not None:
            raise RuntimeError(f"acd serve ended during the run (exit {serve.poll()})")
        if clients is not None and clients.poll() is not None:
            raise RuntimeError(f"the client process ended during the run (exit {clients.poll()})")
    finally:
        if clients is not None:
            await asyncio.to_thread(stop_process, clients)
        if serve is not None:
            await asyncio.to_thread(stop_process, serve)
        await pbx.stop()
    report: dict[str, Any] = json.loads(stats.read_text())
    behind = (stats.stat().st_mtime - report["engine"]["at"]) * 1000.0
    probed, stalls = stalls_in(probe, t0, t1)
    out = None
    if clients is not None:
        out = msgspec.json.decode(results.read_bytes(), type=ClientsOut)
    ctl = report["controller"]
    return Run(
        placed=n, placing_seconds=placing,
        answered=sum(1 for c in callers if c.bridged),
        turned_away=int(ctl.get("turned_away", 0)),
        first_ms=list(ctl["first_command_ms"]),
        heard_ms=[(c.first_media - c.placed) * 1000 for c in callers
                  if c.first_media is not None],
        seconds=t1 - t0, serve_cpu=serve_cpu, pbx_cpu=pbx_cpu, clients_cpu=clients_cpu,
        machine_busy=busy1 - busy0, machine_total=total1 - total0,
        clock_behind_ms=behind, probed=probed, stalls=stalls,
        clients=[] if out is None else [((t0, t1), out)],
    )


# -- the figures ------------------------------------------------------------------------


def table(ref: Run, web: Run, clients: int, runs: int) -> None:
    cores = os.cpu_count() or 1

    def row(label: str, a: float, b: float, fmt: str, ratio: bool = True) -> None:
        r = f"{b / a:>7.3f}" if ratio and a else ""
        print(f"  {label:<36} {a:>12{fmt}} {b:>12{fmt}} {r}")

    print(f"pooled over {runs} run(s) of each:")
    print(f"  {'':<36} {'no web':>12} {'web':>12} {'ratio':>7}")
    row("calls placed", ref.placed, web.placed, ",d", ratio=False)
    row("placing rate achieved /s", ref.placed / ref.placing_seconds,
        web.placed / web.placing_seconds, ".1f", ratio=False)
    row("answered", ref.answered, web.answered, ",d")
    row("answered calls/s (while placing)", ref.answered_rate, web.answered_rate, ".1f")
    row("failed (not bridged)", ref.failed, web.failed, ",d", ratio=False)
    row("turned away by the brakes", ref.turned_away, web.turned_away, ",d", ratio=False)
    row("ctl StasisStart->1st REST med ms", median(ref.first_ms), median(web.first_ms), ".2f")
    row("ctl StasisStart->1st REST p99 ms", pct(ref.first_ms, 0.99), pct(web.first_ms, 0.99),
        ".2f")
    row("placed->first prompt heard med ms", median(ref.heard_ms), median(web.heard_ms), ".2f")
    row("placed->first prompt heard p99 ms", pct(ref.heard_ms, 0.99), pct(web.heard_ms, 0.99),
        ".2f")
    row("acd serve CPU, % of one core", 100 * ref.serve_share, 100 * web.serve_share, ".1f")
    row("acd serve CPU ms per placed call", 1000 * ref.serve_cpu / ref.placed,
        1000 * web.serve_cpu / web.placed, ".3f")
    row("PBX (this process) CPU, % of a core", 100 * ref.pbx_cpu / ref.seconds,
        100 * web.pbx_cpu / web.seconds, ".1f", ratio=False)
    row(f"client process ({clients} clients) CPU %", 0.0, 100 * web.clients_cpu / web.seconds,
        ".1f", ratio=False)
    row(f"machine busy, % of {cores} cores", 100 * ref.machine_busy / ref.machine_total,
        100 * web.machine_busy / web.machine_total, ".1f", ratio=False)
    row("  of it not ours (other processes) %", 100 * ref.others / ref.machine_total,
        100 * web.others / web.machine_total, ".1f", ratio=False)
    row(f"engine loop stalls >= {1000 * STALL:.0f} ms, per s",
        len(ref.stalls) / ref.probed if ref.probed else math.nan,
        len(web.stalls) / web.probed if web.probed else math.nan, ".2f", ratio=False)
    row("  loop held in them, ms per s", 1000 * ref.held, 1000 * web.held, ".1f", ratio=False)
    row("  acd serve CPU in them, ms per s", 1000 * ref.held_cpu, 1000 * web.held_cpu, ".1f",
        ratio=False)
    row("  longest stall, ms", 1000 * max((x for x, _ in ref.stalls), default=0.0),
        1000 * max((x for x, _ in web.stalls), default=0.0), ".1f", ratio=False)
    # (/proc/stat and the processes' own figures differ by a few points: a bound, not a
    # measurement)
    others = max(ref.others / ref.machine_total, web.others / web.machine_total)
    if others > 0.05:
        print(f"  warning: other processes kept the machine {100 * others:.0f} % busy during "
              "the runs: latencies and stalls are disturbed; run it again on a quiet machine")
    print(f"  (CPU over the window: first caller to {DRAIN:.0f} s after the last; "
          f"{ref.seconds:.1f} s and {web.seconds:.1f} s in all)")


def staleness(web: Run, clients: int) -> float:
    """Print the clients' figures (all web runs pooled); returns the p99 staleness, ms."""
    ages: list[float] = []
    to_first: list[float] = []
    fan_out: list[float] = []
    per_client: list[int] = []
    skipped: list[int] = []
    sizes: list[int] = []
    produced_all = 0
    periods: list[float] = []
    sample = ""
    for (t0, t1), out in web.clients:
        print(f"SSE clients: {out.connected} of {clients} connected and got their first "
              f"update in {out.connect_seconds:.2f} s; failed: {clients - out.connected}"
              + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(out.errors.items()))})"
                 if out.errors else "")
              + f"; streams ended early: {out.ended_early}")
        sample = out.sample or sample
        # The updates built within the window (by snapshot.at), as any client saw them.
        built: dict[int, float] = {}
        first_seen: dict[int, float] = {}
        for got in out.rows:
            for seq, received, at, size in got:
                if t0 <= at <= t1 - LATE:
                    built[seq] = at
                    first_seen[seq] = min(first_seen.get(seq, received), received)
                    sizes.append(size)
        if not built:
            continue
        low, high = min(built), max(built)
        produced = high - low + 1
        produced_all += produced
        periods.append((built[high] - built[low]) / max(1, produced - 1))
        to_first += [(first_seen[s] - built[s]) * 1000 for s in built]
        for got in out.rows:
            if not got:
                continue  # never connected: counted above
            mine = [(seq, received, at) for seq, received, at, _ in got if low <= seq <= high]
            per_client.append(len(mine))
            skipped.append(produced - len(mine))
            for seq, received, at in mine:
                ages.append((received - at) * 1000)
                fan_out.append((received - first_seen[seq]) * 1000)
    if not ages:
        print("no update was built and received within the window: nothing to measure")
        return float("nan")
    expected = sum(per_client) + sum(skipped)
    period = statistics.fmean(periods)
    print(f"updates: the server built {produced_all} in the window(s) (one every "
          f"{period:.2f} s); per client received min {min(per_client)} / median "
          f"{median([float(k) for k in per_client]):.0f} / max {max(per_client)}; skipped "
          f"(latest wins, or later than {LATE:.0f} s): {sum(skipped):,} of {expected:,} "
          f"({100 * sum(skipped) / expected:.2f} %), clients that skipped any: "
          f"{sum(1 for k in skipped if k)}")
    mean_size = statistics.fmean(sizes)
    print(f"bytes per update: JSON {mean_size:,.0f} B mean, {max(sizes):,} B max (the SSE "
          f"message adds ~45 B); to {clients} clients about "
          f"{mean_size * clients / period / 1e6:.1f} MB/s")
    p99 = pct(ages, 0.99)
    print(f"staleness at the clients (data received, wall - snapshot.at), {len(ages):,} "
          f"receipts: p50 {pct(ages, 0.5):.1f} ms, p99 {p99:.1f} ms, max {max(ages):.1f} ms, "
          f"min {min(ages):.1f} ms")
    print(f"  built -> first client:       p50 {pct(to_first, 0.5):.1f} ms, "
          f"p99 {pct(to_first, 0.99):.1f} ms, max {max(to_first):.1f} ms (per update)")
    print(f"  first client -> this client: p50 {pct(fan_out, 0.5):.1f} ms, "
          f"p99 {pct(fan_out, 0.99):.1f} ms, max {max(fan_out):.1f} ms (the fan-out; "
          "no clock involved)")
    print(f"  the engine's clock lags the wall clock by at most {web.clock_behind_ms:.1f} ms "
          "(its last snapshot against the --stats-json file's time): the ages include that "
          "much at most")
    if sample:
        parts(sample)
    return p99


def parts(sample: str) -> None:
    """Where an update's bytes go: its largest parts."""
    update: dict[str, Any] = json.loads(sample)
    total = len(sample.encode())
    sizes: dict[str, int] = {}
    for key, value in update.items():
        if key == "snapshot":
            for k, v in value.items():
                sizes[f"snapshot.{k}"] = len(msgspec.json.encode(v))
        else:
            sizes[key] = len(msgspec.json.encode(value))
    top = sorted(sizes.items(), key=lambda kv: -kv[1])[:5]
    agents = len(update.get("snapshot", {}).get("agents", []))
    print(f"  an update's largest parts ({agents} agents): " + ", ".join(
        f"{k} {100 * v / total:.1f} %" for k, v in top))
    started = time.perf_counter()
    packed = zlib.compress(sample.encode(), 1)
    took = time.perf_counter() - started
    print(f"  the same update deflated (zlib level 1): {len(packed):,} B, "
          f"{total / len(packed):.1f}x smaller, in {1000 * took:.2f} ms (once per update)")


def verdict(refs: list[Run], webs: list[Run], p99: float) -> None:
    ref, web = pooled(refs), pooled(webs)
    rate_cost = 1.0 - web.answered_rate / ref.answered_rate
    share = web.serve_share - ref.serve_share
    held = web.held_cpu - ref.held_cpu
    print("\ncost of the web part to routing:")
    print(f"  answered calls/s {web.answered_rate:.1f} with web vs {ref.answered_rate:.1f} "
          f"without: ratio {web.answered_rate / ref.answered_rate:.3f}, cost "
          f"{100 * rate_cost:.1f} % (under the knee this stays 0 whatever the web costs)")
    print(f"  controller p99 {pct(web.first_ms, 0.99):.2f} ms vs {pct(ref.first_ms, 0.99):.2f} ms"
          f" (ratio {pct(web.first_ms, 0.99) / pct(ref.first_ms, 0.99):.2f}); placed->heard p99 "
          f"{pct(web.heard_ms, 0.99):.1f} vs {pct(ref.heard_ms, 0.99):.1f} ms")
    print(f"  acd serve CPU {100 * web.serve_share:.1f} % vs {100 * ref.serve_share:.1f} % of "
          f"its core: {100 * share:+.1f} points with the web part")
    print(f"  the engine's loop, in stalls >= {1000 * STALL:.0f} ms: held "
          f"{1000 * web.held:.1f} ms a second with web vs {1000 * ref.held:.1f} without (wall), "
          f"acd serve busy in them {1000 * web.held_cpu:.1f} vs {1000 * ref.held_cpu:.1f} ms "
          f"a second (CPU): the web part holds it {100 * held:.1f} % of the time (the "
          "fan-out's slices of page writes); loop time routing loses at the knee, and what "
          "callers arriving meanwhile wait")
    print("  acd serve CPU by run, % of a core: no web "
          + ", ".join(f"{100 * r.serve_share:.1f}" for r in refs)
          + "; web " + ", ".join(f"{100 * r.serve_share:.1f}" for r in webs)
          + " (the spread between runs of one kind is the noise)")
    passes = [r.failed == 0 and pct(r.first_ms, 0.99) < ARI_LIVE_P99_MS for r in (ref, web)]
    print(f"  ari_live's criterion for the rate it quotes (no failed call, controller p99 < "
          f"{ARI_LIVE_P99_MS:.0f} ms) at {refs[0].placed / refs[0].placing_seconds:.0f}/s: "
          f"without web {'passes' if passes[0] else 'fails'}, with web "
          f"{'passes' if passes[1] else 'fails'}")
    print(f"\ngoal p99 staleness <= {GOAL_STALENESS_P99_MS:.0f} ms: "
          + ("goal met" if p99 <= GOAL_STALENESS_P99_MS else "goal MISSED")
          + f" ({p99:.1f} ms)")
    cost = max(rate_cost, held if not math.isnan(held) else share)
    met = cost < GOAL_ROUTING_COST and (passes[1] or not passes[0])
    print(f"goal routing cost < {100 * GOAL_ROUTING_COST:.0f} %: "
          + ("goal met" if met else "goal MISSED")
          + f" (answered rate {100 * rate_cost:.1f} %, loop held {100 * held:.1f} %, "
          f"CPU share {100 * share:.1f} %"
          + ("; and the web run fails ari_live's p99 criterion the reference passes: the "
             "rate ari_live would quote falls below this one" if passes[0] and not passes[1]
             else "")
          + ("; the reference itself fails ari_live's criterion on this machine now, so "
             "that criterion cannot judge" if not passes[0] else "")
          + ")")


def summary(label: str, r: Run) -> str:
    return (f"{label}: answered {r.answered}/{r.placed}, ctl p99 {pct(r.first_ms, 0.99):.2f} ms, "
            f"acd serve CPU {100 * r.serve_share:.1f} % of a core")


def main() -> None:
    if sys.argv[1:2] == ["--as-serve"]:  # `acd serve` with the loop probe, for one_run
        raise SystemExit(probe_serve(Path(sys.argv[2]), sys.argv[3:]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=200, help="new calls/s (default 200)")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="seconds of callers per run (default 20)")
    parser.add_argument("--agents", type=int, default=800)
    parser.add_argument("--runs", type=int, default=2,
                        help="runs of each kind, alternating, pooled (default 2)")
    parser.add_argument("--connect-concurrency", type=int, default=100,
                        help="clients connecting at once (default 100)")
    parser.add_argument("--as-clients", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    run: Callable[[Coroutine[Any, Any, Any]], Any]
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    if args.as_clients is not None:
        run(run_clients(args.as_clients, os.environ["ACD_BENCH_TOKEN"], args.clients,
                        Path(args.out), args.connect_concurrency))
        return
    soft, _hard = raise_nofile(args.clients + 256)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(SITE.format(agents=args.agents))
        config = Path(f.name)
    print(f"wallboard under load: {args.rate} new calls/s for {args.seconds:g} s, "
          f"{args.agents} agents; {args.clients} SSE clients in one client process; "
          f"{args.runs} run(s) of each kind, alternating; {os.cpu_count()} cores; "
          f"open files {soft}", flush=True)
    refs: list[Run] = []
    webs: list[Run] = []
    try:
        for k in range(args.runs):
            refs.append(run(one_run(args, config, web=False)))
            print(summary(f"run {k + 1}, no web", refs[-1]), flush=True)
            webs.append(run(one_run(args, config, web=True)))
            print(summary(f"run {k + 1}, web", webs[-1]), flush=True)
    except KeyboardInterrupt:
        print("interrupted: no figures", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        config.unlink()
        for child in CHILDREN:
            stop_process(child, 10.0)
    print()
    table(pooled(refs), pooled(webs), args.clients, args.runs)
    print()
    p99 = staleness(pooled(webs), args.clients)
    verdict(refs, webs, p99)


if __name__ == "__main__":
    main()
