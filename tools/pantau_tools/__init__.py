"""Operator and developer tools: they sit above the libraries and the services and may import
both; nothing imports them (import-linter). One package, one ``python -m`` each:

* ``pantau_tools.demo``: load the demo jurisdictions (``make run``, compose's demo job).
* ``pantau_tools.ready``: wait until a local deployment is ready (``infra/run.sh``, e2e tests).
* ``pantau_tools.deadletters``: list, show, replay and scrub dead letters (docs/reliability.md).
* ``pantau_tools.rebuild`` / ``pantau_tools.reconcile``: rebuild the public index from tracking
  with no downtime, diff it against tracking (nameko RPC clients: they monkey-patch eventlet —
  the rebuild only for its RPC source — so never call them inside another process). The
  rebuild's database source reads through ``pantau_tools.snapshot`` (worker processes on one
  snapshot) and reports through ``pantau_tools.progress``.
"""
