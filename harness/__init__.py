"""What the tests and the benchmark run the product with: real servers and test-only graphs.

Neither ``tests/`` nor ``bench/`` import each other; both import this package. Nothing here
ships: the wheel and the images hold ``agent/`` and ``proxy/`` only.
"""
