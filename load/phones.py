"""The agents' phones and the vendors' floors of `acd load`: light SIP user agents on
one asyncio loop, one UDP socket each, no threads.

An agent's phone (`Phone` with a password and a registrar) registers to Asterisk's
PJSIP with digest authentication, keeps the registration fresh and removes it on
close. Any phone answers OPTIONS (Asterisk qualifies contacts), rings on INVITE and
asks its `Behaviour` what the person at it does: decline as busy, answer after some
seconds of ringing or let it ring until the caller gives up, then talk for some
seconds and hang up, or wait for the far end to. An agent's phone has one line; a
vendor's floor (`lines=N`, no account) takes N calls at once. While a call is up
both sides' RTP flows (`load.rtp`). A registered phone can also `dial` a feature
code (e.g. *51, log in).

Every call, taken, declined, missed or dialled, ends as a `CallRecord`.

What this user agent does and does not do, after RFC 3261:
- transactions over UDP with timers A/B and E/F on the client side (T1 = 500 ms
  doubling, T2 = 4 s, bounded at 64*T1) and G/H on the server side (a final answer
  to an INVITE is resent until its ACK, at most 64*T1); a retransmitted request
  gets the last response again, from a cache kept 64*T1;
- responses go back to the address the request came from (as with rport, RFC 3581),
  requests within a dialog to the first Route, else to the far end's Contact
  (loose routing only: Asterisk does not strict-route);
- no forking, no early media, no TCP, no PRACK, no session timers.

A datagram that does not parse, or that a phone cannot act on, is counted in
`Phone.counters` and dropped: the phone never stops for what a peer sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

import msgspec

from acd.load import digest
from acd.load.rtp import (
    PCMA,
    PCMU,
    TELEPHONE_EVENT,
    RtpClock,
    RtpStream,
    open_stream,
    parse_sdp,
    sdp,
)
from acd.load.sip_message import (
    MalformedMessage,
    Request,
    Response,
    build_request,
    build_response,
    new_branch,
    new_call_id,
    new_tag,
    param,
    parse,
    parse_name_addr,
    parse_uri,
)

log = logging.getLogger("acd.load.phones")

T1 = 0.5
"""RFC 3261's round-trip estimate: the first retransmission interval (seconds)."""
T2 = 4.0
"""The longest retransmission interval of a non-INVITE request or a final answer."""
EXPIRES = 300
"""Seconds of registration a phone asks for."""
USER_AGENT = "acd-load"
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO"
FORMATS = (PCMA, PCMU, TELEPHONE_EVENT)
"""What the phones offer and accept, in their preference."""
IN_DIALOG = frozenset({"BYE", "UPDATE", "INFO", "NOTIFY"})
"""Requests that only make sense within a call: outside one they get 481."""

_K = TypeVar("_K")
_V = TypeVar("_V")

Outcome = Literal["answered", "missed", "busy", "failed"]
Side = Literal["phone", "far end"]


class Ring(msgspec.Struct, frozen=True):
    """What the person at a phone does with one ringing call.

    `busy`: decline at once with 486 Busy Here. `answer_after`: seconds of ringing
    before answering; None lets it ring until the caller cancels (a miss). `talk`:
    seconds after the answer before the phone hangs up; None waits for the far end.
    """

    busy: bool = False
    answer_after: float | None = 0.0
    talk: float | None = None


@runtime_checkable
class Behaviour(Protocol):
    """Decides, call by call, what the person at a phone does."""

    def decide(self, phone_user: str, caller_number: str) -> Ring:
        """`caller_number`: the user part of the INVITE's From URI (Asterisk puts the
        caller's number there)."""
        ...


Decide = Behaviour | Callable[[str, str], Ring]
"""A behaviour object, or its `decide` as a plain function."""


def _decider(behaviour: Decide) -> Callable[[str, str], Ring]:
    return behaviour.decide if isinstance(behaviour, Behaviour) else behaviour


@dataclass(frozen=True, slots=True)
class Always:
    """A behaviour that does the same with every call (tests, a vendor's floor)."""

    ring: Ring

    def decide(self, phone_user: str, caller_number: str) -> Ring:
        return self.ring


class CallRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One call at one phone, as the person there lived it. Times are the loop's
    monotonic clock (`loop.time()`)."""

    phone: str
    direction: Literal["inbound", "outbound"]
    caller_number: str
    """Inbound: the From user of the INVITE; outbound: the phone's own user."""
    called_number: str
    """Inbound: the phone's user; outbound: the dialled code or number."""
    call_id: str
    rang_at: float
    """When the INVITE arrived (inbound) or was sent (outbound)."""
    answered_at: float | None
    ended_at: float
    outcome: Outcome
    """answered; missed (cancelled while ringing); busy (declined, or the line was
    taken); failed (no ACK, no answer to a BYE, a rejected dial, the phone closing)."""
    ended_by: Side
    rtp_sent: int = 0
    rtp_received: int = 0
    reason: str = ""
    """Why a call failed, or the final status of a rejected dial; else empty."""


