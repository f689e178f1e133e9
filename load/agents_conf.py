"""The agents' SIP credentials from a PJSIP agents file (`pjsip_agents.conf`, as
`config/asterisk/make_pjsip_agents.py` writes it, passwords set by the operator).

Asterisk's configuration format repeats a section name once per object type
(`[agent1001](acd-agent-endpoint)`, `[agent1001](acd-agent-auth)`, ...) and has
templates and `#include`s, which `configparser` does not read; the few lines here
read only what a phone needs: each auth section's `username` and `password`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

SECTION: Final = re.compile(r"^\[([^\]]+)\](?:\(([^)]*)\))?\s*$")


class AgentsConfError(ValueError):
    """The file cannot be read or names no credentials; the message names the file."""


def read_credentials(path: Path) -> dict[str, str]:
    """username -> password of every section with both (an auth section)."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise AgentsConfError(f"{path}: cannot read the agents' SIP accounts: {error}") from None
    found: dict[str, str] = {}
    fields: dict[str, str] = {}

    def close() -> None:
        if "username" in fields and "password" in fields:
            found[fields["username"]] = fields["password"]

    for line in text.splitlines():
        line = line.split(";", 1)[0].strip()
        if not line:
            continue
        if SECTION.match(line):
            close()
            fields = {}
            continue
        name, sep, value = line.partition("=")
        if sep:
            fields[name.strip().rstrip(">").strip()] = value.strip().lstrip(">").strip()
    close()
    if not found:
        raise AgentsConfError(f"{path}: no section with both a username and a password")
    return found
