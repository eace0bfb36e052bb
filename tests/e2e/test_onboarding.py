"""End to end: onboarding a new jurisdiction, exactly as ``docs/onboarding.md`` says.

The system starts serving two jurisdictions (a catalogue directory holding Kota and Kab.
Bandung, ``PANTAU_CATALOGUE_DIR``). Then, with the documented commands and nothing else:

1. Kota Banjar's catalogue file is added to the directory (a broken one is refused by
   ``catalogue check`` first);
2. ``python -m pantau_contracts.catalogue check`` passes;
3. ``python -m pantau_intake.credentials issue`` gives DPMPTSP a signing key, and ``apply-amqp``
   gives Disdukcapil its RabbitMQ user and ingress queue;
4. the processes that load the catalogue at start are restarted one by one (tracking, intake,
   ingress, portal) — an AMQP event the department sent before its queue was consumed waits
   in that queue and is processed after the ingress restart;
5. a signed HTTP event (``pantau_client.HttpSender``) and an AMQP event
   (``pantau_client.DepartmentClient``) reach the portal: Kota Banjar has its own dashboard,
   feeds, ``/data.json`` datasets and Open311 jurisdiction.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from pantau_client.department import DepartmentClient
from pantau_client.http_sender import HttpSender, Refused
from pantau_client.identity import Department
from pantau_contracts import make_event
from pantau_platform.settings import PantauSettings
from pantau_tools import ready
from tests.conftest import MGMT_URL, REPO, wait_for
from tests.e2e.system import System, running_system

pytestmark = pytest.mark.e2e
INTAKE_PORT, PORTAL_PORT = 18401, 18400
INTAKE = f"http://127.0.0.1:{INTAKE_PORT}"
PORTAL = f"http://127.0.0.1:{PORTAL_PORT}"
NEW = "kota-banjar"
# the processes that load the catalogue at start (the indexer does not read it)
RESTART = ["pantau_tracking", "pantau_intake.http", "pantau_intake.ingress",
           "pantau_publishing.portal"]


@pytest.fixture(scope="module")
def catalogue_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("catalogue")
    for code in ("kota-bandung", "kab-bandung"):
        shutil.copy(REPO / "catalogue" / f"{code}.yaml", directory)
    return directory


@pytest.fixture(scope="module")
def system(amqp_url: str, elasticsearch_url: str, catalogue_dir: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_system(amqp_url, tmp_path_factory.mktemp("onboarding-state"),
                        name="onboard", intake_port=INTAKE_PORT, portal_port=PORTAL_PORT,
                        catalogue_dir=catalogue_dir) as running:
        yield running


def command(system: System, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m ...`` with the deployment's settings (as the operator runs it)."""
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, env=system.env,
                          capture_output=True, text=True, timeout=120, check=False)


def printed(output: str, label: str) -> str:
    found = re.search(rf"^{label}:\s+(\S+)", output, re.MULTILINE)
    assert found, output
    return found.group(1)


def restart(system: System, module: str) -> None:
    process = system.processes.pop(module)
    process.stop()
    system.stopped.append(process)
    system.start(module)


def submitted(receipt: str, service: str, source: str) -> Any:
    return make_event(type="case.submitted", source=source, subject=receipt, sequence=1,
                      time=datetime.now(UTC),
                      data={"receipt_number": receipt, "service_code": service,
                            "kecamatan": "Pataruman", "channel": "loket"})


def portal_case(receipt: str) -> dict[str, Any] | None:
    response = httpx.get(f"{PORTAL}/api/v1/cases/{receipt}", timeout=5)
    return response.json() if response.status_code == 200 else None


