"""Test and benchmark tooling: the mutation fuzzer and the synthetic-report
generator.  Not part of the ``helpers`` package researchers import; used by
``tests/``, ``benchmarks/`` and ``scripts/`` (the repository root on the path).
"""
