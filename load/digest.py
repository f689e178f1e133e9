"""HTTP digest authentication as SIP uses it (RFC 2617, RFC 7616 for SHA-256;
RFC 3261 section 22.4): read a 401/407 challenge, answer it.

Asterisk's PJSIP challenges REGISTER and INVITE from an endpoint with `auth=`;
it offers MD5 (and, from Asterisk 20, may offer SHA-256 beside it in a second
header). A phone answers the strongest algorithm it knows among those offered,
with qop=auth when the challenge offers it and without qop otherwise (RFC 2069
compatibility, which SIPp's own UAS verification also expects).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

ALGORITHMS: dict[str, str] = {"MD5": "md5", "SHA-256": "sha256"}
"""The algorithms a phone can answer (RFC 7616 names -> hashlib's), weakest first:
of those offered, the last in this order wins."""

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


class DigestError(ValueError):
    """A challenge the phone cannot answer (not Digest, no nonce, unknown algorithm)."""


@dataclass(frozen=True, slots=True)
class Challenge:
    """One WWW-Authenticate / Proxy-Authenticate value."""

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False


def parse_challenge(value: str) -> Challenge:
    """Parse `Digest realm="...", nonce="...", ...`; raises `DigestError`."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise DigestError(f"not a digest challenge: {value[:60]!r}")
    params = {
        match.group(1).lower(): match.group(2) if match.group(2) is not None else match.group(3)
        for match in _PARAM.finditer(rest)
    }
    if "nonce" not in params:
        raise DigestError(f"challenge without a nonce: {value[:60]!r}")
    algorithm = params.get("algorithm", "MD5").upper()
    if algorithm not in ALGORITHMS:
        raise DigestError(f"digest algorithm {algorithm} is not supported")
    qop = tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip())
    return Challenge(
        realm=params.get("realm", ""),
        nonce=params["nonce"],
        algorithm=algorithm,
        qop=qop,
        opaque=params.get("opaque"),
        stale=params.get("stale", "").lower() == "true",
    )


def choose(values: Sequence[str]) -> Challenge:
    """The challenge to answer among a response's authenticate headers: the strongest
    algorithm this module knows. Raises `DigestError` when none can be answered."""
    known: list[Challenge] = []
    problems: list[str] = []
    for value in values:
        try:
            known.append(parse_challenge(value))
        except DigestError as exc:
            problems.append(str(exc))
    if not known:
        raise DigestError("; ".join(problems) or "no challenge in the response")
    order = list(ALGORITHMS)
    return max(known, key=lambda challenge: order.index(challenge.algorithm))


def response_hash(
    challenge: Challenge,
    user: str,
    password: str,
    method: str,
    uri: str,
    cnonce: str = "",
    nc: int = 1,
) -> str:
    """The `response` value: H(H(A1):nonce[:nc:cnonce:qop]:H(A2)) with A1 =
    user:realm:password, A2 = method:uri (RFC 2617 section 3.2.2.1)."""
    name = ALGORITHMS[challenge.algorithm]

    def h(text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    ha1 = h(f"{user}:{challenge.realm}:{password}")
    ha2 = h(f"{method}:{uri}")
    if "auth" in challenge.qop:
        return h(f"{ha1}:{challenge.nonce}:{nc:08x}:{cnonce}:auth:{ha2}")
    return h(f"{ha1}:{challenge.nonce}:{ha2}")


def authorization(
    challenge: Challenge,
    user: str,
    password: str,
    method: str,
    uri: str,
    cnonce: str | None = None,
    nc: int = 1,
) -> str:
    """The Authorization (or Proxy-Authorization) value answering `challenge` for a
    `method` request to `uri` (the request's Request-URI, verbatim)."""
    qop = "auth" in challenge.qop
    cnonce = cnonce if cnonce is not None else secrets.token_hex(8)
    response = response_hash(challenge, user, password, method, uri, cnonce if qop else "", nc)
    parts = [
        f'username="{user}"',
        f'realm="{challenge.realm}"',
        f'nonce="{challenge.nonce}"',
        f'uri="{uri}"',
        f'response="{response}"',
        f"algorithm={challenge.algorithm}",
    ]
    if challenge.opaque is not None:
        parts.append(f'opaque="{challenge.opaque}"')
    if qop:
        parts += ["qop=auth", f"nc={nc:08x}", f'cnonce="{cnonce}"']
    return "Digest " + ", ".join(parts)
