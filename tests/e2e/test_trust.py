"""End to end: a public record the monitored department cannot quietly bend or rewrite.

The whole system runs as real subprocesses on the real RabbitMQ, Elasticsearch and tracking's
database (SQLite in the test's state folder, so the test can tamper with it as an insider would).
Checked here, over HTTP and AMQP:

* back-dated reports are accepted but shown as reported late, and never make a case look on time;
* a ``time`` in the future and a sender-set ``pantaureceived`` are refused;
* a department cannot open (squat) a receipt outside its own prefixes;
* every public history entry is in the signed transparency log: the standalone verifier passes
  for every case, a rebuild of the search index keeps every proof valid, an ``UPDATE`` or a
  ``DELETE`` of a history row is caught naming receipt and seq, and a rewritten log is caught by
  the monitor as inconsistent with the checkpoint it saw before.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pika
import pytest

from pantau_client.http_sender import HttpSender, Refused
from pantau_contracts import event_to_json, make_event
from pantau_intake.adapters.dev_credentials import dev_department
from pantau_intake.domain.departments import DepartmentRef
from tests.conftest import REPO, wait_for
from tests.e2e.system import System, running_system

pytestmark = pytest.mark.e2e
INTAKE_PORT, PORTAL_PORT = 18101, 18100
INTAKE = f"http://127.0.0.1:{INTAKE_PORT}"
PORTAL = f"http://127.0.0.1:{PORTAL_PORT}"
DPMPTSP = "/kota-bandung/dpmptsp"
VERIFIER = REPO / "tools" / "verifier" / "pantau_verify.py"


@pytest.fixture(scope="module")
def system(amqp_url: str, elasticsearch_url: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    state = tmp_path_factory.mktemp("trust-state")
    database = f"sqlite:///{state / 'tracking.sqlite3'}"
    common = {"PANTAU_DATABASE_URL": database, "PANTAU_TRANSPARENCY_DATABASE_URL": database,
              "PANTAU_TRANSPARENCY_CHECKPOINT_INTERVAL": "1"}
    per_process = {module: common for module in (
        "pantau_tracking", "pantau_publishing.portal", "pantau_publishing.indexer")}
    with running_system(amqp_url, state, name="trust", intake_port=INTAKE_PORT,
                        portal_port=PORTAL_PORT, per_process_env=per_process) as running:
        yield running


def sender(department: str = "kota-bandung/dpmptsp") -> HttpSender:
    creds = dev_department(department)
    return HttpSender(INTAKE, creds.key_id, creds.secret)


def public_case(receipt: str) -> dict[str, Any] | None:
    response = httpx.get(f"{PORTAL}/api/v1/cases/{receipt}", timeout=5)
    return response.json() if response.status_code == 200 else None


def refused(send: Any) -> dict[str, Any]:
    with pytest.raises(Refused) as caught:
        send()
    problem: dict[str, Any] = caught.value.problem
    return problem


def fields(problem: dict[str, Any]) -> set[str]:
    return {e["field"] for e in problem.get("errors", [])}


def verify(*args: str, state: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(VERIFIER), "--base-url", PORTAL, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def logged(receipt: str) -> bool:
    """True once every entry of the case is covered by a signed checkpoint."""
    proof = httpx.get(f"{PORTAL}/api/v1/cases/{receipt}/proof", timeout=5)
    return proof.status_code == 200 and bool(proof.json()["entries"]) \
        and not proof.json()["pending"]


def lifecycle(receipt: str, start: datetime, steps: list[tuple[str, dict[str, Any], float]],
              source: str = DPMPTSP) -> list[Any]:
    """Events of one case; each step is (type, data, days after ``start``)."""
    return [make_event(type=kind, source=source, subject=receipt, sequence=seq,
                       time=start + timedelta(days=days),
                       data={"receipt_number": receipt, **data})
            for seq, (kind, data, days) in enumerate(steps, start=1)]


SUBMITTED = {"service_code": "pbg", "kecamatan": "Coblong", "channel": "loket",
             "note": "Berkas lengkap diterima di loket."}


def test_back_dated_completion_is_marked_late_and_never_on_time(system: System,
                                                                 unique: Any) -> None:
    receipt = unique("BDG-PBG")
    start = datetime.now(UTC) - timedelta(days=60)
    http = sender()
    for event in lifecycle(receipt, start, [("case.submitted", SUBMITTED, 0),
                                            ("case.completed", {"note": "PBG terbit."}, 1)]):
        assert http.send(event)["status"] == "accepted"
    case = wait_for(lambda: (c := public_case(receipt)) and c["status"] == "selesai" and c,
                    timeout=20, message="completed case in the portal")
    assert isinstance(case, dict)
    assert case["late_reported"] is True
    first, last = case["timeline"]
    assert last["late_reported"] is True and last["reporting_delay_days"] >= 35
    assert last["counted_at"] > last["at"]  # counted at the conservative time, not the claim
    assert case["overdue"] is True, "a two-month-late report must not read as on time"
    page = httpx.get(f"{PORTAL}/kasus/{receipt}", timeout=5, follow_redirects=True)
    assert page.status_code == 200 and "hari kerja kemudian" in page.text


def test_future_time_and_sender_set_received_time_are_refused_over_http(system: System,
                                                                        unique: Any) -> None:
    receipt = unique("BDG-PBG")
    http = sender()
    future = make_event(type="case.submitted", source=DPMPTSP, subject=receipt,
                        time=datetime(2099, 1, 1, tzinfo=UTC),
                        data={"receipt_number": receipt, **SUBMITTED})
    problem = refused(lambda: http.send(future))
    assert problem["status"] == 422 and "time" in fields(problem)

    forged = make_event(type="case.submitted", source=DPMPTSP, subject=receipt,
                        data={"receipt_number": receipt, **SUBMITTED},
                        pantaureceived="2020-01-01T00:00:00Z")
    problem = refused(lambda: http.send(forged))
    assert problem["status"] == 422 and "pantaureceived" in fields(problem)
    assert public_case(receipt) is None


def test_a_department_cannot_squat_another_departments_receipt(system: System,
                                                               unique: Any) -> None:
    receipt = unique("BDG-PBG")
    squat = make_event(type="case.submitted", source="/kota-bandung/dishub", subject=receipt,
                       data={"receipt_number": receipt, "service_code": "andalalin"})
    problem = refused(lambda: sender("kota-bandung/dishub").send(squat))
    assert problem["status"] == 403 and "data.receipt_number" in fields(problem)
    own = make_event(type="case.submitted", source=DPMPTSP, subject=receipt,
                     data={"receipt_number": receipt, **SUBMITTED})
    assert sender().send(own)["status"] == "accepted"
    case = wait_for(lambda: public_case(receipt), timeout=20, message="the owner's case")
    assert isinstance(case, dict) and case["department_code"] == "dpmptsp"


def test_amqp_refusals_come_back_to_the_department(system: System, unique: Any) -> None:
    """Over AMQP the same three refusals are dead-lettered and reported as event.rejected."""
    ref = DepartmentRef("kota-bandung", "dishub")
    creds = dev_department("kota-bandung/dishub")
    url = system.amqp_url.replace("pantau:pantau@", f"{ref.amqp_user}:{creds.amqp_password}@")
    receipts = {name: unique("BDG-UB") for name in ("future", "stamped")}
    receipts["squat"] = unique("BDG-PBG")
    base = {"service_code": "uji-berkala"}
    events = {
        "future": make_event(type="case.submitted", source="/kota-bandung/dishub",
                             time=datetime(2099, 1, 1, tzinfo=UTC),
                             data={"receipt_number": receipts["future"], **base}),
        "stamped": make_event(type="case.submitted", source="/kota-bandung/dishub",
                              data={"receipt_number": receipts["stamped"], **base},
                              pantaureceived="2020-01-01T00:00:00Z"),
        "squat": make_event(type="case.submitted", source="/kota-bandung/dishub",
                            data={"receipt_number": receipts["squat"], "service_code": "pbg"}),
    }
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.confirm_delivery()
    try:
        for event in events.values():
            channel.basic_publish(
                "pantau.ingress", f"kota-bandung.dishub.{event.get_type()}",
                event_to_json(event), pika.BasicProperties(
                    user_id=ref.amqp_user, content_type="application/cloudevents+json",
                    message_id=event.get_id(), delivery_mode=2))
        seen: dict[str, dict[str, Any]] = {}

        def all_refused() -> bool:
            while True:
                method, _props, body = channel.basic_get("feedback.kota-bandung.dishub",
                                                         auto_ack=True)
                if method is None:
                    return len(seen) == len(events)
                data = json.loads(body)["data"]
                for name, event in events.items():
                    if data.get("event_id") == event.get_id():
                        seen[name] = data

        wait_for(all_refused, timeout=20, message="three event.rejected records")
    finally:
        connection.close()
    assert {f["field"] for f in seen["future"]["errors"]} >= {"time"}
    assert {f["field"] for f in seen["stamped"]["errors"]} >= {"pantaureceived"}
    assert seen["squat"]["reason"] == "forbidden"
    assert {f["field"] for f in seen["squat"]["errors"]} >= {"data.receipt_number"}
    for receipt in receipts.values():
        assert public_case(receipt) is None


def test_back_dated_report_over_amqp_is_marked_late(system: System, unique: Any,
                                                   tmp_path: Path) -> None:
    from pantau_client.department import DepartmentClient

    receipt = unique("BDG-PBG")
    ref = DepartmentRef("kota-bandung", "dpmptsp")
    creds = dev_department("kota-bandung/dpmptsp")
    url = system.amqp_url.replace("pantau:pantau@", f"{ref.amqp_user}:{creds.amqp_password}@")
    client = DepartmentClient(url, ref, tmp_path / "spool.jsonl")
    start = datetime.now(UTC) - timedelta(days=45)
    try:
        for event in lifecycle(receipt, start, [("case.submitted", SUBMITTED, 0),
                                                ("case.rejected", {"reason": "Tidak lengkap."},
                                                 2)]):
            assert client.send(event) == "sent"
    finally:
        client.close()
    case = wait_for(lambda: (c := public_case(receipt)) and c["status"] == "ditolak" and c,
                    timeout=20, message="rejected case in the portal")
    assert isinstance(case, dict) and case["late_reported"] is True
    assert all(entry["late_reported"] for entry in case["timeline"])


def demo_receipts(system: System) -> list[str]:
    """Load the demo data (both jurisdictions) into the running system; its receipts."""
    env = {**system.env, "PANTAU_INTAKE_PORT": str(INTAKE_PORT),
           "PANTAU_PORTAL_PORT": str(PORTAL_PORT)}
    receipts: list[str] = []
    done = subprocess.run([sys.executable, "-m", "pantau_tools.demo", "load"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr + system.logs()
    for jurisdiction in ("kota-bandung", "kab-bandung"):
        found = httpx.get(f"{PORTAL}/api/v1/cases", timeout=10,
                          params={"jurisdiction": jurisdiction, "size": 100, "page": 1}).json()
        total = found["total"]
        for page in range(1, total // 100 + 2):
            found = httpx.get(f"{PORTAL}/api/v1/cases", timeout=10, params={
                "jurisdiction": jurisdiction, "size": 100, "page": page, "sort": "nomor"}).json()
            receipts.extend(c["receipt_number"] for c in found["results"])
    return sorted(set(receipts))


def test_the_verifier_passes_for_every_demo_case_and_catches_tampering(
        system: System, tmp_path: Path) -> None:
    receipts = demo_receipts(system)
    assert len(receipts) >= 350  # the whole demo: ~300 Kota Bandung + ~80 Kab. Bandung
    wait_for(lambda: all(logged(r) for r in (receipts[0], receipts[-1])), timeout=30,
             message="a checkpoint covering the demo cases")
    wait_for(lambda: all(logged(r) for r in receipts), timeout=30, message="every case logged")
    monitor_state = tmp_path / "monitor.json"
    assert verify("monitor", "--state", str(monitor_state)).returncode == 0

    # Run monitor, then verify with the same state: both see the same log.
    result = verify("verify", "--state", str(monitor_state), *receipts)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    # A rebuild of the search index from tracking leaves every proof valid.
    rebuild = subprocess.run([sys.executable, "-m", "pantau_tools.rebuild"], cwd=REPO,
                             env=system.env, capture_output=True, text=True, timeout=300,
                             check=False)
    assert rebuild.returncode == 0, rebuild.stdout + rebuild.stderr
    result = verify("verify", *receipts)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    # An insider edits one history row and deletes another, then republishes from tracking.
    # (the deleted row is the last of a case with more than one step: a case needs a history)
    edited = receipts[1]
    deleted = next(r for r in receipts[2:] if len((public_case(r) or {}).get("timeline", [])) > 1)
    database = sqlite3.connect(system.state / "tracking.sqlite3")
    with database:
        database.execute("UPDATE case_history SET note = 'Selesai tepat waktu.' "
                         "WHERE receipt_number = ? AND seq = 1", (edited,))
        last = database.execute("SELECT max(seq) FROM case_history WHERE receipt_number = ?",
                                (deleted,)).fetchone()[0]
        database.execute("DELETE FROM case_history WHERE receipt_number = ? AND seq = ?",
                         (deleted, last))
    database.close()
    rebuild = subprocess.run([sys.executable, "-m", "pantau_tools.rebuild"], cwd=REPO,
                             env=system.env, capture_output=True, text=True, timeout=300,
                             check=False)
    assert rebuild.returncode == 0, rebuild.stdout + rebuild.stderr
    result = verify("verify", edited, deleted)
    assert result.returncode != 0
    report = result.stdout + result.stderr
    assert edited in report and deleted in report
    assert f"{edited} seq 1" in report and f"{deleted} seq {last}" in report

    # Rewriting the log itself (recomputing the tree, signing with the operator's own key)
    # cannot be consistent with the checkpoint the monitor saw before.
    before = latest_size()
    rewrite_log(system.state / "tracking.sqlite3", edited)
    grow = make_event(type="case.submitted", source=DPMPTSP,
                      data={"receipt_number": f"BDG-PBG-GROW-{before}", **SUBMITTED})
    sender().send(grow)
    wait_for(lambda: (latest_size() or 0) > (before or 0), timeout=20,
             message="a checkpoint over the rewritten tree")
    watched = verify("monitor", "--state", str(monitor_state))
    assert watched.returncode != 0, watched.stdout + watched.stderr
    assert "consisten" in (watched.stdout + watched.stderr).lower()


def latest_size() -> int | None:
    answer = httpx.get(f"{PORTAL}/api/v1/transparency/checkpoints/latest", timeout=5)
    return int(answer.json()["tree_size"]) if answer.status_code == 200 else None


def rewrite_log(database_path: Path, receipt: str) -> None:
    """What a dishonest insider holding the signing key would do: change a logged leaf, recompute
    every node, and let the sequencer sign a fresh checkpoint over the rewritten tree."""
    import sqlalchemy as sa

    from pantau_transparency.merkle import CompactRange, leaf_hash
    from pantau_transparency.sql import transparency_leaves, transparency_nodes

    engine = sa.create_engine(f"sqlite:///{database_path}")
    with engine.begin() as connection:
        row = connection.execute(sa.select(transparency_leaves).where(
            transparency_leaves.c.receipt_number == receipt)
            .order_by(transparency_leaves.c.leaf_index)).first()
        assert row is not None
        leaf = json.loads(row.leaf)
        leaf["note"] = "Selesai tepat waktu."
        text = json.dumps(leaf, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        connection.execute(transparency_leaves.update().where(
            transparency_leaves.c.leaf_index == row.leaf_index).values(
            leaf=text, leaf_hash=leaf_hash(text.encode())))
        leaves = connection.execute(sa.select(transparency_leaves.c.leaf).order_by(
            transparency_leaves.c.leaf_index)).scalars().all()
        connection.execute(transparency_nodes.delete())
        frontier = CompactRange()
        nodes = [{"level": level, "idx": index, "hash": value}
                 for text in leaves for level, index, value in frontier.append(
                     leaf_hash(text.encode()))]
        connection.execute(transparency_nodes.insert(), nodes)
    engine.dispose()
