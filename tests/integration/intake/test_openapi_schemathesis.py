"""schemathesis (``st run``, every check but one) against a real intake's own OpenAPI document,
requests **signed** with scheme v2 by a dev department key: no server error, and every answer —
status code, content type, headers, body — as documented, 405 with ``Allow`` included, and a
request missing an auth header refused.

Signing happens on the prepared request (``schemathesis_signing``, a hooks module), over the
exact bytes and headers schemathesis sends, so generated bodies reach the contract checks instead
of stopping at authentication. ``positive_data_acceptance`` is left out on purpose: the request
schema is "a JSON object" and most schema-valid objects are not valid events (a documented 422).
Intake answers a batch of more than 500 events with a documented 413 (not 400/422), so 413
counts as a rejection of schema-violating data. ``PANTAU_SCHEMATHESIS_EXAMPLES`` sets the
examples per operation (default 100).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pantau_contracts.routing import ACCEPTED_EXCHANGE
from tests.conftest import REPO
from tests.integration.intake.helpers import TempQueue, dev
from tests.integration.intake.running import start_intake

pytestmark = pytest.mark.integration
ST = Path(sys.executable).with_name("st")
CONFIG = """
[auth.openapi.PantauKey]
api_key = "KEY_ID"
[auth.openapi.PantauTimestamp]
api_key = "0"
[auth.openapi.PantauSignature]
api_key = "v2=placeholder"

[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
"""


@pytest.mark.timeout(900)
def test_schemathesis_finds_nothing_in_intake(start_service: Callable[..., Any], tmp_path: Path,
                                              amqp_url: str) -> None:
    url = start_intake(start_service, tmp_path / "state",
                       PANTAU_INTAKE_RATE_PER_SECOND="0")  # no 429s drowning the run
    creds = dev("kota-bandung/dpmptsp")
    env = {**os.environ, "PYTHONPATH": str(REPO),
           "SCHEMATHESIS_HOOKS": "tests.integration.intake.schemathesis_signing",
           "PANTAU_ST_KEY_ID": creds.key_id, "PANTAU_ST_SECRET": creds.secret}
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.replace("KEY_ID", creds.key_id))
    command = [str(ST), "--config-file", str(config), "run", f"{url}/openapi.json",
               "--checks", "all", "--exclude-checks", "positive_data_acceptance",
               "--max-examples", os.environ.get("PANTAU_SCHEMATHESIS_EXAMPLES", "100"),
               "--workers", "2", "--no-color"]
    accepted = TempQueue(amqp_url, ACCEPTED_EXCHANGE, "kota-bandung.dpmptsp.#")
    done = subprocess.run(command, capture_output=True, text=True, timeout=800, env=env,
                          cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]
    assert "Server error" not in done.stdout
    # the signing is real: the documented examples got through to the broker
    assert accepted.drain(), "no request was accepted: is the signing hook loaded?"
    accepted.close()
