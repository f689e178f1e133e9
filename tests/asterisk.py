"""A real Asterisk 22 for the tests, configured from the project's own samples.

`AsteriskServer(tmp, phones=...)` writes an `asterisk.conf` whose directories lie in
`tmp` (modules from the installed prefix, data as below), copies the samples of
`config/asterisk/` (the dialplan, ARI, HTTP and music-on-hold files verbatim but for
ports and the password; `pjsip.conf` with its transport on 127.0.0.1 and the addresses
of the test's SIPp peers), starts `asterisk -f` in the foreground and waits until ARI
answers. Everything listens on 127.0.0.1 on free ports; the test owns the process
and `close()` stops it by its pid.

The data directory (`astdatadir`) is `tmp/data`: links to every entry of the
prefix's (music on hold, keys, ARI's documentation...) except `sounds`, which is
built as an operator installs the project's prompts (config/asterisk/README.md,
step 5): the project's `config/asterisk/sounds/{en,ko}` files, each linked at its
place under `sounds/<lang>/` (`custom/` kept), merged with every entry of the
prefix's `sounds/<lang>/` (the core sounds). So the samples are tested with the
project's prompts installed, and a prompt the project forgets is missing here too.

Where the tests differ from a production install (and why):
- agents' phones are SIPp user agents on fixed ports, so each agent's AOR has a
  static contact and no qualify (SIPp answers no OPTIONS) instead of registering;
- the carrier is the SIPp caller's address and port (`[pstn]` identify), and the
  callback and vendor trunks point at SIPp peers too.

Asterisk is found at `ACD_ASTERISK_PREFIX` (as built by ../shared/asterisk/build.sh)
or as `asterisk` on PATH. Without one, `require()` skips the test with a one-line
reason, unless `ACD_REQUIRE_ASTERISK=1` (CI), where it fails instead.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.polling import until
from tests.redis_server import free_port

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "config" / "asterisk"
SOUNDS = SAMPLES / "sounds"
"""The project's prompts: `<lang>/<name>.wav` (config/asterisk/sounds/make_sounds.py)."""
SOUND_LANGUAGES = ("en", "ko")
PASSWORD = "acd-test-secret"
RTP_PORTS = 4000
"""Asterisk's RTP port range: a channel takes two, so 2,000 channels at once (the
load benchmarks' peaks); fewer and Asterisk refuses calls with 488."""
USER = "acd"
READ_ONLY_USER = "watcher"
"""A second ARI user, `read_only = yes` in ari.conf, with the same password: it may
read and follow events, and is refused every call control (403)."""
STARTUP_SECONDS = 30.0
"""Wall seconds Asterisk may take to answer ARI before the test fails (it takes about
one on this machine; the bound only turns a broken start into a clear failure)."""

MODULES = [
    # The core of SIP, RTP and media.
    "res_pjproject.so", "res_sorcery_config.so", "res_sorcery_memory.so", "res_sorcery_astdb.so",
    "res_pjsip.so", "res_pjsip_session.so", "res_pjsip_pubsub.so", "chan_pjsip.so",
    "res_pjsip_authenticator_digest.so", "res_pjsip_outbound_authenticator_digest.so",
    "res_pjsip_endpoint_identifier_ip.so", "res_pjsip_endpoint_identifier_user.so",
    "res_pjsip_sdp_rtp.so", "res_pjsip_dtmf_info.so", "res_pjsip_caller_id.so",
    "res_pjsip_nat.so", "res_pjsip_rfc3326.so", "res_pjsip_registrar.so",
    "res_pjsip_dlg_options.so", "res_rtp_asterisk.so", "res_timing_timerfd.so",
    "codec_ulaw.so", "codec_alaw.so", "codec_a_mu.so", "codec_resample.so",
    "format_wav.so", "format_pcm.so", "format_sln.so", "format_gsm.so", "codec_gsm.so",
    # Bridges, music, the dialplan's applications.
    "bridge_simple.so", "bridge_softmix.so", "bridge_holding.so", "bridge_native_rtp.so",
    "chan_bridge_media.so", "res_musiconhold.so", "pbx_config.so", "app_playback.so",
    "app_dial.so", "func_channel.so", "func_callerid.so",
    # ARI.
    "res_http_websocket.so", "res_websocket_client.so", "res_stasis.so",
    "res_stasis_answer.so", "res_stasis_recording.so",
    "res_stasis_playback.so", "res_stasis_snoop.so", "res_stasis_device_state.so",
    "app_stasis.so", "res_ari.so", "res_ari_model.so", "res_ari_applications.so",
    "res_ari_asterisk.so", "res_ari_bridges.so", "res_ari_channels.so",
    "res_ari_endpoints.so", "res_ari_events.so", "res_ari_playbacks.so",
    "res_ari_sounds.so", "res_ari_device_states.so",
]


