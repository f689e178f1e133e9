"""The `acd` command line."""
