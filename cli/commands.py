"""The sub-commands of `acd`: the module that builds each one's parser and runs it,
and its one-line help. `acd --help` needs only these lines, so `acd.cli.main`
imports a sub-command's module (and what it needs: asyncio, aiohttp, redis, the
engine) only when that sub-command is asked for."""

from __future__ import annotations

from typing import Final

COMMANDS: Final[dict[str, tuple[str, str]]] = {
    "check": ("acd.cli.check", "validate site configuration files"),
    "simulate": ("acd.cli.simulate", "replay a surge day through the engine in virtual time"),
    "serve": ("acd.cli.serve", "run the engine live against Asterisk (ARI)"),
    "pbx": ("acd.cli.pbx", "run a virtual Asterisk (ARI) with simulated callers and agents"),
    "state": ("acd.cli.state", "show a site's live queue state from Redis (no engine needed)"),
    "curve": ("acd.cli.curve", "look at, scale, reshape and build surge curves"),
    "erlang": (
        "acd.cli.erlang",
        "agents needed for a service level (Erlang C, or Erlang A with --patience)",
    ),
    "demo": (
        "acd.cli.demo",
        "a live centre on this machine: virtual PBX, engine and wallboard in compressed time",
    ),
    "wallboard": (
        "acd.cli.wallboard",
        "serve the wallboard and supervisor API from Redis, beside a running engine",
    ),
    "load": (
        "acd.cli.load",
        "replay a window of a surge curve as real SIP calls against Asterisk",
    ),
    "plan": (
        "acd.cli.plan",
        "the fewest seat-hours of the site's shifts that meet a target, checked by replaying",
    ),
}


def help_of(command: str) -> str:
    """The one-line help of `command`, as `acd --help` lists it."""
    return COMMANDS[command][1]
