"""The web server: the page, the API, the event stream and `/metrics`, on aiohttp.

`Web` is built with the site, the tokens and a `Source`; `Web.run(host, port)` serves
until cancelled (a task of the caller's root TaskGroup), with one producer task
polling the source (`web.stream.Broadcaster`). It binds to 127.0.0.1 unless told
otherwise. No request ever gets a traceback: anything unexpected is logged here and
answered 500 with one line; a request aiohttp's HTTP parser refuses (a line over 8 KiB,
a malformed header: answered 400 before any handler) is one WARNING line in the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from acd import __version__
from acd.config.schema import SiteConfig
from acd.web import openapi
from acd.web.api import Api, error
from acd.web.auth import Tokens
from acd.web.sources import Source
from acd.web.stream import Broadcaster

log = logging.getLogger("acd.web")
http_log = logging.getLogger("acd.web.http")
"""aiohttp's server log for this server (its `logger`), with `_OneLine`."""

STATIC = Path(__file__).parent / "static"
PAGE_FILES = frozenset(
    p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*") if p.is_file()
) if STATIC.is_dir() else frozenset()
"""The page's files, as served (`vendor/uPlot.min.css`, `app.js`, ...)."""
MAX_BODY = 64 * 1024
"""No action needs more; a bigger body is refused (413) before it is read."""
SECURITY_HEADERS = {
    # Everything the page needs comes from this server: scripts, styles, the stream.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class Web:
    def __init__(self, site: SiteConfig, tokens: Tokens, source: Source,
                 period: float = 1.0) -> None:
        self.site = site
        self.tokens = tokens
        self.source = source
        self.broadcaster = Broadcaster(site, source, period)
        self.api = Api(tokens, source, self.broadcaster)
        self.openapi = openapi.encoded(f"ACD {site.site.name}", __version__)
        self.app = self._build()
        self.url = ""
        """Where it listens, once `run` has bound: http://HOST:PORT/."""

    def _build(self) -> web.Application:
        app = web.Application(middlewares=[_errors], client_max_size=MAX_BODY)
        app.router.add_get("/api/openapi.json", self._openapi)
        app.router.add_get("/metrics", self._metrics)
        app.add_routes(self.api.routes())
        app.router.add_get("/", self._index)
        app.router.add_get(r"/{path:[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?}", self._static)
        app.on_response_prepare.append(_headers)
        return app

    async def run(self, host: str, port: int, ready: Callable[[str], None] | None = None) -> None:
        """Serve until cancelled. The first update is built before the port opens, so
        no page or API read ever finds the floor unread."""
        snapshot = await self.source.poll()
        if snapshot is not None:
            self.broadcaster.publish(snapshot)
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False,
                               shutdown_timeout=1.0, logger=http_log)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port, reuse_address=True)
            await site.start()
            bound = runner.addresses[0]
            shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
            self.url = f"http://{shown}:{bound[1]}/"
            log.info("wallboard and API on %s", self.url)
            if ready is not None:
                ready(self.url)
            await self.broadcaster.run()
        finally:
            self.broadcaster.stop()
            await runner.cleanup()

    async def _index(self, request: web.Request) -> web.StreamResponse:
        index = STATIC / "index.html"
        if not index.is_file():
            return error(404, "the wallboard page is not installed")
        return web.FileResponse(index)

    async def _static(self, request: web.Request) -> web.StreamResponse:
        """The page's own files, and only them (a name not among them: 404, as JSON)."""
        path = request.match_info["path"]
        if path not in PAGE_FILES:
            return error(404, f"no {request.path} here")
        return web.FileResponse(STATIC / path)

    async def _openapi(self, request: web.Request) -> web.Response:
        return web.Response(body=self.openapi, content_type="application/json")

    async def _metrics(self, request: web.Request) -> web.Response:
        if self.api.principal(request) is None:
            return error(401, "a viewer or supervisor token is needed (Authorization: Bearer)")
        update = self.broadcaster.update
        if update is None:
            return error(503, "the floor has not been read yet")
        from acd.web.metrics import CONTENT_TYPE, render  # prometheus_client: only when asked

        return web.Response(body=render(update.snapshot, self.site),
                            headers={"Content-Type": CONTENT_TYPE})


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every error as JSON with one line; never a traceback to the client."""
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.content_type == "application/json" or e.status < 400:
            raise
        refusal = error(e.status, _refusal(request, e))
        if "Allow" in e.headers:  # a 405 must say what is allowed (RFC 9110, 15.5.6)
            refusal.headers["Allow"] = e.headers["Allow"]
        return refusal
    except (asyncio.CancelledError, ConnectionError):
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return error(500, "the server failed on this request; it is logged")


def _refusal(request: web.Request, e: web.HTTPException) -> str:
    """aiohttp's refusals in the words of this API: what was asked, and what is allowed."""
    if isinstance(e, web.HTTPNotFound):
        return f"no {request.path} here"
    if isinstance(e, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(e.allowed_methods))
        return f"{request.method} is not allowed on {request.path} (allowed: {allowed})"
    if isinstance(e, web.HTTPRequestEntityTooLarge):
        return f"the body is over {MAX_BODY} bytes, more than any action needs"
    return e.reason


class _OneLine(logging.Filter):
    """A request the HTTP parser refused is the client's mistake, answered 400: logged as
    one WARNING line naming the client and what was wrong, without a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError) and record.levelno >= logging.ERROR:
            what = " ".join(error.message.split())
            record.msg, record.args = f"{record.getMessage()}: {error.code} {what}", ()
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


http_log.addFilter(_OneLine())


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)
    if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
