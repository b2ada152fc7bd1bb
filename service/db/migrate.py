"""Schema migrations with Alembic, run programmatically at start-up (``upgrade heads``).

Feature branches (funds, regulator) each start from the initial revision, so
start-up applies every head.

Replicas may start together on one database: :func:`upgrade` runs under a
lock, so one migrates and the others wait, then find the schema current.
The rows start-up needs (the audit log's head) are created under the same
lock: created check-then-insert by two replicas at once, one would crash.
PostgreSQL takes a session advisory lock on a dedicated connection; SQLite
takes an exclusive ``flock`` on a file beside the database.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from service.db.audit import ensure_head
from service.db.pg_connection import DeadlineConnection

MIGRATIONS = Path(__file__).parent / "migrations"
# pg_advisory_lock key of the schema migration: any constant no other code uses ("iprisk" in ASCII).
MIGRATION_LOCK_KEY = 0x69707269736B
LOCK_POLL_SECONDS = 0.2


def alembic_config(engine: Engine, connection: Connection | None = None) -> Config:
    """An Alembic config bound to ``engine`` (no alembic.ini needed), or to one of its connections."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "heads", *, wait_seconds: float = 600.0) -> None:
    """Bring the database schema to ``revision``, waiting at most ``wait_seconds`` for another migrator.

    At ``heads`` the rows start-up needs are created too (see the module docstring).
    """
    if engine.dialect.name == "postgresql":
        with _postgres_lock(engine, wait_seconds=wait_seconds) as conn:
            command.upgrade(alembic_config(engine, conn), revision)
            _seed(conn, revision)
        return
    database = engine.url.database
    if not database or database == ":memory:":
        lock: AbstractContextManager[None] = nullcontext()  # private to this process: nothing to race
    else:
        lock = _file_lock(Path(f"{database}.migrate.lock"), wait_seconds=wait_seconds)
    with lock:
        command.upgrade(alembic_config(engine), revision)
        _seed(engine, revision)


def _seed(bind: Engine | Connection, revision: str) -> None:
    if revision == "heads":
        with Session(bind) as session:
            ensure_head(session)
            session.commit()


@contextmanager
def _postgres_lock(engine: Engine, *, wait_seconds: float) -> Iterator[Connection]:
    """A connection holding the migration's advisory lock, without a statement timeout.

    A migration may legitimately run longer than a request's statement
    timeout.  The connection is discarded afterwards rather than returned to
    the pool with its timeouts lifted (closing it also frees the lock if
    anything below fails).
    """
    conn = engine.connect()
    try:
        dbapi_conn = conn.connection.dbapi_connection
        deadline = time.monotonic() + wait_seconds
        while not conn.execute(select(func.pg_try_advisory_lock(MIGRATION_LOCK_KEY))).scalar_one():
            conn.commit()
            if time.monotonic() > deadline:
                raise TimeoutError(f"another process held the migration lock for over {wait_seconds:g} s")
            time.sleep(LOCK_POLL_SECONDS)
        conn.exec_driver_sql("SET statement_timeout = 0")
        conn.commit()  # Alembic begins and commits its own transaction on an idle connection
        if isinstance(dbapi_conn, DeadlineConnection):
            dbapi_conn.io_timeout = None
        yield conn
        conn.execute(select(func.pg_advisory_unlock(MIGRATION_LOCK_KEY)))
        conn.commit()
    finally:
        conn.invalidate()
        conn.close()


@contextmanager
def _file_lock(path: Path, *, wait_seconds: float) -> Iterator[None]:
    """An exclusive ``flock`` on ``path``, released when the block ends (or the process dies)."""
    with path.open("a") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another process held {path} for over {wait_seconds:g} s") from None
                time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
