"""Nameko extensions shared by Pantau's nameko processes (tracking, publishing indexer).

Only nameko processes (eventlet, monkey-patched first thing) import this package; the FastAPI apps
never do (an import-linter contract enforces it).
"""
