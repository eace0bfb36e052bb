"""The department SDK stands alone: a fresh virtualenv with only ``libs/contracts`` and
``libs/client`` (and their PyPI dependencies) sends a signed event to a real intake and gets 202,
and none of Pantau's server-side frameworks is even installed there.

Slow (~1 min: a virtualenv and a pip install from PyPI) but part of the normal suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pantau_contracts.routing import ACCEPTED_EXCHANGE
from tests.conftest import REPO, wait_for
from tests.integration.intake.helpers import TempQueue, dev, receipt
from tests.integration.intake.running import start_intake

pytestmark = pytest.mark.integration

SERVER_SIDE = ("nameko", "eventlet", "fastapi", "starlette", "uvicorn", "elasticsearch",
               "sqlalchemy", "pantau_intake", "pantau_platform")

SEND = """
import importlib.util, json, sys
from pantau_client.http_sender import HttpSender
from pantau_contracts import make_event
url, key_id, secret, receipt = sys.argv[1:5]
event = make_event(type="case.submitted", source="/kota-bandung/dpmptsp",
                   data={"receipt_number": receipt, "service_code": "pbg"})
answer = HttpSender(url, key_id, secret, attempts=1).send(event)  # returns only on 202
print(json.dumps({"answer": answer, "id": event.get_id(), "importable": [
    name for name in sys.argv[5:] if importlib.util.find_spec(name) is not None]}))
"""


@pytest.fixture(scope="module")
def client_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("client-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # both local paths in one command: pip takes pantau-contracts (pantau-client's dependency)
    # from libs/contracts and everything else (httpx, pika, tqdm, pydantic, …) from PyPI
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           str(REPO / "libs" / "contracts"), str(REPO / "libs" / "client")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


@pytest.mark.timeout(900)
def test_a_venv_with_only_the_sdk_sends_a_signed_event(
        client_venv: Path, start_service: Callable[..., Any], tmp_path: Path,
        amqp_url: str) -> None:
    url = start_intake(start_service, tmp_path / "state")
    creds = dev("kota-bandung/dpmptsp")
    owned = receipt(tag="SDK")
    queue = TempQueue(amqp_url, ACCEPTED_EXCHANGE, "kota-bandung.dpmptsp.#")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(client_venv / "bin" / "python"), "-c", SEND, url, creds.key_id,
                           creds.secret, owned, *SERVER_SIDE],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["answer"]["status"] == "accepted"
    assert result["importable"] == [], f"server-side packages in the SDK's venv: {result}"
    # the console script works there too (its own settings: PANTAU_CLIENT_* variables)
    cli = subprocess.run(
        [str(client_venv / "bin" / "pantau-client"), "--via", "http", "send",
         "--type", "case.stage_started", "--sequence", "2",
         "--data", json.dumps({"receipt_number": owned, "stage": "verifikasi-berkas"})],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={**env, "PANTAU_CLIENT_DEPARTMENT": "kota-bandung/dpmptsp",
             "PANTAU_CLIENT_HTTP_URL": url, "PANTAU_CLIENT_KEY_ID": creds.key_id,
             "PANTAU_CLIENT_SECRET": creds.secret})
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.startswith("sent: ")
    wait_for(lambda: len([m for m in queue.drain() if owned in m[2].decode()]) == 2,
             timeout=30, message="both events forwarded")
    queue.close()