INDICATIONS = """[general]
country = us
[us]
description = United States
ringcadence = 2000,4000
dial = 350+440
busy = 480+620/500,0/500
ring = 440+480/2000,0/4000
congestion = 480+620/250,0/250
"""
"""The tones of a stock indications.conf (ringing for `/ring`, busy, congestion)."""


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that nobody holds now (SIP and RTP are UDP)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prefix() -> Path | None:
    """The installed Asterisk's prefix, or None."""
    env = os.environ.get("ACD_ASTERISK_PREFIX")
    if env:
        return Path(env) if (Path(env) / "sbin" / "asterisk").exists() else None
    found = shutil.which("asterisk")
    return Path(found).resolve().parent.parent if found else None


def sipp() -> str | None:
    return shutil.which("sipp")


def require() -> Path:
    """The prefix, or skip (fail under ACD_REQUIRE_ASTERISK=1) with a one-line reason."""
    where = prefix()
    missing = []
    if where is None:
        missing.append(
            "no Asterisk (set ACD_ASTERISK_PREFIX to a prefix built by "
            "../shared/asterisk/build.sh, or put asterisk on PATH)"
        )
    if sipp() is None:
        missing.append("no SIPp (Debian package sip-tester)")
    if missing:
        message = "; ".join(missing)
        if os.environ.get("ACD_REQUIRE_ASTERISK") == "1":
            pytest.fail(message)
        pytest.skip(message)
    assert where is not None
    return where


def _merge(source: Path, place: Path) -> None:
    """Link `source` at `place`; where `place` is already a folder of links (the
    project's prompts), link `source`'s entries into it instead. A file already at
    `place` wins: the project's prompt is what an operator copied over the core's."""
    if not place.exists() and not place.is_symlink():
        place.symlink_to(source)
    elif place.is_dir() and not place.is_symlink() and source.is_dir():
        for entry in source.iterdir():
            _merge(entry, place / entry.name)


@dataclass(frozen=True)
class Peers:
    """Where the test's SIPp user agents listen (127.0.0.1, UDP)."""

    callers: tuple[int, ...]
    """The ports callers' SIPp bind to: 127.0.0.1 at these ports is the carrier
    (`[pstn]` identify); agents dialling feature codes come from other ports."""
    agents: dict[str, int]
    """Agent id ("1001") -> the port of the SIPp that plays the agent's phone; 0: the
    phone registers, as in production (`acd load`'s phones)."""
    citizen: int = 0
    """Where callbacks go (the `pstn` AOR's contact); 0: nowhere."""
    vendors: dict[str, int] | None = None
    """Vendor trunk name ("vendor-a") -> the port of the SIPp that plays its floor."""


