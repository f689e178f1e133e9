"""The Asterisk adapter: ARI (REST + WebSocket) records and, later, the controller.

`ari.models` holds typed records for every ARI resource and event, generated from
Asterisk's own description in `ari/spec/` by `python ari/generate_models.py`.
"""
