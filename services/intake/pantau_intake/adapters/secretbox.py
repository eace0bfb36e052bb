"""Encrypting department secrets at rest with the master key (AES-256-GCM).

Why encryption and not a one-way hash: HMAC request signing needs the server to compute the same
HMAC as the sender, so it must be able to recover the secret. A password-style hash (bcrypt,
scrypt) would only work if the secret itself were sent with each request, which HMAC signing is
designed to avoid. The trade-off chosen:

* the database holds only ``AES-GCM(master_key, secret)`` bound to the key id (associated data),
  so a leaked database or backup alone reveals no secret, and a ciphertext cannot be moved to
  another key id;
* the master key (``PANTAU_INTAKE_MASTER_KEY``) lives outside the database (environment / secret
  store); whoever has both can recover secrets — the same as any HMAC verifier;
* a key derivation (secret = HMAC(master, key id)) would need no storage at all but cannot import
  chosen secrets (the checked-in dev secrets) and ties every secret to one master key forever;
  encryption lets the master key be rotated by re-encrypting rows.

The dev default master key is for development only (see ``IntakeSettings``).
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "v1:"


class SecretBoxError(ValueError):
    """The ciphertext is damaged or was made with another master key."""


class SecretBox:
    def __init__(self, master_key: str) -> None:
        if len(master_key) < 16:
            raise ValueError("the master key must be at least 16 characters")
        key = hashlib.sha256(b"pantau-intake-credentials-v1\x00" + master_key.encode()).digest()
        self._aead = AESGCM(key)

    def seal(self, key_id: str, secret: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), key_id.encode())
        return _PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, key_id: str, box: str) -> str:
        if not box.startswith(_PREFIX):
            raise SecretBoxError("unknown secret box format")
        raw = base64.b64decode(box[len(_PREFIX):])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], key_id.encode()).decode()
        except InvalidTag as exc:
            raise SecretBoxError(f"cannot decrypt the secret of {key_id!r} (wrong master key?)"
                                 ) from exc
