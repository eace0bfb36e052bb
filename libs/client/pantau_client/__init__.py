"""Pantau's department SDK (distribution ``pantau-client``): send case events to intake.

* ``pantau_client.http_sender.HttpSender`` — signed HTTP (scheme v2, ``pantau_contracts.signing``);
* ``pantau_client.department.DepartmentClient`` — AMQP on pika with a store-and-forward spool;
* ``pantau-client`` / ``python -m pantau_client`` — the CLI (send, bulk import, flush).

It depends on ``pantau-contracts``, httpx, pika and tqdm only, never on a Pantau service, and
reads its own settings (``PANTAU_CLIENT_*`` environment variables or CLI flags). Importing this
package imports nothing heavy; ``department`` needs pika and ``http_sender`` httpx.
"""
