"""Unit tests run with no servers and write nothing into the repository: every test gets its own
empty state folder (``PANTAU_STATE_DIR``), so a store that opens its SQLite file on first use
(the portal's citizen store) or a dev-key file lands in the test's temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_STATE_DIR", str(tmp_path / "state"))
