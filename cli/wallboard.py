"""`acd wallboard CONFIG --redis URL [--listen HOST:PORT] [--web-tokens FILE]`: the
wallboard page, the supervisor API and `/metrics`, served from the Redis read model
alone, beside an engine (`acd serve --redis URL`) that runs elsewhere. Run as many as
the floor's screens need: each reads one small key a second, whatever its pages.

Supervisor actions go to the engine through the store (a command stream the engine
reads, applies as events and answers); the engine writes the audit trail. Tokens as
for `acd serve --web`: ACD_WEB_VIEWER_TOKEN, ACD_WEB_SUPERVISOR_TOKEN, or --web-tokens.

Exit status: 0 after SIGINT or SIGTERM; 1 for a configuration, a flag value or tokens
that are refused, a store that cannot be reached, or an address that cannot be
listened on (one line naming it); 2 for a command line argparse refuses.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

from acd.cli.commands import help_of
from acd.cli.log_times import FORMAT
from acd.cli.options import listen_address
from acd.config.loader import ConfigErrors, load_site

log = logging.getLogger("acd.wallboard")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "wallboard", help=help_of("wallboard"),
        description="Serve the wallboard and the supervisor API from the site's Redis read "
        "model (no engine in this process).",
        epilog="Exit status: 0 stopped by SIGINT or SIGTERM; 1 a configuration, a flag's value, "
        "tokens, the store or an address refused (one line on stderr names it); 2 a command "
        "line argparse refuses.",
    )
    p.add_argument("config", help="site configuration (YAML), the engine's own")
    p.add_argument("--redis", required=True, metavar="URL",
                   help="the Redis the engine keeps its state in (redis://, rediss://, "
                   "redis+sentinel://)")
    p.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT",
                   help="where to serve (default 127.0.0.1:8080)")
    p.add_argument("--web-tokens", metavar="FILE",
                   help="tokens, one `ROLE NAME TOKEN` line each (ROLE: viewer or supervisor)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from acd.cli.web_options import required_tokens

    logging.basicConfig(level=args.log_level, format=FORMAT)
    try:
        site = load_site(args.config)
    except ConfigErrors as errors:
        print(errors, file=sys.stderr)
        return 1
    try:
        address = listen_address(args.listen, "--listen", 8080)
        tokens = required_tokens(args.web_tokens)
    except ValueError as e:  # TokenError too
        print(f"acd wallboard: {e}", file=sys.stderr)
        return 1
    return asyncio.run(serve(site, args, address, tokens))


async def serve(site: Any, args: argparse.Namespace, address: tuple[str, int], tokens: Any) -> int:
    from acd.cli.web_options import serve_web
    from acd.store.base import Unavailable
    from acd.store.redis import RedisStore
    from acd.web.app import Web
    from acd.web.sources import StoreSource

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        store = RedisStore(site.site.name, args.redis)
    except ValueError as e:  # a URL redis-py cannot parse
        print(f"acd wallboard: --redis {args.redis}: {e}", file=sys.stderr)
        return 1
    failed: list[str] = []
    try:
        try:
            if await store.live() is None:
                log.warning("no engine has written site %r's floor to %s yet: the pages show "
                            "it once one does", site.site.name, store.name)
        except Unavailable as e:
            print(f"acd wallboard: --redis {store.name}: cannot reach it ({e})", file=sys.stderr)
            return 1
        web = Web(site, tokens, StoreSource(store))
        async with asyncio.TaskGroup() as tg:
            task = tg.create_task(serve_web(web, address, "--listen", failed, stop))
            await stop.wait()
            task.cancel()
    finally:
        await store.close()
    if failed:
        print(f"acd wallboard: {failed[0]}", file=sys.stderr)
        return 1
    return 0
