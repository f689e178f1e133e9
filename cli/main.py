"""`acd`: the command line of the ACD engine.

    acd check FILE [FILE ...]                 validate site configurations
    acd simulate CONFIG --curve CURVE ...     replay a surge day in virtual time
    acd pbx CONFIG --listen HOST:PORT ...     a virtual Asterisk with simulated people
    acd serve CONFIG --ari-url URL            run live against Asterisk (ARI)
    acd state SITE_NAME --redis URL [--json]  the live queue state a site keeps in Redis
    acd curve show|scale|reshape|build ...    make and inspect surge curves
    acd erlang --calls-per-hour N --aht S ... size staff with Erlang C / Erlang A

Each sub-command is a function `run_<name>(args) -> int` (the exit status), so the
tests call them without a subprocess where that is enough.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from acd.config.loader import ConfigErrors, load_site


def run_check(args: argparse.Namespace) -> int:
    """Exit 0 when every file is a valid site; else print every error, exit 1."""
    status = 0
    for path in args.files:
        try:
            site = load_site(path)
        except ConfigErrors as errors:
            status = 1
            for error in errors.errors:
                print(error, file=sys.stderr)
            print(f"{path}: {len(errors.errors)} error(s)", file=sys.stderr)
            continue
        pools: dict[str, int] = {}
        for agent in site.agents:
            pools[agent.pool] = pools.get(agent.pool, 0) + 1
        staffing = ", ".join(f"{n} {pool}" for pool, n in pools.items())
        print(
            f"{path}: ok: site {site.site.name!r}, {len(site.queues)} queues, "
            f"{len(site.skills)} skills, {len(site.agents)} agents ({staffing}), "
            f"{len(site.vendors)} vendors, {len(site.ivr.nodes)} IVR nodes, "
            f"{len(site.surge.stages)} surge stages"
        )
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="acd", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate site configuration files")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(run=run_check)
    from acd.cli import curve, erlang, pbx, serve, simulate, state

    simulate.add_parser(sub)
    serve.add_parser(sub)
    pbx.add_parser(sub)
    state.add_parser(sub)
    curve.add_parser(sub)
    erlang.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
