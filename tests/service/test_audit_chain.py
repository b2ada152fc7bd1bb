"""The audit log: appends that never wait for each other, one sealer, and checkpoints that catch rewrites.

Runs on SQLite and, where IPRISK_TEST_DATABASE_URL is set, on PostgreSQL with two
engines standing for two replicas.
"""

from __future__ import annotations

import json
import stat
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from service.audit_checkpoints import AuditBroken, AuditKeeper, CheckpointLog, load_key
from service.db import audit
from service.db.engine import make_engine
from service.db.migrate import alembic_config, upgrade
from service.db.tables import AuditEntry, AuditHead
from tests.service.harness import PG_URL, drop_pg, pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL not configured (IPRISK_TEST_DATABASE_URL)")
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'audit.db'}"
        return
    pg_url, name = pg_database()
    try:
        yield "postgresql+psycopg://" + pg_url[len("postgresql://") :]
    finally:
        drop_pg(name)


@pytest.fixture
def engines(url: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one database: two replicas."""
    a, b = make_engine(url), make_engine(url)
    upgrade(a)
    try:
        yield a, b
    finally:
        a.dispose()
        b.dispose()


@pytest.fixture
def keeper(engines: tuple[Engine, Engine], tmp_path: Path) -> AuditKeeper:
    return AuditKeeper(
        engines[0],
        CheckpointLog(tmp_path / "checkpoints", load_key(tmp_path / "keys" / "audit.key")),
        seal_interval=3600,
        checkpoint_interval=3600,
    )


def _append(session: Session, n: int, institution: str = "bank_a") -> dict[str, Any]:
    return audit.append(
        session,
        key_id=1,
        role="bank",
        institution=institution,
        action="assessment.create",
        resource_type="assessment",
        resource_id=f"a-{n}",
        detail={"n": n, "pd": 0.01 * n},
    )


def _write(engine: Engine, n: int, institution: str = "bank_a") -> None:
    with Session(engine) as s:
        _append(s, n, institution)
        s.commit()


def _chain(engine: Engine) -> list[tuple[int, int | None]]:
    """(id, seq) of every entry, by id."""
    with engine.connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(text("SELECT id, seq FROM audit_log ORDER BY id"))]


def _seqs(chain: list[tuple[int, int | None]]) -> list[int]:
    """The chain positions of ``chain``; every entry must be sealed."""
    assert all(seq is not None for _, seq in chain), chain
    return [seq for _, seq in chain if seq is not None]


def _verify(engine: Engine) -> audit.ChainCheck:
    with Session(engine) as s:
        return audit.verify_chain(s)


def _pg_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time by design; concurrent transactions are PostgreSQL's")


# --- appends never wait for each other ------------------------------------------------------------


def test_an_open_append_on_one_replica_does_not_block_another(engines: tuple[Engine, Engine]) -> None:
    a, b = engines
    _pg_only(a)
    with Session(a) as held:
        _append(held, 1, "bank_frozen")
        held.flush()  # replica A is frozen mid-request with its entry written, uncommitted
        t0 = time.perf_counter()
        with Session(b) as s:
            # On the old shared-head code this append waited for A's row lock: fail fast instead of hanging.
            s.connection().exec_driver_sql("SET LOCAL lock_timeout = '300ms'")
            _append(s, 2, "bank_b")
            s.commit()
        assert time.perf_counter() - t0 < 0.3
        assert audit.seal(b) == 1  # B's entry is chained while A is still open
        held.commit()
    assert audit.seal(b) == 1
    assert [seq for _, seq in _chain(a)] == [2, 1]  # A's entry committed later: it is chained later
    assert _verify(a).ok


def test_a_frozen_sealer_delays_sealing_and_blocks_no_writer(engines: tuple[Engine, Engine]) -> None:
    a, b = engines
    _pg_only(a)
    with a.connect() as frozen:
        frozen.begin()
        frozen.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": audit.SEAL_LOCK_KEY})
        t0 = time.perf_counter()
        _write(b, 1)
        assert audit.seal(b) == 0  # does not wait for the frozen sealer
        assert time.perf_counter() - t0 < 1.0
        frozen.rollback()
    assert audit.seal(b) == 1
    assert _verify(b).ok


def test_late_commits_are_chained_after_earlier_ones_and_none_is_skipped(engines: tuple[Engine, Engine]) -> None:
    a, b = engines
    _pg_only(a)
    early = Session(a)
    early_row = _append(early, 1)  # gets the lower id, commits last
    _write(b, 2)
    _write(b, 3)
    assert audit.seal(a) == 2
    with a.connect() as conn:
        assert conn.execute(text("SELECT seq FROM audit_log WHERE id = :i"), {"i": early_row["id"]}).scalar() is None
    early.commit()
    early.close()
    rolled_back = Session(b)
    _append(rolled_back, 4)
    rolled_back.rollback()  # never committed: never chained, leaves no gap
    rolled_back.close()
    assert audit.seal(b) == 1
    assert audit.seal(a) == 0
    chain = _chain(a)
    assert sorted(_seqs(chain)) == [1, 2, 3]
    assert dict(chain)[early_row["id"]] == 3
    check = _verify(a)
    assert check.ok and check.entries == 3 and check.pending == 0


def test_concurrent_writers_and_sealers_chain_every_entry_exactly_once(engines: tuple[Engine, Engine]) -> None:
    a, b = engines
    per_thread, threads = 25, 4
    stop = threading.Event()

    def writer(engine: Engine, k: int) -> None:
        for n in range(per_thread):
            _write(engine, k * 1000 + n, institution=f"bank_{k}")

    def sealer(engine: Engine) -> list[int]:
        runs = []
        while not stop.is_set():
            runs.append(audit.seal(engine, batch=7))
        return runs

    with ThreadPoolExecutor(2 + 2 * threads) as pool:
        sealers = [pool.submit(sealer, e) for e in (a, b)]
        writers = [pool.submit(writer, e, k) for k, e in enumerate([a, b] * threads)]
        for w in writers:
            w.result()  # a writer's exception fails the test here
        stop.set()
        sealed = [n for s in sealers for n in s.result()]
    sealed.append(audit.seal(a))
    total = per_thread * threads * 2
    seqs = _seqs(_chain(a))
    assert sorted(seqs) == list(range(1, total + 1))  # every entry, each once, no gap
    assert sum(sealed) == total
    check = _verify(b)
    assert check.ok and check.entries == total


# --- checkpoints catch what the chain alone cannot ------------------------------------------------


def _sealed_log(keeper: AuditKeeper, n: int) -> None:
    for i in range(1, n + 1):
        _write(keeper.engine, i)
    keeper.seal()


def _rechain_from(engine: Engine, seq: int) -> None:
    """What a database writer can do: recompute every hash from ``seq`` on, and the head."""
    with Session(engine) as s:
        rows = s.exec(select(AuditEntry).where(col(AuditEntry.seq) >= seq).order_by(col(AuditEntry.seq))).all()
        prev = s.exec(select(AuditEntry.hash).where(AuditEntry.seq == seq - 1)).one() if seq > 1 else audit.GENESIS
        assert prev is not None
        for e in rows:
            new = audit.entry_hash(prev, e)
            e.prev_hash, e.hash = prev, new
            prev = new
            s.add(e)
        head = s.get(AuditHead, 1)
        assert head is not None
        head.seq, head.last_hash = rows[-1].seq or 0, prev
        s.add(head)
        s.commit()


def test_verify_names_a_modified_and_a_deleted_entry(keeper: AuditKeeper) -> None:
    _sealed_log(keeper, 6)
    with keeper.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET detail = :d WHERE seq = 3"), {"d": '{"pd": 0.0001}'})
    with Session(keeper.engine) as s:
        edited = keeper.verify(s)
    assert not edited.ok and edited.chain.first_broken_seq == 3 and "content does not match" in (edited.problem or "")
    with keeper.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    with Session(keeper.engine) as s:
        deleted = keeper.verify(s)
    assert not deleted.ok and deleted.problem == "entry 3 is missing"


def test_truncation_past_a_checkpoint_is_detected(keeper: AuditKeeper) -> None:
    _sealed_log(keeper, 8)
    cp = keeper.checkpoint()
    assert cp is not None and cp.seq == 8
    with keeper.engine.begin() as conn:  # drop the last three entries and move the head back: consistent
        conn.execute(text("DELETE FROM audit_log WHERE seq > 5"))
        conn.execute(text("UPDATE audit_head SET seq = 5, last_hash = (SELECT hash FROM audit_log WHERE seq = 5)"))
    assert _verify(keeper.engine).ok  # the chain alone cannot tell
    with Session(keeper.engine) as s:
        verdict = keeper.verify(s)
    assert not verdict.ok and verdict.chain.entries == 5
    assert "truncated" in (verdict.problem or "") and "recorded entry 8" in (verdict.problem or "")


def test_a_consistently_rewritten_chain_is_detected(keeper: AuditKeeper) -> None:
    _sealed_log(keeper, 6)
    assert keeper.checkpoint() is not None
    _sealed_log(keeper, 2)  # entries 7 and 8, after the checkpoint
    with keeper.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET detail = :d WHERE seq = 2"), {"d": '{"pd": 0.0001}'})
    _rechain_from(keeper.engine, 2)
    assert _verify(keeper.engine).ok  # every hash recomputed: the chain alone cannot tell
    with Session(keeper.engine) as s:
        verdict = keeper.verify(s)
    assert not verdict.ok and verdict.chain.first_broken_seq == 6
    assert "rewritten" in (verdict.problem or "")
    with pytest.raises(AuditBroken):  # and it is never anchored over
        keeper.checkpoint(force=True)


def test_a_tampered_or_forged_checkpoint_is_detected(keeper: AuditKeeper, tmp_path: Path) -> None:
    _sealed_log(keeper, 4)
    cp = keeper.checkpoint()
    assert cp is not None
    path = keeper.checkpoints.path
    good = path.read_text()
    # Move the checkpoint back to match a truncated log: the signature no longer matches.
    path.write_text(good.replace('"seq":4', '"seq":2'))
    with Session(keeper.engine) as s:
        moved = keeper.verify(s)
    assert not moved.ok and "bad signature" in (moved.problem or "")
    # A checkpoint signed with another key.
    forger = CheckpointLog(path.parent, b"x" * 32)
    path.write_text(good)
    forger.append(forger.sign(4, "f" * 64, datetime.now(UTC)))
    with Session(keeper.engine) as s:
        forged = keeper.verify(s)
    assert not forged.ok and "line 2 (entry 4) has a bad signature" in (forged.problem or "")
    assert [c.seq for c in forged.checkpoints.valid] == [4]


def test_verify_against_the_regulators_own_copy(keeper: AuditKeeper) -> None:
    _sealed_log(keeper, 3)
    with Session(keeper.engine) as s:
        head = audit.verify_chain(s)
        mine = keeper.verify(s, anchor=audit.Anchor(3, head.head_hash, "your checkpoint"))
        wrong = keeper.verify(s, anchor=audit.Anchor(3, "0" * 64, "your checkpoint"))
    assert mine.ok and not wrong.ok
    assert wrong.problem == "entry 3 differs from your checkpoint: the log was rewritten"


def test_verify_seals_what_was_committed_first(keeper: AuditKeeper) -> None:
    _sealed_log(keeper, 2)
    _write(keeper.engine, 3)
    assert _verify(keeper.engine).pending == 1  # the chain alone reports it as pending
    with Session(keeper.engine) as s:
        verdict = keeper.verify(s)
    assert verdict.ok and verdict.chain.entries == 3 and verdict.chain.pending == 0


def test_checkpoints_only_when_the_head_moved(keeper: AuditKeeper) -> None:
    assert keeper.checkpoint() is None  # empty log: nothing to anchor
    _sealed_log(keeper, 2)
    first = keeper.checkpoint()
    assert first is not None and keeper.checkpoint() is None
    _write(keeper.engine, 3)  # not sealed yet: checkpoint seals first
    second = keeper.checkpoint()
    assert second is not None and second.seq == 3
    lines = [json.loads(x) for x in keeper.checkpoints.path.read_text().splitlines()]
    assert [x["seq"] for x in lines] == [2, 3]


def test_the_key_is_created_once_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit.key"
    key = load_key(path)
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path) == key


# --- migration ------------------------------------------------------------------------------------


def test_migration_keeps_an_existing_chain_valid_and_downgrades(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine, "0002_regulator")
        prev = audit.GENESIS
        with engine.begin() as conn:  # a log chained by the old code: seq and hash written at append
            conn.execute(text("INSERT INTO audit_head (id, seq, last_hash) VALUES (1, 0, :g)"), {"g": prev})
            for seq in (1, 2, 3):
                row = {
                    "seq": seq,
                    "at": datetime.now(UTC),
                    "key_id": 1,
                    "role": "bank",
                    "institution": "bank_a",
                    "action": "x",
                    "resource_type": "r",
                    "resource_id": str(seq),
                    "detail": {"n": seq},
                }
                digest = audit.entry_hash(prev, row)
                conn.execute(
                    text(
                        "INSERT INTO audit_log (seq, at, key_id, role, institution, action, resource_type,"
                        " resource_id, detail, prev_hash, hash) VALUES (:seq, :at, :key_id, :role,"
                        " :institution, :action, :resource_type, :resource_id, :detail, :p, :h)"
                    ),
                    {**row, "detail": json.dumps(row["detail"]), "p": prev, "h": digest},
                )
                conn.execute(text("UPDATE audit_head SET seq = :s, last_hash = :h"), {"s": seq, "h": digest})
                prev = digest
        upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert [d for d in diff if "audit" in repr(d)] == []
        assert _verify(engine).ok and _verify(engine).entries == 3
        _write(engine, 4)
        assert audit.seal(engine) == 1
        assert _chain(engine)[-1] == (4, 4)  # new ids continue after the old entries
        assert _verify(engine).ok
        command.downgrade(alembic_config(engine), "0002_regulator")  # below 0003_audit and the merge above it
        upgrade(engine)
        check = _verify(engine)
        assert check.ok and check.entries == 4
    finally:
        engine.dispose()