@dataclass(frozen=True, slots=True)
class Account:
    """An agent's SIP account: the PJSIP endpoint's user and password, and the local
    UDP port of the phone that registers it (0: one the system picks)."""

    user: str
    password: str
    port: int


@dataclass(frozen=True, slots=True)
class Trunk:
    """A vendor's floor as Asterisk's trunk reaches it: a name, a local UDP port (the
    trunk's static contact), and how many calls it takes at once."""

    name: str
    port: int
    lines: int = 100


class RegistrationError(Exception):
    """A phone could not register (or refresh its registration): `user` and `what`
    came back (a status, or no answer)."""

    def __init__(self, user: str, what: str) -> None:
        super().__init__(f"agent {user}: registration failed: {what}")
        self.user = user
        self.what = what


class DialError(Exception):
    """A phone's outbound call was not answered: `code` and `what` came back."""

    def __init__(self, user: str, code: str, what: str) -> None:
        super().__init__(f"agent {user} dialling {code}: {what}")
        self.user = user
        self.code = code
        self.what = what


class TransactionTimeout(Exception):
    """No final response within 64*T1 (timer B or F)."""


class Counters(msgspec.Struct):
    """What a phone saw besides calls, for the run's log."""

    malformed: int = 0
    """Datagrams that did not parse, or that broke the phone's handling of them."""
    stray_responses: int = 0
    """Responses to no transaction of this phone (late retransmissions, others')."""
    retransmissions: int = 0
    """Requests or final answers this phone sent again for want of a reply."""
    rejected: int = 0
    """Out-of-dialog requests answered 405, or in-dialog ones for no call answered 481."""
    registrations: int = 0
    registration_failures: int = 0


