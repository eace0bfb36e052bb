"""Write the catalogue files of the West Java kota/kabupaten whose own Standar Pelayanan is not
known yet, from one national template (every figure ``source: national`` or
``statutory-default``, never an invented local one).

    python catalogue/generate.py            # (re)write the generated files
    python catalogue/generate.py --check    # exit 1 if a generated file is missing or differs

The YAML files are the source of truth that Pantau loads; this script only writes them.
Kota Bandung and Kabupaten Bandung are maintained by hand (they carry local figures) and are
never written here. Once a jurisdiction's own standard is known, edit its file by hand and add
it to ``HAND_MAINTAINED`` so that it is not overwritten.

Region codes and names: Kepmendagri 300.2.2-2138/2430 Tahun 2025 as transcribed in
cahyadsn/wilayah (see shared/reference/catalogue-facts.md §6). Receipt prefixes are
``<ROOT>-<SERVICE>-`` with a root unique to each jurisdiction, so no two departments overlap.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

DIRECTORY = Path(__file__).resolve().parent
VERSION = "2026.1"
HAND_MAINTAINED = frozenset({"kota-bandung", "kab-bandung"})

# (file code, name, Kemendagri region code, receipt prefix root)
JURISDICTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("kab-bogor", "Kabupaten Bogor", "32.01", "KABBGR"),
    ("kab-sukabumi", "Kabupaten Sukabumi", "32.02", "KABSMI"),
    ("kab-cianjur", "Kabupaten Cianjur", "32.03", "KABCJR"),
    ("kab-bandung", "Kabupaten Bandung", "32.04", "KABBDG"),
    ("kab-garut", "Kabupaten Garut", "32.05", "KABGRT"),
    ("kab-tasikmalaya", "Kabupaten Tasikmalaya", "32.06", "KABTSM"),
    ("kab-ciamis", "Kabupaten Ciamis", "32.07", "KABCMS"),
    ("kab-kuningan", "Kabupaten Kuningan", "32.08", "KABKNG"),
    ("kab-cirebon", "Kabupaten Cirebon", "32.09", "KABCRB"),
    ("kab-majalengka", "Kabupaten Majalengka", "32.10", "KABMJL"),
    ("kab-sumedang", "Kabupaten Sumedang", "32.11", "KABSMD"),
    ("kab-indramayu", "Kabupaten Indramayu", "32.12", "KABIDM"),
    ("kab-subang", "Kabupaten Subang", "32.13", "KABSBG"),
    ("kab-purwakarta", "Kabupaten Purwakarta", "32.14", "KABPWK"),
    ("kab-karawang", "Kabupaten Karawang", "32.15", "KABKRW"),
    ("kab-bekasi", "Kabupaten Bekasi", "32.16", "KABBKS"),
    ("kab-bandung-barat", "Kabupaten Bandung Barat", "32.17", "KABBDB"),
    ("kab-pangandaran", "Kabupaten Pangandaran", "32.18", "KABPND"),
    ("kota-bogor", "Kota Bogor", "32.71", "BGR"),
    ("kota-sukabumi", "Kota Sukabumi", "32.72", "SMI"),
    ("kota-bandung", "Kota Bandung", "32.73", "BDG"),
    ("kota-cirebon", "Kota Cirebon", "32.74", "CRB"),
    ("kota-bekasi", "Kota Bekasi", "32.75", "BKS"),
    ("kota-depok", "Kota Depok", "32.76", "DPK"),
    ("kota-cimahi", "Kota Cimahi", "32.77", "CMH"),
    ("kota-tasikmalaya", "Kota Tasikmalaya", "32.78", "TSM"),
    ("kota-banjar", "Kota Banjar", "32.79", "BJR"),
)

ADMINDUK_FEE = {"source": "national", "citation": "UU 23/2006 jo. UU 24/2013, Pasal 79A"}
ADMINDUK_REQUIREMENTS = {
    "source": "national", "citation": "Perpres 96/2018; Permendagri 108/2019",
    "note": "Ringkasan persyaratan umum; rincian menurut Permendagri 108/2019"}
ADMINDUK_MAX = {
    "source": "national", "citation": "Permendagri 19/2018 Pasal 3",
    "url": "https://id.scribd.com/document/442730853/Permendagri-No-19-TH-2018-pdf",
    "note": "1 jam, paling lama 24 jam sejak persyaratan dinyatakan lengkap, kecuali gangguan "
            "jaringan atau sarana; standar pelayanan daerah belum diketahui"}
STATUTORY_DEFAULT = {
    "source": "statutory-default", "citation": "UU 30/2014 Pasal 53 jo. UU 6/2023",
    "note": "Tidak ditemukan peraturan yang menetapkan batas waktu; berlaku batas bawaan 5 hari "
            "kerja (permohonan dianggap dikabulkan bila lewat)"}
FREE = "Gratis (UU 23/2006 jo. UU 24/2013, Pasal 79A)."


def _name(id_: str, en: str) -> dict[str, str]:
    return {"id": id_, "en": en}


def _stage(code: str, id_: str, en: str, status: str, days: int | None = None) -> dict[str, Any]:
    stage: dict[str, Any] = {"code": code, "name": _name(id_, en), "public_status": status}
    if days is not None:
        stage["max_working_days"] = days
    return stage


def _adminduk(id_: str, en: str, product: tuple[str, str], requirements: list[str],
              issue: tuple[str, str, str]) -> dict[str, Any]:
    """An adminduk document under Permendagri 19/2018 Pasal 3 (24 hours, free)."""
    return {
        "name": _name(id_, en), "product": _name(*product),
        "max_duration": {"value": 24, "unit": "hours"}, "fee": 0, "fee_note": FREE,
        "requirements": requirements,
        "stages": [_stage("verifikasi-data", "Verifikasi data", "Data check", "verifikasi"),
                   _stage(issue[0], issue[1], issue[2], "diproses")],
        "basis": {"max": ADMINDUK_MAX, "fee": ADMINDUK_FEE, "requirements": ADMINDUK_REQUIREMENTS},
    }


def national_services(name: str) -> dict[str, dict[str, Any]]:
    """Every national-template service by code (``name``: the jurisdiction, for fee notes)."""
    return {
        "pbg": {
            "name": _name("Persetujuan Bangunan Gedung (PBG)", "Building Approval (PBG)"),
            "product": _name("Dokumen PBG dan lampirannya", "Building approval with its annexes"),
            "max_working_days": 30, "fee": 0,
            "fee_note": f"Retribusi PBG sesuai Perda Pajak Daerah dan Retribusi Daerah {name} "
                        "(UU 1/2022), dihitung dari luas, indeks lokalitas dan fungsi bangunan; "
                        "dibayar setelah penilaian teknis.",
            "requirements": [
                "Data pemohon dan bukti kepemilikan/penguasaan tanah",
                "Dokumen rencana teknis (arsitektur, struktur, MEP)",
                "Persetujuan lingkungan (SPPL/UKL-UPL/AMDAL) bila diwajibkan",
                "Akun SIMBG terverifikasi"],
            "stages": [
                _stage("verifikasi-berkas", "Verifikasi kelengkapan berkas",
                       "Document completeness check", "verifikasi"),
                _stage("konsultasi-teknis", "Konsultasi dan penilaian teknis (TPA/TPT)",
                       "Technical consultation and assessment", "diproses", 28),
                _stage("penerbitan", "Penerbitan PBG", "Issuance of the approval", "diproses", 2)],
            "basis": {
                "max": {"source": "national", "citation": "PP 16/2021",
                        "url": "https://peraturan.bpk.go.id/Details/161846/pp-no-16-tahun-2021",
                        "note": "28 hari kerja di dinas teknis (termasuk verifikasi) + 2 hari "
                                "penerbitan di PTSP, menurut sumber sekunder; pasal PP 16/2021 "
                                "belum dibaca langsung"},
                "fee": {"source": "national", "citation": "UU 1/2022 (retribusi PBG); Perda PDRD "
                                                          "daerah"},
                "requirements": {"source": "national", "citation": "PP 16/2021 (SIMBG)"}},
        },
        "slf": {
            "name": _name("Sertifikat Laik Fungsi (SLF)", "Certificate of Building Fitness (SLF)"),
            "product": _name("Sertifikat Laik Fungsi", "Certificate of building fitness"),
            "max_working_days": 5, "fee": 0,
            "fee_note": "Tidak dipungut biaya untuk penerbitan SLF; pengkajian teknis oleh "
                        "pengkaji teknis ditanggung pemohon.",
            "requirements": [
                "PBG yang telah terbit",
                "Surat pernyataan kelaikan fungsi dari pengkaji teknis atau penyedia jasa "
                "pengawasan",
                "Gambar terbangun (as built drawings)"],
            "stages": [
                _stage("verifikasi-berkas", "Verifikasi dokumen", "Document check", "verifikasi"),
                _stage("penerbitan", "Penerbitan SLF", "Issuance of the certificate", "diproses")],
            "basis": {"max": STATUTORY_DEFAULT,
                      "fee": {"source": "national", "citation": "UU 1/2022",
                              "note": "SLF bukan objek retribusi (inferensi; belum dikonfirmasi)"},
                      "requirements": {"source": "national", "citation": "PP 16/2021"}},
        },
        "izin-apotek": {
            "name": _name("Surat Izin Apotek (SIA)", "Pharmacy Permit"),
            "product": _name("Surat Izin Apotek (SIA)", "Pharmacy permit"),
            "max_working_days": 24, "fee": 0,
            "fee_note": "Tidak dipungut biaya. Bila Pemerintah Daerah terlambat menerbitkan SIA, "
                        "apoteker dapat menyelenggarakan apotek dengan Berita Acara Pemeriksaan "
                        "(BAP) sebagai pengganti SIA.",
            "requirements": [
                "NIB melalui OSS", "STRA dan SIPA apoteker penanggung jawab",
                "Denah bangunan dan daftar sarana, prasarana serta peralatan",
                "Bukti penguasaan bangunan"],
            "stages": [
                _stage("verifikasi-berkas", "Verifikasi berkas dan penugasan tim pemeriksa",
                       "Document check and inspection team assignment", "verifikasi", 6),
                _stage("pemeriksaan-setempat", "Pemeriksaan setempat dan Berita Acara "
                       "Pemeriksaan", "On-site inspection and inspection report", "diproses", 6),
                _stage("penerbitan", "Penerbitan SIA", "Permit issuance", "diproses", 12)],
            "basis": {
                "max": {"source": "national", "citation": "Permenkes 9/2017 Pasal 13",
                        "note": "6 + 6 + 12 hari kerja (dikutip sekunder); periksa apakah "
                                "Permenkes 14/2021 mengubahnya"},
                "fee": {"source": "national", "citation": "UU 1/2022",
                        "note": "SIA bukan objek retribusi (inferensi; belum dikonfirmasi)"}},
        },
        "izin-praktik": {
            "name": _name("Surat Izin Praktik Tenaga Medis dan Tenaga Kesehatan (SIP)",
                          "Practice Licence for Medical and Health Workers"),
            "product": _name("Surat Izin Praktik (SIP)", "Practice licence"),
            "max_working_days": 5, "fee": 0, "fee_note": "Tidak dipungut biaya.",
            "requirements": [
                "STR (Surat Tanda Registrasi) yang masih berlaku",
                "Surat keterangan dari fasilitas pelayanan kesehatan tempat praktik",
                "Pas foto terbaru"],
            "stages": [
                _stage("verifikasi-berkas", "Verifikasi berkas", "Document check", "verifikasi"),
                _stage("penerbitan", "Penandatanganan dan penerbitan SIP", "Signing and issuance",
                       "diproses")],
            "basis": {"max": STATUTORY_DEFAULT,
                      "fee": {"source": "national", "citation": "UU 1/2022",
                              "note": "SIP bukan objek retribusi (inferensi; belum dikonfirmasi)"},
                      "requirements": {"source": "national", "citation": "UU 17/2023 tentang "
                                                                         "Kesehatan"}},
        },
        "ktp-el": _adminduk(
            "Kartu Tanda Penduduk Elektronik (KTP-el)", "Electronic Identity Card (e-KTP)",
            ("KTP-el", "Electronic identity card"),
            ["Kartu Keluarga", "Sudah berusia 17 tahun, sudah atau pernah kawin",
             "KTP-el lama atau surat keterangan kehilangan (untuk penggantian)"],
            ("pencetakan", "Pencetakan KTP-el", "Card printing")),
        "kartu-keluarga": _adminduk(
            "Kartu Keluarga (KK)", "Family Card", ("Kartu Keluarga", "Family card"),
            ["Kartu Keluarga lama (untuk perubahan)",
             "Buku nikah/akta perkawinan atau akta cerai (untuk perubahan karena peristiwa)",
             "Formulir F-1.01 yang telah diisi"],
            ("penerbitan", "Penerbitan KK", "Issuance")),
        "akta-kelahiran": _adminduk(
            "Akta Kelahiran", "Birth Certificate", ("Kutipan akta kelahiran", "Birth certificate"),
            ["Surat keterangan lahir dari rumah sakit, puskesmas atau bidan",
             "Kartu Keluarga orang tua",
             "Buku nikah/akta perkawinan orang tua, atau SPTJM"],
            ("pencatatan", "Pencatatan dan penerbitan akta", "Registration and issuance")),
        "akta-kematian": _adminduk(
            "Akta Kematian", "Death Certificate",
            ("Kutipan akta kematian", "Death certificate"),
            ["Surat keterangan kematian dari rumah sakit, puskesmas atau desa/kelurahan",
             "Kartu Keluarga almarhum/almarhumah", "KTP-el pelapor"],
            ("pencatatan", "Pencatatan dan penerbitan akta", "Registration and issuance")),
        "pindah-datang": _adminduk(
            "Pindah Datang Penduduk (Surat Keterangan Pindah)", "Change of Residence",
            ("Surat Keterangan Pindah atau KK baru",
             "Change-of-residence letter or new family card"),
            ["Kartu Keluarga", "KTP-el", "Surat Keterangan Pindah dari daerah asal (untuk "
                                        "kedatangan)"],
            ("penerbitan", "Penerbitan dokumen pindah/datang", "Issuance")),
        "kia": {
            "name": _name("Kartu Identitas Anak (KIA)", "Child Identity Card"),
            "product": _name("Kartu Identitas Anak", "Child identity card"),
            "max_working_days": 5, "fee": 0, "fee_note": FREE,
            "requirements": [
                "Kutipan akta kelahiran anak", "Kartu Keluarga orang tua/wali",
                "KTP-el kedua orang tua/wali",
                "Pas foto anak berwarna (anak usia 5 tahun ke atas)"],
            "stages": [_stage("verifikasi-data", "Verifikasi data", "Data check", "verifikasi"),
                       _stage("pencetakan", "Pencetakan KIA", "Card printing", "diproses")],
            "basis": {"max": {**STATUTORY_DEFAULT,
                              "note": "KIA tidak termasuk dokumen dalam Permendagri 19/2018 "
                                      "Pasal 3 dan tidak ditemukan batas waktu lain; berlaku "
                                      "batas bawaan 5 hari kerja"},
                      "fee": ADMINDUK_FEE,
                      "requirements": {
                          "source": "national",
                          "citation": "Permendagri 2/2016 tentang Kartu Identitas Anak",
                          "note": "Ringkasan; belum diverifikasi"}},
        },
    }


DEPARTMENTS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    # department code -> (name, {service code: receipt prefix suffix})
    "dpmptsp": (_name("Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
                      "Investment and One-Stop Integrated Services Office"),
                {"pbg": "PBG", "slf": "SLF", "izin-apotek": "IA", "izin-praktik": "IP"}),
    "disdukcapil": (_name("Dinas Kependudukan dan Pencatatan Sipil",
                          "Population and Civil Registration Office"),
                    {"ktp-el": "KE", "kartu-keluarga": "KK", "akta-kelahiran": "AK",
                     "akta-kematian": "AM", "pindah-datang": "PD", "kia": "KIA"}),
}


def jurisdiction(code: str, name: str, region: str, root: str) -> dict[str, Any]:
    """The whole catalogue mapping of one jurisdiction from the national template."""
    services = national_services(name)
    departments = {
        dept: {"name": dept_name,
               "receipt_prefixes": [f"{root}-{suffix}-" for suffix in owned.values()],
               "services": {svc: services[svc] for svc in owned}}
        for dept, (dept_name, owned) in DEPARTMENTS.items()}
    return {"code": code, "name": name, "region_code": region, "timezone": "Asia/Jakarta",
            "version": VERSION, "reporting_tolerance": 1, "departments": departments}


def render(code: str, name: str, region: str, root: str) -> str:
    header = (f"# Standar Pelayanan — {name} (Jawa Barat), kode wilayah {region}.\n"
              "# GENERATED by catalogue/generate.py from the national template: the\n"
              "# jurisdiction's own standard is not known yet, so every figure is national\n"
              "# (source: national or statutory-default). Do not edit by hand; once the local\n"
              "# standard is known, edit this file and add it to HAND_MAINTAINED in generate.py.\n")
    body = yaml.safe_dump(jurisdiction(code, name, region, root), sort_keys=False,
                          allow_unicode=True, width=100)
    return header + body


def generated() -> dict[Path, str]:
    return {DIRECTORY / f"{code}.yaml": render(code, name, region, root)
            for code, name, region, root in JURISDICTIONS if code not in HAND_MAINTAINED}


def main(argv: list[str]) -> int:
    files = generated()
    if "--check" in argv:
        stale = [p.name for p, text in files.items()
                 if not p.exists() or p.read_text(encoding="utf-8") != text]
        for name in stale:
            print(f"{name}: out of date; run python catalogue/generate.py")  # noqa: T201
        return 1 if stale else 0
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} files")  # noqa: T201 - the script's output
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
