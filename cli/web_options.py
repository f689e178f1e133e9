"""What `acd serve --web`, `acd wallboard` and `acd demo` share about the wallboard:
the tokens it needs, and serving it until cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from acd.web.auth import TokenError, Tokens, load_tokens

if TYPE_CHECKING:
    from acd.web.app import Web


def required_tokens(path: str | None) -> Tokens:
    """The tokens from the environment and `path`; TokenError (a ValueError) naming the
    file and line or the variable at fault, or saying where to put some if none."""
    tokens = load_tokens(path)
    if not tokens:
        raise TokenError(
            "no tokens: set ACD_WEB_VIEWER_TOKEN and ACD_WEB_SUPERVISOR_TOKEN, "
            "or give --web-tokens FILE"
        )
    return tokens


async def serve_web(
    web: Web,
    address: tuple[str, int],
    flag: str,
    failed: list[str],
    stop: asyncio.Event,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve `web` until cancelled. An address that cannot be listened on is one line
    naming `flag` in `failed`, and `stop` is set: the command ends with status 1."""
    host, port = address
    try:
        await web.run(host, port, ready)
    except OSError as e:
        failed.append(f"{flag} {host}:{port}: cannot listen there ({e.strerror or e})")
        stop.set()