class _SipSocket(asyncio.DatagramProtocol):
    def __init__(self, phone: Phone) -> None:
        self.phone = phone

    def datagram_received(self, data: bytes, addr: tuple[str | bytes | int, ...]) -> None:
        self.phone._received(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable for a request: the transaction's timeout reports it.
        log.debug("%s: %s", self.phone.user, exc)


class _ClientTransaction:
    __slots__ = ("final", "provisional")

    def __init__(self, final: asyncio.Future[Response]) -> None:
        self.final = final
        self.provisional = False


class _Call:
    """A call's dialog and progress. `local` and `remote` are the From/To header
    values of requests this phone sends in the dialog (tags included)."""

    def __init__(
        self,
        call_id: str,
        direction: Literal["inbound", "outbound"],
        caller: str,
        called: str,
        local: str,
        remote: str,
        target: str,
        peer: tuple[str, int],
        rang_at: float,
    ) -> None:
        self.call_id = call_id
        self.direction: Literal["inbound", "outbound"] = direction
        self.caller = caller
        self.called = called
        self.local = local
        self.remote = remote
        self.target = target
        self.route: list[str] = []
        self.peer = peer
        self.rang_at = rang_at
        self.answered_at: float | None = None
        self.outcome: Outcome = "failed"
        self.ended_by: Side = "phone"
        self.reason = ""
        self.local_cseq = 0
        self.invite: Request | None = None
        self.invite_source = peer
        self.media: RtpStream | None = None
        self.session = random.getrandbits(31)
        self.sdp_version = 1
        # What happened to the call; each turns true once and wakes its task.
        self.cancelled = False
        self.bye = False
        self.stopping = False
        self._news = asyncio.Event()

    def wake(self) -> None:
        self._news.set()

    async def wait(self, deadline: float | None) -> None:
        """Until something happened (CANCEL, BYE, the phone closing) or `deadline`
        on the loop's clock (None: no deadline)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                await self._news.wait()


class Phone:
    """One SIP user agent on `host`:`port`; see the module's docstring.

    With `password` and `registrar` ("host:port" or (host, port)) it is an agent's
    phone that registers as `sip:<user>@<registrar host>`; without, a phone (or a
    vendor's floor, `lines` > 1) that Asterisk reaches at a static contact. `port`
    0 lets the system pick (read `port` after `open`). `clock` sends the media
    (share one across phones); `on_record` is called with each ended call.
    """

    def __init__(
        self,
        user: str,
        port: int,
        behaviour: Decide,
        *,
        password: str | None = None,
        registrar: str | tuple[str, int] | None = None,
        lines: int = 1,
        host: str = "127.0.0.1",
        clock: RtpClock | None = None,
        on_record: Callable[[CallRecord], None] | None = None,
        t1: float = T1,
        expires: int = EXPIRES,
    ) -> None:
        if (password is None) != (registrar is None):
            raise ValueError("an agent's phone needs both a password and a registrar")
        self.user = user
        self.port = port
        self.decide = _decider(behaviour)
        self.lines = lines
        self.host = host
        self.clock = clock or RtpClock()
        self.on_record = on_record
        self.t1 = t1
        self.expires = expires
        self.records: list[CallRecord] = []
        self.counters = Counters()
        self.registered = False
        self._password = password
        self._registrar = _address(registrar) if registrar is not None else None
        self._transport: asyncio.DatagramTransport | None = None
        self._transactions: dict[tuple[str, str], _ClientTransaction] = {}
        self._answered: dict[tuple[str, int, str], tuple[bytes, tuple[str, int]]] = {}
        self._acks: dict[str, tuple[bytes, tuple[str, int]]] = {}
        self._ack_waiters: dict[tuple[str, int], asyncio.Event] = {}
        self._calls: dict[str, _Call] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._group: asyncio.TaskGroup | None = None
        self._serving: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._closing = False
        self._closed = asyncio.Event()
        self._ended = asyncio.Event()
        self._reg_call_id = new_call_id(host)
        self._reg_tag = new_tag()
        self._reg_cseq = 0
        self._refresh: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ life

    @property
    def contact(self) -> str:
        return f"<sip:{self.user}@{self.host}:{self.port}>"

    @property
    def active_calls(self) -> int:
        """Calls ringing or up at this phone now."""
        return len(self._calls)

    async def open(self) -> None:
        """Bind the phone's socket and start serving requests (no registration).
        Raises OSError when the port is taken."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _SipSocket(self), local_addr=(self.host, self.port)
        )
        self._transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])
        ready: asyncio.Future[None] = loop.create_future()
        self._serving = asyncio.create_task(self._serve(ready), name=f"phone {self.user}")
        await ready

    async def start(self) -> None:
        """`open`, then `register` if this is an agent's phone."""
        await self.open()
        if self._password is not None:
            await self.register()

    async def _serve(self, ready: asyncio.Future[None]) -> None:
        # The phone's tasks (calls, refreshing the registration) live in this group,
        # so that none outlives the phone and close() can wait for them.
        async with asyncio.TaskGroup() as group:
            self._group = group
            ready.set_result(None)
            await self._stop.wait()
            for task in list(self._tasks):
                task.cancel()
        self._group = None

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        if self._group is None:
            coroutine.close()
            raise RuntimeError(f"phone {self.user} is not open")
        task = self._group.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self, within: float = 5.0) -> None:
        """Hang up or decline every call, unregister, close the socket. Calls still
        going after `within` seconds are abandoned (recorded as failed). Idempotent;
        never raises for what the far end does."""
        if self._closing:
            await self._closed.wait()
            return
        self._closing = True
        try:
            if self._refresh is not None:
                self._refresh.cancel()
            for call in self._calls.values():
                call.stopping = True
                call.wake()
            # Calls end in their own tasks (or, dialled, in the dialler's): wait
            # for the last, bounded.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    while self._calls:
                        self._ended.clear()
                        await self._ended.wait()
            if self.registered:
                try:
                    async with asyncio.timeout(within):
                        await self._register(0)
                except (RegistrationError, TimeoutError) as exc:
                    log.warning("agent %s: unregistering failed: %s", self.user, exc)
                self.registered = False
            self._stop.set()
            if self._serving is not None:
                await self._serving
        finally:
            if self._transport is not None:
                self._transport.close()
            # Whoever still waits for an answer (a dial, a BYE) gets none now.
            for transaction in self._transactions.values():
                if not transaction.final.done():
                    transaction.final.set_exception(TransactionTimeout())
            self._closed.set()

    # ------------------------------------------------------------- registration

    async def register(self) -> None:
        """Register this phone's contact for `expires` seconds and keep it fresh
        until `close`. Raises `RegistrationError` naming the user and what came back
        (403, a second 401, no answer within 64*T1)."""
        granted = await self._register(self.expires)
        self.registered = True
        if self._refresh is None:
            self._refresh = self._spawn(self._keep_registered(granted), f"refresh {self.user}")

    async def _keep_registered(self, granted: int) -> None:
        while True:
            # Refresh well before expiry (half-way, at least 5 s ahead) so a lost
            # request and its retransmissions still fit in the time left.
            await asyncio.sleep(max(1.0, min(granted / 2, granted - 5)))
            try:
                granted = await self._register(self.expires)
                self.registered = True
            except RegistrationError as exc:
                self.registered = False
                log.warning("%s", exc)
                granted = 20

    async def _register(self, expires: int) -> int:
        """One REGISTER (with its digest retry): the granted seconds."""
        assert self._registrar is not None and self._password is not None
        rhost, rport = self._registrar
        uri = f"sip:{rhost}:{rport}"
        aor = f"<sip:{self.user}@{rhost}>"
        authorization: tuple[str, str] | None = None
        for _attempt in range(3):
            self._reg_cseq += 1
            branch = new_branch()
            headers = [
                ("Via", f"SIP/2.0/UDP {self.host}:{self.port};rport;branch={branch}"),
                ("Max-Forwards", "70"),
                ("From", f"{aor};tag={self._reg_tag}"),
                ("To", aor),
                ("Call-ID", self._reg_call_id),
                ("CSeq", f"{self._reg_cseq} REGISTER"),
                ("Contact", self.contact),
                ("Expires", str(expires)),
                ("User-Agent", USER_AGENT),
            ]
            if authorization is not None:
                headers.append(authorization)
            data = build_request("REGISTER", uri, headers)
            try:
                response = await self._transaction(branch, "REGISTER", data, self._registrar)
            except TransactionTimeout:
                self.counters.registration_failures += 1
                raise RegistrationError(
                    self.user, f"no answer from {rhost}:{rport} within {64 * self.t1:g} s"
                ) from None
            if 200 <= response.status < 300:
                self.counters.registrations += 1
                return self._granted(response, expires)
            challenged = response.status in (401, 407)
            renewed = authorization is None or self._stale(response)
            if challenged and renewed:
                authorization = self._authorize(response, "REGISTER", uri)
                continue
            self.counters.registration_failures += 1
            raise RegistrationError(self.user, f"{response.status} {response.reason}".strip())
        self.counters.registration_failures += 1
        raise RegistrationError(self.user, "challenged again and again")

    def _granted(self, response: Response, asked: int) -> int:
        """The seconds the registrar granted our contact (RFC 3261 section 10.2.4):
        its Contact's expires, else the Expires header, else what we asked."""
        mine = f"{self.host}:{self.port}"
        for contact in response.headers.all("contact"):
            if mine in contact:
                value = param(contact, "expires")
                if value and value.isdigit():
                    return int(value)
        value = response.headers.get("expires")
        return int(value) if value and value.isdigit() else asked

    @staticmethod
    def _stale(response: Response) -> bool:
        values = response.headers.all("www-authenticate") + response.headers.all(
            "proxy-authenticate"
        )
        try:
            return digest.choose(values).stale
        except digest.DigestError:
            return False

    def _authorize(self, response: Response, method: str, uri: str) -> tuple[str, str]:
        """The Authorization (401) or Proxy-Authorization (407) header answering the
        response's challenge. Raises RegistrationError for a challenge it cannot
        answer (the caller turns that into its own error)."""
        assert self._password is not None
        proxy = response.status == 407
        values = response.headers.all("proxy-authenticate" if proxy else "www-authenticate")
        try:
            challenge = digest.choose(values)
        except digest.DigestError as exc:
            raise RegistrationError(self.user, f"{response.status}: {exc}") from None
        value = digest.authorization(challenge, self.user, self._password, method, uri)
        return ("Proxy-Authorization" if proxy else "Authorization", value)

    # ------------------------------------------------------------ transactions

    def _send(self, data: bytes, address: tuple[str, int]) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(data, address)

    async def _transaction(
        self,
        branch: str,
        method: str,
        data: bytes,
        address: tuple[str, int],
    ) -> Response:
        """Send a request and return its final response, retransmitting over UDP:
        timers A/B for an INVITE (doubling; no more once something provisional came,
        and then no bound: the caller bounds the ringing), E/F for others (doubling
        up to T2). Raises `TransactionTimeout` after 64*T1 without a final response."""
        loop = asyncio.get_running_loop()
        transaction = _ClientTransaction(loop.create_future())
        key = (branch, method)
        self._transactions[key] = transaction
        invite = method == "INVITE"
        deadline = loop.time() + 64 * self.t1
        interval = self.t1
        try:
            self._send(data, address)
            while True:
                if invite and transaction.provisional:
                    return await transaction.final
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TransactionTimeout
                done, _ = await asyncio.wait((transaction.final,), timeout=min(interval, remaining))
                if done:
                    return transaction.final.result()
                if invite and transaction.provisional:
                    continue
                if loop.time() >= deadline:
                    raise TransactionTimeout
                if invite:
                    interval *= 2
                else:
                    # Timer E: doubling up to T2, and every T2 once the far end said
                    # it is working on it.
                    interval = T2 if transaction.provisional else min(interval * 2, T2)
                self.counters.retransmissions += 1
                self._send(data, address)
        finally:
            del self._transactions[key]

    def _remember(self, table: dict[_K, _V], key: _K, value: _V) -> None:
        """Keep `value` under `key` for 64*T1: as long as a peer may retransmit."""
        fresh = key not in table
        table[key] = value
        if fresh:
            asyncio.get_running_loop().call_later(64 * self.t1, table.pop, key, None)

    def _respond(
        self,
        request: Request,
        source: tuple[str, int],
        status: int,
        *,
        to_tag: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> bytes:
        """Send the response `status` to `request` and keep it for a retransmitted
        request. A response with a body is an SDP answer."""
        extra = list(headers)
        if body:
            extra.append(("Content-Type", "application/sdp"))
        data = build_response(request, status, to_tag=to_tag, headers=extra, body=body)
        self._send(data, source)
        self._remember(
            self._answered, (request.call_id, request.cseq, request.method), (data, source)
        )
        return data

    async def _until_ack(self, request: Request, source: tuple[str, int], data: bytes) -> bool:
        """Resend the final answer `data` to an INVITE until its ACK comes (timers G
        and H): whether it came within 64*T1."""
        loop = asyncio.get_running_loop()
        key = (request.call_id, request.cseq)
        acked = asyncio.Event()
        self._ack_waiters[key] = acked
        deadline = loop.time() + 64 * self.t1
        interval = self.t1
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout_at(min(loop.time() + interval, deadline)):
                        await acked.wait()
                if acked.is_set():
                    return True
                if loop.time() >= deadline:
                    return False
                self.counters.retransmissions += 1
                self._send(data, source)
                interval = min(interval * 2, T2)
        finally:
            if self._ack_waiters.get(key) is acked:
                del self._ack_waiters[key]

    # ----------------------------------------------------------------- receiving

    def _received(self, data: bytes, source: tuple[str, int]) -> None:
        if not data.strip():
            return  # a CRLF keep-alive (RFC 5626 section 3.5.1)
        try:
            message = parse(data)
            if isinstance(message, Response):
                self._on_response(message)
            else:
                self._on_request(message, source)
        except MalformedMessage as exc:
            self.counters.malformed += 1
            log.debug("%s: malformed datagram from %s: %s", self.user, source, exc)
        except Exception:
            # A message we parsed but could not handle: a bug here must cost one
            # datagram, not the phone (and with it the load run's floor).
            self.counters.malformed += 1
            log.exception("%s: could not handle a datagram from %s", self.user, source)

    def _on_response(self, response: Response) -> None:
        transaction = self._transactions.get((response.branch, response.cseq_method))
        if transaction is not None:
            if response.status < 200:
                transaction.provisional = True
            elif not transaction.final.done():
                transaction.final.set_result(response)
            return
        ack = self._acks.get(response.branch)
        if ack is not None and response.cseq_method == "INVITE" and response.status >= 200:
            # A retransmitted final answer to our INVITE: the ACK got lost.
            self._send(*ack)
            return
        self.counters.stray_responses += 1

    def _on_request(self, request: Request, source: tuple[str, int]) -> None:
        if request.method == "ACK":
            waiter = self._ack_waiters.get((request.call_id, request.cseq))
            if waiter is not None:
                waiter.set()
            return
        again = self._answered.get((request.call_id, request.cseq, request.method))
        if again is not None:
            self._send(again[0], source)  # a retransmission: same answer, no new work
            return
        call = self._calls.get(request.call_id)
        if request.method == "INVITE":
            if request.to_tag is None:
                self._on_invite(request, source)
            elif call is not None:
                self._on_reinvite(call, request, source)
            else:
                self._reject(request, source, 481)
        elif request.method == "CANCEL":
            self._on_cancel(call, request, source)
        elif request.method == "OPTIONS":
            self._respond(
                request, source, 200, headers=[("Allow", ALLOW), ("Accept", "application/sdp")]
            )
        elif request.method in IN_DIALOG and call is not None:
            if request.method == "BYE":
                call.bye = True
                call.ended_by = "far end"
                call.wake()
                self._respond(request, source, 200)
            elif request.method == "UPDATE" and request.body:
                self._respond(request, source, 200, body=self._session(call))
            else:
                self._respond(request, source, 200)
        elif request.method in IN_DIALOG:
            self._reject(request, source, 481)
        else:
            self._reject(request, source, 405, [("Allow", ALLOW)])

    def _reject(
        self,
        request: Request,
        source: tuple[str, int],
        status: int,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.counters.rejected += 1
        self._respond(request, source, status, to_tag=new_tag(), headers=headers)

    # ---------------------------------------------------------------- inbound

    def _on_invite(self, invite: Request, source: tuple[str, int]) -> None:
        if self._closing:
            self._reject(invite, source, 480)
            return
        self._respond(invite, source, 100)
        loop = asyncio.get_running_loop()
        caller = parse_name_addr(invite.headers.get("from") or "")
        try:
            number = parse_uri(caller.uri).user
        except MalformedMessage:
            number = ""
        contact = invite.headers.get("contact")
        target = parse_name_addr(contact).uri if contact else caller.uri
        try:
            peer = parse_uri(target).address
        except MalformedMessage:
            peer = source
        tag = new_tag()
        call = _Call(
            invite.call_id,
            "inbound",
            number or "anonymous",
            self.user,
            f"{invite.headers.get('to')};tag={tag}",
            invite.headers.get("from") or "",
            target,
            peer,
            loop.time(),
        )
        call.invite = invite
        call.invite_source = source
        # Requests this phone sends in the dialog follow the INVITE's Record-Route
        # in order (RFC 3261 section 12.1.1), and go to its first hop.
        call.route = invite.headers.all("record-route")
        if call.route:
            with contextlib.suppress(MalformedMessage):
                call.peer = parse_uri(parse_name_addr(call.route[0]).uri).address
        if len(self._calls) >= self.lines:
            call.reason = "line busy"
            self._spawn(self._decline(call, tag), f"decline {invite.call_id}")
            return
        self._calls[invite.call_id] = call
        self._spawn(self._take(call, tag), f"call {invite.call_id}")

    async def _decline(self, call: _Call, tag: str) -> None:
        """An INVITE the phone cannot take (its lines are in use): 486 at once."""
        try:
            await self._final(call, 486, tag)
            call.outcome = "busy"
        finally:
            self._finish(call)

    async def _final(self, call: _Call, status: int, tag: str) -> bool:
        """Answer the call's INVITE with a non-2xx final status and wait for its ACK."""
        assert call.invite is not None
        data = self._respond(call.invite, call.invite_source, status, to_tag=tag)
        return await self._until_ack(call.invite, call.invite_source, data)

    async def _take(self, call: _Call, tag: str) -> None:
        try:
            await self._ring_and_talk(call, tag)
        except Exception as exc:
            # A bug or a socket error costs this call, not the phone.
            log.exception("%s: call %s failed", self.user, call.call_id)
            call.outcome = "failed"
            call.reason = call.reason or repr(exc)
        finally:
            self._finish(call)

    async def _ring_and_talk(self, call: _Call, tag: str) -> None:
        assert call.invite is not None
        invite, source = call.invite, call.invite_source
        ring = self.decide(self.user, call.caller)
        if ring.busy:
            await self._final(call, 486, tag)
            call.outcome = "busy"
            return
        offer = parse_sdp(invite.body)
        payload = offer.choose() if offer is not None else None
        if offer is not None and payload is None:
            # The caller offers no G.711: 488 would be right, but a load run wants
            # to see this as a failed call, which is what it is.
            call.reason = "no G.711 in the offer"
            await self._final(call, 480, tag)
            return
        contact = [("Contact", self.contact)]
        self._respond(invite, source, 180, to_tag=tag, headers=contact)
        loop = asyncio.get_running_loop()
        if ring.answer_after is None:
            await call.wait(None)
        else:
            await call.wait(loop.time() + ring.answer_after)
        if call.cancelled:
            call.outcome = "missed"
            call.ended_by = "far end"
            await self._final(call, 487, tag)
            return
        if call.stopping:
            call.reason = "phone closing while ringing"
            await self._final(call, 480, tag)
            return

        call.media = await open_stream(self.host)
        if offer is not None and payload is not None:
            call.media.remote = (offer.address, offer.port)
            call.media.payload_type = payload
        headers = [*contact, ("Allow", ALLOW)]
        data = self._respond(
            invite, source, 200, to_tag=tag, headers=headers, body=self._session(call)
        )
        call.answered_at = loop.time()
        self.clock.start(call.media)
        if not await self._until_ack(invite, source, data):
            # RFC 3261 section 13.3.1.4: no ACK for the 2xx: end the call with a BYE.
            call.reason = "no ACK for the 200 OK"
            await self._bye(call)
            return
        call.outcome = "answered"
        await self._talk(call, ring.talk)

    async def _talk(self, call: _Call, talk: float | None) -> None:
        """The answered call until the far end hangs up, `talk` seconds after the
        answer, or the phone closes; then BYE if the phone hung up."""
        assert call.answered_at is not None
        deadline = None if talk is None else call.answered_at + talk
        await call.wait(deadline)
        if not call.bye:
            call.ended_by = "phone"
            await self._bye(call)

    def _session(self, call: _Call) -> bytes:
        """This phone's SDP for the call (offer or answer), its version bumped each
        time (RFC 3264 section 8)."""
        assert call.media is not None
        formats: tuple[int, ...] = FORMATS
        if call.media.remote is not None:
            formats = (call.media.payload_type, TELEPHONE_EVENT)
        call.sdp_version += 1
        return sdp(self.host, call.media.port, formats, call.session, call.sdp_version)

    def _on_cancel(self, call: _Call | None, cancel: Request, source: tuple[str, int]) -> None:
        if call is None or call.invite is None or call.invite.cseq != cancel.cseq:
            self._reject(cancel, source, 481)
            return
        self._respond(cancel, source, 200)
        if call.answered_at is None:  # after the answer a CANCEL changes nothing
            call.cancelled = True
            call.wake()

    def _on_reinvite(self, call: _Call, invite: Request, source: tuple[str, int]) -> None:
        """A re-INVITE in the call (Asterisk's connected-line update, a hold): accept
        it unchanged, with this phone's SDP as the answer."""
        if call.media is None:
            self._reject(invite, source, 491 if call.answered_at is None else 500)
            return
        offer = parse_sdp(invite.body)
        if offer is not None:
            call.media.remote = (offer.address, offer.port)
        headers = [("Contact", self.contact), ("Allow", ALLOW)]
        data = self._respond(invite, source, 200, headers=headers, body=self._session(call))
        self._spawn(self._reack(invite, source, data), f"reinvite {invite.call_id}")

    async def _reack(self, invite: Request, source: tuple[str, int], data: bytes) -> None:
        await self._until_ack(invite, source, data)

    # --------------------------------------------------------------- in dialog

    def _dialog_headers(self, call: _Call, method: str, branch: str) -> list[tuple[str, str]]:
        """Via, Max-Forwards, From, To, Call-ID and the next CSeq of a request the
        phone sends within `call`."""
        call.local_cseq += 1
        return [
            ("Via", f"SIP/2.0/UDP {self.host}:{self.port};rport;branch={branch}"),
            ("Max-Forwards", "70"),
            ("From", call.local),
            ("To", call.remote),
            ("Call-ID", call.call_id),
            ("CSeq", f"{call.local_cseq} {method}"),
        ]

    def _request_in_dialog(self, call: _Call, method: str, branch: str) -> bytes:
        headers = [
            *self._dialog_headers(call, method, branch),
            *(("Route", route) for route in call.route),
            ("User-Agent", USER_AGENT),
        ]
        return build_request(method, call.target, headers)

    async def _bye(self, call: _Call) -> None:
        """Hang up: BYE in the dialog, until its answer or 64*T1."""
        if call.media is not None:
            self.clock.stop(call.media)
        branch = new_branch()
        data = self._request_in_dialog(call, "BYE", branch)
        try:
            response = await self._transaction(branch, "BYE", data, call.peer)
        except TransactionTimeout:
            # The call was lived as it was (answered or not); the reason tells.
            call.reason = call.reason or "no answer to the BYE"
            return
        if response.status >= 300 and response.status != 481:
            call.reason = call.reason or f"BYE answered {response.status} {response.reason}"

    def _finish(self, call: _Call) -> CallRecord:
        if self._calls.get(call.call_id) is call:
            del self._calls[call.call_id]
            self._ended.set()
        sent = received = 0
        if call.media is not None:
            self.clock.stop(call.media)
            sent, received = call.media.sent, call.media.received
            call.media.close()
        record = CallRecord(
            phone=self.user,
            direction=call.direction,
            caller_number=call.caller,
            called_number=call.called,
            call_id=call.call_id,
            rang_at=call.rang_at,
            answered_at=call.answered_at,
            ended_at=asyncio.get_running_loop().time(),
            outcome=call.outcome,
            ended_by=call.ended_by,
            rtp_sent=sent,
            rtp_received=received,
            reason=call.reason,
        )
        self.records.append(record)
        if self.on_record is not None:
            try:
                self.on_record(record)
            except Exception:
                log.exception("%s: on_record failed", self.user)
        return record

    # ----------------------------------------------------------------- dialling

    async def dial(self, code: str, *, talk: float = 60.0) -> CallRecord:
        """Call `code` (a feature code such as *51, or a number) through the
        registrar, answering a 401/407 with digest; stay on the line until the far
        end hangs up, or hang up after `talk` seconds. Returns the call's record;
        raises `DialError` naming the code and what came back (a status, no answer,
        a busy line). The phone sends its voice but dials no digits."""
        if self._registrar is None or self._password is None:
            raise DialError(self.user, code, "this phone has no account to dial with")
        if self._closing or len(self._calls) >= self.lines:
            raise DialError(self.user, code, "the phone's line is in use")
        loop = asyncio.get_running_loop()
        rhost, rport = self._registrar
        call_id = new_call_id(self.host)
        target = f"sip:{code}@{rhost}:{rport}"
        call = _Call(
            call_id,
            "outbound",
            self.user,
            code,
            f"<sip:{self.user}@{rhost}>;tag={new_tag()}",
            f"<sip:{code}@{rhost}>",
            target,
            self._registrar,
            loop.time(),
        )
        self._calls[call_id] = call
        try:
            await self._place(call, code, talk)
        except DialError as exc:
            call.outcome = "failed"
            call.reason = exc.what
            raise
        finally:
            record = self._finish(call)
        return record

    async def _place(self, call: _Call, code: str, talk: float) -> None:
        call.media = await open_stream(self.host)
        offer = sdp(self.host, call.media.port, FORMATS, call.session, call.sdp_version)
        authorization: tuple[str, str] | None = None
        for _attempt in range(3):
            branch = new_branch()
            headers = [
                *self._dialog_headers(call, "INVITE", branch),
                ("Contact", self.contact),
                ("Allow", ALLOW),
                ("User-Agent", USER_AGENT),
                ("Content-Type", "application/sdp"),
            ]
            if authorization is not None:
                headers.append(authorization)
            data = build_request("INVITE", call.target, headers, offer)
            try:
                response = await self._transaction(branch, "INVITE", data, call.peer)
            except TransactionTimeout:
                raise DialError(self.user, code, "no answer") from None
            if response.status < 300:
                self._confirm(call, response, branch)
                break
            self._ack_failure(call, response, branch, headers)
            challenged = response.status in (401, 407)
            if challenged and (authorization is None or self._stale(response)):
                try:
                    authorization = self._authorize(response, "INVITE", call.target)
                except RegistrationError as exc:
                    raise DialError(self.user, code, exc.what) from None
                continue
            raise DialError(self.user, code, f"{response.status} {response.reason}".strip())
        else:
            raise DialError(self.user, code, "challenged again and again")
        await self._talk(call, talk)

    def _ack_failure(
        self, call: _Call, response: Response, branch: str, headers: list[tuple[str, str]]
    ) -> None:
        """The ACK to a non-2xx final answer: part of the INVITE's transaction (same
        branch and Request-URI, the answer's To; RFC 3261 section 17.1.1.3)."""
        ack_headers = [
            headers[0],
            ("Max-Forwards", "70"),
            ("From", call.local),
            ("To", response.headers.get("to") or call.remote),
            ("Call-ID", call.call_id),
            ("CSeq", f"{call.local_cseq} ACK"),
        ]
        data = build_request("ACK", call.target, ack_headers)
        self._send(data, call.peer)
        self._remember(self._acks, branch, (data, call.peer))

    def _confirm(self, call: _Call, response: Response, branch: str) -> None:
        """The far end answered: take the dialog from its 2xx (To tag, Contact,
        Record-Route reversed; RFC 3261 section 12.1.2), ACK it, start the media."""
        call.remote = response.headers.get("to") or call.remote
        contact = response.headers.get("contact")
        if contact:
            call.target = parse_name_addr(contact).uri
        call.route = list(reversed(response.headers.all("record-route")))
        with contextlib.suppress(MalformedMessage):
            first = parse_name_addr(call.route[0]).uri if call.route else call.target
            call.peer = parse_uri(first).address
        cseq = call.local_cseq
        ack_branch = new_branch()
        headers = [
            ("Via", f"SIP/2.0/UDP {self.host}:{self.port};rport;branch={ack_branch}"),
            ("Max-Forwards", "70"),
            ("From", call.local),
            ("To", call.remote),
            ("Call-ID", call.call_id),
            ("CSeq", f"{cseq} ACK"),
            *(("Route", route) for route in call.route),
        ]
        data = build_request("ACK", call.target, headers)
        self._send(data, call.peer)
        self._remember(self._acks, branch, (data, call.peer))
        call.answered_at = asyncio.get_running_loop().time()
        call.outcome = "answered"
        answer = parse_sdp(response.body)
        assert call.media is not None
        if answer is not None:
            call.media.remote = (answer.address, answer.port)
            call.media.payload_type = answer.choose() or PCMA
        self.clock.start(call.media)


def _address(text: str | tuple[str, int]) -> tuple[str, int]:
    if isinstance(text, tuple):
        return text
    host, _, port = text.rpartition(":")
    return (host, int(port))


class Floor:
    """Every phone of a load run on one loop: the agents' (registering through
    `registrar`, "host:port" or (host, port)) and the vendors' floors (`vendors`,
    static contacts), sharing one media clock. `behaviour` decides for every phone
    unless one is given with `add_agent` / `add_vendor`. `records` gathers every
    phone's calls as they end; `on_record` is called with each too.

    Use `async with Floor(...)`, or `start()` and `close()`.
    """

    def __init__(
        self,
        registrar: str | tuple[str, int],
        agents: Iterable[Account],
        behaviour: Decide,
        *,
        vendors: Iterable[Trunk] = (),
        host: str = "127.0.0.1",
        on_record: Callable[[CallRecord], None] | None = None,
        registering: int = 20,
        t1: float = T1,
    ) -> None:
        self.registrar = _address(registrar)
        self.behaviour = behaviour
        self.host = host
        self.t1 = t1
        self.clock = RtpClock()
        self.records: list[CallRecord] = []
        self.on_record = on_record
        self.registering = registering
        self.phones: dict[str, Phone] = {}
        for account in agents:
            self.add_agent(account)
        for trunk in vendors:
            self.add_vendor(trunk.name, trunk.port, lines=trunk.lines)
        self._opened: list[Phone] = []
        self._closing = False

    def add_agent(self, account: Account, behaviour: Decide | None = None) -> Phone:
        """Add an agent's phone (before `start`)."""
        phone = Phone(
            account.user,
            account.port,
            behaviour or self.behaviour,
            password=account.password,
            registrar=self.registrar,
            host=self.host,
            clock=self.clock,
            on_record=self._record,
            t1=self.t1,
        )
        self.phones[account.user] = phone
        return phone

    def add_vendor(
        self, name: str, port: int, behaviour: Decide | None = None, lines: int = 100
    ) -> Phone:
        """Add a vendor's floor taking `lines` calls at once (before `start`)."""
        phone = Phone(
            name,
            port,
            behaviour or self.behaviour,
            lines=lines,
            host=self.host,
            clock=self.clock,
            on_record=self._record,
            t1=self.t1,
        )
        self.phones[name] = phone
        return phone

    def _record(self, record: CallRecord) -> None:
        self.records.append(record)
        if self.on_record is not None:
            self.on_record(record)

    async def __aenter__(self) -> Floor:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Bind every phone's socket, then register the agents' phones, at most
        `registering` at a time (so Asterisk is not hit by a thousand challenges at
        once). Raises OSError for a port in use, or `RegistrationError` for the first
        agent that could not register (with a note naming the others); the floor is
        then closed."""
        try:
            for phone in self.phones.values():
                await phone.open()
                self._opened.append(phone)
            agents = [p for p in self.phones.values() if p._password is not None]
            failures: list[RegistrationError] = []
            gate = asyncio.Semaphore(self.registering)

            async def register(phone: Phone) -> None:
                async with gate:
                    try:
                        await phone.register()
                    except RegistrationError as exc:
                        failures.append(exc)

            async with asyncio.TaskGroup() as group:
                for phone in agents:
                    group.create_task(register(phone))
            if failures:
                first = failures[0]
                if len(failures) > 1:
                    others = ", ".join(f.user for f in failures[1:11])
                    first.add_note(f"{len(failures) - 1} more agents failed too: {others}")
                raise first
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Close every opened phone (hang up, unregister, close its socket), at most
        `registering` at a time. Idempotent."""
        if self._closing:
            return
        self._closing = True
        gate = asyncio.Semaphore(self.registering)

        async def close(phone: Phone) -> None:
            async with gate:
                await phone.close()

        async with asyncio.TaskGroup() as group:
            for phone in self._opened:
                group.create_task(close(phone))
