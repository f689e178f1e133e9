"""The load simulator's phones (`load.phones`) against SIPp alone, no Asterisk.

SIPp plays the other side of each exchange: a registrar that challenges with a
digest nonce and checks the answer (`verifyauth`), a caller who is rung, answered,
declined or who gives up, a PBX that answers a feature code and hangs up, a PBX
qualifying the phone with OPTIONS. The phones run in the test's own asyncio loop
while SIPp runs as a child process; the test waits for what each side records
(SIPp's logged steps, the phones' call records), never for a fixed time, and stops
every SIPp by its pid.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from acd.load import digest
from acd.load.phones import (
    Account,
    Always,
    CallRecord,
    DialError,
    Floor,
    Phone,
    RegistrationError,
    Ring,
    Trunk,
)
from acd.load.rtp import alaw, parse_sdp, ulaw
from acd.load.scenarios import ALLOW, OK_TO_REQUEST, PCAP, ack_2xx
from acd.load.scenarios import log as _log
from acd.load.scenarios import message as _message
from acd.load.scenarios import scenario as _scenario
from acd.load.sip_message import MalformedMessage, Request, parse
from tests.asterisk import free_udp_port
from tests.sipp import Sipp, _caller_request, _phone_request, _reply

WITHIN = 20.0
"""Wall seconds a step may take before the test fails naming what did happen (a
step takes well under one here; the bound only turns a hang into a message)."""
POLL = 0.02
CALLER = "01012345678"


def require_sipp() -> None:
    """Skip (fail under ACD_REQUIRE_ASTERISK=1) with a one-line reason without SIPp."""
    if shutil.which("sipp") is None:
        message = "no SIPp (Debian package sip-tester)"
        if os.environ.get("ACD_REQUIRE_ASTERISK") == "1":
            pytest.fail(message)
        pytest.skip(message)


async def until(condition: Callable[[], bool], what: Callable[[], str]) -> None:
    """`tests.polling.until` for a test whose phones run in this loop: it yields to
    them between looks instead of sleeping the thread."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WITHIN
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what()}: not within {WITHIN} s")
        await asyncio.sleep(POLL)


async def logged(sipp: Sipp, step: str) -> None:
    """Until SIPp logged `step` (e.g. "1 answered")."""
    await until(
        lambda: step in sipp.log(),
        lambda: (
            f"SIPp {sipp.home.name}: {step!r} never logged "
            f"(steps: {sipp.log()}; errors: {sipp.error_text()})"
        ),
    )


async def recorded(phone: Phone | Floor, count: int = 1) -> list[CallRecord]:
    """Until `count` calls have ended at `phone`; their records."""
    await until(
        lambda: len(phone.records) >= count,
        lambda: f"{count} call records expected, got {phone.records}",
    )
    return phone.records


def run(body: Callable[[], Coroutine[Any, Any, None]], *sipps: Sipp) -> None:
    """Run `body` in a fresh loop; stop the SIPp processes whatever happened."""
    try:
        asyncio.run(body())
    finally:
        for sipp in sipps:
            sipp.stop()


class Ears(asyncio.DatagramProtocol):
    """The far end's RTP port as the caller's SDP names it: counts what arrives."""

    def __init__(self) -> None:
        self.packets = 0
        self.payload_types: set[int] = set()

    def datagram_received(self, data: bytes, addr: tuple[str | bytes | int, ...]) -> None:
        self.packets += 1
        if len(data) > 1:
            self.payload_types.add(data[1] & 0x7F)


# ------------------------------------------------------------------ scenarios

REALM = "acd-test"


def _challenge(qop: bool) -> str:
    nonce = "4f5e6d7c8b9a0b1c2d3e4f5a6b7c8d9e"
    offer = ', qop="auth"' if qop else ""
    return f'WWW-Authenticate: Digest realm="{REALM}", nonce="{nonce}", algorithm=MD5{offer}'


def _register_reply(status: str, extra: str = "") -> str:
    return f"""<send>{
        _message(f'''
SIP/2.0 {status}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
{extra}Content-Length: 0''')
    }</send>"""


