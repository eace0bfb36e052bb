"""Signed checkpoints (signed tree heads) of the transparency log.

Contract
--------
* The signed bytes are the UTF-8 *note* (C2SP tlog-checkpoint style)::

      {origin}\\n{tree_size}\\n{base64(root_hash)}\\n{timestamp}\\n

  with ``timestamp`` in the leaves' time format (``%Y-%m-%dT%H:%M:%S.%fZ``, UTC).
* The signature is Ed25519 over the note bytes, base64 in JSON; ``key_id`` names the key
  (``keys.key_id``).
* JSON form (the public API's)::

      {"origin", "tree_size", "root_hash" (hex), "timestamp", "key_id", "signature" (base64),
       "note"}

  ``Checkpoint.from_json`` refuses a JSON whose fields disagree with its note, so a verifier
  that checks the note's signature has checked every field.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pantau_transparency.keys import Signer, key_id, verify_signature
from pantau_transparency.leaf import TIME_FORMAT, format_time
from pantau_transparency.merkle import HASH_SIZE

DEFAULT_ORIGIN = "pantau.local/transparency"
ORIGIN_SETTING = "PANTAU_TRANSPARENCY_ORIGIN"
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


class CheckpointError(ValueError):
    """A malformed checkpoint or note."""


def note_text(origin: str, tree_size: int, root_hash: bytes, timestamp: str) -> str:
    """The note (the signed text) of a checkpoint."""
    if not origin or any(c in origin for c in "\n\r") or origin != origin.strip():
        raise CheckpointError("the origin is one non-empty line without surrounding spaces")
    if isinstance(tree_size, bool) or not isinstance(tree_size, int) or tree_size < 0:
        raise CheckpointError(f"bad tree size {tree_size!r}")
    if len(root_hash) != HASH_SIZE:
        raise CheckpointError("the root hash has 32 bytes")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise CheckpointError(f"the timestamp is in {TIME_FORMAT} (UTC)")
    return f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode('ascii')}\n{timestamp}\n"


def parse_note(note: str) -> tuple[str, int, bytes, str]:
    """``(origin, tree_size, root_hash, timestamp)`` of a note; ``CheckpointError`` unless the
    note is exactly in the canonical form."""
    lines = note.split("\n")
    if len(lines) != 5 or lines[4] != "":
        raise CheckpointError("a note has four lines, each ending in a newline")
    origin, size_text, root_text, timestamp = lines[:4]
    if not size_text.isascii() or not size_text.isdigit() or size_text != str(int(size_text)):
        raise CheckpointError("the tree size is a decimal integer without leading zeros")
    try:
        root_hash = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError("the root hash is not base64") from None
    if note_text(origin, int(size_text), root_hash, timestamp) != note:
        raise CheckpointError("the note is not in canonical form")
    return origin, int(size_text), root_hash, timestamp


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    timestamp: str
    key_id: str
    signature: bytes

    @property
    def note(self) -> str:
        return note_text(self.origin, self.tree_size, self.root_hash, self.timestamp)

    def to_json(self) -> dict[str, Any]:
        return {"origin": self.origin, "tree_size": self.tree_size,
                "root_hash": self.root_hash.hex(), "timestamp": self.timestamp,
                "key_id": self.key_id,
                "signature": base64.b64encode(self.signature).decode("ascii"),
                "note": self.note}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Checkpoint:
        try:
            origin, size, root_hash, timestamp = parse_note(obj["note"])
            checkpoint = cls(origin, size, root_hash, timestamp, str(obj["key_id"]),
                             base64.b64decode(obj["signature"], validate=True))
            if checkpoint.to_json() != {k: obj[k] for k in checkpoint.to_json()}:
                raise CheckpointError("the checkpoint's fields disagree with its note")
        except (KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise CheckpointError(f"malformed checkpoint: {exc!r}") from None
        return checkpoint

    def verify(self, public_keys: Iterable[Ed25519PublicKey]) -> bool:
        """Is the signature valid for one of ``public_keys`` with this ``key_id``?"""
        return any(key_id(k) == self.key_id
                   and verify_signature(k, self.signature, self.note.encode("utf-8"))
                   for k in public_keys)


def sign_checkpoint(signer: Signer, origin: str, tree_size: int, root_hash: bytes,
                    timestamp: datetime) -> Checkpoint:
    stamp = format_time(timestamp)
    note = note_text(origin, tree_size, root_hash, stamp)
    return Checkpoint(origin, tree_size, root_hash, stamp, signer.key_id,
                      signer.sign(note.encode("utf-8")))
