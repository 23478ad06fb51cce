"""``make bench``: what the proxy costs, measured against the direct ``langgraph-sdk`` client.

Run it with ``python -m bench`` (``--help`` lists the knobs, ``--quick`` is a short run).
Results go to ``bench/results/latest.{md,json,png}``; the README's "Benchmark" section shows
the latest table.
"""