def registrar_scenario(password: str, user: str = "[$user]", qop: bool = True) -> str:
    """A registrar (Asterisk's PJSIP, as the phones meet it): each REGISTER is
    challenged (401 with a nonce), the answer checked with `user` (by default the
    username the answer names) and `password`: 200 with the contact's expiry, or
    403. Logs "registered", "refused", then "unregistered" for the phone's REGISTER
    with Expires: 0."""
    steps = []
    for phase, expires in (("registered", "300"), ("unregistered", "0")):
        steps += [
            '<recv request="REGISTER"/>',
            _register_reply("401 Unauthorized", _challenge(qop) + "\n"),
            '<recv request="REGISTER"><action>'
            '<ereg regexp="username=&quot;([^&quot;]*)&quot;" search_in="hdr" '
            'header="Authorization:" assign_to="whole,user"/>'
            f'<verifyauth assign_to="valid" username="{user}" password="{password}"/>'
            f'<ereg regexp="^[[:space:]]*{expires}[[:space:]]*$" search_in="hdr" '
            'header="Expires:" check_it="true" assign_to="expires"/>'
            "</action></recv>",
            f'<nop test="valid" next="{phase}"/>',
            _register_reply("403 Forbidden"),
            _log("[call_number] refused"),
            '<nop next="end"/>',
            f'<label id="{phase}"/>',
            _register_reply("200 OK", f"[last_Contact:];expires={expires}\n"),
            _log(f"[call_number] {phase}"),
        ]
    steps.append('<label id="end"/>')
    return _scenario("acd registrar", steps)


def options_scenario() -> str:
    """A PBX qualifying a contact: OPTIONS, expecting 200; logs "qualified"."""
    options = f"""<send retrans="500">{
        _message('''
OPTIONS sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:qualify@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0''')
    }</send>"""
    return _scenario(
        "acd qualify", [options, '<recv response="200"/>', _log("[call_number] qualified")]
    )


def _sdp(media_port: str) -> str:
    return f"""v=0
o=caller 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio {media_port} RTP/AVP 8 0 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=sendrecv"""


def _invite(number: str, media_port: str) -> str:
    sdp = _sdp(media_port)
    return f"""<send retrans="500">{
        _message(f'''
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "ACD" <sip:{number}@[local_ip]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:acd@[local_ip]:[local_port]>
Max-Forwards: 70
{ALLOW}
Content-Type: application/sdp
Content-Length: [len]

{sdp}''')
    }</send>"""


def _ack(cseq_header: str = "CSeq: 1 ACK", via: str = "[last_Via:]") -> str:
    return f"""<send>{
        _message(f'''
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
{via}
[last_From:]
[last_To:]
Call-ID: [call_id]
{cseq_header}
Max-Forwards: 70
Content-Length: 0''')
    }</send>"""


