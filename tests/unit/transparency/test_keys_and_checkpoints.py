"""Keys (settings, development key, key ids) and signed checkpoints."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pantau_transparency.checkpoint import (
    Checkpoint,
    CheckpointError,
    note_text,
    parse_note,
    sign_checkpoint,
)
from pantau_transparency.keys import (
    DEV_KEY_FILENAME,
    KeyConfigurationError,
    Signer,
    dev_signing_key,
    key_id,
    key_listing,
    load_private_key,
    load_public_keys,
    load_signer,
    private_key_pem,
    public_key_bytes,
)

ROOT = hashlib.sha256(b"root").digest()
T0 = datetime(2026, 10, 5, 3, 41, 7, 5, tzinfo=UTC)


def raw_private(key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization
    return base64.b64encode(key.private_bytes(serialization.Encoding.Raw,
                                              serialization.PrivateFormat.Raw,
                                              serialization.NoEncryption())).decode()


def test_key_id_is_sha256_of_the_raw_public_key() -> None:
    key = Ed25519PrivateKey.generate()
    raw = public_key_bytes(key.public_key())
    assert key_id(key.public_key()) == key_id(raw) == hashlib.sha256(raw).hexdigest()[:16]
    assert Signer(key).key_id == key_id(raw)
    assert "PRIVATE" not in repr(Signer(key)) and raw_private(key) not in repr(Signer(key))


def test_signing_key_from_base64_or_pem(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "k.pem"
    pem.write_bytes(private_key_pem(key))
    for value in (raw_private(key), f"  {raw_private(key)}\n", str(pem)):
        assert load_signer(value, production=True).key_id == Signer(key).key_id


@pytest.mark.parametrize("value", ["not a key", base64.b64encode(b"x" * 31).decode(),
                                   "/nonexistent/key.pem"])
def test_bad_signing_key_settings_are_clear_and_do_not_echo(value: str) -> None:
    with pytest.raises(KeyConfigurationError) as error:
        load_private_key(value)
    assert "PANTAU_TRANSPARENCY_SIGNING_KEY" in str(error.value)
    assert value not in str(error.value)


def test_pem_of_another_algorithm_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    other = ec.generate_private_key(ec.SECP256R1())
    from cryptography.hazmat.primitives import serialization
    pem = tmp_path / "ec.pem"
    pem.write_bytes(other.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    with pytest.raises(KeyConfigurationError, match="Ed25519"):
        load_private_key(str(pem))


def test_production_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    for empty in (None, "", "  "):
        with pytest.raises(KeyConfigurationError, match="PANTAU_TRANSPARENCY_SIGNING_KEY"):
            load_signer(empty, state_dir=tmp_path, production=True)
    assert not (tmp_path / DEV_KEY_FILENAME).exists()


def test_development_key_is_generated_once_0600_and_reused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = load_signer(None, state_dir=state)
    path = state / DEV_KEY_FILENAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_signer(None, state_dir=state).key_id == first.key_id
    assert load_signer(str(path)).key_id == first.key_id
    assert [p.name for p in state.iterdir()] == [DEV_KEY_FILENAME]
    with pytest.raises(KeyConfigurationError):
        load_signer(None)


def test_development_key_agrees_across_concurrent_starts(tmp_path: Path) -> None:
    ids: list[str] = []
    threads = [threading.Thread(target=lambda: ids.append(
        key_id(dev_signing_key(tmp_path).public_key()))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1 and len(ids) == 8
    assert os.listdir(tmp_path) == [DEV_KEY_FILENAME]


def test_public_keys_and_listing(tmp_path: Path) -> None:
    current, old = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    pem = tmp_path / "old.pem"
    pem.write_bytes(private_key_pem(old))
    raw_old = base64.b64encode(public_key_bytes(old.public_key())).decode()
    keys = load_public_keys(f"{raw_old}, {pem}")
    assert [key_id(k) for k in keys] == [key_id(old.public_key())] * 2
    assert load_public_keys(None) == [] and load_public_keys("") == []
    listing = key_listing(current.public_key(), keys)
    assert listing == {"keys": [
        {"key_id": key_id(current.public_key()), "algorithm": "Ed25519",
         "public_key": base64.b64encode(public_key_bytes(current.public_key())).decode(),
         "current": True},
        {"key_id": key_id(old.public_key()), "algorithm": "Ed25519", "public_key": raw_old,
         "current": False}]}
    with pytest.raises(KeyConfigurationError, match="PANTAU_TRANSPARENCY_PUBLIC_KEYS"):
        load_public_keys("nope")


def test_note_format_and_signature() -> None:
    signer = Signer(Ed25519PrivateKey.generate())
    checkpoint = sign_checkpoint(signer, "pantau.local/transparency", 42, ROOT, T0)
    note = checkpoint.note
    assert note == ("pantau.local/transparency\n42\n" + base64.b64encode(ROOT).decode()
                    + "\n2026-10-05T03:41:07.000005Z\n")
    signer.public_key.verify(checkpoint.signature, note.encode())
    body = checkpoint.to_json()
    assert body == {"origin": "pantau.local/transparency", "tree_size": 42,
                    "root_hash": ROOT.hex(), "timestamp": "2026-10-05T03:41:07.000005Z",
                    "key_id": signer.key_id,
                    "signature": base64.b64encode(checkpoint.signature).decode(), "note": note}
    assert Checkpoint.from_json(body) == checkpoint
    assert checkpoint.verify([signer.public_key])
    other = Ed25519PrivateKey.generate().public_key()
    assert not checkpoint.verify([other])
    assert parse_note(note) == ("pantau.local/transparency", 42, ROOT,
                                "2026-10-05T03:41:07.000005Z")


def test_tampered_checkpoints_fail() -> None:
    signer = Signer(Ed25519PrivateKey.generate())
    body = sign_checkpoint(signer, "pantau.local/transparency", 42, ROOT, T0).to_json()
    # A field that disagrees with the signed note is refused outright.
    for field, value in (("tree_size", 43), ("root_hash", "00" * 32), ("origin", "x"),
                         ("timestamp", "2026-10-05T03:41:08.000005Z")):
        with pytest.raises(CheckpointError):
            Checkpoint.from_json({**body, field: value})
    # A consistent but re-written note fails its signature.
    forged_note = note_text("pantau.local/transparency", 43, ROOT, body["timestamp"])
    forged = Checkpoint.from_json({**body, "tree_size": 43, "note": forged_note})
    assert not forged.verify([signer.public_key])
    for bad_note in ("a\n1\n", body["note"].replace("42", "042"), body["note"] + "\n",
                     body["note"].replace("Z\n", "+00:00\n")):
        with pytest.raises(CheckpointError):
            parse_note(bad_note)
    with pytest.raises(CheckpointError):
        note_text("two\nlines", 1, ROOT, body["timestamp"])
    with pytest.raises(CheckpointError):
        Checkpoint.from_json({"note": body["note"]})


def test_cli_generates_a_key(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    run = [sys.executable, "-m", "pantau_transparency.cli"]
    out = subprocess.run([*run, "generate-key", str(path)], capture_output=True, text=True,
                         check=True).stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"key_id {load_signer(str(path)).key_id}" in out
    assert subprocess.run([*run, "generate-key", str(path)], capture_output=True).returncode == 1
    shown = subprocess.run([*run, "public-key", str(path)], capture_output=True, text=True,
                           check=True).stdout
    assert shown == out
