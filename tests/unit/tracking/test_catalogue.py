"""The service catalogue: the shipped files load, broken files fail with precise errors."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from pantau_contracts.catalogue import (
    CatalogueError,
    load_catalogue,
    parse_jurisdiction,
)
from pantau_contracts.vocabulary import PublicStatus


def _good() -> dict[str, Any]:
    return {
        "code": "kota-contoh",
        "name": "Kota Contoh",
        "region_code": "99.71",
        "timezone": "Asia/Makassar",
        "version": "1",
        "departments": {
            "dpmptsp": {
                "name": {"id": "DPMPTSP", "en": "One-stop office"},
                "receipt_prefixes": ["KC-PBG-"],
                "services": {
                    "pbg": {
                        "name": {"id": "PBG", "en": "Building approval"},
                        "max_working_days": 10,
                        "requirements": ["Sertifikat tanah"],
                        "stages": [
                            {"code": "verifikasi", "name": {"id": "V", "en": "V"},
                             "public_status": "verifikasi", "max_working_days": 3},
                            {"code": "proses", "name": {"id": "P", "en": "P"},
                             "public_status": "diproses", "max_working_days": 7},
                        ],
                        "basis": {"max": {"source": "local", "citation": "Perwal 1/2026"},
                                  "fee": {"source": "national", "citation": "UU 1/2022"}},
                    }
                },
            }
        },
    }


def _problems(raw: dict[str, Any]) -> list[tuple[str, str, str]]:
    with pytest.raises(CatalogueError) as info:
        parse_jurisdiction(raw, "kota-contoh.yaml")
    return info.value.problems


def test_shipped_catalogue_loads_and_is_realistic() -> None:
    catalogue = load_catalogue()
    bandung = catalogue.jurisdiction("kota-bandung")
    assert bandung is not None and bandung.timezone == "Asia/Jakarta"
    assert {"dpmptsp", "disdukcapil"} <= set(bandung.departments)
    assert len(bandung.departments) >= 4
    pbg = catalogue.service("kota-bandung", "pbg")
    assert pbg is not None and pbg.department_code == "dpmptsp" and pbg.max_working_days == 28
    for service in bandung.departments["disdukcapil"].services.values():
        assert service.fee == 0  # free by law
    for jurisdiction in catalogue.jurisdictions.values():
        for department in jurisdiction.departments.values():
            for service in department.services.values():
                assert 2 <= len(service.stages) <= 5 or jurisdiction.code != "kota-bandung"
                assert service.name.id and service.name.en and service.requirements
    assert catalogue.jurisdiction("kab-bandung") is not None
    assert catalogue.department("kota-bandung", "dinkes") is not None
    assert catalogue.service("kota-bandung", "nope") is None
    assert catalogue.service("nowhere", "pbg") is None
    assert "kota-bandung@" in catalogue.version


def test_definition_snapshot_carries_version() -> None:
    definition = load_catalogue().definition("kota-bandung", "ktp-el")
    assert definition is not None
    assert definition.catalogue_version == "kota-bandung@2026.2"
    assert definition.department_code == "disdukcapil"
    assert definition.service.stages[0].public_status is PublicStatus.VERIFIKASI


def test_good_mapping_fills_codes_from_keys() -> None:
    jurisdiction = parse_jurisdiction(_good())
    assert jurisdiction.departments["dpmptsp"].services["pbg"].department_code == "dpmptsp"


def test_duplicate_stage_codes_are_named() -> None:
    raw = _good()
    stages = raw["departments"]["dpmptsp"]["services"]["pbg"]["stages"]
    stages[1]["code"] = "verifikasi"
    (problem,) = _problems(raw)
    assert problem[0] == "kota-contoh.yaml"
    assert problem[1] == "departments.dpmptsp.services.pbg.stages.1.code"
    assert "duplicate stage code" in problem[2]


def test_unknown_public_status() -> None:
    raw = _good()
    raw["departments"]["dpmptsp"]["services"]["pbg"]["stages"][0]["public_status"] = "selesai"
    (problem,) = _problems(raw)
    assert problem[1].endswith("stages.0.public_status")
    assert "verifikasi or diproses" in problem[2]
    raw["departments"]["dpmptsp"]["services"]["pbg"]["stages"][0]["public_status"] = "menunggu"
    (problem,) = _problems(raw)
    assert problem[1].endswith("stages.0.public_status")


def test_unknown_timezone() -> None:
    raw = _good()
    raw["timezone"] = "Asia/Bandung"
    (problem,) = _problems(raw)
    assert problem[1] == "timezone" and "IANA" in problem[2]


def test_stage_max_above_service_max_is_refused() -> None:
    raw = _good()
    parse_jurisdiction(copy.deepcopy(raw))
    raw["departments"]["dpmptsp"]["services"]["pbg"]["stages"][1]["max_working_days"] = 11
    (problem,) = _problems(raw)
    assert problem[1].endswith("stages.1.max_working_days")
    assert "exceeds the service maximum 10" in problem[2]


def test_missing_and_extra_fields() -> None:
    raw = _good()
    del raw["departments"]["dpmptsp"]["services"]["pbg"]["max_working_days"]
    raw["departments"]["dpmptsp"]["services"]["pbg"]["colour"] = "red"
    paths = {p[1] for p in _problems(raw)}
    assert "departments.dpmptsp.services.pbg.max_working_days" in paths
    assert "departments.dpmptsp.services.pbg.colour" in paths


def test_duplicate_service_code_across_departments() -> None:
    raw = _good()
    raw["departments"]["dinkes"] = copy.deepcopy(raw["departments"]["dpmptsp"])
    raw["departments"]["dinkes"]["receipt_prefixes"] = ["KC-DKS-"]
    (problem,) = _problems(raw)
    assert "unique" in problem[2]


def test_files_on_disk(tmp_path: Path) -> None:
    (tmp_path / "kota-contoh.yaml").write_text(yaml.safe_dump(_good()))
    catalogue = load_catalogue(tmp_path)
    assert catalogue.version == "kota-contoh@1"
    (tmp_path / "kota-lain.yaml").write_text(yaml.safe_dump(_good()))  # code != file name
    (tmp_path / "rusak.yaml").write_text("code: [unclosed")
    with pytest.raises(CatalogueError) as info:
        load_catalogue(tmp_path)
    files = {p[0] for p in info.value.problems}
    assert files == {"kota-lain.yaml", "rusak.yaml"}
    assert "must equal the file name" in str(info.value)


def test_env_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "kota-contoh.yaml").write_text(yaml.safe_dump(_good()))
    monkeypatch.setenv("PANTAU_CATALOGUE_DIR", str(tmp_path))
    assert set(load_catalogue().jurisdictions) == {"kota-contoh"}


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="no \\*.yaml"):
        load_catalogue(tmp_path)
