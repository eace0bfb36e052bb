"""Nameko entrypoints and dependency providers (eventlet process only)."""
