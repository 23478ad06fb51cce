"""Graphs that only the tests and the benchmark serve (see :data:`harness.servers.EXTRA_GRAPHS`)."""
