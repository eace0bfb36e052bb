"""The department workload the durability e2e test and the chaos matrix both send: a few realistic
case lifecycles (PBG at Kota Bandung's DPMPTSP) and the public statuses each must end with."""

from __future__ import annotations

from typing import Any

# Each plan: the events of one case (type, data beyond receipt_number) and the statuses its
# timeline must show, in order. The last status is the case's final public status.
PLANS: list[tuple[list[tuple[str, dict[str, Any]]], list[str]]] = [
    ([("case.submitted", {"service_code": "pbg", "kecamatan": "Coblong", "channel": "online"}),
      ("case.stage_started", {"stage": "verifikasi-berkas"}),
      ("case.stage_started", {"stage": "konsultasi-teknis"}),
      ("case.completed", {"note": "PBG terbit."})],
     ["diterima", "verifikasi", "diproses", "selesai"]),
    ([("case.submitted", {"service_code": "pbg", "kecamatan": "Sukajadi", "channel": "loket"}),
      ("case.stage_started", {"stage": "verifikasi-berkas"}),
      ("case.returned", {"reason": "Lengkapi dokumen rencana teknis."})],
     ["diterima", "verifikasi", "dikembalikan"]),
    ([("case.submitted", {"service_code": "pbg", "kecamatan": "Cibeunying Kaler"}),
      ("case.stage_started", {"stage": "verifikasi-berkas"}),
      ("case.returned", {"reason": "Lengkapi KRK."}),
      ("case.resumed", {"note": "KRK dilengkapi."})],
     ["diterima", "verifikasi", "dikembalikan", "verifikasi"]),
    ([("case.submitted", {"service_code": "pbg", "channel": "mpp"}),
      ("case.stage_started", {"stage": "konsultasi-teknis"}),
      ("case.rejected", {"reason": "Fungsi bangunan tidak sesuai rencana tata ruang."})],
     ["diterima", "diproses", "ditolak"]),
]
