"""Settings refuse what they cannot mean: ``PANTAU_ENV`` is development or production only."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pantau_platform.settings import PantauSettings


def test_env_accepts_only_development_or_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_ENV", "prod")  # must not quietly mean development
    with pytest.raises(ValidationError):
        PantauSettings()
    monkeypatch.setenv("PANTAU_ENV", "production")
    assert PantauSettings().production
    monkeypatch.delenv("PANTAU_ENV")
    assert not PantauSettings().production
