"""Intake's HTTP API (FastAPI). ``create_app(settings)`` builds it; ``python -m
pantau_intake.http`` serves it with uvicorn on PANTAU_INTAKE_HOST:PANTAU_INTAKE_PORT."""

from pantau_intake.http.app import create_app

__all__ = ["create_app"]
