"""Pantau's shared adapters: settings, logging, RabbitMQ publishing and topology.

Adapters, not domain: this package may import kombu and httpx, never nameko/eventlet (so FastAPI
processes can use it) and never FastAPI (so nameko processes can).
"""
