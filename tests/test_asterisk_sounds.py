"""The engine's own prompts (config/asterisk/sounds) and `acd check --asterisk`.

Without Asterisk: every prompt the built-in defaults, the sample dialplan and
config/seoul120.yaml play that Asterisk's core sounds lack is shipped as a WAV in
Korean and English, in the format Asterisk plays without transcoding.

Against a real Asterisk (tests/asterisk.py, which installs those WAVs next to the
core sounds as config/asterisk/README.md tells an operator to): Asterisk indexes
them in both languages, `acd check CONFIG --asterisk URL` passes for the lab's site
and seoul120 and names a prompt nobody recorded, and a call through the IVR hears
the project's prompts without a "does not exist in any format" in Asterisk's log.
"""

from __future__ import annotations

import array
import os
import re
import shutil
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from acd.cli.check import sound_uses
from acd.config import schema
from acd.config.loader import load_site
from tests.asterisk import PASSWORD, ROOT, SAMPLES, USER, AsteriskServer, Peers, free_udp_port
from tests.lab import SITE, Lab
from tests.sipp import Key

SOUNDS = SAMPLES / "sounds"
LANGUAGES = ("ko", "en")
SEOUL = ROOT / "config" / "seoul120.yaml"
CORE = {"vm-goodbye", "beep", "pbx-invalid"}
"""The sounds the defaults and the dialplan take from Asterisk's English core sounds
(checked against a real Asterisk below); every other one the project ships."""
ISSUE = {
    "an-error-has-occurred", "option-is-invalid", "queue-callback-offer",
    "queue-callback-confirm", "abusive-caller-warning", "visible-ars-sent", "queue-full",
    "custom/acd-service-moving",
}
"""The names the issue found missing: they stay shipped whatever the walk finds."""
MADE_WITH_ESPEAK = "1.51"
"""The espeak-ng version the committed WAVs were spoken with (`espeak-ng --version`):
another version may speak a little differently, so byte-identity is checked only
with this one."""
MISSING_FILE = "does not exist in any format"
"""What Asterisk logs (WARNING) when it cannot find a sound in any language."""


def shipped() -> list[str]:
    """The names prompts.tsv lists (comment lines and the header row skipped)."""
    names = []
    for line in (SOUNDS / "prompts.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and not line.startswith("name\t"):
            names.append(line.split("\t")[0])
    return names


def default_sounds() -> set[str]:
    """Every sound a record of config/schema.py plays by default: the defaults of all
    the records' fields, walked like a loaded configuration, so that a default added
    to the schema is found without being named here."""
    found: set[str] = set()
    for record in vars(schema).values():
        if not (isinstance(record, type) and issubclass(record, msgspec.Struct)):
            continue
        for field in msgspec.structs.fields(record):
            default: object = field.default
            if field.default_factory is not msgspec.NODEFAULT:
                default = field.default_factory()
            found |= {uri.removeprefix("sound:") for uri, _ in sound_uses(default)}
    return found


def dialplan_sounds() -> set[str]:
    """The sounds the sample dialplan plays itself (Playback(...))."""
    text = (SAMPLES / "extensions.conf").read_text()
    return set(re.findall(r"(?m)^[^;]*Playback\(([^),]+)", text))


def seoul_custom_sounds() -> set[str]:
    site = load_site(SEOUL)
    return {uri.removeprefix("sound:") for uri, _ in sound_uses(site)
            if uri.startswith("sound:custom/")}


# ---------------------------------------------------------------- the files themselves


def test_every_prompt_the_defaults_dialplan_and_seoul120_play_is_shipped() -> None:
    names = set(shipped())
    assert len(names) == len(shipped()), "a name is listed twice in prompts.tsv"
    assert names >= ISSUE
    assert default_sounds() - CORE <= names, default_sounds() - CORE - names
    assert dialplan_sounds() - CORE <= names, dialplan_sounds() - CORE - names
    assert len(seoul_custom_sounds()) >= 28
    assert seoul_custom_sounds() <= names, seoul_custom_sounds() - names


def test_every_prompt_is_an_8_khz_mono_16_bit_wav_in_korean_and_english() -> None:
    names = shipped()
    for name in names:
        heard = {}
        for lang in LANGUAGES:
            path = SOUNDS / lang / f"{name}.wav"
            assert path.is_file(), f"{path} is missing: run config/asterisk/sounds/make_sounds.py"
            with wave.open(str(path)) as wav:
                assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth(),
                        wav.getcomptype()) == (8000, 1, 2, "NONE"), path
                seconds = wav.getnframes() / 8000
                samples = array.array("h", wav.readframes(wav.getnframes()))
            assert 0.5 < seconds < 30, f"{path}: {seconds:.1f} s"
            # Someone speaks: the peak is well above silence (make_sounds levels to -3 dBFS).
            assert max(abs(s) for s in samples) > 8000, f"{path} is (nearly) silent"
            heard[lang] = samples
        assert heard["ko"] != heard["en"], f"{name}: the Korean file is the English one"
    # Nothing else: a WAV no row names would be installed and never kept up to date.
    on_disk = {p.relative_to(SOUNDS / lang).with_suffix("").as_posix()
               for lang in LANGUAGES for p in (SOUNDS / lang).rglob("*")
               if p.is_file()}
    assert on_disk == set(names)


