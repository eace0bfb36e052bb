"""The nameko AMQP ingress: ``python -m pantau_intake.ingress`` consumes ``intake.ingress``."""
