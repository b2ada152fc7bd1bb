"""The demo key: only for a demo start, created once, shown once, revocable; and what ``iprisk serve`` serves with.

``iprisk serve`` runs through typer's CliRunner with the server itself
replaced (its configuration is captured instead), and the bootstrap either
replaced (a demo start that trained the synthetic models) or real over a copy
of the session's trained store (nothing to train: a production-like start).
"""

from __future__ import annotations

import re
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlmodel import Session, select
from typer.testing import CliRunner

from service import bootstrap, server
from service.auth import hash_key, lookup_digest
from service.cli import app
from service.db.engine import make_engine
from service.db.tables import ApiKey
from service.keys import DEMO_FILE
from service.server import GuardedProtocol
from service.settings import Settings
from tests.factories import Trained

KEY = re.compile(r"ipr_[A-Za-z0-9_-]{40,}")


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[uvicorn.Config]:
    """The configurations ``iprisk serve`` would have served (nothing is served)."""
    configs: list[uvicorn.Config] = []
    monkeypatch.setattr(server, "run_server", configs.append)
    return configs


def _serve(home: Path, monkeypatch: pytest.MonkeyPatch, *, trains: bool | None, **env: str) -> str:
    """Run ``iprisk serve`` with IPRISK_HOME=home; ``trains``: the bootstrap trained models (None: real bootstrap)."""
    if trains is not None:
        monkeypatch.setattr(bootstrap, "ensure_models", lambda *_, **__: ["valuation", "pd"] if trains else [])
    result = CliRunner().invoke(app, ["serve"], env={"IPRISK_HOME": str(home), "IPRISK_DATABASE_URL": None, **env})
    assert result.exit_code == 0, result.output
    return result.output


def _demo_keys(home: Path, url: str | None = None) -> list[ApiKey]:
    """Demo keys in the database (none when the start did not even create the database)."""
    url = url or f"sqlite:///{home / 'iprisk.db'}"
    if not Path(url.removeprefix("sqlite:///")).exists():
        return []
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(ApiKey).where(ApiKey.label == "demo")).all())
    finally:
        engine.dispose()


def test_a_demo_start_creates_the_key_once_and_shows_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: list[uvicorn.Config]
) -> None:
    first = _serve(tmp_path, monkeypatch, trains=True)
    shown = KEY.findall(first)
    assert len(set(shown)) == 1, first
    plain = shown[0]
    key_file = tmp_path / DEMO_FILE
    assert key_file.read_text().strip() == plain
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    engine = make_engine(f"sqlite:///{tmp_path / 'iprisk.db'}")
    with Session(engine) as session:
        principal = lookup_digest(session, hash_key(plain))
    engine.dispose()
    assert principal is not None and principal.role == "bank"

    later = _serve(tmp_path, monkeypatch, trains=False)
    assert plain not in later and not KEY.search(later)
    assert plain[:10] in later and str(key_file) in later
    again = _serve(tmp_path, monkeypatch, trains=True)  # e.g. the store was emptied: still one demo key
    assert not KEY.search(again)
    assert len(_demo_keys(tmp_path)) == 1
    assert len(served) == 3


def test_a_revoked_demo_key_is_not_created_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: list[uvicorn.Config]
) -> None:
    plain = KEY.findall(_serve(tmp_path, monkeypatch, trains=True))[0]
    key_id = _demo_keys(tmp_path)[0].id
    revoked = CliRunner().invoke(app, ["keys", "revoke", str(key_id)], env={"IPRISK_HOME": str(tmp_path)})
    assert revoked.exit_code == 0, revoked.output
    out = _serve(tmp_path, monkeypatch, trains=True)
    assert "revoked" in out and not KEY.search(out)
    keys = _demo_keys(tmp_path)
    assert len(keys) == 1 and keys[0].revoked_at is not None
    engine = make_engine(f"sqlite:///{tmp_path / 'iprisk.db'}")
    with Session(engine) as session:
        assert lookup_digest(session, hash_key(plain)) is None
    engine.dispose()


def test_no_demo_key_when_demo_is_off_or_a_database_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: list[uvicorn.Config]
) -> None:
    off = _serve(tmp_path / "off", monkeypatch, trains=True, IPRISK_DEMO="false")
    assert not KEY.search(off) and not (tmp_path / "off" / DEMO_FILE).exists()
    assert _demo_keys(tmp_path / "off") == []
    url = f"sqlite:///{tmp_path / 'configured.db'}"
    configured = _serve(tmp_path / "db", monkeypatch, trains=True, IPRISK_DATABASE_URL=url)
    assert not KEY.search(configured) and not (tmp_path / "db" / DEMO_FILE).exists()
    assert _demo_keys(tmp_path, url) == []


def test_a_start_with_models_already_there_prints_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trained: Trained, served: list[uvicorn.Config]
) -> None:
    shutil.copytree(trained.models, tmp_path / "models")
    out = _serve(tmp_path, monkeypatch, trains=None)  # the real bootstrap: every model has a champion
    assert not KEY.search(out) and "ipr_" not in out
    assert not (tmp_path / DEMO_FILE).exists()


def test_serve_runs_with_the_configured_server_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: list[uvicorn.Config]
) -> None:
    _serve(tmp_path, monkeypatch, trains=False, IPRISK_LIMIT_CONCURRENCY="77", IPRISK_TIMEOUT_KEEP_ALIVE_SECONDS="3")
    config: Any = served[0]
    assert config.limit_concurrency == 77 and config.timeout_keep_alive == 3
    assert config.http is GuardedProtocol and config.factory is True
    assert config.h11_max_incomplete_event_size is not None
    assert Settings(home=tmp_path).limit_concurrency == 256  # the default when unset
