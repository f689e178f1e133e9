"""acd: a real-time ACD and queue engine for Asterisk.

The parts live in the project's top-level folders (`engine/`, `config/`, `cli/`,
`softphone_sim/`, `ari/`, `store/`, `load/`, `web/`, `queue_log/`) and are installed
under this one namespace: `acd.engine`, `acd.config`, ... (`src/acd/` holds links to
those folders, so the wheel, the editable install, mypy and import-linter all see one
package).
"""

__version__ = "0.1.0"

from acd import native as _native

_native.activate()  # the engine compiled with mypyc, when this environment has a build
