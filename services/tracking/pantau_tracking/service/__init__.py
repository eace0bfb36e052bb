"""Tracking's use cases over ports (plain Python; adapters implement the ports)."""
