from __future__ import annotations

import pytest

from pantau_intake.adapters.secretbox import SecretBox, SecretBoxError


def test_roundtrip_and_no_plaintext() -> None:
    box = SecretBox("a-master-key-of-some-length")
    sealed = box.seal("key-1", "the-secret")
    assert "the-secret" not in sealed
    assert box.open("key-1", sealed) == "the-secret"
    assert box.seal("key-1", "the-secret") != sealed  # fresh nonce each time


def test_bound_to_key_id_and_master_key() -> None:
    box = SecretBox("a-master-key-of-some-length")
    sealed = box.seal("key-1", "the-secret")
    with pytest.raises(SecretBoxError):
        box.open("key-2", sealed)  # a ciphertext cannot be moved to another key
    with pytest.raises(SecretBoxError):
        SecretBox("another-master-key-xxxxx").open("key-1", sealed)


def test_short_master_key_is_refused() -> None:
    with pytest.raises(ValueError):
        SecretBox("short")
