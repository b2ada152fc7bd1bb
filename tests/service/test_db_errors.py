"""Database limits and the mapping of failures to responses, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from service.db.engine import make_engine
from service.db.limits import DbLimits
from service.state import app_state
from tests.factories import application
from tests.service.harness import PG_URL, Server, captured_logs, drop_pg, pg_database


@pytest.fixture(scope="module")
def server_settings() -> dict[str, Any]:
    # A lock wait gives up after 0.5 s instead of the default 5 s: the same 503, sooner.
    return {"db_lock_timeout_ms": 500}


def _post(server: Server, **borrower: Any) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/v1/assessments",
        json=application(borrower=borrower),
        timeout=60,
        headers={"Authorization": f"Bearer {server.keys['bank_a']}"},
    )


def test_postgres_sessions_carry_the_configured_timeouts() -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (IPRISK_TEST_DATABASE_URL)")
    url, name = pg_database()
    limits = DbLimits(
        statement_timeout_ms=1234, lock_timeout_ms=567, idle_session_timeout_ms=89_000, pool_timeout_seconds=0.5
    )
    engine = make_engine("postgresql+psycopg" + url[len("postgresql") :], limits=limits)
    try:
        with engine.connect() as conn:
            shown = [
                conn.exec_driver_sql(f"SHOW {s}").scalar_one()
                for s in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")
            ]
            assert shown == ["1234ms", "567ms", "89s"]
            with pytest.raises(OperationalError) as raised:
                conn.execute(text("SELECT pg_sleep(3), :borrower"), {"borrower": "E-LEAK-1"})
            assert "E-LEAK-1" not in str(raised.value)  # parameters never reach exception texts
        assert engine.pool.timeout() == 0.5  # type: ignore[attr-defined]
    finally:
        engine.dispose()
        drop_pg(name)


def test_sqlite_waits_for_a_writer_at_most_the_lock_timeout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    engine = make_engine(url, limits=DbLimits(lock_timeout_ms=300))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (v TEXT)"))
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 300
    holder = engine.connect()
    holder.execute(text("INSERT INTO t VALUES ('held')"))  # holds this process's writer queue
    try:
        with pytest.raises(OperationalError, match="database is locked"), engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": "E-LEAK-2"})
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()


def test_a_failed_commit_answers_503_and_stores_nothing(server: Server) -> None:
    engine = app_state(server.app).engine
    before = server.count("assessments")

    def lose_connection(_conn: Any) -> None:
        raise OperationalError("COMMIT", None, Exception("server closed the connection unexpectedly"))

    event.listen(engine, "commit", lose_connection)
    try:
        response = _post(server)
    finally:
        event.remove(engine, "commit", lose_connection)
    assert response.status_code == 503, response.text
    assert response.json() == {"error": "Unavailable", "detail": "database unavailable", "field": None}
    assert response.headers["Retry-After"] == "2"
    assert server.count("assessments") == before
    assert _post(server).status_code == 201


def test_a_locked_database_answers_503_busy(server: Server) -> None:
    marker = f"E-LEAK-{uuid.uuid4().hex[:8]}"
    if server.backend == "sqlite":
        other = sqlite3.connect(server.settings.home / "iprisk.db", timeout=1, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process's writer holds the database

        def release() -> None:
            other.execute("ROLLBACK")
            other.close()
    else:
        engine = server.engine()
        conn = engine.connect()
        conn.execute(text("LOCK TABLE assessments IN ACCESS EXCLUSIVE MODE"))

        def release() -> None:
            conn.rollback()
            conn.close()
            engine.dispose()

    try:
        with captured_logs() as logged:
            response = _post(server, enterprise_id=marker)
    finally:
        release()
    assert response.status_code == 503, response.text
    assert response.json()["detail"] == "database busy: a lock wait timed out"
    assert response.headers["Retry-After"] == "1"
    assert response.headers["x-request-id"] in logged.getvalue() and marker not in logged.getvalue()


def test_an_unexpected_error_is_a_json_500_that_leaks_nothing(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise ValueError("borrower E-LEAK-3 pd 0.0421 amount 3000000")

    monkeypatch.setattr("service.routes.assessments.uc.create_assessment", broken)
    with captured_logs() as logged:
        response = _post(server)
    assert response.status_code == 500
    assert response.json()["error"] == "InternalError" and "E-LEAK-3" not in response.text
    lines = logged.getvalue()
    assert response.headers["x-request-id"] in lines and '"error": "ValueError"' in lines
    assert '"route": "/v1/assessments"' in lines and "E-LEAK-3" not in lines and "0.0421" not in lines
