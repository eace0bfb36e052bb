"""The public portal (FastAPI): HTML pages, JSON API, Open311, feeds, exports, live updates.

Never imports nameko or eventlet (an import-linter contract checks it). Reads Elasticsearch
through ``pantau_publishing.adapters.search`` behind the ``CaseReader`` port.
"""