def test_the_whole_set_stays_a_few_megabytes() -> None:
    total = sum(p.stat().st_size for lang in LANGUAGES for p in (SOUNDS / lang).rglob("*.wav"))
    assert total < 8_000_000, f"{total} bytes"


def test_make_sounds_writes_the_committed_files_again(tmp_path: Path) -> None:
    """The WAVs are what prompts.tsv says: regenerated, they are byte-identical (so
    a text edited without regenerating, or a hand-edited WAV, fails here)."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.skip("espeak-ng and sox are not installed (Debian packages espeak-ng, sox)")
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True,
                             check=True).stdout
    if f"text-to-speech: {MADE_WITH_ESPEAK} " not in version:
        pytest.skip(f"espeak-ng is not {MADE_WITH_ESPEAK}, which made the WAVs: {version}")
    done = subprocess.run(
        [sys.executable, str(SOUNDS / "make_sounds.py"), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    for name in shipped():
        for lang in LANGUAGES:
            made = (tmp_path / lang / f"{name}.wav").read_bytes()
            assert made == (SOUNDS / lang / f"{name}.wav").read_bytes(), (
                f"{lang}/{name}.wav differs from what make_sounds.py writes: regenerate it"
            )


def test_make_sounds_names_an_unknown_prompt_in_one_line() -> None:
    done = subprocess.run(
        [sys.executable, str(SOUNDS / "make_sounds.py"), "no/such-prompt"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 1
    assert done.stderr == "make_sounds: NAME: not in prompts.tsv: no/such-prompt\n"


# ---------------------------------------------------------------- acd check --asterisk


def check(*args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    """`acd check ARGS` as an operator runs it, with the engine's ARI credentials."""
    env = dict(os.environ, ACD_ARI_USER=USER, ACD_ARI_PASSWORD=password)
    return subprocess.run(
        [sys.executable, "-m", "acd.cli.main", "check", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )


def edited(text: str, old: str, new: str) -> str:
    """`text` with `old` replaced; fails when `old` is not there (the fixture moved)."""
    assert old in text, old
    return text.replace(old, new)


@pytest.fixture(scope="module")
def asterisk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsteriskServer]:
    """One Asterisk for the checks that make no call."""
    server = AsteriskServer(tmp_path_factory.mktemp("asterisk"),
                            Peers(callers=(free_udp_port(),), agents={}))
    try:
        yield server
    finally:
        server.close()


def indexed(asterisk: AsteriskServer) -> dict[str, set[str]]:
    """Sound id -> languages, as Asterisk's GET /sounds lists them."""
    return {s["id"]: {f["language"] for f in s["formats"]} for s in asterisk.get("/sounds")}


def test_asterisk_indexes_every_prompt_in_both_languages(asterisk: AsteriskServer) -> None:
    offer = asterisk.get("/sounds/queue-callback-offer")
    assert {f["language"] for f in offer["formats"]} == {"ko", "en"}
    have = indexed(asterisk)
    for name in shipped():
        assert have.get(name) == {"ko", "en"}, name
    # What the project takes from the core sounds is there...
    for name in CORE:
        assert "en" in have.get(name, set()), name
    # ...and what it ships is not a core sound it would silently replace.
    core = asterisk.prefix / "var" / "lib" / "asterisk" / "sounds" / "en"
    assert [n for n in shipped() if list(core.glob(f"{n}.*"))] == []


