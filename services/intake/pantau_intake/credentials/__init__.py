"""Department credentials: HTTP signing keys (SQL store) and per-department RabbitMQ users.

``python -m pantau_intake.credentials issue|rotate|revoke|list|bootstrap-dev|apply-amqp``.
"""
