"""What `acd serve`, `acd pbx` and `acd simulate` read from their command line and
environment, and how they check and write their output files.

ARI credentials come from the environment or a file, never from the command line in
clear (it would show in `ps` and shell history)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import msgspec


def ari_credentials(password_file: str | None) -> tuple[str, str]:
    """(user, password) from ACD_ARI_USER (default `acd`) and ACD_ARI_PASSWORD or the
    first line of `password_file`. ValueError when there is no password."""
    user = os.environ.get("ACD_ARI_USER") or "acd"
    if password_file is not None:
        try:
            lines = Path(password_file).read_text().splitlines()
        except OSError as error:
            raise ValueError(f"--ari-password-file: cannot read {password_file}: {error}") from None
        password = lines[0].strip() if lines else ""
        if not password:
            raise ValueError(f"--ari-password-file: {password_file} holds no password")
        return user, password
    password = os.environ.get("ACD_ARI_PASSWORD", "")
    if not password:
        raise ValueError("no ARI password: set ACD_ARI_PASSWORD or give --ari-password-file")
    return user, password


def local_minute(text: str) -> int:
    """Minutes since midnight for "HH:MM" (00:00 to 23:59), as `--start` takes it.
    ValueError says what was expected (the caller names the option)."""
    hours, sep, minutes = text.partition(":")
    if (
        sep
        and len(minutes) == 2
        and hours.isdigit()
        and minutes.isdigit()
        and int(hours) < 24
        and int(minutes) < 60
    ):
        return int(hours) * 60 + int(minutes)
    raise ValueError(f"expected a local time HH:MM from 00:00 to 23:59, got {text!r}")


def check_outputs(*outputs: tuple[str, str | None]) -> None:
    """`check_output` for each (flag, path) a command line was given (None: not given)."""
    for flag, path in outputs:
        if path:
            check_output(path, flag)


def check_output(path: str, flag: str) -> None:
    """Make sure a result can be written to `path` before the work that makes it
    starts, so that a typo in `--json` does not cost a whole replay or live session.
    ValueError names `flag` and says what is wrong: a folder, a folder that does not
    exist, or a file that cannot be created or written (permissions, a read-only or
    virtual file system such as /proc). Leaves an existing file as it was and
    creates none (a probe file is removed at once)."""
    where = Path(path)
    if where.is_dir():
        raise ValueError(f"{flag} {path}: is a folder; name a file in it")
    folder = where.parent
    if not folder.exists():
        raise ValueError(f"{flag} {path}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise ValueError(f"{flag} {path}: {folder} is not a folder")
    try:
        if where.exists():
            with open(where, "ab"):
                pass  # opened for appending, nothing written: the file is unchanged
        else:
            descriptor = os.open(where, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.close(descriptor)
            os.unlink(where)
    except OSError as error:
        raise ValueError(
            f"{flag} {path}: cannot write there ({error.strerror or error})"
        ) from None


def write_results(
    json_path: str | None,
    report_path: str | None,
    record: object,
    render: Callable[[], str],
    what: str,
    *,
    say: bool = True,
) -> bool:
    """Write a command's `--json` (`record`, indented) and `--report` (`render()`, only
    when asked), each with `write_output`; `say`: print "wrote PATH" for each. True
    when all that was asked was written."""
    written = True
    outputs: list[tuple[str | None, str, Callable[[], bytes], str]] = [
        (json_path, "--json", lambda: msgspec.json.format(msgspec.json.encode(record), indent=2),
         what),
        (report_path, "--report", lambda: render().encode(), "the report"),
    ]
    for path, flag, data, named in outputs:
        if not path:
            continue
        if write_output(path, flag, data(), named):
            if say:
                print(f"wrote {path}")
        else:
            written = False
    return written


def write_output(path: str, flag: str, data: bytes, what: str) -> bool:
    """Write `data` to `path`; True when done. When it fails after all (the disk is
    full, the folder was removed meanwhile), nothing is lost: the data goes to a new
    file in the temporary folder instead, and one line on stderr names `flag`, why,
    and where `what` (e.g. "the result") was kept. False then."""
    try:
        Path(path).write_bytes(data)
        return True
    except OSError as error:
        suffix = Path(path).suffix or ".out"
        descriptor, kept = tempfile.mkstemp(prefix="acd-", suffix=suffix)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        print(
            f"{flag} {path}: cannot write there ({error.strerror or error}); {what} is kept"
            f" in {kept}",
            file=sys.stderr,
        )
        return False


def listen_address(text: str, flag: str, example_port: int) -> tuple[str, int]:
    """("127.0.0.1", 8088) for "127.0.0.1:8088"; "[::1]:0" for IPv6; a bare port or
    ":PORT" listens on 127.0.0.1 (never on every address unless told). ValueError names
    `flag`."""
    if text.isdigit():
        text = f":{text}"
    host, sep, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]") or ("127.0.0.1" if sep else "")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(
            f"{flag}: expected HOST:PORT (e.g. 127.0.0.1:{example_port}), got {text!r}"
        )
    return host, int(port)