class AsteriskServer:
    """A running Asterisk of the test's own; see the module's docstring."""

    def __init__(self, home: Path, peers: Peers, where: Path | None = None) -> None:
        self.prefix = where or require()
        self.home = home
        self.peers = peers
        self.http_port = free_port()
        self.sip_port = free_udp_port()
        self.rtp = free_udp_port()
        self.conf = home / "etc" / "asterisk.conf"
        self._write_config()
        self.log = (home / "asterisk.out").open("w")
        self.process = subprocess.Popen(
            [str(self.prefix / "sbin" / "asterisk"), "-C", str(self.conf), "-f", "-n", "-q"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ set-up

    def _write_data(self) -> Path:
        """The data directory described in the module's docstring; its path."""
        installed = self.prefix / "var" / "lib" / "asterisk"
        data = self.home / "data"
        sounds = data / "sounds"
        sounds.mkdir(parents=True, exist_ok=True)
        for entry in installed.iterdir():
            if entry.name != "sounds":
                (data / entry.name).symlink_to(entry)
        # The project's files first and one by one, so that the core sounds' folders
        # (digits/, letters/...) are merged around them instead of hiding them.
        for lang in SOUND_LANGUAGES:
            for wav in sorted((SOUNDS / lang).rglob("*.wav")):
                place = sounds / lang / wav.relative_to(SOUNDS / lang)
                place.parent.mkdir(parents=True, exist_ok=True)
                place.symlink_to(wav)
        for folder in (installed / "sounds").iterdir():
            _merge(folder, sounds / folder.name)
        return data

    def _write_config(self) -> None:
        etc = self.home / "etc"
        for d in ("etc", "run", "log", "spool", "db", "lib"):
            (self.home / d).mkdir(parents=True, exist_ok=True)
        data = self._write_data()
        self.conf.write_text(
            "[directories]\n"
            f"astetcdir => {etc}\n"
            f"astmoddir => {self.prefix / 'lib' / 'asterisk' / 'modules'}\n"
            f"astvarlibdir => {self.home / 'lib'}\n"
            f"astdbdir => {self.home / 'db'}\n"
            f"astkeydir => {self.home / 'lib'}\n"
            f"astdatadir => {data}\n"
            f"astagidir => {self.home / 'lib'}\n"
            f"astspooldir => {self.home / 'spool'}\n"
            f"astrundir => {self.home / 'run'}\n"
            f"astlogdir => {self.home / 'log'}\n"
            f"astsbindir => {self.prefix / 'sbin'}\n"
            "[options]\n"
            "verbose = 0\ndebug = 0\nhideconnect = yes\n"
            "[compat]\n"
        )
        (etc / "modules.conf").write_text(
            "[modules]\nautoload = no\n" + "".join(f"load => {m}\n" for m in MODULES)
        )
        # verbose.log: level-3 verbose messages, among them the sounds played (played()).
        (etc / "logger.conf").write_text(
            "[general]\n[logfiles]\nmessages.log => notice,warning,error\n"
            "verbose.log => verbose(3)\n"
        )
        rtp = self.rtp - self.rtp % 2  # RTP ports are even
        (etc / "rtp.conf").write_text(f"[general]\nrtpstart = {rtp}\nrtpend = {rtp + RTP_PORTS}\n")
        # Files Asterisk reads at start and complains of when missing: defaults suit.
        for name in ("ccss.conf", "cdr.conf", "cel.conf", "features.conf", "acl.conf",
                     "udptl.conf", "pjproject.conf", "manager.conf", "websocket_client.conf"):
            (etc / name).write_text("")
        (etc / "indications.conf").write_text(INDICATIONS)
        http = (SAMPLES / "http.conf").read_text()
        (etc / "http.conf").write_text(
            re.sub(r"(?m)^bindport = \d+", f"bindport = {self.http_port}", http)
        )
        ari = (SAMPLES / "ari.conf").read_text()
        (etc / "ari.conf").write_text(
            re.sub(r"(?m)^password = CHANGE-ME", f"password = {PASSWORD}", ari)
            + f"\n[{READ_ONLY_USER}]\ntype = user\nread_only = yes\n"
            f"password_format = plain\npassword = {PASSWORD}\n"
        )
        for name in ("extensions.conf", "musiconhold.conf"):
            shutil.copy(SAMPLES / name, etc / name)
        (etc / "pjsip.conf").write_text(self._pjsip())
        (etc / "pjsip_agents.conf").write_text(self._agents())

    def _pjsip(self) -> str:
        """The sample with its transport, carrier and vendors moved to 127.0.0.1."""
        text = (SAMPLES / "pjsip.conf").read_text()
        text = re.sub(r"(?m)^bind = 0\.0\.0\.0:5060", f"bind = 127.0.0.1:{self.sip_port}", text)
        carrier = "\n".join(f"match = 127.0.0.1:{port}" for port in self.peers.callers)
        text = re.sub(r"(?m)^match = 203\.0\.113\.10$", carrier, text)
        text = re.sub(r"(?m)^match = 203\.0\.113\.11\n", "", text)
        citizen = self.peers.citizen or 9
        text = re.sub(r"(?m)^contact = sip:203\.0\.113\.10:5060",
                      f"contact = sip:127.0.0.1:{citizen}", text)
        vendors = self.peers.vendors or {}
        for name, address in (("vendor-a", "198.51.100.10"), ("vendor-b", "198.51.100.20")):
            port = vendors.get(name, 9)
            text = text.replace(f"contact = sip:120@{address}:5060",
                                f"contact = sip:120@127.0.0.1:{port}")
        # No OPTIONS to peers that do not answer them (SIPp scenarios play one role).
        text = re.sub(r"(?m)^qualify_frequency = \d+", "qualify_frequency = 0", text)
        return text

    def _agents(self) -> str:
        """Each agent as the sample's templates make it, reached at its SIPp's port (or
        at the contact its phone registers)."""
        out = []
        for agent, port in self.peers.agents.items():
            out.append(
                f"[agent{agent}](acd-agent-endpoint)\nauth = agent{agent}\naors = agent{agent}\n"
                f'callerid = "Agent {agent}" <{agent}>\n\n'
                f"[agent{agent}](acd-agent-auth)\nusername = agent{agent}\n"
                f"password = {PASSWORD}\n\n"
                f"[agent{agent}](acd-agent-aor)\n"
                + (f"contact = sip:agent{agent}@127.0.0.1:{port}\n\n" if port else "\n")
            )
        return "".join(out)

    def _wait_ready(self) -> None:
        def answers() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"asterisk exited with {self.process.returncode}:\n"
                                     f"{self.output()}")
            try:
                self.get("/asterisk/ping")
            except (OSError, urllib.error.URLError):
                return False
            return True

        until(answers, lambda: f"asterisk answering ARI\n{self.output()}", STARTUP_SECONDS)

    # ------------------------------------------------------------------ use

    @property
    def ari_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def get(self, path: str) -> Any:
        """GET an ARI resource (as the engine's user); the decoded JSON."""
        request = urllib.request.Request(f"{self.ari_url}/ari{path}")
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=5) as reply:
            return json.loads(reply.read() or b"null")

    def channels(self) -> list[dict[str, Any]]:
        return list(self.get("/channels"))

    def bridges(self) -> list[dict[str, Any]]:
        return list(self.get("/bridges"))

    def rx(self, command: str) -> str:
        """Run a CLI command on this Asterisk (asterisk -rx)."""
        return subprocess.run(
            [str(self.prefix / "sbin" / "asterisk"), "-C", str(self.conf), "-rx", command],
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout

    def output(self) -> str:
        self.log.flush()
        messages = self.home / "log" / "messages.log"
        text = (self.home / "asterisk.out").read_text(errors="replace")
        if messages.exists():
            text += messages.read_text(errors="replace")
        return text[-6000:]

    def warnings(self) -> list[str]:
        """The WARNING and ERROR lines Asterisk logged so far."""
        messages = self.home / "log" / "messages.log"
        if not messages.exists():
            return []
        return [line for line in messages.read_text(errors="replace").splitlines()
                if "WARNING" in line or "ERROR" in line]

    def played(self) -> list[tuple[str, str]]:
        """(sound, language asked for) of every file Asterisk played so far, in order,
        from its verbose log ("Playing 'custom/main-menu.slin' (language 'ko')")."""
        log = self.home / "log" / "verbose.log"
        if not log.exists():
            return []
        return [(name, lang) for name, lang in re.findall(
            r"Playing '(.+?)\.[^.']+' \(language '([^']*)'\)", log.read_text(errors="replace")
        )]

    def close(self) -> None:
        """Stop Asterisk by its pid (SIGTERM, then SIGKILL) and wait for it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
