"""The Standar Pelayanan rules of catalogue files (``pantau_contracts.catalogue.checks``), the
``check`` command, the generator, and the shipped West Java catalogue."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml

from pantau_contracts.catalogue import (
    LAPOR,
    REPO_ROOT,
    CatalogueError,
    load_catalogue,
    parse_jurisdiction,
)
from pantau_contracts.catalogue.__main__ import main as check_main

WEST_JAVA = {f"32.{n:02d}" for n in [*range(1, 19), *range(71, 80)]}
ADMINDUK = {"ktp-el", "kartu-keluarga", "akta-kelahiran", "akta-kematian", "pindah-datang", "kia"}


def _service(**overrides: Any) -> dict[str, Any]:
    service: dict[str, Any] = {
        "name": {"id": "PBG", "en": "Building approval"},
        "max_working_days": 10,
        "requirements": ["Sertifikat tanah"],
        "stages": [
            {"code": "verifikasi", "name": {"id": "V", "en": "V"},
             "public_status": "verifikasi", "max_working_days": 3},
            {"code": "proses", "name": {"id": "P", "en": "P"},
             "public_status": "diproses", "max_working_days": 7}],
        "basis": {"max": {"source": "local", "citation": "Perwal 1/2026"},
                  "fee": {"source": "national", "citation": "UU 1/2022"}},
    }
    service.update(overrides)
    return service


def _jurisdiction(code: str = "kota-contoh", region: str | None = "99.71",
                  prefix: str = "KC-", **service: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "code": code, "name": "Kota Contoh", "timezone": "Asia/Jakarta", "version": "1",
        "departments": {"dpmptsp": {"name": {"id": "DPMPTSP", "en": "One-stop office"},
                                    "receipt_prefixes": [f"{prefix}PBG-"],
                                    "services": {"pbg": _service(**service)}}}}
    if region is not None:
        raw["region_code"] = region
    return raw


def _problems(raw: dict[str, Any]) -> list[tuple[str, str, str]]:
    with pytest.raises(CatalogueError) as info:
        parse_jurisdiction(raw, "kota-contoh.yaml")
    return info.value.problems


def _one(raw: dict[str, Any]) -> tuple[str, str]:
    (problem,) = _problems(raw)
    return problem[1].removeprefix("departments.dpmptsp.services.pbg."), problem[2]


PBG = "departments.dpmptsp.services.pbg"


# --- one test per rule ------------------------------------------------------------------------

def test_a_good_file_passes() -> None:
    assert parse_jurisdiction(_jurisdiction()).region_code == "99.71"


def test_region_code_is_required_and_shaped() -> None:
    path, message = _one(_jurisdiction(region=None))
    assert path == "region_code" and "Kemendagri" in message
    raw = _jurisdiction(region="3273")
    assert _problems(raw)[0][1] == "region_code"


def test_every_service_cites_the_basis_of_its_maximum_and_fee() -> None:
    raw = _jurisdiction()
    del raw["departments"]["dpmptsp"]["services"]["pbg"]["basis"]
    assert _one(raw)[0] == "basis"
    path, message = _one(_jurisdiction(basis={"max": {"source": "local", "citation": "X"}}))
    assert path == "basis.fee" and "fee" in message
    bad_source = _jurisdiction(basis={"max": {"source": "made-up", "citation": "X"},
                                      "fee": {"source": "local", "citation": "X"}})
    assert _problems(bad_source)[0][1] == f"{PBG}.basis.max.source"


def test_a_statutory_default_is_five_working_days() -> None:
    default = {"max": {"source": "statutory-default", "citation": "UU 30/2014 Pasal 53"},
               "fee": {"source": "national", "citation": "UU 1/2022"}}
    path, message = _one(_jurisdiction(basis=default))
    assert path == "max_working_days" and "5 working days" in message
    stages = [{"code": "proses", "name": {"id": "P", "en": "P"}, "public_status": "diproses"}]
    parse_jurisdiction(_jurisdiction(basis=default, max_working_days=5, stages=stages))


def test_stage_targets_may_not_add_up_to_more_than_the_maximum() -> None:
    raw = _jurisdiction()
    raw["departments"]["dpmptsp"]["services"]["pbg"]["stages"][0]["max_working_days"] = 4
    path, message = _one(raw)
    assert path == "stages" and "add up to 11, more than the maximum 10" in message


def test_stage_targets_adding_up_to_less_need_a_slack_note() -> None:
    raw = _jurisdiction()
    raw["departments"]["dpmptsp"]["services"]["pbg"]["stages"][1]["max_working_days"] = 5
    path, message = _one(raw)
    assert path == "stages" and "less than the maximum 10" in message and "slack" in message
    raw["departments"]["dpmptsp"]["services"]["pbg"]["slack"] = "2 hari cadangan untuk TTE"
    assert parse_jurisdiction(raw).service("pbg").slack  # type: ignore[union-attr]


def test_slack_is_refused_when_the_targets_add_up() -> None:
    assert _one(_jurisdiction(slack="tidak perlu"))[0] == "slack"


def test_partial_stage_targets_only_need_to_fit() -> None:
    raw = _jurisdiction()
    del raw["departments"]["dpmptsp"]["services"]["pbg"]["stages"][1]["max_working_days"]
    parse_jurisdiction(raw)


def test_a_maximum_in_hours_is_tracked_in_whole_working_days() -> None:
    stages = [{"code": "proses", "name": {"id": "P", "en": "P"}, "public_status": "diproses",
               "max_hours": 24}]
    raw = _jurisdiction(stages=stages, max_duration={"value": 24, "unit": "hours"})
    del raw["departments"]["dpmptsp"]["services"]["pbg"]["max_working_days"]
    service = parse_jurisdiction(raw).service("pbg")
    assert service is not None and service.max_working_days == 1
    assert service.legal_maximum.value == 24 and service.legal_maximum.unit == "hours"
    raw["departments"]["dpmptsp"]["services"]["pbg"]["max_duration"]["value"] = 48
    raw["departments"]["dpmptsp"]["services"]["pbg"]["slack"] = "24 jam cadangan"
    assert parse_jurisdiction(copy.deepcopy(raw)).service("pbg").max_working_days == 2  # type: ignore[union-attr]


def test_hours_and_days_must_agree_and_stages_use_the_unit() -> None:
    problems = _problems(_jurisdiction(max_duration={"value": 24, "unit": "hours"}))
    assert any(p == f"{PBG}.max_working_days" and "disagrees" in m for _, p, m in problems)
    stages = [{"code": "proses", "name": {"id": "P", "en": "P"}, "public_status": "diproses",
               "max_working_days": 1}]
    raw = _jurisdiction(stages=stages, max_duration={"value": 24, "unit": "hours"})
    del raw["departments"]["dpmptsp"]["services"]["pbg"]["max_working_days"]
    path, message = _one(raw)
    assert path == "stages.0.max_working_days" and "use max_hours" in message
    stages[0] = {**stages[0], "max_working_days": None, "max_hours": 30}
    path, message = _one(raw)
    assert path == "stages" and "more than the maximum 24" in message


def test_a_channel_may_not_be_stricter_than_the_service() -> None:
    channel = {"other": {"name": {"id": "Desa", "en": "Village"}, "max_working_days": 9}}
    path, message = _one(_jurisdiction(channels=channel))
    assert path == "channels.other.max_working_days" and "strictest" in message
    channel["other"]["max_working_days"] = 14
    parse_jurisdiction(_jurisdiction(channels=channel))
    unknown = {"desa": {"name": {"id": "Desa", "en": "Village"}, "max_working_days": 14}}
    assert "channels" in _problems(_jurisdiction(channels=unknown))[0][1]


def test_prefix_overlaps_and_region_codes_are_checked_across_files(tmp_path: Path) -> None:
    (tmp_path / "kota-contoh.yaml").write_text(yaml.safe_dump(_jurisdiction()))
    (tmp_path / "kota-lain.yaml").write_text(yaml.safe_dump(
        _jurisdiction("kota-lain", region="99.71", prefix="KC-PBG-")))
    with pytest.raises(CatalogueError) as info:
        load_catalogue(tmp_path)
    messages = {(f, p): m for f, p, m in info.value.problems}
    assert "overlaps" in messages[("kota-lain.yaml", "departments.dpmptsp.receipt_prefixes")]
    assert "99.71 is also the region code of kota-contoh" in messages[("kota-lain.yaml",
                                                                        "region_code")]


# --- the check command ------------------------------------------------------------------------

def test_check_prints_every_problem_with_file_and_path(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "kota-contoh.yaml").write_text(yaml.safe_dump(_jurisdiction(region=None,
                                                                            slack="x")))
    assert check_main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "kota-contoh.yaml: region_code: missing" in out[0]
    assert out[1].startswith(f"kota-contoh.yaml: {PBG}.slack: ")


def test_check_passes_a_good_directory_and_refuses_bad_usage(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "kota-contoh.yaml").write_text(yaml.safe_dump(_jurisdiction()))
    assert check_main(["check", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("ok: 1 jurisdictions, 1 services")
    assert check_main([]) == 2 and check_main(["lint"]) == 2


# --- the shipped catalogue --------------------------------------------------------------------

def test_the_shipped_catalogue_passes_the_check() -> None:
    assert check_main(["check", str(REPO_ROOT / "catalogue")]) == 0


def test_every_west_java_jurisdiction_has_the_core_services() -> None:
    catalogue = load_catalogue()
    assert {j.region_code for j in catalogue.jurisdictions.values()} == WEST_JAVA
    assert catalogue.jurisdiction("kota-bandung").region_code == "32.73"  # type: ignore[union-attr]
    assert catalogue.jurisdiction("kab-bandung").region_code == "32.04"  # type: ignore[union-attr]
    for jurisdiction in catalogue.jurisdictions.values():
        assert jurisdiction.timezone == "Asia/Jakarta", jurisdiction.code
        assert {"pbg", "slf"} <= set(jurisdiction.departments["dpmptsp"].services)
        assert ADMINDUK <= set(jurisdiction.departments["disdukcapil"].services)
        for department in jurisdiction.departments.values():
            for service in department.services.values():
                assert service.basis is not None and service.basis.fee is not None
                assert service.product is not None, (jurisdiction.code, service.code)
        assert jurisdiction.appeals.keberatan.file_within_working_days == 21
        assert jurisdiction.appeals.keberatan.decide_within_working_days == 10
        assert jurisdiction.appeals.keberatan.if_undecided == "deemed-granted"


def test_the_bandung_prefixes_are_unchanged() -> None:
    catalogue = load_catalogue()
    assert catalogue.receipt_owner("BDG-PBG-2026-000001") == ("kota-bandung", "dpmptsp")
    assert catalogue.receipt_owner("BDG-KE-2026-000001") == ("kota-bandung", "disdukcapil")
    assert catalogue.receipt_owner("KABBDG-PBG-1") == ("kab-bandung", "dpmptsp")
    assert catalogue.receipt_owner("KABBDG-AK-1") == ("kab-bandung", "disdukcapil")
    assert catalogue.receipt_owner("DPK-KE-1") == ("kota-depok", "disdukcapil")


def test_the_fact_check_corrections_are_in_the_data() -> None:
    catalogue = load_catalogue()
    kir = catalogue.service("kota-bandung", "uji-berkala")
    assert kir is not None and kir.fee == 0 and "5 Januari 2024" in (kir.fee_note or "")
    assert kir.validity == "6 bulan"
    apotek = catalogue.service("kota-bandung", "izin-apotek")
    assert apotek is not None and apotek.max_working_days == 24
    assert [s.max_working_days for s in apotek.stages] == [6, 6, 12]
    for code, expected in (("pbg", 28), ("izin-klinik", 14)):
        service = catalogue.service("kota-bandung", code)
        assert service is not None and service.slack is None
        assert sum(s.max_working_days or 0 for s in service.stages) == expected
    ktp = catalogue.service("kota-bandung", "ktp-el")
    assert ktp is not None and ktp.basis is not None and ktp.basis.max.source == "national"
    assert (ktp.legal_maximum.value, ktp.legal_maximum.unit) == (24, "hours")
    kab_ktp = catalogue.service("kab-bandung", "ktp-el")
    assert kab_ktp is not None and kab_ktp.max_working_days == 3
    assert kab_ktp.basis is not None and kab_ktp.basis.max.source == "local"
    akta = catalogue.service("kab-bandung", "akta-kelahiran")
    assert akta is not None and akta.max_working_days == 1
    assert akta.channels["other"].max_working_days == 14
    kia = catalogue.service("kota-depok", "kia")
    assert kia is not None and kia.basis is not None
    assert kia.basis.max.source == "statutory-default" and kia.max_working_days == 5
    header = (REPO_ROOT / "catalogue" / "kota-bandung.yaml").read_text().splitlines()[1]
    assert "UU 23/2006 jo. UU 24/2013, Pasal 79A" in header
    assert LAPOR.url == "https://www.lapor.go.id"


def test_the_generated_files_are_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("catalogue_generate",
                                                  REPO_ROOT / "catalogue" / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    assert generate.main(["--check"]) == 0
