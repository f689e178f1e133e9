"""The wallboard and the supervisor API: server-sent updates of the live snapshot,
JSON REST with an OpenAPI description, Prometheus `/metrics`, and a static page.

It runs inside `acd serve` (reading the engine) or beside it (`acd wallboard`,
reading the store's read model only); supervisor actions reach the engine as events.
"""