def caller_scenario(
    mode: str, number: str = CALLER, media_port: int = 0, after: float = 1.0
) -> str:
    """A caller from `number` as Asterisk places it to the phone (the caller's number
    in the From URI), its audio expected at `media_port` (0: SIPp's own). `mode`:
    - "talk": expects 180 then 200 with a G.711 SDP, ACKs ("answered"), plays
      G.711 A-law, waits for the phone's BYE ("ended by far end");
    - "hang up": the same, then re-INVITEs with the same SDP and sends an UPDATE
      without one, as Asterisk does to update the connected line ("re-invited",
      "updated"), and hangs up itself `after` seconds later ("hung up");
    - "busy": expects 486 and ACKs it ("busy");
    - "cancel": expects 180, gives up `after` seconds later with CANCEL; expects
      200 to it and 487, ACKs ("cancelled")."""
    port = str(media_port) if media_port else "[media_port]"
    steps = [_invite(number, port), '<recv response="100" optional="true"/>']
    if mode == "busy":
        steps += ['<recv response="486"/>', _ack(), _log("[call_number] busy")]
        return _scenario("acd caller busy", steps)
    steps += ['<recv response="180"/>', _log("[call_number] ringing")]
    if mode == "cancel":
        cancel = f"""<send>{
            _message(f'''
CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: "ACD" <sip:{number}@[local_ip]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0''')
        }</send>"""
        steps += [
            f'<pause milliseconds="{int(after * 1000)}"/>',
            cancel,
            '<recv response="200"/>',
            '<recv response="487"/>',
            _ack(),
            _log("[call_number] cancelled"),
        ]
        return _scenario("acd caller cancels", steps)
    # The To of the answer (with the phone's tag) is kept for the caller's own BYE.
    keep_to = '<ereg regexp=".*" search_in="hdr" header="To:" assign_to="peer_to"/>'
    steps += [
        '<recv response="200" rrs="true"><action>'
        f"{keep_to if mode == 'hang up' else ''}"
        '<ereg regexp="PCMA/8000" search_in="body" check_it="true" assign_to="pcma"/>'
        "</action></recv>",
        ack_2xx(),
        _log("[call_number] answered"),
        _log("[call_number] answer [$pcma]"),
        f'<nop><action><exec play_pcap_audio="{PCAP / "g711a.pcap"}"/></action></nop>',
    ]
    if mode == "talk":
        steps += [
            '<recv request="BYE" timeout="30000"/>',
            f"<send>{_message(OK_TO_REQUEST)}</send>",
            _log("[call_number] ended by far end"),
        ]
    else:
        steps += [
            _caller_request("INVITE", 2, number, "application/sdp", _sdp(port)),
            '<recv response="100" optional="true"/>',
            '<recv response="200"><action>'
            '<ereg regexp="m=audio [0-9]+ RTP/AVP 8" search_in="body" check_it="true" '
            'assign_to="answer"/></action></recv>',
            _ack("CSeq: 2 ACK", "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]"),
            _log("[call_number] re-invited [$answer]"),
            _caller_request("UPDATE", 3, number),
            '<recv response="200"/>',
            _log("[call_number] updated"),
            f'<pause milliseconds="{int(after * 1000)}"/>',
            _caller_request("BYE", 4, number),
            '<recv response="200"/>',
            _log("[call_number] hung up"),
        ]
    return _scenario(f"acd caller {mode}", steps)


def feature_code_scenario(user: str, password: str) -> str:
    """The PBX side of an agent dialling a feature code: the INVITE is challenged
    (401, no qop), the second one checked as `user`/`password` (403 when wrong),
    answered with SDP ("answered"); half a second later the PBX hangs up ("hung up"),
    as Asterisk does once *51 has played its confirmation."""
    steps = [
        '<recv request="INVITE"><action>'
        '<ereg regexp=".*" search_in="hdr" header="From:" assign_to="peer_from"/>'
        '<ereg regexp=".*" search_in="hdr" header="To:" assign_to="own_to"/>'
        "</action></recv>",
        _log("[call_number] dialled [$own_to]"),
        f"""<send>{
            _message(f'''
SIP/2.0 401 Unauthorized
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
{_challenge(qop=False)}
Content-Length: 0''')
        }</send>""",
        '<recv request="ACK"/>',
        '<recv request="INVITE" rrs="true"><action>'
        f'<verifyauth assign_to="valid" username="{user}" password="{password}"/>'
        "</action></recv>",
        '<nop test="valid" next="good"/>',
        _reply("403 Forbidden"),
        '<recv request="ACK"/>',
        _log("[call_number] refused"),
        '<nop next="end"/>',
        '<label id="good"/>',
        _reply("200 OK", answer=True),
        '<recv request="ACK"/>',
        _log("[call_number] answered"),
        '<pause milliseconds="500"/>',
        _phone_request("BYE", 1),
        '<recv response="200"/>',
        _log("[call_number] hung up"),
        '<label id="end"/>',
    ]
    return _scenario("acd feature code", steps)


def uac(tmp: Path, name: str, scenario: str, phone: Phone, calls: int = 1) -> Sipp:
    """A SIPp placing `calls` calls of `scenario` to `phone`."""
    return Sipp(
        tmp, name, scenario, free_udp_port(), free_udp_port(),
        target=f"127.0.0.1:{phone.port}", service=phone.user, calls=calls, rate=10.0,
    )  # fmt: skip


def uas(tmp: Path, name: str, scenario: str) -> Sipp:
    return Sipp(tmp, name, scenario, free_udp_port(), free_udp_port())


