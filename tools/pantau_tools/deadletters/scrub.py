"""Scrubbing old dead letters of the applicant's private data. Pure.

A dead letter older than the retention (``PANTAU_INTAKE_DEADLETTERS_SCRUB_DAYS``, default 30)
loses its ``data.applicant`` block. The scrubbed copy is re-published by the tool, so RabbitMQ
sees a new message: its ``x-death`` record and the original ``user_id`` would be gone (the
broker only accepts the publishing login as ``user_id``). What a later safe replay needs is kept
in ``x-pantau-provenance`` — the provenance as worked out *before* scrubbing (where it died, by
whose word, the authenticated original sender, the department a replay acts as, the routing
key, the broker's queue/reason/count, Pantau's own reason, the suspicions, when it died) — and
that header is believed later only because the copy's ``user_id`` is a trusted operator (the
tool's own login; a department cannot publish with that ``user_id``, and every Pantau service
strips inbound x-pantau-* headers before it dead-letters). Everything else in the body and the
plain headers is kept as it was; x-pantau-* and death headers are not (their content is in the
provenance, or was never to be believed).

When a letter died: the broker's ``x-death`` time (a publisher could have pre-planted it — it
can only make its letter look older, i.e. scrubbed sooner; a time in the future counts as
unknown), the dead-lettering service's ``x-pantau-dead-lettered-at``, or unknown. A letter of
unknown age is scrubbed: privacy wins over a forensic detail nobody could vouch for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pantau_contracts.routing import PROVENANCE_HEADER, REPLAY_AS_HEADER, dead_letter_headers
from pantau_tools.deadletters.provenance import Provenance

SCRUBBED_AT_HEADER = "x-pantau-scrubbed-at"


def without_applicant(body: bytes) -> bytes | None:
    """The event without ``data.applicant``; None if there is none to remove (or no JSON)."""
    try:
        event = json.loads(body)
    except ValueError:
        return None
    data = event.get("data") if isinstance(event, dict) else None
    if not isinstance(data, dict) or "applicant" not in data:
        return None
    del data["applicant"]
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def is_due(prov: Provenance, now: datetime, older_than_days: float) -> bool:
    """True if the letter died more than ``older_than_days`` ago, or nobody can tell when."""
    return prov.dead_at is None or now - prov.dead_at > timedelta(days=older_than_days)


def scrubbed_headers(headers: Mapping[str, Any], prov: Provenance,
                     now: datetime) -> dict[str, Any]:
    kept = {k: v for k, v in dead_letter_headers(headers).items() if k != REPLAY_AS_HEADER}
    kept[PROVENANCE_HEADER] = prov.to_json()
    kept[SCRUBBED_AT_HEADER] = now.isoformat()
    return kept
