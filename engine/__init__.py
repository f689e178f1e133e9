"""The sans-IO core of the ACD: events in, commands out, no clock, no sockets.

from engine import Engine
engine = Engine(site_config, rng=random.Random(seed))
commands = engine.handle(events.CallArrived(call_id="c1", caller="0101234"), now)
"""

from engine.core import Engine

__all__ = ["Engine"]
