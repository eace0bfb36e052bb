"""A real ``python -m pantau_intake.http`` (uvicorn) on a free port, with the dev keys bootstrapped
in a fresh state folder: the fixture body shared by the tests that need a real socket."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.settings import IntakeSettings
from tests.conftest import wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_intake(start_service: Callable[..., Any], state: Path, **env: str) -> str:
    """Start intake's HTTP process; its base URL once ``/readyz`` answers 200."""
    assert credentials_main(["bootstrap-dev"], settings=IntakeSettings(state_dir=state)) == 0
    port = free_port()
    start_service("pantau_intake.http", PANTAU_INTAKE_PORT=str(port),
                  PANTAU_STATE_DIR=str(state), **env)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(url + "/readyz", timeout=1).status_code == 200, timeout=30,
             message="intake HTTP ready")
    return url
