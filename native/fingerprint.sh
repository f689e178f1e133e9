#!/usr/bin/env bash
# The fingerprint of the sources a build of the engine depends on, as
# acd.native.fingerprint() computes it, without starting Python (tools/venv.sh runs
# this on every ./acd): the sha256 of what `sha256sum` prints for every module of
# the parts named in native/MODULES, config/schema.py and native/MODULES, in name
# order (tests/test_native.py checks that both agree).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
parts="$(grep -v '^#' native/MODULES | grep . | cut -d/ -f1 | LC_ALL=C sort -u)"
files="$(
  for part in $parts; do ls "$part"/*.py; done
  echo config/schema.py
  echo native/MODULES
)"
# shellcheck disable=SC2086  # one file name a word: none has a space
sha256sum $(echo "$files" | LC_ALL=C sort) | sha256sum | cut -d' ' -f1
