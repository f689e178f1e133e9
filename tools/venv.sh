#!/usr/bin/env bash
# Sourced by ./acd and ./run-tests: make .venv with the project installed, once.
# Works on a fresh Debian machine with Python 3.11: if the venv module is missing
# (Debian ships it as python3-venv) and we may use apt-get, it is installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"
WANT="${ACD_EXTRAS:-base}"
HASH="$(cat "$ROOT/pyproject.toml" "$ROOT"/requirements/*.txt | sha1sum | cut -c1-12)"
STAMP="$VENV/.installed-$HASH-$WANT"

if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PYTHON" -m venv --help >/dev/null 2>&1 || ! "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      echo "acd: installing Debian's python3-venv (needed for the project's virtual environment)" >&2
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    else
      echo "acd: Python's venv module is missing; on Debian: sudo apt-get install python3-venv" >&2
      exit 1
    fi
  fi
  "$PYTHON" -m venv "$VENV"
fi
# The versions are locked (requirements/*.txt, made by tools/lock.sh): every machine
# installs the same ones, checked against their hashes. An install with the test
# tools serves plain runs too.
if [ ! -f "$STAMP" ] && [ ! -f "$VENV/.installed-$HASH-test" ]; then
  # One install at a time (two commands started together after a change of the
  # locked versions): the second waits, then finds the project installed.
  exec 9>"$VENV/.install.lock"
  flock 9
  if [ ! -f "$STAMP" ] && [ ! -f "$VENV/.installed-$HASH-test" ]; then
    echo "acd: installing the project into .venv ($WANT, locked versions)" >&2
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --require-hashes --no-deps \
      -r "$ROOT/requirements/$WANT.txt"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation \
      -e "$ROOT"
    rm -f "$VENV"/.installed-*
    touch "$STAMP"
  fi
  exec 9>&-  # released: the command this set-up runs must not hold it
fi
# The engine compiled with mypyc (acd.native), once per change of its sources, where
# the machine can (a C compiler and Python's headers); one line says what happened.
# The fingerprint is acd.native.fingerprint's, computed without starting Python.
if [ "${ACD_PURE:-}" != 1 ]; then
  FINGERPRINT="$(bash "$ROOT/native/fingerprint.sh")"
  if [ "$(cat "$VENV/acd-native/FINGERPRINT" 2>/dev/null)" != "$FINGERPRINT" ] \
     && [ "$(cat "$VENV/acd-native/TRIED" 2>/dev/null)" != "$FINGERPRINT" ]; then
    "$VENV/bin/python" -m acd.native.build --if-needed >&2 || true
  fi
fi
