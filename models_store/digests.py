"""sha256 digests of bytes and files: the one hashing helper of the store and of training."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

__all__ = ["sha256_bytes", "sha256_file", "sha256_files"]

_CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    """Return the sha256 hex digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_files(paths: Iterable[Path], *, with_names: bool = False) -> str:
    """Return one sha256 hex digest over the bytes of ``paths``, in order, read in chunks.

    With ``with_names`` each file's name (not its directory) is hashed just before its
    bytes, so renaming a file changes the digest.
    """
    digest = hashlib.sha256()
    for path in paths:
        if with_names:
            digest.update(path.name.encode())
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    """Return the sha256 hex digest of the file at ``path``, read in chunks."""
    return sha256_files([path])
