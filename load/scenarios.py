"""SIPp scenarios of the load run's callers, and the injection file that feeds them.

One SIPp call is one person (`load.plan.Person`), from their first call to their
last redial: each attempt is a new INVITE with a Call-ID of its own
(`a2///[call_id]`: SIPp keeps matching it to the same call) and a From tag of its
own, so Asterisk sees separate calls from the same number, as from a redialling
citizen. Per person, the injection file gives the number, the start delay, the DTMF
method, the keys with their timing, and per attempt the patience and the redial
delay.

What the caller logs (`-trace_logs`), one line per step, with SIPp's millisecond
clock (`[clock_tick]`, since SIPp started):

    <call> <attempt> invite <ms>          the INVITE left
    <call> <attempt> answered <ms>        200 OK: the PBX took the call (the IVR)
    <call> <attempt> pressed <digit> <ms>
    <call> <attempt> connected <ms>       a person answered (see below)
    <call> <attempt> abandoned <ms>       patience ran out on hold: the caller hung up
    <call> <attempt> ended <ms>           the PBX hung up (after a talk, or unanswered)
    <call> <attempt> failed <code> <ms>   a final answer other than 200 (486: turned away)

**How a blind caller knows a person answered.** When the engine bridges the caller
with an agent (or a vendor), Asterisk's two-party bridge sends each side the other's
identity (a connected-line update), which PJSIP carries to the caller as an UPDATE
(re-INVITE if UPDATE is not allowed) when the carrier endpoint has `send_pai = yes`
(the sample `pjsip.conf` does). The engine sets the agent leg's caller ID to the
caller's own number, so the caller learns nothing but that someone answered. From
then on their patience no longer runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from acd.load.plan import Person

PCAP: Final = Path("/usr/share/sip-tester")
"""Where Debian's sip-tester keeps the RTP captures SIPp plays (DTMF, G.711 audio)."""
FAILURES: Final = (400, 403, 404, 408, 480, 486, 487, 488, 500, 502, 503, 603)
"""Final answers to the INVITE the caller logs as failed with their code; any other
aborts the SIPp call (counted by SIPp, shown in its error log)."""
NO_KEY: Final = "n"

SDP: Final = """v=0
o=acd 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 0 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv"""

ALLOW: Final = "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE"

_OK_HEAD: Final = """
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]"""
OK_TO_REQUEST: Final = _OK_HEAD + "\nContent-Length: 0"
"""The 200 OK to a request the far end sent (BYE, UPDATE, INFO)."""


def ok_with_sdp(contact_user: str = "") -> str:
    """The 200 OK (with an SDP answer) to a re-INVITE the far end sent in a call."""
    user = f"{contact_user}@" if contact_user else ""
    return f"""<send>{message(f'''{_OK_HEAD}
Contact: <sip:{user}[local_ip]:[local_port]>
{ALLOW}
Content-Type: application/sdp
Content-Length: [len]

{SDP}''')}</send>"""


def ack_2xx(call_id: str = "[call_id]") -> str:
    """The ACK of the 200 OK that answered the INVITE (CSeq 1), a transaction of its
    own sent to the far end's Contact, through the route the 200 recorded."""
    return f"""<send>{message(f'''
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[last_From:]
[last_To:]
[routes]
Call-ID: {call_id}
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0''')}</send>"""


def message(text: str) -> str:
    """A SIP message as SIPp wants it in a scenario (CDATA, blank line after)."""
    return "<![CDATA[\n" + text.strip("\n") + "\n\n]]>"


def log(step: str) -> str:
    """A step written to the log file (`-trace_logs`), e.g. "[call_number] answered"."""
    return f'<nop><action><log message="{step}"/></action></nop>'


def scenario(name: str, steps: Iterable[str]) -> str:
    body = "\n".join(steps)
    head = '<?xml version="1.0" encoding="ISO-8859-1" ?>'
    return f'{head}\n<scenario name="{name}">\n{body}\n</scenario>\n'


def rfc2833(digit: str, condexec: str = "") -> str:
    """Send `digit` as an RTP telephone-event, from sip-tester's capture of it (only
    if the boolean variable `condexec` holds, when given)."""
    name = {"*": "star", "#": "pound"}.get(digit, digit)
    capture = PCAP / f"dtmf_2833_{name}.pcap"
    cond = f' condexec="{condexec}"' if condexec else ""
    return f'<nop{cond}><action><exec play_pcap_audio="{capture}"/></action></nop>'


