"""Tracking's domain: plain Python, no frameworks or I/O clients (enforced by import-linter)."""
