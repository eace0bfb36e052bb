"""Ed25519 keys of the transparency log: loading from settings, the dev key, key ids, signing.

Contract
--------
* ``key_id(public_key)`` = the first 16 hex characters of SHA-256 of the raw 32-byte public key.
* A signing-key setting (``PANTAU_TRANSPARENCY_SIGNING_KEY``) is either the path of a PEM file
  (PKCS#8, unencrypted) or base64 of the raw 32-byte private key; ``load_public_keys`` reads a
  comma- or whitespace-separated list of the same forms for public keys (a private-key PEM gives
  its public key) — for tools and tests: no service reads a public-key setting, the published
  keys are the ``transparency_keys`` table (``sql``: every key that signed a checkpoint, kept
  forever). Errors never repeat the setting's value (it may be a secret).
* ``load_signer(setting, state_dir=..., production=...)``: the configured key; with none set,
  production raises ``KeyConfigurationError`` (a clear message naming the setting), development
  uses ``dev_signing_key(state_dir)`` — ``<state_dir>/transparency-ed25519.pem``, created 0600 on
  first use and reused afterwards (several processes starting at once end up with one key).
* ``key_listing(current, retired)`` has the shape of ``GET /api/v1/transparency/key``'s body
  (which the portal answers from ``sql.LogReader.keys``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNING_KEY_SETTING = "PANTAU_TRANSPARENCY_SIGNING_KEY"
PUBLIC_KEYS_SETTING = "PANTAU_TRANSPARENCY_PUBLIC_KEYS"
DEV_KEY_FILENAME = "transparency-ed25519.pem"
ALGORITHM = "Ed25519"


class KeyConfigurationError(RuntimeError):
    """The transparency key settings cannot give a usable key."""


def public_key_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey | bytes) -> str:
    raw = public_key if isinstance(public_key, bytes) else public_key_bytes(public_key)
    return hashlib.sha256(raw).hexdigest()[:16]


def private_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


def _base64_32(value: str) -> bytes | None:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def _read_pem(path: Path, setting: str) -> Any:
    data = path.read_bytes()
    try:
        if b"PUBLIC KEY" in data:
            return serialization.load_pem_public_key(data)
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyConfigurationError(f"{setting}: {path} is not an unencrypted PEM key "
                                    f"({exc})") from None


def load_private_key(value: str, setting: str = SIGNING_KEY_SETTING) -> Ed25519PrivateKey:
    """A private key from a PEM path or base64 of the raw 32 bytes."""
    value = value.strip()
    if value and Path(value).is_file():
        key = _read_pem(Path(value), setting)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyConfigurationError(f"{setting}: {value} does not hold an Ed25519 private key")
        return key
    raw = _base64_32(value)
    if raw is None:
        raise KeyConfigurationError(
            f"{setting} is neither the path of an existing PEM file nor base64 of a raw 32-byte "
            "Ed25519 private key")
    return Ed25519PrivateKey.from_private_bytes(raw)


def load_public_key(value: str, setting: str = PUBLIC_KEYS_SETTING) -> Ed25519PublicKey:
    """A public key from a PEM path (public or private key) or base64 of the raw 32 bytes."""
    value = value.strip()
    if value and Path(value).is_file():
        key = _read_pem(Path(value), setting)
        if isinstance(key, Ed25519PrivateKey):
            return key.public_key()
        if not isinstance(key, Ed25519PublicKey):
            raise KeyConfigurationError(f"{setting}: {value} does not hold an Ed25519 key")
        return key
    raw = _base64_32(value)
    if raw is None:
        raise KeyConfigurationError(
            f"{setting}: an entry is neither the path of an existing PEM file nor base64 of a "
            "raw 32-byte Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(raw)


def load_public_keys(value: str | Iterable[str] | None,
                     setting: str = PUBLIC_KEYS_SETTING) -> list[Ed25519PublicKey]:
    """Keys from a comma/whitespace separated string or an iterable of entries."""
    if value is None:
        return []
    entries = re.split(r"[,\s]+", value) if isinstance(value, str) else list(value)
    return [load_public_key(entry, setting) for entry in entries if entry.strip()]


def dev_signing_key(state_dir: Path) -> Ed25519PrivateKey:
    """The development key in ``state_dir``: generated (0600) the first time, then reused.

    Creation is atomic (a fully written temporary file hard-linked into place), so processes
    starting together agree on one key.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / DEV_KEY_FILENAME
    if not path.exists():
        temporary = state_dir / f".{DEV_KEY_FILENAME}.{os.getpid()}.{os.urandom(4).hex()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(private_key_pem(Ed25519PrivateKey.generate()))
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process was first: use its key
        finally:
            temporary.unlink(missing_ok=True)
    return load_private_key(str(path), f"development key {path}")


class Signer:
    """Signs with one Ed25519 private key; knows its public key and key id."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.public_key = private_key.public_key()
        self.public_key_bytes = public_key_bytes(self.public_key)
        self.key_id = key_id(self.public_key_bytes)

    def sign(self, data: bytes) -> bytes:
        return self._private_key.sign(data)

    def __repr__(self) -> str:  # never the private key
        return f"Signer(key_id={self.key_id!r})"


def load_signer(signing_key: str | None, *, state_dir: Path | None = None,
                production: bool = False) -> Signer:
    """The log's signer from the settings (see the module docstring)."""
    if signing_key and signing_key.strip():
        return Signer(load_private_key(signing_key))
    if production:
        raise KeyConfigurationError(
            f"{SIGNING_KEY_SETTING} is not set: in production the transparency log refuses to "
            "start without its signing key (a development key is never generated there). Set it "
            "to the path of an Ed25519 PEM private key or to base64 of the raw 32-byte key; "
            "`python -m pantau_transparency.cli generate-key PATH` writes one.")
    if state_dir is None:
        raise KeyConfigurationError(
            f"{SIGNING_KEY_SETTING} is not set and no state directory was given for a "
            "development key")
    return Signer(dev_signing_key(state_dir))


def verify_signature(public_key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def key_listing(current: Ed25519PublicKey | None,
                retired: Iterable[Ed25519PublicKey] = ()) -> dict[str, list[dict[str, Any]]]:
    """``{"keys": [{"key_id", "algorithm", "public_key" (base64 raw), "current"}]}``, current
    key first, each key once."""
    keys: list[dict[str, Any]] = []
    seen: set[str] = set()
    for public_key, is_current in ([(current, True)] if current else []) + \
            [(k, False) for k in retired]:
        raw = public_key_bytes(public_key)
        kid = key_id(raw)
        if kid in seen:
            continue
        seen.add(kid)
        keys.append({"key_id": kid, "algorithm": ALGORITHM,
                     "public_key": base64.b64encode(raw).decode("ascii"), "current": is_current})
    return {"keys": keys}
