"""``python -m pantau_transparency.cli``: key tools for operators.

* ``generate-key PATH`` writes a new Ed25519 private key (PKCS#8 PEM, mode 0600; refuses to
  overwrite) for ``PANTAU_TRANSPARENCY_SIGNING_KEY`` and prints its key id and public key.
* ``public-key VALUE`` prints the key id and base64 public key of a signing-key setting value
  (a PEM path or base64 raw key), e.g. to announce a new key's id before a rotation (the
  published key list needs no setting: every key that signs a checkpoint is recorded in
  ``transparency_keys``; docs/transparency.md, "Keys and rotation").
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pantau_transparency.keys import (
    KeyConfigurationError,
    key_id,
    load_private_key,
    private_key_pem,
    public_key_bytes,
)


def _describe(key: Ed25519PrivateKey) -> str:
    raw = public_key_bytes(key.public_key())
    return f"key_id {key_id(raw)}\npublic_key {base64.b64encode(raw).decode('ascii')}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pantau_transparency.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate-key", help="write a new Ed25519 PEM private key")
    generate.add_argument("path", type=Path)
    show = commands.add_parser("public-key", help="key id and public key of a signing key")
    show.add_argument("value")
    args = parser.parse_args(argv)
    if args.command == "generate-key":
        key = Ed25519PrivateKey.generate()
        try:
            fd = os.open(args.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            print(f"{args.path} exists; not overwritten", file=sys.stderr)
            return 1
        with os.fdopen(fd, "wb") as handle:
            handle.write(private_key_pem(key))
        print(_describe(key))
        return 0
    try:
        print(_describe(load_private_key(args.value)))
    except KeyConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
