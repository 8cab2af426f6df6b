"""The pure core: every decision of the follow-up cycle, made from facts and ``now``.

Nothing here reads a file, a socket, the environment or the clock; a test (tests/unit/
test_layers.py) holds it to that. It imports only the standard library, a few pure libraries
and :mod:`inbox_followup.errors`."""
