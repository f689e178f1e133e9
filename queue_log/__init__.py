"""Asterisk's queue_log, written as app_queue writes it, for the reporting tools that
read it (QueueMetrics, Asternic)."""
