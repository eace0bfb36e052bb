"""Intake's use cases (accept over HTTP, ingest over AMQP) against ports; plain Python."""
