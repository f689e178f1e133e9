"""SIP messages for the load simulator's phones: parse a datagram, build one.

Only what a light user agent over UDP needs (RFC 3261 sections 7, 8, 20): a start
line, headers (compact forms expanded, folded lines joined, comma-separated values
split for the headers that may hold several), a body cut at Content-Length.

Contract: `parse(data)` returns a `Request` or a `Response` whose Via, From, To,
Call-ID and CSeq are present and well formed (the phone trusts them afterwards), or
raises `MalformedMessage` saying what was wrong; it never raises anything else. The
builders return the bytes to send, with Content-Length computed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

REASONS: Mapping[int, str] = {
    100: "Trying",
    180: "Ringing",
    200: "OK",
    401: "Unauthorized",
    403: "Forbidden",
    405: "Method Not Allowed",
    407: "Proxy Authentication Required",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    491: "Request Pending",
    500: "Server Internal Error",
}
"""The reason phrases of the statuses the phones send (RFC 3261 section 21)."""

COMPACT: Mapping[str, str] = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "k": "supported",
    "s": "subject",
    "e": "content-encoding",
    "o": "event",
}
"""Compact header names (RFC 3261 section 7.3.3) and the full names they stand for."""

LISTS = frozenset({"via", "route", "record-route", "contact", "allow", "supported"})
"""Headers whose value may be several comma-separated entries (RFC 3261 section 7.3.1)."""

MAGIC_COOKIE = "z9hG4bK"
"""The prefix of an RFC 3261 branch (section 8.1.1.7), which peers rely on to match
transactions by branch alone."""


class MalformedMessage(ValueError):
    """A datagram that is not a SIP message this user agent can act on."""


def new_branch() -> str:
    """A fresh Via branch: one per transaction (an ACK to a 2xx gets a new one)."""
    return MAGIC_COOKIE + secrets.token_hex(8)


def new_tag() -> str:
    """A fresh From/To tag: one per dialog side."""
    return secrets.token_hex(6)


def new_call_id(host: str) -> str:
    """A fresh Call-ID, unique across the run's phones."""
    return f"{secrets.token_hex(12)}@{host}"


class Headers:
    """A message's headers in their order, looked up case-insensitively by full name
    (compact forms were expanded when parsing)."""

    __slots__ = ("_index", "items")

    def __init__(self, items: Sequence[tuple[str, str]]) -> None:
        self.items = tuple(items)
        index: dict[str, list[str]] = {}
        for name, value in self.items:
            index.setdefault(name.lower(), []).append(value)
        self._index = index

    def get(self, name: str) -> str | None:
        """The first value of header `name`, or None."""
        values = self._index.get(name.lower())
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        """Every value of header `name`, in order; for headers that may hold a list
        (Via, Route, Contact...), each comma-separated entry on its own."""
        values = self._index.get(name.lower(), [])
        if name.lower() not in LISTS:
            return list(values)
        return [entry for value in values for entry in split_list(value)]


@dataclass(frozen=True, slots=True)
class NameAddr:
    """A From, To, Contact or Route value: `"display" <uri>;param=value`."""

    display: str
    uri: str
    params: Mapping[str, str]

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")


@dataclass(frozen=True, slots=True)
class SipUri:
    """The parts of a `sip:` URI the phones use."""

    user: str
    host: str
    port: int

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)


@dataclass(frozen=True, slots=True)
class Request:
    """A parsed SIP request; `call_id`, `cseq`, the tags and `branch` come from its
    headers, checked by `parse`."""

    method: str
    uri: str
    headers: Headers
    body: bytes
    call_id: str
    cseq: int
    cseq_method: str
    branch: str
    from_tag: str | None
    to_tag: str | None


@dataclass(frozen=True, slots=True)
class Response:
    """A parsed SIP response; the derived fields as for `Request`."""

    status: int
    reason: str
    headers: Headers
    body: bytes
    call_id: str
    cseq: int
    cseq_method: str
    branch: str
    from_tag: str | None
    to_tag: str | None


_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+")
_NAME_ADDR = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^>]*)>(.*)', re.DOTALL)
_URI = re.compile(r"sips?:(?:([^@;?]*)@)?(\[[^\]]+\]|[^:;?>]+)(?::(\d+))?", re.IGNORECASE)


