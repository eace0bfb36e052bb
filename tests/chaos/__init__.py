"""The chaos matrix: every fault of issue 10 applied to the real stack while a department sends.

See ``docs/reliability.md`` and ``test_matrix.py``.
"""
