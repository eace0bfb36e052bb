"""The portal's own production needs: a public base URL that is not loopback (every feed and
link carries it), the transparency log's read-only URL and a real survey-code secret."""

from __future__ import annotations

import pytest

from pantau_publishing.settings import PublishingSettings

SURVEY = "k" * 40  # PANTAU_SURVEY_SECRET: random, 32+ characters


def problems(**values: str) -> list[str]:
    values.setdefault("survey_secret", SURVEY)
    return PublishingSettings(**values).portal_production_problems()  # type: ignore[arg-type]


def test_a_configured_portal_has_no_problem() -> None:
    assert problems(public_base_url="https://pantau.jabarprov.go.id",
                    transparency_database_url="postgresql://pantau_portal:s3cret@db/pantau") == []


@pytest.mark.parametrize("secret", ["", "short", "dev-only-survey-secret-NOT-FOR-PRODUCTION"])
def test_a_missing_short_or_development_survey_secret_is_named(secret: str) -> None:
    found = problems(public_base_url="https://pantau.example", survey_secret=secret,
                     transparency_database_url="postgresql://r:s@db/p")
    assert len(found) == 1 and "PANTAU_SURVEY_SECRET" in found[0]


@pytest.mark.parametrize("base", ["", "http://127.0.0.1:8000", "http://localhost/",
                                  "http://[::1]:8000"])
def test_a_missing_or_loopback_base_url_is_named(base: str) -> None:
    found = problems(public_base_url=base, transparency_database_url="postgresql://r:s@db/p")
    assert len(found) == 1 and "PANTAU_PUBLIC_BASE_URL" in found[0]


def test_a_missing_transparency_url_is_named() -> None:
    found = problems(public_base_url="https://pantau.example")
    assert len(found) == 1 and "PANTAU_TRANSPARENCY_DATABASE_URL" in found[0]