def address(sipp: Sipp) -> str:
    """Where a SIPp UAS listens, as "host:port" (its `-p` argument)."""
    args = sipp.process.args
    assert isinstance(args, list)
    return f"127.0.0.1:{args[args.index('-p') + 1]}"


# ----------------------------------------------------------------- registration


@pytest.mark.parametrize("qop", [True, False], ids=["qop-auth", "no-qop"])
def test_registers_with_digest_and_unregisters_on_close(tmp_path: Path, qop: bool) -> None:
    """The registrar's 401 is answered with a digest it accepts (with and without
    qop); the phone is registered; on close it removes its contact (Expires: 0,
    challenged and answered again)."""
    require_sipp()
    registrar = uas(tmp_path, "registrar", registrar_scenario("s3cret", qop=qop))

    async def body() -> None:
        phone = Phone("1001", 0, Always(Ring()), password="s3cret", registrar=address(registrar))
        await phone.start()
        try:
            assert phone.registered
            await logged(registrar, "1 registered")
        finally:
            await phone.close()
        await logged(registrar, "1 unregistered")
        assert not phone.registered
        assert phone.counters.registrations == 2

    run(body, registrar)


def test_a_refused_registration_names_the_agent_and_the_status(tmp_path: Path) -> None:
    """A wrong password: the registrar answers 403, and start() says whose phone
    failed and what came back."""
    require_sipp()
    registrar = uas(tmp_path, "registrar", registrar_scenario("s3cret", user="1001"))

    async def body() -> None:
        phone = Phone("1001", 0, Always(Ring()), password="wrong", registrar=address(registrar))
        with pytest.raises(RegistrationError, match=r"agent 1001: .*403 Forbidden"):
            await phone.start()
        await phone.close()
        await logged(registrar, "1 refused")

    run(body, registrar)


def test_a_silent_registrar_fails_registration_after_the_retransmissions() -> None:
    """Nobody at the registrar's address: after timer F (64*T1, T1 shortened for the
    test) the error names the agent and that nothing answered."""

    async def body() -> None:
        silent = f"127.0.0.1:{free_udp_port()}"
        phone = Phone("1002", 0, Always(Ring()), password="x", registrar=silent, t1=0.01)
        with pytest.raises(RegistrationError, match=r"agent 1002: .*no answer"):
            await phone.start()
        await phone.close()
        assert phone.counters.retransmissions >= 5

    asyncio.run(body())


# ---------------------------------------------------------------- out of dialog


def test_options_is_answered_200(tmp_path: Path) -> None:
    """Asterisk qualifies a contact with OPTIONS: the phone answers 200 OK."""
    require_sipp()

    async def body() -> None:
        phone = Phone("1001", 0, Always(Ring()))
        await phone.open()
        qualify = uac(tmp_path, "qualify", options_scenario(), phone)
        try:
            await logged(qualify, "1 qualified")
        finally:
            qualify.stop()
            await phone.close()

    run(body)


def test_malformed_datagrams_are_counted_and_the_phone_goes_on(tmp_path: Path) -> None:
    """Garbage, a request missing its Call-ID, a body cut short, a request line
    that is not SIP: each counted as malformed; then OPTIONS is still answered and
    an unknown method gets 405."""
    require_sipp()
    junk = [
        b"\x00\xff\xfe not SIP at all\r\n\r\n",
        b"OPTIONS sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\n"
        b"From: <sip:a@b>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCSeq: 1 OPTIONS\r\n\r\n",
        b"INVITE sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKy\r\n"
        b"From: <sip:a@b>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n"
        b"Content-Length: 500\r\n\r\nv=0\r\n",
        b"HELLO WORLD\r\nVia: x\r\n\r\n",
    ]

    async def body() -> None:
        phone = Phone("1001", 0, Always(Ring()))
        await phone.open()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            for datagram in [*junk, b"\r\n\r\n"]:  # the last: a keep-alive, not junk
                s.sendto(datagram, ("127.0.0.1", phone.port))
            await until(
                lambda: phone.counters.malformed == len(junk),
                lambda: f"malformed {phone.counters.malformed}, expected {len(junk)}",
            )
            message = (
                "MESSAGE sip:1001@127.0.0.1 SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{s.getsockname()[1]};branch=z9hG4bKm\r\n"
                "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\n"
                "Call-ID: m1\r\nCSeq: 7 MESSAGE\r\nContent-Length: 0\r\n\r\n"
            )
            s.sendto(message.encode(), ("127.0.0.1", phone.port))
            loop = asyncio.get_running_loop()
            answer = await asyncio.wait_for(loop.sock_recv(s, 4096), WITHIN)
            assert answer.startswith(b"SIP/2.0 405 Method Not Allowed\r\n")
            assert b"Allow: INVITE" in answer
        qualify = uac(tmp_path, "qualify", options_scenario(), phone)
        try:
            await logged(qualify, "1 qualified")
        finally:
            qualify.stop()
            await phone.close()
        assert phone.counters.malformed == len(junk)

    run(body)


