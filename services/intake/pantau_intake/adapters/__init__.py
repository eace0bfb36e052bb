"""Adapters implementing intake's ports on real infrastructure (SQL, RabbitMQ, catalogue)."""
