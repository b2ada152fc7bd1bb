"""Manifest signatures: who may publish a model version, not only whether its files match.

The manifest already holds the sha256 of every file, so a MAC over the manifest
covers the whole version. Anyone who can write to the store can edit a model and
recompute the checksums; without the key they cannot produce a matching signature.

The signature is HMAC-SHA256 over :data:`DOMAIN` followed by the exact bytes of
``manifest.json`` (written once by the store, never rewritten), stored beside it as
``signature.json``. The key is plain bytes held outside the store; this module never
reads settings or files other than the two it is given.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from models_store.errors import SignatureError
from models_store.manifest import SIGNATURE_FILENAME, NonEmptyStr, Sha256Hex, UtcDatetime

__all__ = ["DOMAIN", "MIN_KEY_BYTES", "Signature", "check_key", "key_id", "parse_signature", "sign", "verify"]

DOMAIN = b"iprisk model manifest v1\n"
MIN_KEY_BYTES = 16
Algorithm = Literal["hmac-sha256"]
ALGORITHM: Final[Algorithm] = "hmac-sha256"


class Signature(BaseModel):
    """The content of ``signature.json``.

    Only ``mac`` is checked; ``key_id`` names the key (a hash prefix, not the key) so a
    refusal can say "signed with another key"; ``signed_by`` and ``signed_at`` are
    informational and not covered by the MAC.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    algorithm: Algorithm
    key_id: str
    mac: Sha256Hex
    signed_by: NonEmptyStr
    signed_at: UtcDatetime


def check_key(key: bytes) -> bytes:
    """Return ``key`` if it is long enough to sign with, else raise ValueError."""
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise ValueError(f"a model signing key must be at least {MIN_KEY_BYTES} bytes")
    return key


def key_id(key: bytes) -> str:
    """Short public name of a key: 16 hex digits of a domain-separated sha256."""
    return hashlib.sha256(b"iprisk model signing key id\0" + key).hexdigest()[:16]


def _mac(key: bytes, manifest_bytes: bytes) -> str:
    return hmac.new(key, DOMAIN + manifest_bytes, hashlib.sha256).hexdigest()


def sign(manifest_bytes: bytes, key: bytes, *, signed_by: str, signed_at: datetime) -> bytes:
    """Return the ``signature.json`` bytes for a manifest's exact bytes."""
    signature = Signature(
        algorithm=ALGORITHM,
        key_id=key_id(check_key(key)),
        mac=_mac(key, manifest_bytes),
        signed_by=signed_by,
        signed_at=signed_at,
    )
    return signature.model_dump_json(indent=2).encode() + b"\n"


def parse_signature(ref: str, raw: bytes | None) -> Signature:
    """Parse ``signature.json`` bytes (``None``: the file is missing).

    Raises
    ------
    SignatureError
        If the version is unsigned or the file is not a valid signature.
    """
    if raw is None:
        raise SignatureError(f"{ref} is unsigned (no {SIGNATURE_FILENAME})", reason="unsigned")
    try:
        return Signature.model_validate_json(raw)
    except ValidationError as exc:
        raise SignatureError(
            f"{ref}: {SIGNATURE_FILENAME} is not a valid signature: {exc.errors()[0]['msg']}", reason="invalid"
        ) from exc


def verify(ref: str, manifest_bytes: bytes, raw_signature: bytes | None, key: bytes) -> Signature:
    """Check the signature of a manifest with ``key`` and return it.

    Raises
    ------
    SignatureError
        ``reason`` is ``"unsigned"``, ``"invalid"`` (unparsable file), ``"other_key"``
        (signed with a key other than ``key``) or ``"mismatch"`` (the manifest changed
        after signing, or the signature was forged).
    """
    signature = parse_signature(ref, raw_signature)
    expected = _mac(key, manifest_bytes)
    if hmac.compare_digest(expected, signature.mac):
        return signature
    mine = key_id(key)
    if signature.key_id != mine:
        raise SignatureError(
            f"{ref} is signed with another key (key id {signature.key_id}; the configured key "
            f"is {mine}): sign it again with the configured key",
            reason="other_key",
        )
    raise SignatureError(
        f"{ref}: the signature does not match the manifest: the manifest was changed after signing", reason="mismatch"
    )
