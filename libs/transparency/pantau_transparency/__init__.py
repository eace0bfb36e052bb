"""Pantau's transparency log: an RFC 9162 Merkle log of public timeline entries.

A plain library (no service imports; import-linter checks it). Tracking appends entries in the
same transaction as the history (``sql.queue_entries``) and runs the ``sql.Sequencer``; the portal
serves ``sql.LogReader``'s answers. Modules:

* ``merkle`` — RFC 9162 §2.1 hashing, PATH/PROOF from stored subtree hashes, verifiers.
* ``leaf`` — the canonical (RFC 8785) leaf of one public timeline entry.
* ``keys`` — Ed25519 keys: settings, development key, key ids, key listing.
* ``checkpoint`` — the signed note (checkpoint) and its JSON form.
* ``sql`` — tables, queue, sequencer and reader on SQLAlchemy Core.
"""
