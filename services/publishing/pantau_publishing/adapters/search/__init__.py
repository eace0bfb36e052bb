"""The Elasticsearch adapter — the only package of Pantau that imports ``elasticsearch``.

``bootstrap``: templates and aliases (idempotent, race-safe); ``store``: the ``SearchIndex`` and
``CaseReader`` ports; ``rebuild``: fill fresh cases and changes indices and swap both aliases at
once, without downtime.
"""