# ------------------------------------------------------------------ inbound calls


def test_rung_answered_after_the_decided_delay_then_the_phone_hangs_up(tmp_path: Path) -> None:
    """The caller hears 180 Ringing, then a 200 OK with a G.711 SDP and ACKs; the
    phone's audio reaches the port the caller's SDP named, the caller's audio (SIPp
    plays a G.711 A-law capture) reaches the phone; after `talk` seconds the phone
    hangs up with a BYE the caller answers. The record says so."""
    require_sipp()

    async def body() -> None:
        loop = asyncio.get_running_loop()
        transport, ears = await loop.create_datagram_endpoint(Ears, local_addr=("127.0.0.1", 0))
        ears_port = transport.get_extra_info("sockname")[1]
        decided: list[tuple[str, str]] = []

        def decide(user: str, caller: str) -> Ring:
            decided.append((user, caller))
            return Ring(answer_after=0.3, talk=1.0)

        phone = Phone("1001", 0, decide)
        await phone.open()
        caller = uac(tmp_path, "caller", caller_scenario("talk", media_port=ears_port), phone)
        try:
            await logged(caller, "1 ringing")
            await logged(caller, "1 answered")
            await logged(caller, "1 answer PCMA/8000")
            await logged(caller, "1 ended by far end")
            (record,) = await recorded(phone)
        finally:
            caller.stop()
            await phone.close()
            transport.close()
        assert decided == [("1001", CALLER)]
        assert record.outcome == "answered"
        assert record.ended_by == "phone"
        assert (record.phone, record.caller_number, record.direction) == ("1001", CALLER, "inbound")
        assert record.answered_at is not None
        assert record.answered_at - record.rang_at >= 0.3 - 0.001  # the loop clock: a lower bound
        assert record.ended_at - record.answered_at >= 1.0 - 0.001
        assert record.rtp_sent > 0 and ears.packets > 0
        assert ears.payload_types == {8}  # PCMA, the caller's first choice
        assert record.rtp_received > 0  # SIPp's capture reached the phone

    run(body)


def test_busy_is_answered_486(tmp_path: Path) -> None:
    """A person who declines: 486 Busy Here at once, no ringing; recorded busy."""
    require_sipp()

    async def body() -> None:
        phone = Phone("1001", 0, Always(Ring(busy=True)))
        await phone.open()
        caller = uac(tmp_path, "caller", caller_scenario("busy"), phone)
        try:
            await logged(caller, "1 busy")
            (record,) = await recorded(phone)
        finally:
            caller.stop()
            await phone.close()
        assert (record.outcome, record.answered_at, record.caller_number) == ("busy", None, CALLER)

    run(body)


def test_a_call_nobody_answers_is_missed_when_the_caller_cancels(tmp_path: Path) -> None:
    """`answer_after` None: the phone rings until the caller gives up; the CANCEL
    gets 200, the INVITE 487 Request Terminated; the record says missed."""
    require_sipp()

    async def body() -> None:
        phone = Phone("1001", 0, Always(Ring(answer_after=None)))
        await phone.open()
        caller = uac(tmp_path, "caller", caller_scenario("cancel", after=0.5), phone)
        try:
            await logged(caller, "1 cancelled")
            (record,) = await recorded(phone)
        finally:
            caller.stop()
            await phone.close()
        assert (record.outcome, record.ended_by, record.answered_at) == ("missed", "far end", None)
        assert record.rtp_sent == 0

    run(body)


