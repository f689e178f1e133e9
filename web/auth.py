"""Who may read and who may act: viewer and supervisor tokens, and signed sessions.

Tokens come from the environment (`ACD_WEB_VIEWER_TOKEN`, `ACD_WEB_SUPERVISOR_TOKEN`)
or a file (`--web-tokens FILE`), one per line: `ROLE NAME TOKEN`, e.g.
`supervisor kim.minji 6f1c...`; `#` starts a comment. The name is who the audit trail
says acted. Tokens are never logged nor echoed; a bad line is named by file and line
number, never by its token.

A request carries a token as `Authorization: Bearer TOKEN`, or the session cookie a
browser got from `POST /api/session`. The cookie is signed (HMAC-SHA256) with a key
derived from the tokens themselves: it survives a server restart (a wallboard on the
wall reconnects by itself) and is void as soon as the tokens change. It expires after
`SESSION_SECONDS`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import msgspec

Role = Literal["viewer", "supervisor"]
ROLES: tuple[Role, ...] = ("viewer", "supervisor")
SESSION_SECONDS = 12 * 3600
"""A shift and a half: a wallboard left on over a long day logs in once."""
COOKIE = "acd_session"
MIN_TOKEN_LENGTH = 16
"""Shorter tokens are refused: they could be guessed over loopback in reasonable time."""


class TokenError(ValueError):
    """A tokens file or variable that cannot be used; the message names where."""


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role

    @property
    def may_act(self) -> bool:
        return self.role == "supervisor"


class _Session(msgspec.Struct, array_like=True):
    name: str
    role: Role
    expires: int


class Tokens:
    """The accepted tokens and the session cookies signed with them."""

    def __init__(self, entries: list[tuple[Role, str, str]]) -> None:
        """`entries`: (role, name, token)."""
        self._entries = [(role, name, token.encode()) for role, name, token in entries]
        material = b"\n".join(sorted(t for _r, _n, t in self._entries))
        self._key = hashlib.sha256(b"acd-web-session\n" + material).digest()

    def __bool__(self) -> bool:
        return bool(self._entries)

    @property
    def roles(self) -> set[Role]:
        return {role for role, _name, _token in self._entries}

    def check(self, token: str) -> Principal | None:
        """The holder of `token`, or None. Compares in constant time against every one."""
        given = token.encode()
        found: Principal | None = None
        for role, name, known in self._entries:
            if hmac.compare_digest(given, known) and found is None:
                found = Principal(name, role)
        return found

    def cookie(self, who: Principal, now: float) -> str:
        body = msgspec.msgpack.encode(_Session(who.name, who.role, int(now) + SESSION_SECONDS))
        mac = hmac.new(self._key, body, hashlib.sha256).digest()
        return f"{_b64(body)}.{_b64(mac)}"

    def from_cookie(self, value: str, now: float) -> Principal | None:
        """The session's holder, or None if the cookie is forged, stale or malformed."""
        body_text, _, mac_text = value.partition(".")
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
        except ValueError:
            return None
        if not hmac.compare_digest(mac, hmac.new(self._key, body, hashlib.sha256).digest()):
            return None
        try:
            session = msgspec.msgpack.decode(body, type=_Session)
        except msgspec.DecodeError:
            return None
        if session.expires < now:
            return None
        return Principal(session.name, session.role)


def load_tokens(path: str | None, environ: dict[str, str] | None = None) -> Tokens:
    """Tokens from `path` (if given) and the environment. Raises TokenError naming the
    file and line, or the variable, of what cannot be used."""
    env = os.environ if environ is None else environ
    entries: list[tuple[Role, str, str]] = []
    for role in ROLES:
        var = f"ACD_WEB_{role.upper()}_TOKEN"
        token = env.get(var, "")
        if token:
            _check_token(token, var)
            entries.append((role, role, token))
    if path is not None:
        entries += _read_file(path)
    return Tokens(entries)


def _read_file(path: str) -> list[tuple[Role, str, str]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise TokenError(f"--web-tokens {path}: cannot read it ({reason})") from None
    entries: list[tuple[Role, str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        where = f"{path}:{number}"
        if len(fields) != 3:
            raise TokenError(f"{where}: expected `ROLE NAME TOKEN` (3 fields, got {len(fields)})")
        role, name, token = fields
        if role not in ROLES:
            raise TokenError(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
        _check_token(token, where)
        entries.append((role, name, token))  # type: ignore[arg-type,unused-ignore]
    if not entries:
        raise TokenError(f"--web-tokens {path}: no `ROLE NAME TOKEN` line in it")
    return entries


def _check_token(token: str, where: str) -> None:
    if len(token) < MIN_TOKEN_LENGTH:
        raise TokenError(
            f"{where}: a token must be at least {MIN_TOKEN_LENGTH} characters "
            "(e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe())'`)"
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as e:
        raise ValueError(str(e)) from None
