"""Page descriptions for ``<meta name="description">`` (search engines, link previews,
Lighthouse's SEO audit), in Bahasa Indonesia and English.

``describe(template, lang, context)`` returns one sentence for the page being rendered: a
template's own text, filled with what the page is about (the receipt number, the place of a
dashboard, the scope of a comparison) when the render context carries it, else the site's
general description. It never fails: a page without its own text gets the general one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GENERAL = {
    "id": "Pantau: lacak posisi berkas perizinan dan dokumen kependudukan di kota dan kabupaten "
          "Jawa Barat, lama setiap tahap, dan apakah melewati batas waktu standar pelayanan.",
    "en": "Pantau: track where a permit or civil-registry file is in West Java's cities and "
          "regencies, how long each step takes, and whether it is past the legal maximum."}

DESCRIPTIONS: dict[str, dict[str, str]] = {
    "home.html": GENERAL,
    "results.html": {
        "id": "Hasil pencarian kasus layanan publik di Pantau: status, tahap dan batas waktu "
              "setiap berkas, tanpa data pribadi.",
        "en": "Search results for public-service cases on Pantau: status, stage and deadline "
              "of each file, without personal data."},
    "case.html": {
        "id": "Posisi berkas {receipt}: riwayat proses, lama setiap tahap dan batas waktu "
              "standar pelayanan.",
        "en": "Where file {receipt} is: process history, time taken by each step and the legal "
              "maximum of the service."},
    "dashboard.html": {
        "id": "Dasbor kinerja layanan {place}: kasus diterima dan selesai, bagian yang selesai "
              "tepat waktu, kasus terlambat dan statistik bulanan.",
        "en": "Service performance dashboard for {place}: cases received and completed, share "
              "on time, overdue cases and monthly statistics."},
    "comparison.html": {
        "id": "Perbandingan kinerja layanan {scope}: peringkat berdasarkan penyelesaian dalam "
              "batas waktu, median hari kerja, kasus terlambat dan laporan terlambat.",
        "en": "Service performance comparison {scope}: ranked by completion within the legal "
              "maximum, median working days, overdue cases and late reports."},
    "feeds.html": {
        "id": "Data terbuka Pantau: umpan Atom dan JSON per daerah, perangkat daerah dan "
              "layanan, ekspor CSV/NDJSON, Open311 dan katalog data.json.",
        "en": "Pantau open data: Atom and JSON feeds per jurisdiction, department and service, "
              "CSV/NDJSON exports, Open311 and the data.json catalogue."},
    "sheet.html": {
        "id": "Lembar status berkas {receipt} untuk dicetak: kode QR menuju halaman kasus, batas "
              "waktu standar pelayanan dan kode survei kepuasan.",
        "en": "Printable status sheet of file {receipt}: a QR code to the case page, the legal "
              "maximum and due date, and the satisfaction survey code."},
    "survey_result.html": {
        "id": "Survei Kepuasan Masyarakat (SKM) layanan publik di Pantau: penilaian anonim, satu "
              "kali untuk setiap permohonan yang sudah ditutup.",
        "en": "Public satisfaction survey (SKM) of a public service on Pantau: an anonymous "
              "rating, once for each closed application."},
    "choose.html": {
        "id": "Kode {code} dipakai oleh beberapa daerah: pilih daerahnya.",
        "en": "Several jurisdictions use the code {code}: choose one."},
}


def describe(template: str, lang: str, context: Mapping[str, Any]) -> str:
    """The description of the page rendered from ``template`` (see the module docstring)."""
    lang = lang if lang in GENERAL else "id"
    texts = DESCRIPTIONS.get(template)
    if texts is None:
        return GENERAL[lang]
    try:
        return texts[lang].format(**_values(lang, context))
    except (KeyError, AttributeError, IndexError, TypeError):
        return GENERAL[lang]


def _values(lang: str, context: Mapping[str, Any]) -> dict[str, str]:
    """What the page is about, from its render context."""
    crumbs = context.get("crumbs") or []
    scope = context.get("scope_name")
    region = "Jawa Barat" if lang == "id" else "West Java"
    return {
        "receipt": str(getattr(context.get("case"), "receipt_number", "")),
        # a dashboard's place, its jurisdiction last: "DPMPTSP — Kota Bandung"
        "place": " — ".join(reversed([str(c["name"]) for c in crumbs])) or region,
        "scope": (("di " if lang == "id" else "in ") + str(scope)) if scope else (
            "antardaerah Jawa Barat" if lang == "id" else "across West Java's jurisdictions"),
        "code": str(context.get("code", "")),
    }
