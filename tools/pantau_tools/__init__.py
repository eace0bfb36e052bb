"""Operator and developer tools: they sit above the libraries and the services and may import
both; nothing imports them (import-linter). One package, one ``python -m`` each:

* ``pantau_tools.demo``: load the demo jurisdictions (``make run``, compose's demo job).
* ``pantau_tools.ready``: wait until a local deployment is ready (``infra/run.sh``, e2e tests).
* ``pantau_tools.deadletters``: list, show, replay and scrub dead letters (docs/reliability.md).
"""
