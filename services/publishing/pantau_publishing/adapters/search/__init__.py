"""The Elasticsearch adapters — the only package of Pantau that imports ``elasticsearch``.

``client``: the client and index names behind an alias; ``bootstrap``: templates and aliases
(idempotent, race-safe); ``store``: the ``SearchIndex`` and ``CaseReader`` ports; ``failures``:
which errors are transient; ``metrics``: what bulk writes report; ``rebuild``: fill fresh cases
and changes indices and swap both aliases at once, without downtime; ``reconcile``: the index
side of the diff against tracking.
"""
