"""Pantau publishing: the public side — search index, indexer, portal, APIs, feeds, exports.

Layers: ``domain`` (plain data rules: what a public document is, how a query is built, feed and
Open311 shapes), ``service`` (use cases over ports), ``search`` (the only Elasticsearch adapter),
``indexer`` (nameko consumer), ``portal`` (FastAPI), ``rebuild`` (CLI).
"""
