"""The sans-IO core of the ACD: events in, commands out, no clock, no sockets.

from acd.engine import Engine
engine = Engine(site_config, rng=random.Random(seed))
commands = engine.handle(events.CallArrived(call_id="c1", caller="0101234"), now)
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from acd.engine.core import Engine
else:

    def __getattr__(name: str) -> Any:
        # Lazy, so that tools which need only a helper (the virtual PBX reads shift
        # windows with engine.localtime) do not load the whole engine.
        if name == "Engine":
            from acd.engine.core import Engine

            return Engine
        raise AttributeError(name)


__all__ = ["Engine"]
