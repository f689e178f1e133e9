"""Where the queue state lives outside the engine: Redis, or the embedded memory store.

- `keys`: the key layout (every key of a site carries the site as a Redis Cluster
  hash tag);
- `records`: what is stored, as msgspec Structs encoded as MessagePack;
- `base`: the `Store` contract, the lease and its fencing epoch;
- `memory`, `redis`: the two stores behind that contract;
- `projection`: the read model other tools read without the engine;
- `writer`: journal, snapshots and read model written once per loop turn.
"""
