#!/usr/bin/env bash
# Make the locked versions again from pyproject.toml's ranges, with pip-tools:
#   tools/lock.sh             keep every pin that still fits the ranges
#   tools/lock.sh --upgrade   take the newest versions the ranges allow
# Writes requirements/base.txt (what `./acd` installs) and requirements/test.txt
# (that plus the test tools, at the same versions), every file with its hashes.
# Installs use them with `pip install --require-hashes` (tools/venv.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$(mktemp -d)"
trap 'rm -rf "$TOOLS"' EXIT
python3 -m venv "$TOOLS"
"$TOOLS/bin/python" -m pip install -q "pip-tools==7.6.2"
cd "$ROOT"
compile=("$TOOLS/bin/pip-compile" -q --generate-hashes --allow-unsafe --strip-extras
         --no-emit-index-url --no-emit-find-links --all-build-deps "$@")
"${compile[@]}" -o requirements/test.txt --extra test --extra native pyproject.toml
# base.txt is test.txt's subset: the same versions with and without the test tools
# (with mypy, whose mypyc compiles the engine at set-up: the native extra).
"${compile[@]}" -o requirements/base.txt -c requirements/test.txt --extra native pyproject.toml
echo "lock: requirements/base.txt and requirements/test.txt written"
