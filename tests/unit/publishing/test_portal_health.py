"""The portal's readiness names what it waits for (Elasticsearch) while the cluster is away."""

from __future__ import annotations

from typing import Any

from elasticsearch import ConnectionError
from fastapi.testclient import TestClient

from pantau_publishing.portal.app import create_app
from pantau_publishing.service.records import PublicRecords
from pantau_publishing.settings import PublishingSettings
from tests.unit.publishing.fakes import FakeReader


class Cluster:
    def __init__(self) -> None:
        self.away = False
        self.cluster = self

    def health(self, **_kwargs: Any) -> dict[str, Any]:
        if self.away:
            raise ConnectionError("Connection refused")
        return {"status": "green"}


def test_readyz_is_a_503_problem_naming_elasticsearch_while_it_is_away() -> None:
    app = create_app(PublishingSettings(), PublicRecords(FakeReader()))
    es = Cluster()
    app.state.es = es
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json() == {"status": "ok"}
        es.away = True
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["Retry-After"] == "5"
        body = response.json()
        assert body["detail"] == "degraded: waiting for elasticsearch"
        assert body["waiting_for"] == ["elasticsearch"] and body["reason"] == "ConnectionError"
        assert body["status"] == 503
        es.away = False
        assert client.get("/readyz").status_code == 200
