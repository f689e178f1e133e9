"""`acd`: the command line of the ACD engine.

    acd check FILE [FILE ...]                 validate site configurations
              ... --asterisk URL              and that Asterisk has the sounds they play
    acd simulate CONFIG --curve CURVE ...     replay a surge day in virtual time
    acd pbx CONFIG --listen HOST:PORT ...     a virtual Asterisk with simulated people
    acd serve CONFIG --ari-url URL            run live against Asterisk (ARI)
    acd load CONFIG --curve C --pbx HOST:PORT place a curve window as real SIP calls
    acd state SITE_NAME --redis URL [--json]  the live queue state a site keeps in Redis
    acd curve show|scale|reshape|build ...    make and inspect surge curves
    acd erlang --calls-per-hour N --aht S ... size staff with Erlang C / Erlang A
    acd demo [CONFIG]                         a live centre on this machine, with its wallboard
    acd wallboard CONFIG --redis URL          a wallboard server that reads only Redis
    acd plan CONFIG --curve CURVE --target T  a staffing plan that meets a service level

Each sub-command is a function `run_<name>(args) -> int` (the exit status), so the
tests call them without a subprocess where that is enough.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from acd.cli.commands import COMMANDS


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The `acd` parser. `command`: only that sub-command's module is imported and
    its parser built in full, every other one is listed by name and help line (so
    `acd --help` and `acd load ...` load nothing they do not use); None: every
    sub-command in full (for tools and tests that read every --help)."""
    parser = argparse.ArgumentParser(prog="acd", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_line) in COMMANDS.items():
        if command is None or name == command:
            importlib.import_module(module).add_parser(sub)
        else:
            sub.add_parser(name, help=help_line)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    # The sub-command is the first word that is not an option (`acd` itself takes
    # none but -h); an unknown one is argparse's to refuse, with the list.
    word = next((a for a in args_in if not a.startswith("-")), "")
    args = build_parser(word if word in COMMANDS else "").parse_args(args_in)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
