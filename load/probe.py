"""Is anyone speaking SIP at the PBX's address? One OPTIONS, retransmitted as RFC 3261
says (0.5, 1, 2 s), before a load run registers a single phone, so a wrong `--pbx`
is named within seconds instead of after every phone's registration timer."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

from acd.load.sip_message import (
    MalformedMessage,
    Response,
    build_request,
    new_branch,
    new_call_id,
    new_tag,
    parse,
)

RETRANSMITS: Final = (0.5, 1.0, 2.0)


class NoAnswer(RuntimeError):
    """Nothing answered SIP at the address."""


class _Listener(asyncio.DatagramProtocol):
    def __init__(self, answered: asyncio.Future[int]) -> None:
        self.answered = answered

    def datagram_received(self, data: bytes, addr: tuple[str | bytes | int, ...]) -> None:
        with contextlib.suppress(MalformedMessage):
            message = parse(data)
            if isinstance(message, Response) and not self.answered.done():
                self.answered.set_result(message.status)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable: nothing listens there; keep waiting for the bound
        # anyway (a firewall may drop instead), the message says what was tried.
        pass


async def probe(host: str, port: int) -> int:
    """The status the PBX answered OPTIONS with; NoAnswer naming the address if none
    within 3.5 s."""
    loop = asyncio.get_running_loop()
    answered: asyncio.Future[int] = loop.create_future()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Listener(answered),
        local_addr=("127.0.0.1" if host.startswith("127.") else "0.0.0.0", 0),
    )
    try:
        local_host, local_port = transport.get_extra_info("sockname")[:2]
        request = build_request(
            "OPTIONS",
            f"sip:{host}:{port}",
            [
                ("Via", f"SIP/2.0/UDP {local_host}:{local_port};branch={new_branch()};rport"),
                ("Max-Forwards", "70"),
                ("From", f"<sip:acd-load@{local_host}>;tag={new_tag()}"),
                ("To", f"<sip:{host}:{port}>"),
                ("Call-ID", new_call_id(local_host)),
                ("CSeq", "1 OPTIONS"),
                ("User-Agent", "acd-load"),
            ],
        )
        for wait in RETRANSMITS:
            transport.sendto(request, (host, port))
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(asyncio.shield(answered), wait)
        raise NoAnswer(
            f"--pbx {host}:{port}: nothing answers SIP there (no reply to OPTIONS within "
            f"{sum(RETRANSMITS):g} s): is Asterisk running, and is this its PJSIP transport?"
        )
    finally:
        transport.close()
