"""Versioned, frozen payload models. A new version is a new class; old ones are never edited."""