class Layout:
    """Which field of an injection line holds what, for `keys` keys and `attempts`
    attempts at most (the site's longest branch, `simulation.redial.max_attempts`)."""

    def __init__(self, keys: int, attempts: int) -> None:
        self.keys = keys
        self.attempts = attempts

    NUMBER: Final = 0
    START: Final = 1
    INFO: Final = 2

    def digit(self, j: int) -> int:
        return 3 + 2 * j

    def key_delay(self, j: int) -> int:
        return 4 + 2 * j

    def patience(self, a: int) -> int:
        return 3 + 2 * self.keys + 2 * a

    def redial(self, a: int) -> int:
        return 4 + 2 * self.keys + 2 * a

    def line(self, person: Person, start_ms: float) -> str:
        """The injection line of `person`, whose first INVITE SIPp sends `start_ms`
        after it opens the call."""
        fields = [person.number, str(max(0, round(start_ms))), "1" if person.info else "0"]
        for j in range(self.keys):
            if j < len(person.keys):
                delay, digit = person.keys[j]
                fields += [digit, str(round(delay * 1000))]
            else:
                fields += [NO_KEY, "0"]
        for a in range(self.attempts):
            if a < len(person.attempts):
                attempt = person.attempts[a]
                patience = max(1, round(attempt.patience * 1000))
                redial = -1 if attempt.redial_after is None else round(attempt.redial_after * 1000)
                fields += [str(patience), str(redial)]
            else:
                fields += ["1", "-1"]
        return ";".join(fields)


def injection(layout: Layout, lines: Iterable[str]) -> str:
    """An injection file: SIPp hands line i to call i."""
    return "SEQUENTIAL\n" + "".join(f"{line};\n" for line in lines)


def _double(var: str, field: int) -> str:
    return f'<assignstr assign_to="s_{var}" value="[field{field}]"/>' + (
        f'<todouble assign_to="{var}" variable="s_{var}"/>'
    )


def _is(flag: str, var: str, value: str) -> str:
    """Set boolean `flag` to whether string variable `var` equals `value`."""
    return (
        f'<strcmp assign_to="c_{flag}" variable="{var}" value="{value}"/>'
        f'<test assign_to="{flag}" variable="c_{flag}" compare="equal" value="0"/>'
    )


def _in_call(method: str, cseq: str, content_type: str = "", body: str = "") -> str:
    """A request the caller sends within the attempt's dialog."""
    content = (
        f"Content-Type: {content_type}\nContent-Length: [len]\n\n{body}"
        if body
        else "Content-Length: 0"
    )
    return f"""<send retrans="500">{
        message(f'''
{method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "[field0]" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]a[$att]
To:[$peer_to]
[routes]
Call-ID: a[$att]///[call_id]
CSeq: {cseq} {method}
Max-Forwards: 70
{content}''')
    }</send>"""


def _attempt(a: int, layout: Layout, digits: Sequence[str]) -> list[str]:
    """The steps of attempt `a` (0-based) of a person."""
    n = a + 1
    last = a == layout.attempts - 1
    # SIPp refuses a variable set and never read: the last attempt reads no redial.
    redial = "" if last else (
        _double("redial", layout.redial(a))
        + '<test assign_to="no_redial" variable="redial" compare="less_than" value="0"/>'
    )
    steps = [
        f'<label id="a{n}"/>',
        f'<nop><action><assignstr assign_to="att" value="{n}"/>'
        f"{_double('patience', layout.patience(a))}{redial}</action></nop>",
        # Logged before it leaves: a response may come before the next step runs.
        log(f"[call_number] {n} invite [clock_tick]"),
        f"""<send retrans="500">{
            message(f'''
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "[field0]" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]a{n}
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: a{n}///[call_id]
CSeq: 1 INVITE
Contact: <sip:[field0]@[local_ip]:[local_port]>
Max-Forwards: 70
{ALLOW}
Content-Type: application/sdp
Content-Length: [len]

{SDP}''')
        }</send>""",
        '<recv response="100" optional="true"/>',
        '<recv response="180" optional="true"/>',
        '<recv response="183" optional="true"/>',
    ]
    for code in FAILURES:
        steps.append(f'<recv response="{code}" optional="true" next="failed{n}_{code}"/>')
    steps += [
        '<recv response="200" rrs="true"><action>'
        '<ereg regexp=".*" search_in="hdr" header="To:" assign_to="peer_to"/>'
        "</action></recv>",
        ack_2xx(f"a{n}///[call_id]"),
        log(f"[call_number] {n} answered [clock_tick]"),
        f'<nop><action><exec play_pcap_audio="{PCAP / "g711a.pcap"}"/></action></nop>',
    ]
    for j in range(layout.keys):
        key = f"k{j}"
        steps.append(f'<nop next="waiting{n}" test="no_{key}"/>')
        steps.append(f'<pause variable="d_{key}"/>')
        for digit in digits:
            steps.append(rfc2833(digit, f"{key}_2833_{digit}"))
        steps += [
            f'<nop next="info{n}_{j}" test="by_info"/>',
            f'<nop next="pressed{n}_{j}"/>',
            f'<label id="info{n}_{j}"/>',
            _in_call(
                "INFO", str(2 + j), "application/dtmf-relay", f"Signal=[$s_{key}]\nDuration=160"
            ),
            '<recv response="200"/>',
            f'<label id="pressed{n}_{j}"/>',
            log(f"[call_number] {n} pressed [$s_{key}] [clock_tick]"),
        ]
    bye_cseq = str(2 + layout.keys)
    steps += [
        # On hold for the caller's patience. A person answering (UPDATE or re-INVITE)
        # or the PBX hanging up (BYE) meanwhile ends the pause: SIPp takes them to
        # `_unexp.main`, since nothing is awaited during a pause.
        f'<label id="waiting{n}"/>',
        '<pause variable="patience"/>',
        f'<label id="give_up{n}"/>',
        _in_call("BYE", bye_cseq),
        '<recv response="200"/>',
        log(f"[call_number] {n} abandoned [clock_tick]"),
    ]
    if last:
        steps.append('<nop next="end"/>')
    else:
        steps += [
            '<nop next="end" test="no_redial"/>',
            '<pause variable="redial"/>',
            f'<nop next="a{n + 1}"/>',
        ]
    for code in FAILURES:
        steps += [
            f'<label id="failed{n}_{code}"/>',
            f"""<send>{
                message('''
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0''')
            }</send>""",
            log(f"[call_number] {n} failed {code} [clock_tick]"),
            '<nop next="end"/>',
        ]
    return steps


