"""Key files are written whole, owner-only, and never overwritten."""

from __future__ import annotations

import stat
from pathlib import Path

from service.secret_files import create_secret_file


def test_a_key_file_is_created_once_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "k.key"
    assert create_secret_file(path, b"first") is True
    assert create_secret_file(path, b"second") is False  # a second process keeps the first key
    assert path.read_bytes() == b"first"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["k.key"]  # no temporary file left behind
