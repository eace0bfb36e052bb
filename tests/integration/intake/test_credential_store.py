"""The credential store and CLI on SQLite and PostgreSQL (``store_url`` runs both; see
conftest)."""

from __future__ import annotations

import pytest

from pantau_intake.adapters.credential_store import (
    CachingKeyResolver,
    CredentialError,
    CredentialStore,
)
from pantau_intake.adapters.dev_credentials import load_dev_departments
from pantau_intake.adapters.secretbox import SecretBox, SecretBoxError
from pantau_intake.credentials.cli import main as credentials_main
from pantau_intake.domain.departments import DepartmentRef
from pantau_intake.settings import IntakeSettings

pytestmark = pytest.mark.integration
DPMPTSP = DepartmentRef("kota-bandung", "dpmptsp")
MASTER = "test-master-key-0123456789"


def store_for(url: str, master: str = MASTER) -> CredentialStore:
    return CredentialStore(url, SecretBox(master))


def test_secrets_are_sealed_and_two_keys_at_most(store_url: str) -> None:
    store = store_for(store_url)
    first = store.add(DPMPTSP, "secret-one")
    second = store.add(DPMPTSP, "secret-two")
    with pytest.raises(CredentialError):
        store.add(DPMPTSP, "secret-three")
    assert store.active_key(first.key_id).secret == "secret-one"  # type: ignore[union-attr]
    store.revoke(first.key_id)
    assert store.active_key(first.key_id) is None
    assert store.active_key(second.key_id) is not None
    assert store.add(DPMPTSP, "secret-three").active
    with pytest.raises(CredentialError):
        store.revoke(first.key_id)
    # another master key cannot read the secrets
    with pytest.raises(SecretBoxError):
        store_for(store_url, "another-master-key-xxxxxx").active_key(second.key_id)
    store.dispose()


def test_resolver_caches_and_sees_revocation_after_ttl(store_url: str) -> None:
    store = store_for(store_url)
    record = store.add(DPMPTSP, "s")
    resolver = CachingKeyResolver(store, ttl=0)
    assert resolver.resolve(record.key_id) is not None
    store.revoke(record.key_id)
    assert resolver.resolve(record.key_id) is None
    store.dispose()


def test_cli_issue_rotate_revoke_list_and_bootstrap(store_url: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    settings = IntakeSettings(intake_database_url=store_url, intake_master_key=MASTER)
    assert credentials_main(["issue", "kota-bandung/dpmptsp"], settings=settings) == 0
    issued = capsys.readouterr().out
    key_id = next(line.split()[1] for line in issued.splitlines() if line.startswith("key_id:"))
    assert "secret:" in issued
    assert credentials_main(["rotate", "kota-bandung/dpmptsp"], settings=settings) == 0
    assert "Still active: " + key_id in capsys.readouterr().out
    assert credentials_main(["rotate", "kota-bandung/dpmptsp"], settings=settings) == 0
    assert f"revoked the oldest active key {key_id}" in capsys.readouterr().out
    assert credentials_main(["issue", "kota-bandung/nope"], settings=settings) == 2
    assert credentials_main(["bootstrap-dev"], settings=settings) == 0
    # dpmptsp already has two active keys: its dev key is skipped, with a message
    assert "skipped kota-bandung.dpmptsp.dev1" in capsys.readouterr().err
    assert credentials_main(["bootstrap-dev"], settings=settings) == 0  # idempotent
    capsys.readouterr()
    assert credentials_main(["list"], settings=settings) == 0
    listed = capsys.readouterr().out
    for entry in load_dev_departments():
        assert (entry.key_id in listed) == (entry.department != DPMPTSP)
        assert entry.secret not in listed
    assert credentials_main(["revoke", "kota-bandung.dinkes.dev1"], settings=settings) == 0
    assert credentials_main(["revoke", "kota-bandung.dinkes.dev1"], settings=settings) == 2


def test_dev_file_covers_every_department_of_the_demo_jurisdictions() -> None:
    """(Not all 27: the demo loads a few, and each dev department costs a RabbitMQ user and
    two queues at every ``apply-amqp --dev``.)"""
    from pantau_contracts.catalogue import load_catalogue
    from pantau_tools.demo.scenarios import PROFILES

    catalogue = load_catalogue()
    wanted = {DepartmentRef(j, d) for j in PROFILES for d in catalogue.jurisdictions[j].departments}
    assert {e.department for e in load_dev_departments()} == wanted
