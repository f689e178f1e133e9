#!/usr/bin/env python3
"""Speak the ACD engine's own prompts (prompts.tsv) into WAV files Asterisk plays.

    python config/asterisk/sounds/make_sounds.py            # every prompt
    python config/asterisk/sounds/make_sounds.py custom/main-menu queue-full

Each row of `prompts.tsv` (next to this script) becomes `ko/<name>.wav` and
`en/<name>.wav` here (or under `--out DIR`): 8 kHz, mono, 16-bit signed PCM, the
format Asterisk's `format_wav` plays to a telephone channel without transcoding.
The voices are Debian's espeak-ng (`-v ko`, `-v en-us`), resampled and levelled by
sox: placeholders a centre replaces with its own recordings under the same names,
not a voice it would choose, but every prompt says what it is for.

Contract:
- the output depends only on prompts.tsv and the versions of espeak-ng and sox:
  with the same versions, a second run writes byte-identical files (sox runs with
  `-R`, so even its dither is seeded). Another espeak-ng version may speak slightly
  differently; regenerate and commit the WAVs together with prompts.tsv;
- a run without names also deletes the WAVs under `ko/` and `en/` that no row names
  any more, so the folder is exactly what prompts.tsv says;
- each file is written to a temporary name and renamed, so an interrupted run never
  leaves a truncated WAV behind;
- exit 0 when done; 1 with one line naming the tool, the row or the name at fault
  (a missing espeak-ng or sox, a malformed row, an unknown name), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROMPTS = HERE / "prompts.tsv"
LANGUAGES = ("ko", "en")
"""The columns after the name, in order; also the folders written."""
VOICES = {"ko": "ko", "en": "en-us"}
SPEED = {"ko": 175, "en": 165}
"""espeak-ng words per minute: its default (175) for Korean, which then speaks at
about a counsellor's pace; English a little slower, for callers on a phone line who
may not speak it as a first language."""
PART_GAP_SECONDS = 0.35
"""Silence between the parts of a multilingual cell (Korean, then English)."""
SOX_OUTPUT = ["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"]
# silence (twice, around a reverse): trim espeak-ng's own silence at both ends, which
# callers would hear as dead air; gain -n -3: every prompt peaks at -3 dBFS, so
# prompts from different rows are equally loud; pad: a short lead-in (the first
# syllable is not clipped while the channel's audio starts) and a pause before
# whatever plays next.
SOX_EFFECTS = [
    "silence", "1", "0.02", "-50d", "reverse", "silence", "1", "0.02", "-50d", "reverse",
    "gain", "-n", "-3", "pad", "0.1", "0.25",
]


@dataclass(frozen=True)
class Prompt:
    """One row: the name as Asterisk sees it (`custom/main-menu`) and its text per
    language (a cell may hold " | "-separated parts)."""

    name: str
    text: dict[str, str]
    line: int


class Failure(Exception):
    """What stops the run; its message is the one line the user sees."""


def read_prompts(path: Path = PROMPTS) -> list[Prompt]:
    """The rows of `path`: comment lines (`#`) and the header row skipped. Raises
    Failure naming the line of a row without three cells, with an empty cell, with a
    name Asterisk could not play (absolute, `..`, an extension) or named twice."""
    prompts: list[Prompt] = []
    seen: set[str] = set()
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        cells = raw.split("\t")
        if cells[0] == "name":
            continue  # the header row
        where = f"{path.name}:{number}"
        if len(cells) != 1 + len(LANGUAGES):
            raise Failure(f"{where}: expected name, {', '.join(LANGUAGES)} (tab-separated), "
                          f"got {len(cells)} cells")
        name = cells[0].strip()
        if (not name or name.startswith("/") or ".." in name.split("/")
                or Path(name).suffix or " " in name):
            raise Failure(f"{where}: name {name!r}: expected a sound name as in "
                          "`sound:<name>` (e.g. custom/main-menu), without an extension")
        if name in seen:
            raise Failure(f"{where}: name {name!r} is named twice")
        seen.add(name)
        text = {lang: cell.strip() for lang, cell in zip(LANGUAGES, cells[1:], strict=True)}
        for lang, cell in text.items():
            if not cell:
                raise Failure(f"{where}: {name}: the {lang} text is empty")
        prompts.append(Prompt(name, text, number))
    return prompts


def has_hangul(text: str) -> bool:
    """Whether `text` holds a Hangul syllable or jamo (it is then spoken in Korean)."""
    return any("\uac00" <= c <= "\ud7a3" or "\u1100" <= c <= "\u11ff"
               or "\u3130" <= c <= "\u318f" for c in text)


def _run(args: list[str], *, stdin: str | None = None) -> None:
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # espeak-ng prints ALSA noise on machines without a sound card even when it
        # writes a file (-w); only a failure's last line is worth showing.
        lines = done.stderr.strip().splitlines()
        raise Failure(f"{args[0]} failed ({done.returncode}): {lines[-1] if lines else ''}")


def speak(text: str, out: Path, work: Path) -> None:
    """Write `text` (one cell) to `out` as 8 kHz mono 16-bit WAV. The voice follows
    the script of each part, not the column: the English parts of a Korean cell are
    spoken in English."""
    parts = [part.strip() for part in text.split(" | ") if part.strip()]
    pieces: list[str] = []
    for i, part in enumerate(parts):
        lang = "ko" if has_hangul(part) else "en"
        raw = work / f"part{i}.wav"
        # The text goes in on stdin: a cell starting with "-" is never read as an option.
        _run(["espeak-ng", "-v", VOICES[lang], "-s", str(SPEED[lang]), "-w", str(raw),
              "--stdin"], stdin=part)
        if i < len(parts) - 1:
            gapped = work / f"part{i}-gap.wav"
            _run(["sox", "-R", str(raw), str(gapped), "pad", "0", str(PART_GAP_SECONDS)])
            raw = gapped
        pieces.append(str(raw))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    # sox concatenates the pieces (espeak-ng writes every voice at the same rate),
    # resamples to 8 kHz with its default high-quality filter, then levels and pads.
    _run(["sox", "-R", *pieces, *SOX_OUTPUT, "-t", "wav", str(partial), *SOX_EFFECTS])
    os.replace(partial, out)


def main(argv: list[str] | None = None) -> int:
    """Write the WAVs of every prompt (or of the names given); the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="only these prompts (names as in prompts.tsv); default: all")
    parser.add_argument("--out", type=Path, default=HERE, metavar="DIR",
                        help="write DIR/ko/... and DIR/en/... (default: next to this script)")
    args = parser.parse_args(argv)
    try:
        for tool in ("espeak-ng", "sox"):
            if shutil.which(tool) is None:
                raise Failure(f"{tool} is not installed (Debian: apt-get install {tool})")
        prompts = read_prompts()
        known = {p.name for p in prompts}
        unknown = [n for n in args.names if n not in known]
        if unknown:
            raise Failure(f"NAME: not in {PROMPTS.name}: {', '.join(unknown)}")
        chosen = [p for p in prompts if not args.names or p.name in args.names]
        out: Path = args.out
        with tempfile.TemporaryDirectory(prefix="acd-sounds-") as tmp:
            for prompt in chosen:
                for lang in LANGUAGES:
                    speak(prompt.text[lang], out / lang / f"{prompt.name}.wav", Path(tmp))
        if not args.names:
            for lang in LANGUAGES:
                for stale in sorted((out / lang).rglob("*.wav")):
                    if stale.relative_to(out / lang).with_suffix("").as_posix() not in known:
                        stale.unlink()
                        print(f"removed {stale} (no row names it)")
    except Failure as failure:
        print(f"make_sounds: {failure}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"make_sounds: {error}", file=sys.stderr)
        return 1
    print(f"wrote {len(chosen) * len(LANGUAGES)} files under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
