"""Pantau intake: authenticates, validates and accepts department events.

Entry points:

* ``python -m pantau_intake.http`` — the HTTP API (``POST /v1/events``);
* ``python -m pantau_intake.ingress`` — the nameko AMQP ingress (queue ``intake.ingress``);
* ``python -m pantau_intake.credentials`` — department keys and AMQP users;
* operator tools (dead letters, rebuild) live in ``pantau_tools``, above this package;
* the department client is the separate ``pantau_client`` SDK (``libs/client``).

``domain`` and ``service`` are plain Python; everything that touches a framework or a server
lives in ``adapters``, ``http``, ``ingress`` and the CLIs.
"""
