"""The indexer: a nameko service consuming ``publishing.cases`` in batches into Elasticsearch."""