def test_a_new_jurisdiction_is_onboarded_with_the_documented_commands(
        system: System, catalogue_dir: Path, tmp_path: Path,
        unique: Callable[[str], str]) -> None:
    # tracking's database outlives the run (PANTAU_DATABASE_URL): receipts new every time
    pbg, ktp = unique("BJR-PBG-2026"), unique("BJR-KE-2026")
    assert httpx.get(f"{PORTAL}/dasbor/{NEW}", timeout=5).status_code == 404  # not served yet
    # 1. the catalogue file (a broken one first: check names the file and the problem)
    source = (REPO / "catalogue" / f"{NEW}.yaml").read_text()
    (catalogue_dir / f"{NEW}.yaml").write_text(source.replace("BJR-PBG-", "BDG-PBG-"))
    broken = command(system, "pantau_contracts.catalogue", "check")
    assert broken.returncode == 1 and f"{NEW}.yaml" in broken.stdout + broken.stderr
    (catalogue_dir / f"{NEW}.yaml").write_text(source)
    # 2. check
    check = command(system, "pantau_contracts.catalogue", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "ok: 3 jurisdictions" in check.stdout, check.stdout
    # 3. keys and AMQP users
    issued = command(system, "pantau_intake.credentials", "issue", f"{NEW}/dpmptsp")
    assert issued.returncode == 0, issued.stderr
    key_id, secret = printed(issued.stdout, "key_id"), printed(issued.stdout, "secret")
    for name in ("dpmptsp", "disdukcapil"):  # each department: its user and its queue
        applied = command(system, "pantau_intake.credentials", "apply-amqp", f"{NEW}/{name}")
        assert applied.returncode == 0, applied.stderr
    user, password = printed(applied.stdout, "user"), printed(applied.stdout, "password")
    assert user == f"dept.{NEW}.disdukcapil"
    # the department may send over AMQP at once: its event waits in its own queue
    department = Department(NEW, "disdukcapil")
    amqp = system.amqp_url.replace("pantau:pantau@", f"{user}:{password}@")
    client = DepartmentClient(amqp, department, tmp_path / "spool.jsonl")
    try:
        assert client.send(submitted(ktp, "ktp-el", department.source)) == "sent"
    finally:
        client.close()
    # the running intake has not loaded the new catalogue yet: it refuses, saying why
    sender = HttpSender(INTAKE, key_id, secret)
    try:
        with pytest.raises(Refused) as early:
            sender.send(submitted(pbg, "pbg", f"/{NEW}/dpmptsp"))
    finally:
        sender.close()
    assert early.value.problem["status"] == 403
    assert "not a department in the catalogue" in early.value.problem["detail"]
    # 4. restart what loads the catalogue at start, one at a time
    for module in RESTART:
        restart(system, module)
    problems = ready.wait(90, urls=[f"{INTAKE}/readyz", f"{PORTAL}/readyz"],
                          settings=PantauSettings(amqp_url=system.amqp_url,
                                                  amqp_management_url=MGMT_URL))
    assert not problems, f"{problems}\n{system.logs()}"
    # 5. a signed HTTP event with the issued key
    sender = HttpSender(INTAKE, key_id, secret)
    try:
        sender.send(submitted(pbg, "pbg", f"/{NEW}/dpmptsp"))
    finally:
        sender.close()
    for receipt in (pbg, ktp):
        case = wait_for(lambda r=receipt: portal_case(r), timeout=60,
                        message=f"{receipt} on the portal\n{system.logs()}")
        assert isinstance(case, dict) and case["jurisdiction_code"] == NEW
        assert case["jurisdiction_name"] == "Kota Banjar"
    # its own dashboard and feeds
    board = httpx.get(f"{PORTAL}/dasbor/{NEW}", timeout=10)
    assert board.status_code == 200 and "Kota Banjar" in board.text
    department_board = httpx.get(f"{PORTAL}/dasbor/{NEW}/dpmptsp", timeout=10)
    assert department_board.status_code == 200
    def feed_receipts() -> set[str]:
        feed = httpx.get(f"{PORTAL}/feeds/jurisdiction/{NEW}.json", timeout=10).json()
        return {item["url"].rsplit("/", 1)[1] for item in feed["items"]}

    both = {pbg, ktp}
    wait_for(lambda: feed_receipts() == both, timeout=30, message=f"{both} in the feed")
    atom = httpx.get(f"{PORTAL}/feeds/department/{NEW}/dpmptsp.atom", timeout=10)
    assert atom.status_code == 200 and pbg in atom.text
    assert ktp not in atom.text
    assert f"/feeds/department/{NEW}/disdukcapil.atom" in httpx.get(f"{PORTAL}/umpan").text
    # open data and Open311 know it too
    data = httpx.get(f"{PORTAL}/data.json", timeout=10).json()
    assert any(d["identifier"].endswith(f"#cases/{NEW}") for d in data["dataset"])
    services = httpx.get(f"{PORTAL}/open311/v2/services.json",
                         params={"jurisdiction_id": NEW}, timeout=10)
    assert services.status_code == 200 and "pbg" in json.dumps(services.json())