def person_scenario(layout: Layout, digits: Sequence[str]) -> str:
    """The scenario every caller of a run plays, for keys among `digits`."""
    setup = [
        _double("start", Layout.START),
        f'<assignstr assign_to="s_info" value="[field{Layout.INFO}]"/>',
        _is("by_info", "s_info", "1"),
    ]
    for j in range(layout.keys):
        key = f"k{j}"
        setup += [
            f'<assignstr assign_to="s_{key}" value="[field{layout.digit(j)}]"/>',
            _is(f"no_{key}", f"s_{key}", NO_KEY),
            _double(f"d_{key}", layout.key_delay(j)),
            # RFC 2833 of one digit: the capture to play is fixed in the scenario.
            *(
                f'<strcmp assign_to="c_{key}_{d}" variable="s_{key}" value="{d}"/>'
                f'<test assign_to="{key}_2833_{d}" variable="c_{key}_{d}" compare="equal" '
                'value="0"/>'
                for d in digits
            ),
        ]
    steps = [
        "<nop><action>" + "".join(setup) + "</action></nop>",
        '<pause variable="start"/>',
    ]
    for a in range(layout.attempts):
        steps += _attempt(a, layout, digits)
    steps += [
        # A request that comes during a pause (on hold, before a key) or between two
        # steps is not awaited: SIPp jumps here with it instead of failing the call.
        '<label id="_unexp.main"/>',
        '<recv request="UPDATE" optional="true" next="update"/>',
        '<recv request="INVITE" optional="true" next="reinvite"/>',
        '<recv request="BYE" next="bye"/>',
        # A person answered (the first UPDATE or re-INVITE; later ones are answered
        # the same way): the caller stays until the far end hangs up.
        '<label id="update"/>',
        f"<send>{message(OK_TO_REQUEST)}</send>",
        '<nop next="answered"/>',
        '<label id="reinvite"/>',
        ok_with_sdp("[field0]"),
        '<recv request="ACK"/>',
        '<label id="answered"/>',
        '<nop condexec="told" condexec_inverse="true"><action>'
        '<log message="[call_number] [$att] connected [clock_tick]"/>'
        '<assign assign_to="n_told" value="1"/>'
        '<test assign_to="told" variable="n_told" compare="equal" value="1"/>'
        "</action></nop>",
        '<recv request="UPDATE" optional="true" next="update"/>',
        '<recv request="INVITE" optional="true" next="reinvite"/>',
        '<recv request="BYE" next="bye"/>',
        '<label id="bye"/>',
        f"<send>{message(OK_TO_REQUEST)}</send>",
        log("[call_number] [$att] ended [clock_tick]"),
        '<label id="end"/>',
    ]
    return scenario("acd load caller", steps)