def test_a_second_call_while_the_line_is_up_gets_486(tmp_path: Path) -> None:
    """An agent's phone has one line: while a call is up, another INVITE is
    declined 486 without asking the person. Closing the phone hangs up the call
    that was up (BYE to the first caller)."""
    require_sipp()

    async def body() -> None:
        phone = Phone("1001", 0, Always(Ring(answer_after=0.0, talk=None)))
        await phone.open()
        first = uac(tmp_path, "first", caller_scenario("talk"), phone)
        second: Sipp | None = None
        try:
            await logged(first, "1 answered")
            second = uac(tmp_path, "second", caller_scenario("busy", number="0212345678"), phone)
            await logged(second, "1 busy")
            (busy,) = await recorded(phone)
            assert (busy.outcome, busy.caller_number, busy.reason) == (
                "busy", "0212345678", "line busy",
            )  # fmt: skip
            await phone.close()
            await logged(first, "1 ended by far end")
        finally:
            first.stop()
            if second is not None:
                second.stop()
            await phone.close()
        _, up = phone.records
        assert (up.outcome, up.ended_by, up.caller_number) == ("answered", "phone", CALLER)

    run(body)


def test_the_far_end_updates_then_hangs_up_during_the_talk(tmp_path: Path) -> None:
    """`talk` None: the phone accepts a re-INVITE (answering with its SDP) and an
    UPDATE in the call, stays until the caller's BYE, answers it 200, and the
    record says the far end ended it."""
    require_sipp()
    seen: list[CallRecord] = []

    async def body() -> None:
        phone = Phone("1001", 0, Always(Ring(talk=None)), on_record=seen.append)
        await phone.open()
        caller = uac(tmp_path, "caller", caller_scenario("hang up", after=0.5), phone)
        try:
            await logged(caller, "1 updated")
            await logged(caller, "1 hung up")
            (record,) = await recorded(phone)
        finally:
            caller.stop()
            await phone.close()
        assert (record.outcome, record.ended_by) == ("answered", "far end")
        assert seen == [record]
        assert phone.counters.rejected == 0
        assert any(step.startswith("1 re-invited m=audio") for step in caller.log())

    run(body)


# ---------------------------------------------------------------- dialling


def test_dialling_a_feature_code_with_digest(tmp_path: Path) -> None:
    """dial("*51"): the PBX challenges the INVITE with 401; the phone ACKs it and
    sends it again with CSeq 2 and the digest the PBX checks; the PBX answers, and
    later hangs up: dial returns the answered call, ended by the far end."""
    require_sipp()
    pbx = uas(tmp_path, "pbx", feature_code_scenario("1001", "s3cret"))

    async def body() -> None:
        phone = Phone("1001", 0, Always(Ring()), password="s3cret", registrar=address(pbx))
        await phone.open()  # no REGISTER: this PBX only takes the call
        try:
            record = await phone.dial("*51")
            await logged(pbx, "1 hung up")
        finally:
            await phone.close()
        assert (record.outcome, record.ended_by) == ("answered", "far end")
        assert (record.direction, record.called_number, record.caller_number) == (
            "outbound", "*51", "1001",
        )  # fmt: skip
        assert record.rtp_sent > 0
        assert any("dialled" in step and "sip:*51@" in step for step in pbx.log())

    run(body, pbx)


def test_a_refused_dial_names_the_code_and_the_status(tmp_path: Path) -> None:
    """A wrong password: the PBX answers the authenticated INVITE 403; dial raises
    an error naming the code and the status, and the call is recorded failed."""
    require_sipp()
    pbx = uas(tmp_path, "pbx", feature_code_scenario("1001", "s3cret"))

    async def body() -> None:
        phone = Phone("1001", 0, Always(Ring()), password="wrong", registrar=address(pbx))
        await phone.open()
        try:
            with pytest.raises(DialError, match=r"1001 dialling \*51: 403 Forbidden"):
                await phone.dial("*51")
            await logged(pbx, "1 refused")
        finally:
            await phone.close()
        (record,) = phone.records
        assert (record.outcome, record.reason) == ("failed", "403 Forbidden")

    run(body, pbx)


