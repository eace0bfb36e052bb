"""Portal texts in Bahasa Indonesia (first) and English. Every key exists in both languages."""

from __future__ import annotations

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"

TEXTS: dict[str, dict[str, str]] = {
    "site_name": {"id": "Pantau", "en": "Pantau"},
    "tagline": {"id": "Lacak layanan publik pemerintah daerah secara terbuka",
                "en": "Track local government public services openly"},
    "skip": {"id": "Lompat ke isi utama", "en": "Skip to main content"},
    "nav_home": {"id": "Cari", "en": "Search"},
    "nav_dashboard": {"id": "Dasbor kinerja", "en": "Performance dashboard"},
    "nav_api": {"id": "API & data terbuka", "en": "API & open data"},
    "nav_main": {"id": "Navigasi utama", "en": "Main navigation"},
    "language": {"id": "Bahasa", "en": "Language"},
    "search_label": {"id": "Nomor tanda terima atau kata kunci",
                     "en": "Receipt number or keywords"},
    "search_hint": {"id": "Contoh: BDG-PBG-2026-000123, PBG, Coblong",
                    "en": "Example: BDG-PBG-2026-000123, building permit, Coblong"},
    "search_button": {"id": "Cari", "en": "Search"},
    "results": {"id": "Hasil pencarian", "en": "Search results"},
    "results_count": {"id": "{n} kasus ditemukan", "en": "{n} case(s) found"},
    "no_results": {"id": "Tidak ada kasus yang cocok. Coba kata kunci lain atau hapus filter.",
                   "en": "No matching cases. Try other keywords or remove filters."},
    "filters": {"id": "Saring hasil", "en": "Filter results"},
    "apply_filters": {"id": "Terapkan", "en": "Apply"},
    "clear_filters": {"id": "Hapus semua filter", "en": "Clear all filters"},
    "all": {"id": "Semua", "en": "All"},
    "facet_jurisdiction": {"id": "Daerah", "en": "Jurisdiction"},
    "facet_department": {"id": "Perangkat daerah (OPD)", "en": "Department"},
    "facet_service": {"id": "Layanan", "en": "Service"},
    "facet_status": {"id": "Status", "en": "Status"},
    "facet_kecamatan": {"id": "Kecamatan", "en": "District (kecamatan)"},
    "facet_overdue": {"id": "Terlambat", "en": "Late"},
    "date_from": {"id": "Diajukan sejak", "en": "Submitted from"},
    "date_to": {"id": "Diajukan sampai", "en": "Submitted until"},
    "sort": {"id": "Urutkan", "en": "Sort by"},
    "sort_terbaru": {"id": "Pembaruan terbaru", "en": "Most recently updated"},
    "sort_terlama": {"id": "Pembaruan terlama", "en": "Least recently updated"},
    "sort_diajukan": {"id": "Tanggal pengajuan", "en": "Submission date"},
    "sort_tenggat": {"id": "Tenggat terdekat", "en": "Nearest due date"},
    "sort_nomor": {"id": "Nomor tanda terima", "en": "Receipt number"},
    "yes": {"id": "Ya", "en": "Yes"},
    "no": {"id": "Tidak", "en": "No"},
    "page": {"id": "Halaman {page} dari {pages}", "en": "Page {page} of {pages}"},
    "prev": {"id": "Sebelumnya", "en": "Previous"},
    "next": {"id": "Berikutnya", "en": "Next"},
    "pagination": {"id": "Halaman hasil", "en": "Result pages"},
    "receipt": {"id": "Nomor tanda terima", "en": "Receipt number"},
    "service": {"id": "Layanan", "en": "Service"},
    "department": {"id": "Perangkat daerah", "en": "Department"},
    "jurisdiction": {"id": "Daerah", "en": "Jurisdiction"},
    "kecamatan": {"id": "Kecamatan", "en": "District"},
    "status": {"id": "Status", "en": "Status"},
    "stage": {"id": "Tahap saat ini", "en": "Current stage"},
    "submitted": {"id": "Diajukan", "en": "Submitted"},
    "updated": {"id": "Diperbarui", "en": "Updated"},
    "closed": {"id": "Ditutup", "en": "Closed"},
    "due": {"id": "Batas waktu", "en": "Due date"},
    "legal_max": {"id": "Jangka waktu maksimal", "en": "Legal maximum"},
    "working_days": {"id": "{n} hari kerja", "en": "{n} working days"},
    "elapsed": {"id": "Waktu berjalan", "en": "Time taken"},
    "remaining": {"id": "Sisa waktu", "en": "Time remaining"},
    "late": {"id": "Terlambat", "en": "Late"},
    "on_time": {"id": "Tepat waktu", "en": "On time"},
    "paused": {"id": "Waktu layanan dihentikan sementara: berkas dikembalikan ke pemohon",
               "en": "Service clock paused: the file was returned to the applicant"},
    "withdrawn": {"id": "Permohonan ini telah dibatalkan (dicabut).",
                  "en": "This application was withdrawn."},
    "timeline": {"id": "Riwayat proses", "en": "Process history"},
    "duration": {"id": "Lama", "en": "Duration"},
    "in_progress": {"id": "sedang berjalan", "en": "in progress"},
    "case_title": {"id": "Kasus {r}", "en": "Case {r}"},
    "live": {"id": "Halaman ini diperbarui otomatis saat ada perubahan.",
             "en": "This page updates automatically when something changes."},
    "live_updated": {"id": "Ada pembaruan — memuat ulang…", "en": "Updated — reloading…"},
    "feed_case": {"id": "Ikuti kasus ini (Atom)", "en": "Follow this case (Atom)"},
    "not_found_title": {"id": "Halaman tidak ditemukan", "en": "Page not found"},
    "not_found_text": {"id": "Kami tidak menemukan yang Anda cari. Periksa kembali nomor tanda "
                               "terima, atau cari dari halaman utama.",
                       "en": "We could not find what you were looking for. Check the receipt "
                             "number, or search from the home page."},
    "bad_request_title": {"id": "Permintaan tidak dapat diproses",
                          "en": "The request could not be processed"},
    "back_home": {"id": "Kembali ke pencarian", "en": "Back to search"},
    "dashboard": {"id": "Dasbor kinerja layanan", "en": "Service performance dashboard"},
    "dash_scope_all": {"id": "Semua daerah", "en": "All jurisdictions"},
    "received": {"id": "Diterima", "en": "Received"},
    "completed": {"id": "Selesai", "en": "Completed"},
    "open": {"id": "Masih berjalan", "en": "Open"},
    "overdue_open": {"id": "Berjalan & terlambat", "en": "Open & late"},
    "median": {"id": "Median hari kerja", "en": "Median working days"},
    "p90": {"id": "Persentil 90 hari kerja", "en": "90th percentile working days"},
    "sla_share": {"id": "Selesai dalam jangka waktu", "en": "Completed within legal maximum"},
    "backlog": {"id": "Kasus berjalan menurut umur (hari kalender)",
                "en": "Open cases by age (calendar days)"},
    "breakdown": {"id": "Rincian", "en": "Breakdown"},
    "name": {"id": "Nama", "en": "Name"},
    "no_data": {"id": "Belum ada data.", "en": "No data yet."},
    "chart_completed": {"id": "Diterima dan selesai per {what}",
                        "en": "Received and completed per {what}"},
    "latest": {"id": "Perubahan status terbaru", "en": "Latest status changes"},
    "feeds": {"id": "Umpan perubahan", "en": "Change feeds"},
    "export": {"id": "Unduh data terbuka", "en": "Download open data"},
    "footer": {"id": "Data publik tanpa data pribadi. Waktu ditampilkan dalam zona waktu daerah.",
               "en": "Public data without personal data. Times are shown in the jurisdiction's "
                     "time zone."},
}


def pick_language(query_value: str | None, cookie_value: str | None) -> str:
    for value in (query_value, cookie_value):
        if value in LANGUAGES:
            return value
    return DEFAULT_LANGUAGE


def translate(lang: str, key: str, **values: object) -> str:
    text = TEXTS[key].get(lang) or TEXTS[key][DEFAULT_LANGUAGE]
    return text.format(**values) if values else text
