"""SQLite settings of the engine and the background WAL checkpointer."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from service.db.engine import WAL_BACKSTOP_PAGES, WalCheckpointer, make_engine
from service.state import app_state
from tests.service.harness import Server


def _wal_frames_after_checkpoint(engine_url: str) -> tuple[int, int]:
    """(frames in the WAL, frames already in the database), read by a passive checkpoint of our own."""
    engine = make_engine(engine_url)
    try:
        with engine.connect() as conn:
            _, frames, done = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
            return frames, done
    finally:
        engine.dispose()


def test_commits_leave_checkpoints_to_the_background(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == WAL_BACKSTOP_PAGES
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, blob TEXT)"))
    # 1,500 pages: past SQLite's default auto-checkpoint of 1,000, below the backstop.
    for i in range(300):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (blob) VALUES (:b)"), {"b": "x" * 20_000 + str(i)})
    checkpointer = WalCheckpointer(engine, interval=0.05)
    checkpointer.start()
    try:
        deadline = time.monotonic() + 10
        while checkpointer.frames_checkpointed == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        checkpointer.stop()
    assert checkpointer.runs >= 1
    assert checkpointer.frames_checkpointed > 1000  # no commit had checkpointed them
    frames, done = _wal_frames_after_checkpoint(url)
    assert frames == done
    engine.dispose()


def test_the_service_runs_a_checkpointer_on_sqlite_only(server: Server) -> None:
    checkpointer = app_state(server.app).checkpointer
    if server.backend == "sqlite":
        assert isinstance(checkpointer, WalCheckpointer)
        deadline = time.monotonic() + 10  # it runs every second by default
        while checkpointer.runs == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert checkpointer.runs >= 1
    else:
        assert checkpointer is None