# ---------------------------------------------------------------------- floor


def test_a_floor_registers_its_agents_and_a_vendor_takes_calls_side_by_side(
    tmp_path: Path,
) -> None:
    """A floor of two agents and a vendor with two lines: both agents register
    (concurrently), two calls to the vendor at once are both answered, close
    unregisters the agents, and every record reached `records` and `on_record`."""
    require_sipp()
    registrar = uas(tmp_path, "registrar", registrar_scenario("pw"))
    ended: list[CallRecord] = []

    async def body() -> None:
        floor = Floor(
            address(registrar), [Account("1001", "pw", 0), Account("1002", "pw", 0)],
            Always(Ring(answer_after=0.1, talk=1.0)),
            vendors=[Trunk("vendor-a", 0, lines=2)], on_record=ended.append,
        )  # fmt: skip
        await floor.start()
        vendor = floor.phones["vendor-a"]
        callers = uac(tmp_path, "callers", caller_scenario("talk"), vendor, calls=2)
        try:
            assert floor.phones["1001"].registered and floor.phones["1002"].registered
            await logged(registrar, "1 registered")
            await logged(registrar, "2 registered")
            await logged(callers, "1 answered")
            await logged(callers, "2 answered")
            await recorded(floor, 2)
        finally:
            callers.stop()
            await floor.close()
            await floor.close()  # idempotent
        await logged(registrar, "1 unregistered")
        await logged(registrar, "2 unregistered")
        assert [r.outcome for r in floor.records] == ["answered", "answered"]
        assert ended == floor.records
        first, other = floor.records
        assert other.answered_at is not None
        assert other.answered_at < first.ended_at  # both lines were up at once

    run(body, registrar)


# --------------------------------------------------------------------- pieces


def test_digest_matches_rfc_2617s_example() -> None:
    """RFC 2617 section 3.5: Mufasa's response to the testrealm challenge."""
    challenge = digest.parse_challenge(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    answer = digest.response_hash(
        challenge, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", "0a4f113b", 1
    )
    assert answer == "6629fae49393a05397450978507c4ef1"
    header = digest.authorization(
        challenge, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", "0a4f113b"
    )
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in header
    assert "qop=auth, nc=00000001" in header


def test_sip_messages_parse_compact_and_folded_headers() -> None:
    message = parse(
        b"BYE sip:1001@127.0.0.1:5070 SIP/2.0\r\n"
        b"v: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKabc, SIP/2.0/UDP 10.0.0.1\r\n"
        b'f: "A, B" <sip:0101@127.0.0.1>;tag=x1\r\n'
        b"t: <sip:1001@127.0.0.1>\r\n ;tag=y2\r\n"
        b"i: abc@host\r\nCSeq: 102 BYE\r\nl: 0\r\n\r\n"
    )
    assert isinstance(message, Request)
    assert (message.method, message.call_id, message.cseq) == ("BYE", "abc@host", 102)
    assert (message.branch, message.from_tag, message.to_tag) == ("z9hG4bKabc", "x1", "y2")
    assert len(message.headers.all("via")) == 2
    with pytest.raises(MalformedMessage, match="CSeq"):
        parse(b"BYE sip:x SIP/2.0\r\nVia: a\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: x\r\n\r\n")


def test_g711_encoders_and_sdp() -> None:
    assert (alaw(0), ulaw(0)) == (0xD5, 0xFF)  # silence, as G.711 codes it
    assert (alaw(32767), alaw(-32768)) == (0xAA, 0x2A)
    offer = parse_sdp(b"v=0\r\nc=IN IP4 10.1.2.3\r\nm=audio 4000 RTP/AVP 0 8 101\r\n")
    assert offer is not None and (offer.address, offer.port, offer.choose()) == (
        "10.1.2.3",
        4000,
        0,
    )
    assert parse_sdp(b"v=0\r\nc=IN IP4 10.1.2.3\r\nm=audio 0 RTP/AVP 8\r\n") is None
