"""Secret key files (model signing, audit checkpoints): created once, readable by their owner only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def create_secret_file(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` (mode 0600, directory 0700) unless the file exists; True if this call wrote it.

    The file appears whole or not at all (written aside, synced, then hard-linked into place), and
    an existing key is never overwritten: processes starting together all keep the first key written.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
    return True
