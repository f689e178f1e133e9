"""Load and replay: callers and agents in virtual time, driving the real engine."""