def split_list(value: str) -> list[str]:
    """Split a header value at the commas that separate entries, not those inside a
    quoted display name or an <uri>."""
    entries: list[str] = []
    depth = 0
    quoted = False
    start = 0
    for i, char in enumerate(value):
        if char == '"' and (i == 0 or value[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth = max(0, depth - 1)
        elif char == "," and not quoted and depth == 0:
            entries.append(value[start:i].strip())
            start = i + 1
    entries.append(value[start:].strip())
    return [entry for entry in entries if entry]


def _params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in text.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            params[name.lower()] = value.strip().strip('"')
    return params


def parse_name_addr(value: str) -> NameAddr:
    """Parse a From/To/Contact/Route value; raises `MalformedMessage`."""
    match = _NAME_ADDR.match(value)
    if match:
        display = match.group(1) if match.group(1) is not None else (match.group(2) or "")
        return NameAddr(display.strip(), match.group(3).strip(), _params(match.group(4)))
    # addr-spec without angle brackets: its parameters belong to the header.
    uri, _, params = value.strip().partition(";")
    if not uri:
        raise MalformedMessage(f"not an address: {value!r}")
    return NameAddr("", uri, _params(params))


def parse_uri(uri: str) -> SipUri:
    """The user, host and port (5060 when absent) of a sip: URI; raises
    `MalformedMessage` for anything else (tel:, garbage)."""
    match = _URI.match(uri.strip())
    if not match:
        raise MalformedMessage(f"not a sip URI: {uri!r}")
    port = int(match.group(3)) if match.group(3) else 5060
    return SipUri(match.group(1) or "", match.group(2).strip("[]"), port)


def param(value: str, name: str) -> str | None:
    """Parameter `name` of a header value (e.g. a Via's branch, a Contact's expires)."""
    if "<" in value and ">" in value:
        rest = value.rpartition(">")[2]
    else:
        rest = value.partition(";")[1] + value.partition(";")[2]
    return _params(rest).get(name)


def parse(data: bytes) -> Request | Response:
    """Parse one datagram; see the module's contract."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        # SIPp scenarios and hand-written tests may use bare LF line ends.
        head, sep, body = data.partition(b"\n\n")
    if not sep:
        raise MalformedMessage("no blank line after the headers")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMessage("headers are not UTF-8") from exc
    lines = text.replace("\r\n", "\n").split("\n")
    start, header_lines = lines[0].strip(), lines[1:]
    items: list[tuple[str, str]] = []
    for line in header_lines:
        if line[:1] in (" ", "\t") and items:  # a folded line continues the previous header
            name, value = items[-1]
            items[-1] = (name, value + " " + line.strip())
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not _TOKEN.fullmatch(name):
            raise MalformedMessage(f"not a header line: {line[:60]!r}")
        items.append((COMPACT.get(name.lower(), name), value.strip()))
    headers = Headers(items)

    length = headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise MalformedMessage(f"bad Content-Length {length!r}")
        if len(body) < int(length):
            raise MalformedMessage(f"body shorter than its Content-Length {length}")
        body = body[: int(length)]

    for required in ("via", "from", "to", "call-id", "cseq"):
        if headers.get(required) is None:
            raise MalformedMessage(f"no {required} header")
    number, _, cseq_method = (headers.get("cseq") or "").partition(" ")
    cseq_method = cseq_method.strip()
    if not number.isdigit() or not _TOKEN.fullmatch(cseq_method):
        raise MalformedMessage(f"bad CSeq {headers.get('cseq')!r}")
    vias = headers.all("via")
    branch = param(vias[0], "branch") if vias else None
    call_id = headers.get("call-id") or ""
    if not call_id:
        raise MalformedMessage("empty Call-ID")
    from_tag = parse_name_addr(headers.get("from") or "").tag
    to_tag = parse_name_addr(headers.get("to") or "").tag

    if start.startswith("SIP/2.0 "):
        _, status, reason = [*start.split(" ", 2), ""][:3]
        if not status.isdigit() or not 100 <= int(status) <= 699:
            raise MalformedMessage(f"bad status line {start[:60]!r}")
        return Response(
            int(status),
            reason,
            headers,
            body,
            call_id,
            int(number),
            cseq_method,
            branch or "",
            from_tag,
            to_tag,
        )
    parts = start.split(" ")
    if len(parts) != 3 or parts[2] != "SIP/2.0" or not _TOKEN.fullmatch(parts[0]):
        raise MalformedMessage(f"bad request line {start[:60]!r}")
    if parts[0] != cseq_method:
        raise MalformedMessage(f"CSeq method {cseq_method} for a {parts[0]}")
    return Request(
        parts[0],
        parts[1],
        headers,
        body,
        call_id,
        int(number),
        cseq_method,
        branch or "",
        from_tag,
        to_tag,
    )


def _serialise(start: str, headers: Sequence[tuple[str, str]], body: bytes) -> bytes:
    lines = [start, *(f"{name}: {value}" for name, value in headers)]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def build_request(
    method: str, uri: str, headers: Sequence[tuple[str, str]], body: bytes = b""
) -> bytes:
    """A request: `headers` in order (Via first), then Content-Length, then `body`."""
    return _serialise(f"{method} {uri} SIP/2.0", headers, body)


def build_response(
    request: Request,
    status: int,
    *,
    to_tag: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
) -> bytes:
    """The response `status` to `request`: its Vias, From, To (with `to_tag` added
    if it had none, RFC 3261 section 8.2.6.2), Call-ID and CSeq, then `headers`."""
    to = request.headers.get("to") or ""
    if to_tag and request.to_tag is None:
        to = f"{to};tag={to_tag}"
    copied = [("Via", via) for via in request.headers.all("via")]
    copied += [
        ("From", request.headers.get("from") or ""),
        ("To", to),
        ("Call-ID", request.call_id),
        ("CSeq", f"{request.cseq} {request.cseq_method}"),
    ]
    return _serialise(
        f"SIP/2.0 {status} {REASONS.get(status, 'Unknown')}", [*copied, *headers], body
    )
