"""The Elasticsearch adapter — the only package of Pantau that imports ``elasticsearch``.

``bootstrap``: templates and aliases (idempotent, race-safe); ``store``: the ``SearchIndex`` and
``CaseReader`` ports; ``rebuild``: fill a fresh index and swap the alias without downtime.
"""
