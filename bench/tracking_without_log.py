"""``python -m pantau_tracking`` with the transparency log switched off — FOR BENCHMARKS ONLY.

``bench.pipeline_log_cost`` runs this next to the shipped module to measure what the log costs the
pipeline. It replaces the store's two log calls (building each step's leaf, queueing it) with
no-ops inside this process; Pantau itself has no setting that turns the log off.
"""

import pantau_tracking.__main__ as entry  # first: it monkey-patches eventlet
from pantau_tracking.adapters import store

store.log_leaf = lambda case, entry: None  # type: ignore[assignment,misc]
store.queue_entries = lambda connection, leaves, now=None: 0  # type: ignore[assignment,misc]

if __name__ == "__main__":
    raise SystemExit(entry.main())
