"""Inspect and replay dead letters (queue ``pantau.dead-letter``)."""
