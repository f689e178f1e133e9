"""SIPp user agents for the real-Asterisk tests: callers, agents' phones, a citizen
who is called back, an agent dialling a feature code.

Each is one `sipp` process (Debian's sip-tester) running a scenario written here for
the test, bound to 127.0.0.1 on its own SIP and media ports, stopped by its pid. What
happened is read from the scenario's own log lines (`<log>`, `-trace_logs`), one per
step, prefixed with the call's number within the process:

    1 answered / 1 pressed 1 / 1 hung up / 1 ended by far end      (a caller)
    1 ringing / 1 answered / 1 busy / 1 cancelled / 1 hung up / ...  (a phone)

so a test asserts what the person on that phone lived, from their side. The SIP
pieces these scenarios share with `acd load`'s callers (SDP, CDATA messages, log
steps, RFC 2833 key presses) come from `acd.load.scenarios`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from acd.load.scenarios import ALLOW, OK_TO_REQUEST, PCAP, SDP, ack_2xx, ok_with_sdp
from acd.load.scenarios import log as _log
from acd.load.scenarios import message as _message
from acd.load.scenarios import rfc2833 as _rfc2833
from acd.load.scenarios import scenario as _scenario
from acd.load.sipp import free_media_port, media_pair_free
from tests.polling import until

DTMF_RELAY = "application/dtmf-relay"


def _presses(
    keys: Sequence[Key], cseq: int, info: Callable[[int, str], str]
) -> tuple[list[str], int]:
    """The steps that press `keys` (each after its pause), and the next CSeq: by RFC
    2833, or by SIP INFO built by `info(cseq, body)`, which takes a CSeq of its own."""
    steps: list[str] = []
    for key in keys:
        steps.append(f'<pause milliseconds="{int(key.after * 1000)}"/>')
        if key.info:
            steps += [info(cseq, f"Signal={key.digit}\nDuration=160"), '<recv response="200"/>']
            cseq += 1
        else:
            steps.append(_rfc2833(key.digit))
        steps.append(_log(f"[call_number] pressed {key.digit}"))
    return steps, cseq


@dataclass(frozen=True)
class Key:
    """A key the caller presses `after` seconds after the previous step, by RTP
    telephone-event (RFC 2833, from sip-tester's capture of that digit) or SIP INFO.
    Press a digit twice by RFC 2833 and the second repeats the capture's RTP
    timestamp, which Asterisk drops as a duplicate event: press it by INFO."""

    digit: str
    after: float = 1.0
    info: bool = False


def caller_scenario(
    number: str, keys: Sequence[Key] = (), patience: float | None = 60.0
) -> str:
    """A caller from `number` who, once answered, plays G.711 audio, presses `keys`,
    then waits for the far end to hang up, or hangs up after `patience` seconds. A
    486 Busy Here instead of an answer is logged as "busy"."""
    steps = [
        f"""<send retrans="500">{_message(f'''
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "{number}" <sip:{number}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:{number}@[local_ip]:[local_port]>
Max-Forwards: 70
{ALLOW}
Content-Type: application/sdp
Content-Length: [len]

{SDP}''')}</send>""",
        '<recv response="100" optional="true"/>',
        '<recv response="180" optional="true"/>',
        '<recv response="183" optional="true"/>',
        '<recv response="486" optional="true" next="busy"/>',
        '<recv response="200" rrs="true"><action>'
        '<ereg regexp=".*" search_in="hdr" header="To:" assign_to="peer_to"/>'
        "</action></recv>",
        ack_2xx(),
        _log("[call_number] answered"),
        f'<nop><action><exec play_pcap_audio="{PCAP / "g711a.pcap"}"/></action></nop>',
    ]
    presses, cseq = _presses(
        keys, 2, lambda cseq, body: _caller_request("INFO", cseq, number, DTMF_RELAY, body)
    )
    steps += presses
    wait = "" if patience is None else f' timeout="{int(patience * 1000)}" ontimeout="give_up"'
    steps += [
        f'<recv request="BYE"{wait}/>',
        f"<send>{_message(OK_TO_REQUEST)}</send>",
        _log("[call_number] ended by far end"),
        '<nop next="end"/>',
        '<label id="give_up"/>',
        _caller_request("BYE", cseq, number),
        '<recv response="200"/>',
        _log("[call_number] hung up"),
        '<nop next="end"/>',
        '<label id="busy"/>',
        f"""<send>{_message('''
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
[last_From:]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0''')}</send>""",
        _log("[call_number] busy"),
        '<label id="end"/>',
    ]
    return _scenario("acd caller", steps)


def _in_call(
    method: str, cseq: int, sender: str, to: str, content_type: str = "", body: str = ""
) -> str:
    """A request sent within an answered call, `sender` and `to` as its From and To
    headers (tags included)."""
    content = f"Content-Type: {content_type}\nContent-Length: [len]\n\n{body}" if body else (
        "Content-Length: 0"
    )
    return f"""<send retrans="500">{_message(f'''
{method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From:{sender}
To:{to}
[routes]
Call-ID: [call_id]
CSeq: {cseq} {method}
Max-Forwards: 70
{content}''')}</send>"""


def _caller_request(
    method: str, cseq: int, number: str, content_type: str = "", body: str = ""
) -> str:
    """The caller's request within its call: To is the one the 200 OK gave (`peer_to`)."""
    sender = f' "{number}" <sip:{number}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]'
    return _in_call(method, cseq, sender, "[$peer_to]", content_type, body)


def _phone_request(method: str, cseq: int, content_type: str = "", body: str = "") -> str:
    """The phone's request within the call it answered: From is its own To with its
    tag, To the caller's From (kept as `own_to` and `peer_from`)."""
    sender = "[$own_to];tag=[pid]SIPpTag01[call_number]"
    return _in_call(method, cseq, sender, "[$peer_from]", content_type, body)


def _reply(status: str, cseq: str = "[last_CSeq:]", answer: bool = False) -> str:
    """The phone's final or provisional answer to the INVITE (`status`, e.g. "180
    Ringing"), with its To tag; `answer`: with Contact, Allow and the SDP."""
    if answer:
        tail = f"Contact: <sip:[local_ip]:[local_port]>\n{ALLOW}\n"
        tail += f"Content-Type: application/sdp\nContent-Length: [len]\n\n{SDP}"
    else:
        tail = "Content-Length: 0"
    retrans = ' retrans="500"' if status.startswith("200") else ""
    return f"""<send{retrans}>{_message(f'''
SIP/2.0 {status}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
{cseq}
{tail}''')}</send>"""


def phone_scenario(
    answer_after: float | None = 1.0,
    talk: float | None = 30.0,
    busy: bool = False,
    keys: Sequence[Key] = (),
) -> str:
    """An agent's phone (or a vendor's floor, or a called-back citizen): every INVITE
    rings; with `busy` it answers 486; else it answers after `answer_after` seconds
    (None: rings until cancelled), presses `keys` (RFC 2833: "*9", the abusive-caller
    code), then hangs up after `talk` seconds (None: waits for the far end)."""
    ringing = _reply("180 Ringing")
    steps = [
        '<recv request="INVITE" rrs="true"><action>'
        '<ereg regexp=".*" search_in="hdr" header="From:" assign_to="peer_from"/>'
        '<ereg regexp=".*" search_in="hdr" header="To:" assign_to="own_to"/>'
        '<ereg regexp=".*" search_in="hdr" header="CSeq:" assign_to="invite_cseq"/>'
        "</action></recv>",
        _log("[call_number] ringing from[$peer_from]"),
    ]
    if busy:
        steps += [
            _reply("486 Busy Here"),
            '<recv request="ACK"/>',
            _log("[call_number] busy"),
        ]
        return _scenario("acd busy phone", steps)
    steps.append(ringing)
    ring = "" if answer_after is None else (
        f' timeout="{int(answer_after * 1000)}" ontimeout="answer"'
    )
    steps += [
        f'<recv request="CANCEL"{ring}/>',
        f"<send>{_message(OK_TO_REQUEST)}</send>",
        _reply("487 Request Terminated", cseq="CSeq:[$invite_cseq]"),
        '<recv request="ACK"/>',
        _log("[call_number] cancelled"),
        '<nop next="end"/>',
        '<label id="answer"/>',
        _reply("200 OK", answer=True),
        '<recv request="ACK"/>',
        _log("[call_number] answered"),
        f'<nop><action><exec play_pcap_audio="{PCAP / "g711a.pcap"}"/></action></nop>',
    ]
    presses, cseq = _presses(
        keys, 1, lambda cseq, body: _phone_request("INFO", cseq, DTMF_RELAY, body)
    )
    steps += presses
    wait = "" if talk is None else f' timeout="{int(talk * 1000)}" ontimeout="hang_up"'
    steps += [
        # Asterisk re-INVITEs a called-back citizen with the agent's connected line
        # once they are bridged (pjsip.conf: send_pai on the carrier): a phone answers.
        '<label id="talking"/>',
        f'<recv request="INVITE" optional="true" next="reinvite"{wait}/>',
        '<recv request="BYE"/>',
        f"<send>{_message(OK_TO_REQUEST)}</send>",
        _log("[call_number] ended by far end"),
        '<nop next="end"/>',
        '<label id="reinvite"/>',
        ok_with_sdp(),
        '<recv request="ACK"/>',
        '<nop next="talking"/>',
        '<label id="hang_up"/>',
        _phone_request("BYE", cseq),
        '<recv response="200"/>',
        _log("[call_number] hung up"),
        '<label id="end"/>',
    ]
    return _scenario("acd phone", steps)


def feature_scenario(user: str, password: str, code: str, auth: str = "") -> str:
    """An agent's phone, authenticating as `user` (e.g. "agent1001", or "[field0]"
    from an injection file, with `auth` "[field1]" holding SIPp's authentication
    keyword), dials feature code `code` (e.g. *51, log in) with digest authentication
    and stays on the line until the far end hangs up."""
    invite = f'''
INVITE sip:{code}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{user}@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
To: <sip:{code}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: CSEQ INVITE
Contact: <sip:{user}@[local_ip]:[local_port]>
Max-Forwards: 70
{ALLOW}
AUTH
Content-Type: application/sdp
Content-Length: [len]

{SDP}'''
    ack = '''
ACK sip:{code}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[last_From:]
[last_To:]
Call-ID: [call_id]
CSeq: CSEQ ACK
Max-Forwards: 70
Content-Length: 0'''.replace("{code}", code)
    first = invite.replace("CSEQ", "1").replace("AUTH\n", "")
    # SIPp substitutes no field inside its authentication keyword: from an injection
    # file, the whole keyword is a field of its own (`auth`, e.g. "[field1]").
    auth = auth or f"[authentication username={user} password={password}]"
    second = invite.replace("CSEQ", "2").replace("AUTH", auth)
    steps = [
        f'<send retrans="500">{_message(first)}</send>',
        '<recv response="100" optional="true"/>',
        '<recv response="401" auth="true"/>',
        f"<send>{_message(ack.replace('CSEQ', '1'))}</send>",
        f'<send retrans="500">{_message(second)}</send>',
        '<recv response="100" optional="true"/>',
        '<recv response="180" optional="true"/>',
        '<recv response="183" optional="true"/>',
        '<recv response="200"/>',
        f"<send>{_message(ack.replace('CSEQ', '2'))}</send>",
        _log("[call_number] answered"),
        '<recv request="BYE" timeout="30000"/>',
        f"<send>{_message(OK_TO_REQUEST)}</send>",
        _log("[call_number] ended by far end"),
    ]
    return _scenario("acd feature code", steps)


class Sipp:
    """One SIPp process running `scenario` on 127.0.0.1:`port` (media on `media`),
    against `target` (host:port) as a UAC (`calls` calls to `service`, `rate` new
    calls per second; `extra`: more of SIPp's options, e.g. an injection file), or as a UAS
    when `target` is None. `log()` is what happened, one line per step."""

    def __init__(
        self,
        home: Path,
        name: str,
        scenario: str,
        port: int,
        media: int,
        target: str | None = None,
        service: str = "120",
        calls: int = 1,
        rate: float = 1.0,
        extra: tuple[str, ...] = (),
    ) -> None:
        # The media port and the one two above it (SIPp's video) must both be free.
        media = media if media_pair_free(media) else free_media_port()
        exe = shutil.which("sipp")
        assert exe is not None, "sipp is not installed (Debian package sip-tester)"
        self.home = home / name
        self.home.mkdir(parents=True, exist_ok=True)
        xml = self.home / "scenario.xml"
        xml.write_text(scenario)
        self.log_file = self.home / "steps.log"
        self.errors = self.home / "errors.log"
        args = [
            exe, "-sf", str(xml), "-i", "127.0.0.1", "-p", str(port),
            "-mp", str(media), "-nostdin", "-aa",
            "-trace_logs", "-log_file", str(self.log_file),
            "-trace_err", "-error_file", str(self.errors),
            "-timeout", "300s", "-max_retrans", "3",
        ]
        if target is not None:
            args += [target, "-s", service, "-m", str(calls), "-r", str(rate), "-rp", "1000"]
        args += extra
        self.process = subprocess.Popen(
            args, cwd=self.home, stdin=subprocess.DEVNULL,
            stdout=(self.home / "screen.txt").open("w"), stderr=subprocess.STDOUT,
        )

    def log(self) -> list[str]:
        """The steps logged so far, e.g. ["1 answered", "1 pressed 1"]."""
        if not self.log_file.exists():
            return []
        return [line.strip() for line in self.log_file.read_text().splitlines() if line.strip()]

    def done(self) -> bool:
        return self.process.poll() is not None

    def wait_for(self, step: str, within: float = 60.0) -> None:
        """Wait until `step` is logged (polled; the bound turns a call that never gets
        there into a failure naming what did happen)."""
        until(
            lambda: step in self.log(),
            lambda: f"SIPp {self.home.name}: {step!r} never logged (steps: {self.log()}; "
            f"errors: {self.error_text()})",
            within,
        )

    def error_text(self) -> str:
        return self.errors.read_text(errors="replace")[-2000:] if self.errors.exists() else ""

    def stop(self) -> None:
        """Stop the process by its pid."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
