"""What `acd serve` and `acd pbx` both read from their command line and environment.

ARI credentials come from the environment or a file, never from the command line in
clear (it would show in `ps` and shell history)."""

from __future__ import annotations

import os
from pathlib import Path


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
