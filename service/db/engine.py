"""Database engine: SQLite by default (zero set-up), PostgreSQL by URL."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from service.db.limits import DbLimits
from service.periodic import Periodic

if TYPE_CHECKING:
    from service.db.pg_connection import DeadlineConnection

log = logging.getLogger("iprisk.db")
# Pages in the WAL before a committing connection checkpoints it itself. The service
# checkpoints in the background (WalCheckpointer), so this is only a backstop for
# processes without one (the CLI) and for a checkpointer that has fallen behind.
WAL_BACKSTOP_PAGES = 20_000

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class JSONText(str):
    """A value already serialised to JSON (by pydantic): JSON columns store it as is.

    Scoring results are serialised once and the same text goes to the client
    and into the database, so the stored response is byte for byte the one
    returned, and it is not encoded twice.
    """

    __slots__ = ()


def dump_json(value: Any) -> str:
    """The engine's JSON serializer: :class:`JSONText` passes through, anything else is encoded."""
    return value if isinstance(value, JSONText) else json.dumps(value)


def make_engine(url: str, *, limits: DbLimits | None = None) -> Engine:
    """Create the engine for ``url`` with settings that suit a small service.

    SQLite gets WAL journaling, a busy timeout, and an in-process writer lock
    (see :func:`_serialise_writers`); PostgreSQL gets a pool sized for a
    thread-pool server.  Every wait is bounded by ``limits`` (default
    :class:`DbLimits`), and statement parameters never appear in exception
    texts, so logs and error responses cannot carry business figures.
    """
    limits = limits or DbLimits()
    if url.startswith("sqlite"):
        busy_seconds = limits.lock_timeout_ms / 1000
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_seconds},
            json_serializer=dump_json,
            hide_parameters=True,
            pool_timeout=limits.pool_timeout_seconds,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed valuation, claim decision or audit entry survives a power loss.
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={limits.lock_timeout_ms}")
            cur.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
            cur.close()

        _serialise_writers(engine, wait_seconds=busy_seconds)
        return engine
    # Here, not at the top: a SQLite process (the CLI's key commands) never loads psycopg.
    from service.db.pg_connection import DeadlineConnection

    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        json_serializer=dump_json,
        hide_parameters=True,
        pool_timeout=limits.pool_timeout_seconds,
        connect_args=limits.postgres_connect_args(),
    )

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> DeadlineConnection:
        conn = DeadlineConnection.connect(*cargs, **cparams)
        conn.io_timeout = limits.io_timeout_seconds
        return conn

    return engine


def _serialise_writers(engine: Engine, *, wait_seconds: float) -> None:
    """Queue this process's SQLite writers on a Python lock instead of SQLite's busy handler.

    SQLite allows one writer at a time; a blocked writer sleeps in steps of up
    to 100 ms, which turned 16 concurrent clients' p90 into hundreds of
    milliseconds.  A connection takes this lock just before its first write
    statement and releases it when its transaction ends.  Only a connection
    holding the lock can hold SQLite's write lock, so waiting here cannot
    deadlock with SQLite's own locking.  A writer waits at most
    ``wait_seconds`` (then "database is locked", as from SQLite's own busy
    timeout), so a stuck transaction cannot hold every other request for ever.
    """
    lock = threading.Lock()

    @event.listens_for(engine, "before_cursor_execute")
    def _acquire(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if not conn.info.get("iprisk_write_lock") and statement.lstrip()[:7].upper().startswith(_WRITES):
            if not lock.acquire(timeout=wait_seconds):
                raise OperationalError(
                    statement, None, sqlite3.OperationalError("database is locked"), hide_parameters=True
                )
            conn.info["iprisk_write_lock"] = True

    def _release(conn: Connection) -> None:
        if conn.info.pop("iprisk_write_lock", False):
            lock.release()

    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        # Safety net: a connection returned to the pool never keeps the lock.
        if record.info.pop("iprisk_write_lock", False):
            lock.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)
    event.listen(engine.pool, "checkin", _checkin)


class WalCheckpointer:
    """Checkpoints a SQLite WAL from a background thread, so no request's commit has to.

    With SQLite's default, the commit that takes the WAL past 1,000 pages
    copies them into the database and syncs it: about 2% of assessments, up
    to 250 ms each (benchmarks, 2026-11-28). ``PASSIVE`` checkpoints never
    block writers or readers; the connections' own auto-checkpoint stays as
    a backstop (:data:`WAL_BACKSTOP_PAGES`).
    """

    def __init__(self, engine: Engine, *, interval: float) -> None:
        self.engine = engine
        self.runs = 0
        self.frames_checkpointed = 0
        self._poller = Periodic(self.run_once, interval, "wal-checkpoint")

    def run_once(self) -> None:
        """One PASSIVE checkpoint; counts the frames it moved."""
        with self.engine.connect() as conn:
            busy, log_frames, done = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        self.runs += 1
        if done > 0:
            self.frames_checkpointed += done
        if busy:
            log.debug("WAL checkpoint incomplete: %s of %s frames", done, log_frames)

    def start(self) -> None:
        """Start the background thread."""
        self._poller.start()

    def stop(self) -> None:
        """Stop it (waits for a checkpoint in progress)."""
        self._poller.stop()