def test_check_passes_for_the_lab_site(asterisk: AsteriskServer) -> None:
    done = check(str(SITE), "--asterisk", asterisk.ari_url)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert f"{SITE}: sounds: all " in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_check_names_a_prompt_asterisk_does_not_have(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(edited(SITE.read_text(), 'prompt: ["sound:hello-world"]',
                           'prompt: ["sound:custom/no-such-prompt"]'))
    done = check(str(site), "--asterisk", asterisk.ari_url)
    assert done.returncode == 1
    assert (f"{site}: sound:custom/no-such-prompt: missing in en (at ivr.nodes.menu.prompt)\n"
            in done.stderr)
    # Only that one: every default in effect is installed.
    assert done.stderr.count("missing in") == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_check_lists_a_prompt_only_in_english_without_failing(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    """A Korean site: Asterisk plays the English core sound instead (listed, passes);
    the project's own prompts are there in Korean (not listed)."""
    site = tmp_path / "site.yaml"
    site.write_text(edited(SITE.read_text(), "default_language: en}",
                           "languages: [ko, en], default_language: ko}"))
    done = check(str(site), "--asterisk", asterisk.ari_url)
    assert done.returncode == 0, done.stderr
    assert (f"{site}: sound:hello-world: missing in ko; Asterisk plays the en file instead "
            "(at ivr.nodes.menu.prompt)\n") in done.stderr
    assert "custom/acd-service-moving" not in done.stderr
    assert "option-is-invalid" not in done.stderr
    assert "sounds: all " in done.stdout


def test_check_passes_for_seoul120_with_the_projects_prompts(asterisk: AsteriskServer) -> None:
    done = check(str(SEOUL), "--asterisk", asterisk.ari_url)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    # No Korean caller misses a prompt of the centre's own: only the stock sounds
    # (English only in Asterisk's core sounds) and the foreign languages are listed.
    assert [line for line in lines if "sound:custom/" in line and "missing in ko" in line] == []
    assert any("sound:queue-youarenext: missing in ko" in line for line in lines)
    assert all("Asterisk plays the en file instead" in line for line in lines), lines


def test_check_says_in_one_line_that_asterisk_refused_the_password(
    asterisk: AsteriskServer,
) -> None:
    done = check(str(SITE), "--asterisk", asterisk.ari_url, password="wrong")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"acd check: --asterisk {asterisk.ari_url}: Asterisk refused the ARI credentials of "
        "user 'acd' (HTTP 401): check ACD_ARI_USER and ACD_ARI_PASSWORD or "
        "--ari-password-file against ari.conf"
    ]


def test_check_says_in_one_line_that_asterisk_cannot_be_reached() -> None:
    port = free_udp_port()  # a port nobody listens on with TCP either
    done = check(str(SITE), "--asterisk", f"http://127.0.0.1:{port}")
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"acd check: --asterisk http://127.0.0.1:{port}: cannot reach "
                           "Asterisk: "), line


def test_check_names_the_flag_of_a_url_that_is_not_one() -> None:
    done = check(str(SITE), "--asterisk", "127.0.0.1:8088")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "acd check: --asterisk 127.0.0.1:8088: expected Asterisk's HTTP server, "
        "http(s)://HOST:PORT (e.g. http://127.0.0.1:8088)"
    ]
    assert done.stdout == ""


# ---------------------------------------------------------------- a call hears them


def test_a_call_through_the_menu_hears_the_projects_prompts(tmp_path: Path) -> None:
    """A Korean caller hears custom/main-menu, presses a wrong key (the default
    `option-is-invalid`), then 9 for the goodbye, which names a prompt nobody
    recorded: Asterisk logs that one as missing, and no other."""
    with Lab(tmp_path) as lab:
        site = tmp_path / "site.yaml"
        text = edited(SITE.read_text(), "default_language: en}",
                      "languages: [ko, en], default_language: ko}")
        text = edited(text, 'prompt: ["sound:hello-world"]', 'prompt: ["sound:custom/main-menu"]')
        text = edited(text, 'prompt: ["sound:vm-goodbye"]',
                      'prompt: ["sound:custom/no-such-prompt"]')
        site.write_text(text)
        lab.start_engine(site)
        caller = lab.call(keys=(Key("7", after=2.0), Key("9", after=6.0)), patience=60.0)
        caller.wait_for("1 ended by far end")
        assert caller.log() == ["1 answered", "1 pressed 7", "1 pressed 9", "1 ended by far end"]
        lab.until_no_channels()
        lab.stop_engine()
        played = lab.asterisk.played()
        assert ("custom/main-menu", "ko") in played, played
        assert ("option-is-invalid", "ko") in played, played
        missing = [line for line in lab.asterisk.warnings() if MISSING_FILE in line]
        assert len(missing) >= 1, "the goodbye's missing prompt was not even noticed"
        assert all("custom/no-such-prompt" in line for line in missing), missing
