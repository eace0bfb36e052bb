"""Portal texts in Bahasa Indonesia (first) and English. Every key exists in both languages.

Texts are moving to data files: every ``portal/*_texts.yaml`` is merged into ``TEXTS`` once, at
import (a key may not repeat one already defined)."""

from __future__ import annotations

from pathlib import Path

import yaml

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"

TEXTS: dict[str, dict[str, str]] = {
    "site_name": {"id": "Pantau", "en": "Pantau"},
    "tagline": {"id": "Pantau layanan publik pemerintah daerah secara terbuka",
                "en": "Track local government public services openly"},
    "skip": {"id": "Lompat ke isi utama", "en": "Skip to main content"},
    "nav_home": {"id": "Cari", "en": "Search"},
    "nav_dashboard": {"id": "Dasbor kinerja", "en": "Dashboard"},
    "nav_api": {"id": "Data terbuka", "en": "Open data"},
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
    "working_day_one": {"id": "{n} hari kerja", "en": "{n} working day"},
    "elapsed": {"id": "Waktu berjalan", "en": "Time taken"},
    "remaining": {"id": "Sisa waktu", "en": "Time remaining"},
    "late": {"id": "Terlambat", "en": "Late"},
    "on_time": {"id": "Tepat waktu", "en": "On time"},
    "paused": {"id": "Hitungan waktu layanan berhenti sementara: berkas dikembalikan kepada "
                     "pemohon",
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
    "as_of": {"id": "Angka per {time}; dihitung ulang paling lama setiap {seconds} detik.",
              "en": "Figures as of {time}; recomputed at least every {seconds} seconds."},
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


TEXTS.update({
    "home_title": {"id": "Cek status permohonan layanan publik",
                   "en": "Check the status of a public service application"},
    "home_lead": {"id": "Masukkan nomor tanda terima dari loket atau aplikasi untuk melihat "
                        "tahap permohonan Anda dan batas waktunya. Anda juga dapat menelusuri "
                        "semua permohonan di daerah Anda. Tidak ada data pribadi yang "
                        "ditampilkan.",
                  "en": "Enter the receipt number you got at the counter or in the app to see "
                        "which step your application is at and when it is due. You can also "
                        "browse every application in your area. No personal data is shown."},
    "quick_links": {"id": "Telusuri cepat", "en": "Quick browse"},
    "clock_done_ok": {"id": "Selesai tepat waktu", "en": "Completed on time"},
    "clock_done_ok_text": {"id": "Diselesaikan dalam {elapsed} hari kerja, tidak melewati jangka "
                                 "waktu maksimal {max} hari kerja.",
                           "en": "Completed in {elapsed} working days, within the legal maximum "
                                 "of {max} working days."},
    "clock_done_late": {"id": "Selesai, tetapi terlambat", "en": "Completed late"},
    "clock_done_late_text": {"id": "Diselesaikan dalam {elapsed} hari kerja, melewati jangka "
                                   "waktu maksimal {max} hari kerja (batas waktu {due}).",
                             "en": "Completed in {elapsed} working days, beyond the legal "
                                   "maximum of {max} working days (due {due})."},
    "clock_open": {"id": "Sedang berjalan, masih dalam batas waktu",
                   "en": "In progress, within the time limit"},
    "clock_open_text": {"id": "Sisa {remaining} dari {max} hari kerja. Batas waktu: {due}.",
                        "en": "{remaining} of {max} working days left. Due: {due}."},
    "clock_open_late": {"id": "Terlambat — melewati batas waktu",
                        "en": "Late — past the due date"},
    "clock_open_late_text": {"id": "Sudah berjalan {elapsed} hari kerja, melewati jangka waktu "
                                   "maksimal {max} hari kerja. Batas waktu: {due}.",
                             "en": "{elapsed} working days so far, beyond the legal maximum of "
                                   "{max} working days. Was due: {due}."},
    "clock_over": {"id": "Terlambat {over} hari kerja.", "en": "{over} working day(s) late."},
    "clock_paused": {"id": "Menunggu kelengkapan dari pemohon",
                     "en": "Waiting for the applicant"},
    "clock_paused_text": {"id": "Berkas dikembalikan kepada pemohon untuk dilengkapi. Hitungan "
                                "waktu layanan berhenti sementara dan berlanjut setelah berkas "
                                "diserahkan kembali. Terpakai {elapsed} dari {max} hari kerja.",
                          "en": "The file was returned to the applicant to be completed. The "
                                "service clock is paused and resumes when the file is handed in "
                                "again. {elapsed} of {max} working days used."},
    "clock_rejected": {"id": "Permohonan ditolak", "en": "Application rejected"},
    "clock_rejected_text": {"id": "Diputuskan dalam {elapsed} hari kerja (jangka waktu maksimal "
                                  "{max} hari kerja). Alasan penolakan, bila dicatat, ada di "
                                  "riwayat proses di bawah.",
                            "en": "Decided in {elapsed} working days (legal maximum {max} "
                                  "working days). The reason, if recorded, is in the process "
                                  "history below."},
    "clock_withdrawn": {"id": "Permohonan dibatalkan", "en": "Application withdrawn"},
    "clock_withdrawn_text": {"id": "Permohonan dicabut setelah berjalan {elapsed} hari kerja. "
                                   "Tidak ada proses lebih lanjut.",
                             "en": "The application was withdrawn after {elapsed} working days. "
                                   "There will be no further processing."},
    "time_taken": {"id": "Lama proses", "en": "Time taken"},
    "step_final": {"id": "tahap akhir", "en": "final step"},
    "step_waiting": {"id": "menunggu pemohon", "en": "waiting for the applicant"},
    "over_target": {"id": "melewati target", "en": "over target"},
    "step_target": {"id": "target {n} hari kerja", "en": "target {n} working day(s)"},
    # Where a legal maximum comes from (catalogue ``basis.max.source``): anything not local is
    # the national standard, never presented as the jurisdiction's own figure.
    "source_local": {"id": "standar pelayanan daerah", "en": "local service standard"},
    "source_national": {"id": "standar nasional", "en": "national standard"},
    "source_statutory-default": {"id": "standar nasional: batas bawaan UU 30/2014 Pasal 53",
                                 "en": "national standard: statutory default, UU 30/2014 "
                                       "Art. 53"},
    "hours": {"id": "{n} jam", "en": "{n} hours"},
    "tracked_as": {"id": "dipantau sebagai {n} hari kerja", "en": "tracked as {n} working day(s)"},
    "via_channel": {"id": "{channel}: {days}", "en": "{channel}: {days}"},
    "standard": {"id": "Standar pelayanan", "en": "Service standard"},
    "fee": {"id": "Biaya", "en": "Fee"},
    "requirements": {"id": "Persyaratan", "en": "Requirements"},
    "stages": {"id": "Tahapan", "en": "Steps"},
    "standard_note": {"id": "Sumber: Standar Pelayanan {jurisdiction} versi {version}. "
                            "Persyaratan dan biaya dapat berubah; bila ragu, tanyakan ke {dept}.",
                      "en": "Source: service standard of {jurisdiction}, version {version}. "
                            "Requirements and fees may change; if in doubt, ask the {dept}."},
    "standard_changed": {"id": "Standar pelayanan sudah diperbarui sejak kasus ini diajukan; "
                               "kasus ini mengikuti versi {version}, yang tidak lagi ditampilkan "
                               "di sini. Tanyakan ke {dept} bila perlu.",
                         "en": "The service standard has changed since this case was submitted; "
                               "the case follows version {version}, which is no longer shown "
                               "here. Ask the {dept} if needed."},
    "in_indonesian": {"id": "", "en": "(in Bahasa Indonesia)"},
    "dates_times": {"id": "Waktu", "en": "Dates"},
    "show_filters": {"id": "Saring dan urutkan", "en": "Filter and sort"},
    "jump_filters": {"id": "Saring hasil ↓", "en": "Filter results ↓"},
    "remove_filter": {"id": "Hapus filter", "en": "Remove filter"},
    "chart_values": {"id": "Angka", "en": "Figures"},
    "case_receipt_hint": {"id": "Simpan nomor tanda terima ini untuk mengecek status kapan saja.",
                          "en": "Keep this receipt number to check the status at any time."},
    "other_pages": {"id": "Data lain", "en": "More data"},
    "case_not_found_title": {"id": "Nomor tanda terima tidak ditemukan",
                             "en": "Receipt number not found"},
    "case_not_found_text": {"id": "Kami belum menemukan permohonan dengan nomor {r}. Periksa "
                                  "kembali penulisannya (huruf, angka dan tanda hubung). "
                                  "Permohonan yang baru didaftarkan biasanya muncul dalam "
                                  "beberapa menit.",
                            "en": "We have not found an application with number {r}. Check how "
                                  "it is written (letters, digits and hyphens). A newly "
                                  "registered application usually appears within a few "
                                  "minutes."},
    "chart_status": {"id": "Jumlah kasus menurut status saat ini",
                     "en": "Cases by current status"},
    "cases": {"id": "kasus", "en": "cases"},
    "feeds_title": {"id": "Umpan perubahan status (RSS/Atom)",
                    "en": "Status change feeds (RSS/Atom)"},
    "feeds_lead": {"id": "Ikuti perubahan status permohonan secara otomatis dengan aplikasi "
                         "pembaca umpan (feed reader) atau sistem Anda sendiri. Salin alamat "
                         "umpan ke aplikasi pembaca; membukanya langsung di peramban hanya "
                         "menampilkan kode XML/JSON.",
                   "en": "Follow status changes automatically in a feed reader or your own "
                         "system. Copy a feed address into your reader; opening it directly "
                         "in the browser only shows XML/JSON code."},
    "feeds_all": {"id": "Semua perubahan", "en": "All changes"},
    "feeds_case": {"id": "Satu permohonan: buka halaman kasusnya lalu pilih “Ikuti kasus ini”.",
                   "en": "One application: open its case page and choose “Follow this case”."},
    "feeds_by_scope": {"id": "Per daerah, perangkat daerah dan layanan",
                       "en": "By jurisdiction, department and service"},
    "open_data_title": {"id": "Unduh data terbuka", "en": "Download open data"},
    "open_data_lead": {"id": "Seluruh rekam jejak publik (tanpa data pribadi) untuk diolah "
                             "sendiri, serta API Open311 GeoReport v2 dan dokumentasi API.",
                       "en": "The whole public record (without personal data) to analyse "
                             "yourself, plus the Open311 GeoReport v2 API and API docs."},
    "api_docs": {"id": "Dokumentasi API", "en": "API documentation"},
    "download_results": {"id": "Unduh hasil pencarian ini", "en": "Download these results"},
    "breadcrumb": {"id": "Posisi halaman", "en": "Breadcrumb"},
    "see_cases": {"id": "Lihat daftarnya", "en": "See the list"},
    "brand_tag": {"id": "Layanan publik terbuka", "en": "Open public services"},
    "dash_explain": {"id": "Median dan persentil 90 dihitung dari permohonan yang sudah selesai, "
                           "dalam hari kerja (tanpa akhir pekan, libur nasional dan cuti "
                           "bersama). Persentil 90: 9 dari 10 permohonan selesai dalam waktu "
                           "ini atau lebih cepat.",
                     "en": "Median and 90th percentile are computed over completed "
                           "applications, in working days (excluding weekends, national "
                           "holidays and collective leave days). 90th percentile: 9 out of 10 "
                           "applications were completed in this time or faster."},
    # --- two clocks: when a step happened (as the department says) and when Pantau got it ---
    "facet_late_reported": {"id": "Dilaporkan terlambat", "en": "Reported late"},
    "late_reported_badge": {"id": "Dilaporkan terlambat", "en": "Reported late"},
    "step_claimed": {"id": "Terjadi (menurut perangkat daerah)",
                     "en": "Happened (as the department says)"},
    "step_received": {"id": "Dilaporkan / diterima Pantau",
                      "en": "Reported / received by Pantau"},
    "step_counted": {"id": "Dihitung jam layanan pada", "en": "Counted by the service clock at"},
    "reported_later": {"id": "dilaporkan {n} hari kerja kemudian",
                       "en": "reported {n} working days later"},
    "reported_later_one": {"id": "dilaporkan {n} hari kerja kemudian",
                           "en": "reported {n} working day later"},
    "late_report_title": {"id": "Ada tahap yang dilaporkan terlambat",
                          "en": "Some steps were reported late"},
    "late_report_title_one": {"id": "Ada tahap yang dilaporkan terlambat",
                              "en": "A step was reported late"},
    "late_report_text": {"id": "Perangkat daerah melaporkan {steps} ke Pantau lebih dari {tol} "
                               "setelah waktu yang mereka sebutkan untuk tahap itu. Untuk tahap "
                               "seperti itu, hitungan waktu layanan tidak memakai waktu yang "
                               "diklaim, tetapi waktu yang lebih belakangan: saat laporan "
                               "diterima Pantau, dikurangi toleransi {tol}. Jadi laporan yang "
                               "terlambat tidak pernah membuat layanan tampak lebih cepat.",
                         "en": "The department reported {steps} to Pantau more than {tol} after "
                               "the time it gives for the step. For such a step the service "
                               "clock does not use the claimed time but the later one: when "
                               "Pantau received the report, minus the tolerance of {tol}. So a "
                               "late report never makes the service look faster."},
    "steps_n": {"id": "{n} tahap", "en": "{n} steps"},
    "steps_one": {"id": "{n} tahap", "en": "{n} step"},
    "feed_clocks": {"id": "Terjadi (menurut perangkat daerah): {at}. Diterima Pantau: "
                          "{received}.",
                    "en": "Happened (as the department says): {at}. Received by Pantau: "
                          "{received}."},
    "feed_late": {"id": "⚠ Dilaporkan terlambat: {later} (toleransi {tol}). Jam layanan "
                        "menghitung tahap ini pada {counted}.",
                  "en": "⚠ Reported late: {later} (tolerance {tol}). The service clock counts "
                        "this step at {counted}."},
    "verified_title": {"id": "Riwayat terverifikasi", "en": "History verified"},
    "verified_text": {"id": "Setiap tahap riwayat ini dicatat di log transparansi Pantau: "
                            "catatan yang hanya bisa ditambah (pohon Merkle, RFC 9162) dan "
                            "ditandatangani. Siapa pun dapat memeriksa dengan bukti di bawah "
                            "bahwa riwayat kasus ini tidak diubah diam-diam setelah "
                            "diterbitkan.",
                      "en": "Every step of this history is recorded in Pantau's transparency "
                            "log: a signed, append-only record (a Merkle tree, RFC 9162). "
                            "Anyone can use the proof below to check that this case's history "
                            "was not quietly changed after it was published."},
    "verified_proof": {"id": "Bukti pencatatan (JSON)", "en": "Inclusion proof (JSON)"},
    "verified_docs": {"id": "Cara memeriksa", "en": "How to check"},
    "verified_checkpoint": {"id": "Dicocokkan dengan checkpoint log berukuran {size} yang "
                                  "ditandatangani {time}.",
                            "en": "Checked against the log's checkpoint of size {size}, signed "
                                  "{time}."},
    "history_pending_title": {"id": "Sedang dicatat dalam log transparansi",
                              "en": "Being recorded in the transparency log"},
    "history_pending_text": {"id": "Log baru saja mencatat {steps}, yang belum masuk "
                                   "checkpoint yang ditandatangani; biasanya hanya sekitar satu "
                                   "menit. Tahap lainnya cocok dengan log.",
                             "en": "The log has just recorded {steps}, not yet in a signed "
                                   "checkpoint; this usually takes about a minute. The other "
                                   "steps match the log."},
    "history_mismatch_title": {"id": "Riwayat tidak cocok dengan log transparansi",
                               "en": "History does not match the transparency log"},
    "history_mismatch_text": {"id": "Di halaman ini, {steps} berbeda dari yang tercatat di log "
                                    "transparansi atau tidak tercatat sama sekali.",
                              "en": "On this page, {steps} differs from what the transparency "
                                    "log recorded, or was never recorded."},
    "history_missing_text": {"id": "Log transparansi mencatat {steps}, tetapi tahap itu tidak "
                                   "ada di halaman ini.",
                             "en": "The transparency log recorded {steps}, but it is missing "
                                   "from this page."},
    "history_mismatch_advice": {"id": "Riwayat ini mungkin diubah setelah diterbitkan. Jangan "
                                      "mengandalkannya sebelum memeriksa bukti di bawah; "
                                      "laporkan ke Ombudsman RI bila perlu.",
                                "en": "This history may have been changed after it was "
                                      "published. Do not rely on it before checking the proof "
                                      "below; report it to the Ombudsman if needed."},
    "history_unavailable_title": {"id": "Riwayat belum dapat diperiksa saat ini",
                                  "en": "The history cannot be checked right now"},
    "history_unavailable_text": {"id": "Log transparansi tidak dapat dibaca sekarang. Coba lagi "
                                       "nanti, atau periksa sendiri dengan bukti di bawah.",
                                 "en": "The transparency log cannot be read right now. Try "
                                       "again later, or check it yourself with the proof "
                                       "below."},
    "history_warning": {"id": "Peringatan: riwayat kasus ini tidak cocok dengan log "
                              "transparansi — lihat di bawah.",
                        "en": "Warning: this case's history does not match the transparency "
                              "log — see below."},
    "log_title": {"id": "Log transparansi", "en": "Transparency log"},
    "log_lead": {"id": "Setiap tahap yang diterbitkan Pantau ditambahkan ke log yang hanya "
                       "bisa ditambah (pohon Merkle, RFC 9162). Secara berkala Pantau "
                       "menandatangani ukuran dan akar pohon (checkpoint) dengan kunci Ed25519. "
                       "Untuk memeriksa satu kasus: ambil riwayatnya dari API, ambil buktinya, "
                       "hitung ulang setiap entri, cocokkan jalur audit dengan akar checkpoint, "
                       "lalu periksa tanda tangan checkpoint dengan kunci publik Pantau.",
                 "en": "Every step Pantau publishes is added to an append-only log (a Merkle "
                       "tree, RFC 9162). Pantau regularly signs the tree's size and root (a "
                       "checkpoint) with an Ed25519 key. To check one case: fetch its history "
                       "from the API, fetch its proof, recompute every entry, match the audit "
                       "path against the checkpoint's root, then check the checkpoint's "
                       "signature with Pantau's public key."},
    "log_key": {"id": "Kunci publik", "en": "Public key"},
    "log_checkpoint": {"id": "Checkpoint terbaru", "en": "Latest checkpoint"},
    "log_proof": {"id": "Bukti satu kasus", "en": "Proof for one case"},
    "rep_share": {"id": "Laporan dalam toleransi", "en": "Events reported within tolerance"},
    "rep_median": {"id": "Median jeda pelaporan (hari kerja)",
                   "en": "Median reporting delay (working days)"},
    "rep_late": {"id": "Laporan terlambat", "en": "Events reported late"},
    "rep_see": {"id": "Lihat kasusnya", "en": "See the cases"},
    "dash_reporting_explain": {"id": "Laporan dalam toleransi: bagian dari semua tahap yang "
                                     "dilaporkan perangkat daerah ke Pantau paling lambat "
                                     "sesuai toleransi (hari kerja) setelah tahap itu terjadi "
                                     "menurut mereka. Median jeda pelaporan: nilai tengah, "
                                     "dalam hari kerja, dari jarak antara waktu yang diklaim "
                                     "dan waktu laporan diterima Pantau, atas semua tahap.",
                               "en": "Events reported within tolerance: the share of all steps "
                                     "a department reported to Pantau no later than the "
                                     "tolerance (working days) after the time it gives for "
                                     "them. Median reporting delay: the middle value, in "
                                     "working days, of the gap between the claimed time and "
                                     "the time Pantau received the report, over all steps."},
})


# Places, comparison across jurisdictions and statistics over time (issue 11)
TEXTS.update({
    "nav_compare": {"id": "Perbandingan daerah", "en": "Compare jurisdictions"},
    "choose_title": {"id": "Kode {code} dipakai lebih dari satu daerah",
                     "en": "The code {code} is used by more than one jurisdiction"},
    "choose_lead": {"id": "Beberapa daerah memakai kode {what} “{code}”. Angkanya tidak "
                          "digabung: pilih daerahnya.",
                    "en": "Several jurisdictions use the {what} code “{code}”. Their figures "
                          "are not added together: choose the jurisdiction."},
    "month": {"id": "Bulan", "en": "Month"},
    "monthly_title": {"id": "Statistik per bulan", "en": "Statistics by month"},
    "monthly_explain": {"id": "Diterima: menurut bulan pengajuan. Selesai, selesai dalam jangka "
                              "waktu dan median: menurut bulan kasus ditutup. Bulan menurut zona "
                              "waktu {zone}; 12 bulan terakhir.",
                        "en": "Received: by the month the case was submitted. Completed, within "
                              "the legal maximum and median: by the month it was closed. Months "
                              "in the {zone} time zone; the last 12 months."},
    "monthly_counts": {"id": "Diterima dan selesai per bulan",
                       "en": "Received and completed by month"},
    "monthly_share": {"id": "Selesai dalam jangka waktu per bulan (%)",
                      "en": "Completed within the legal maximum by month (%)"},
    "monthly_median": {"id": "Median hari kerja per bulan (kasus selesai)",
                       "en": "Median working days by month (completed cases)"},
    "monthly_table": {"id": "Tabel data statistik per bulan", "en": "Monthly statistics table"},
    "monthly_csv": {"id": "Unduh statistik per bulan (CSV)",
                    "en": "Download the monthly statistics (CSV)"},
    "cmp_link": {"id": "Bandingkan dengan daerah atau perangkat daerah lain",
                 "en": "Compare with other jurisdictions or departments"},
    "cmp_title": {"id": "Perbandingan kinerja layanan", "en": "Service performance compared"},
    "cmp_lead": {"id": "Daerah diurutkan menurut bagian kasus yang selesai dalam jangka waktu "
                       "maksimal yang ditetapkan aturan.",
                 "en": "Jurisdictions ranked by the share of cases completed within the legal "
                       "maximum."},
    "cmp_lead_departments": {"id": "Perangkat daerah diurutkan menurut bagian kasus yang selesai "
                                   "dalam jangka waktu maksimal.",
                             "en": "Departments ranked by the share of cases completed within "
                                   "the legal maximum."},
    "cmp_period": {"id": "Periode: {start} sampai {end}; dibandingkan dengan periode sebelumnya "
                         "sejak {before}.",
                   "en": "Period: {start} to {end}; compared with the previous period from "
                         "{before}."},
    "cmp_ranking": {"id": "Peringkat", "en": "Ranking"},
    "cmp_rank": {"id": "Peringkat", "en": "Rank"},
    "cmp_completed": {"id": "Selesai dalam periode", "en": "Completed in the period"},
    "cmp_trend": {"id": "Tren", "en": "Trend"},
    "cmp_late_share": {"id": "Dilaporkan terlambat", "en": "Reported late"},
    "cmp_too_few": {"id": "Kasus terlalu sedikit", "en": "Too few cases"},
    "cmp_departments": {"id": "per perangkat daerah", "en": "by department"},
    "trend_up": {"id": "membaik", "en": "improving"},
    "trend_down": {"id": "memburuk", "en": "worsening"},
    "trend_flat": {"id": "stabil", "en": "steady"},
    "trend_unknown": {"id": "belum cukup data", "en": "not enough data"},
    "cmp_how": {"id": "Cara menghitung", "en": "How it is computed"},
    "cmp_how_period": {"id": "Periode: {days} hari terakhir. Sebuah kasus masuk periode ketika "
                             "ditutup di dalamnya.",
                       "en": "Period: the last {days} days. A case belongs to the period when "
                             "it was closed in it."},
    "cmp_how_share": {"id": "Selesai dalam jangka waktu: kasus berstatus selesai yang tidak "
                            "melewati jangka waktu maksimal, dibagi semua kasus selesai.",
                      "en": "Completed within the legal maximum: completed cases that did not "
                            "exceed the legal maximum, divided by all completed cases."},
    "cmp_how_median": {"id": "Median dan persentil 90: hari kerja yang dipakai kasus selesai "
                             "(separuh kasus lebih cepat dari median; 9 dari 10 lebih cepat dari "
                             "persentil 90).",
                       "en": "Median and 90th percentile: working days taken by completed cases "
                             "(half were faster than the median; 9 in 10 faster than the 90th "
                             "percentile)."},
    "cmp_how_overdue": {"id": "Berjalan & terlambat: kasus yang masih berjalan saat ini dan sudah "
                              "melewati jangka waktu maksimal.",
                        "en": "Open & late: cases open now that are past their legal maximum."},
    "cmp_how_late": {"id": "Dilaporkan terlambat: kasus yang ditutup dalam periode dengan "
                           "setidaknya satu tahap yang dilaporkan ke Pantau melewati toleransi, "
                           "dibagi semua kasus yang ditutup.",
                     "en": "Reported late: cases closed in the period with at least one step "
                           "reported to Pantau later than the tolerance allows, divided by all "
                           "cases closed."},
    "cmp_how_fair": {"id": "Agar adil: yang punya kurang dari {n} kasus selesai dalam periode "
                           "ditandai “kasus terlalu sedikit” dan tidak diberi peringkat.",
                     "en": "To be fair: entries with fewer than {n} completed cases in the period "
                           "are marked “too few cases” and not ranked."},
    "cmp_how_rank": {"id": "Peringkat: bagian selesai dalam jangka waktu (tertinggi dulu), lalu "
                           "median (terendah dulu); angka yang sama mendapat peringkat sama.",
                     "en": "Rank: share within the legal maximum (highest first), then the "
                           "median (lowest first); equal figures share a rank."},
    "cmp_how_trend": {"id": "Tren: bagian selesai dalam jangka waktu pada {days} hari terakhir "
                            "dibandingkan {days} hari sebelumnya. Naik 2 poin persen atau lebih: "
                            "▲ membaik; turun 2 poin atau lebih: ▼ memburuk; selain itu ▶ stabil; "
                            "– bila salah satu periode punya terlalu sedikit kasus.",
                      "en": "Trend: the share within the legal maximum in the last {days} days "
                            "against the {days} days before. Up by 2 percentage points or more: "
                            "▲ improving; down by 2 or more: ▼ worsening; otherwise ▶ steady; "
                            "– when either period has too few cases."},
    "cmp_api": {"id": "Data yang sama dalam JSON (API)", "en": "The same data as JSON (API)"},
})


def pick_language(query_value: str | None, cookie_value: str | None) -> str:
    for value in (query_value, cookie_value):
        if value in LANGUAGES:
            return value
    return DEFAULT_LANGUAGE


def translate(lang: str, key: str, **values: object) -> str:
    text = TEXTS[key].get(lang) or TEXTS[key][DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def load_data_texts(path: Path) -> dict[str, dict[str, str]]:
    """Texts kept as data (a YAML mapping key → {id, en}); every key in both languages."""
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for key, value in loaded.items():
        if not isinstance(value, dict) or set(value) != set(LANGUAGES):
            raise ValueError(f"{path.name}: {key} needs exactly the languages {LANGUAGES}")
    return {str(k): {lang: str(v[lang]) for lang in LANGUAGES} for k, v in loaded.items()}


# The house moves portal texts to data files: each *_texts.yaml next to this module, loaded once.
for _path in sorted(Path(__file__).parent.glob("*_texts.yaml")):
    _texts = load_data_texts(_path)
    if set(_texts) & set(TEXTS):
        raise ValueError(f"{_path.name} repeats keys: {sorted(set(_texts) & set(TEXTS))}")
    TEXTS.update(_texts)
