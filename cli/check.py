"""`acd check FILE [FILE ...] [--asterisk URL]`: validate site configurations, and
that an Asterisk has every sound they play."""

from __future__ import annotations

import argparse
import asyncio
import sys
import urllib.parse
from collections.abc import Iterator
from typing import Any

import msgspec

from acd.cli.commands import help_of
from acd.cli.options import ari_credentials
from acd.config.loader import ConfigErrors, load_site
from acd.config.schema import SiteConfig

FALLBACK_LANGUAGE = "en"
"""The language Asterisk plays a sound in when the caller's has no file for it
(asterisk.conf `defaultlanguage`, `en` unless an operator changed it)."""


class SoundCheckFailed(Exception):
    """Asterisk could not be asked for its sounds; the message is the user's one line."""


def sound_uses(value: object, where: str = "") -> Iterator[tuple[str, str]]:
    """Every `sound:` media URI in a loaded configuration record, with the field it is
    in ("queues.gen.full_prompt"). Walks msgspec records, dicts and lists generically,
    so a prompt field added to the schema is checked without being named here; the
    built-in defaults in effect are in the loaded records like any written value."""
    if isinstance(value, str):
        if value.startswith("sound:"):
            yield value, where
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            yield from sound_uses(getattr(value, name), f"{where}.{name}" if where else name)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from sound_uses(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for item in value:
            yield from sound_uses(item, where)


def played_sounds(site: SiteConfig) -> dict[str, list[str]]:
    """Sound URI -> the fields that play it: every `sound:` in `site`, plus the stock
    sounds of the position and expected-wait announcements of the queues that make
    them (the controller builds those from app_queue's sounds, not from the config).
    `number:` and `digits:` media (Asterisk's `digits/*`) are not listed."""
    from acd.ari.legs import wait_announcement

    uses: dict[str, list[str]] = {}
    for uri, where in sound_uses(site):
        uses.setdefault(uri, []).append(where)
    for name, queue in site.queues.items():
        if queue.announce is None:
            continue
        media: list[str] = []
        if queue.announce.position:
            media += wait_announcement(1, None) + wait_announcement(2, None)
        if queue.announce.expected_wait:
            media += wait_announcement(None, 60)
        for uri in media:
            if uri.startswith("sound:"):
                uses.setdefault(uri, []).append(f"queues.{name}.announce")
    return uses


def require_http_url(url: str) -> None:
    """Return when `url` is an http(s) URL with a host; else ValueError naming --asterisk."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"--asterisk {url}: expected Asterisk's HTTP server, http(s)://HOST:PORT "
            "(e.g. http://127.0.0.1:8088)"
        )


def asterisk_sounds(url: str, user: str, password: str) -> dict[str, set[str]]:
    """Sound id -> the languages Asterisk has it in, from `GET /ari/sounds` at `url`.
    Raises SoundCheckFailed with one line naming --asterisk when Asterisk cannot be
    reached, refuses the credentials or answers anything but a list of sounds."""
    from acd.ari import models
    from acd.ari.client import AriClient, AriError

    async def fetch() -> bytes | None:
        async with AriClient(url, user, password) as client:
            return await client.request("GET", "/sounds")

    try:
        data = asyncio.run(fetch())
    except AriError as error:
        if error.status in (401, 403):
            raise SoundCheckFailed(
                f"--asterisk {url}: Asterisk refused the ARI credentials of user {user!r} "
                f"(HTTP {error.status}): check ACD_ARI_USER and ACD_ARI_PASSWORD or "
                "--ari-password-file against ari.conf"
            ) from None
        if error.status == 404:
            raise SoundCheckFailed(
                f"--asterisk {url}: no ARI sounds resource (HTTP 404 on /ari/sounds): is ARI "
                "enabled (http.conf, ari.conf) and res_ari_sounds.so loaded?"
            ) from None
        if error.status == 0:
            # aiohttp's own words say why (refused, no route, bad host); AriError keeps
            # only the exception's type.
            why = str(error.__cause__ or "") or error.message
            raise SoundCheckFailed(f"--asterisk {url}: cannot reach Asterisk: {why}") from None
        raise SoundCheckFailed(f"--asterisk {url}: {error}") from None
    except (OSError, ValueError) as error:  # a URL aiohttp cannot even try
        raise SoundCheckFailed(f"--asterisk {url}: cannot reach Asterisk: {error}") from None
    try:
        sounds = msgspec.json.decode(data or b"", type=list[models.Sound])
    except msgspec.DecodeError as error:
        raise SoundCheckFailed(
            f"--asterisk {url}: GET /ari/sounds did not answer a list of sounds: {error}"
        ) from None
    return {sound.id: {f.language for f in sound.formats} for sound in sounds}


def check_sounds(path: str, site: SiteConfig, have: dict[str, set[str]], url: str) -> bool:
    """Print one line per sound `site` plays that Asterisk lacks in a language of the
    site (`site.languages`); True when none would leave a caller in silence.

    A sound missing in a language but present in `FALLBACK_LANGUAGE` is printed too
    (Asterisk then plays the English file to that caller without a word in its log)
    but does not fail the check: Asterisk's core sounds exist only in a few languages
    (the queue announcements, `beep`, `vm-goodbye` have no Korean), so failing would
    fail every Korean site for files nobody ships. A sound missing in a language and
    in English is an error: that caller hears nothing."""
    uses = played_sounds(site)
    languages = [site.site.default_language] + [
        lang for lang in site.site.languages if lang != site.site.default_language
    ]
    silent = fallback = 0
    for uri in sorted(uses):
        languages_of = have.get(uri.removeprefix("sound:"), set())
        if "" in languages_of:  # a file outside any language folder serves every language
            continue
        missing = [lang for lang in languages if lang not in languages_of]
        if not missing:
            continue
        fields = sorted(set(uses[uri]))
        at = ", ".join(fields[:2]) + (f" and {len(fields) - 2} more" if len(fields) > 2 else "")
        if FALLBACK_LANGUAGE in languages_of:
            fallback += 1
            print(f"{path}: {uri}: missing in {', '.join(missing)}; Asterisk plays the "
                  f"{FALLBACK_LANGUAGE} file instead (at {at})", file=sys.stderr)
        else:
            silent += 1
            print(f"{path}: {uri}: missing in {', '.join(missing)} (at {at})", file=sys.stderr)
    if silent:
        print(f"{path}: {silent} of the {len(uses)} sounds it plays missing on the Asterisk "
              f"at {url}", file=sys.stderr)
        return False
    english = (f"; {fallback} of them in {FALLBACK_LANGUAGE} only for some languages (above)"
               if fallback else "")
    print(f"{path}: sounds: all {len(uses)} it plays are on the Asterisk at {url} "
          f"(languages {', '.join(languages)}){english}")
    return True


def run_check(args: argparse.Namespace) -> int:
    """Exit 0 when every file is a valid site; else print every error, exit 1.

    With `--asterisk URL`, also ask that Asterisk (ARI, credentials as `acd serve`
    takes them) for its sounds, once, and exit 1 when a valid site plays a sound it
    lacks in a language of the site and in English (check_sounds), or when it cannot
    be asked: then one line names --asterisk and why, and no other file is asked."""
    status = 0
    credentials: tuple[str, str] | None = None
    have: dict[str, set[str]] | None = None
    asked = False
    if args.asterisk is not None:
        try:
            require_http_url(args.asterisk)
            credentials = ari_credentials(args.ari_password_file)
        except ValueError as problem:
            print(f"acd check: {problem}", file=sys.stderr)
            return 1
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
        if credentials is None:
            continue
        if not asked:
            asked = True
            try:
                have = asterisk_sounds(args.asterisk, *credentials)
            except SoundCheckFailed as failure:
                print(f"acd check: {failure}", file=sys.stderr)
                status = 1
        if have is not None and not check_sounds(path, site, have, args.asterisk):
            status = 1
    return status


def add_parser(sub: Any) -> None:
    check = sub.add_parser(
        "check", help=help_of("check"),
        description="Validate site configuration files. With --asterisk, also name every "
        "sound a valid site plays (its `sound:` prompts, the defaults in effect, the "
        "queues' announcements) that this Asterisk lacks in a language of the site. "
        "Exit 1 for a sound missing in a language and in English (callers hear nothing); "
        "a sound only in English for a language is listed (Asterisk plays the English "
        "file) without failing. ARI credentials as `acd serve`: ACD_ARI_USER (default "
        "acd) and ACD_ARI_PASSWORD, or --ari-password-file.",
        epilog="Exit status: 0 every file is a valid site (and, with --asterisk, no sound "
        "is missing in a language and in English); 1 a file refused (every error printed "
        "as FILE:LINE:COLUMN), or --asterisk unreachable, refusing the credentials, or "
        "lacking a sound; 2 a command line argparse refuses.",
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--asterisk", metavar="URL",
                       help="Asterisk's HTTP server (ARI), e.g. http://127.0.0.1:8088: "
                       "check that it has every sound the sites play")
    check.add_argument("--ari-password-file", metavar="FILE",
                       help="with --asterisk: read the ARI password from FILE instead of "
                       "ACD_ARI_PASSWORD")
    check.set_defaults(run=run_check)
