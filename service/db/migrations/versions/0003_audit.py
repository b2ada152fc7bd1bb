"""audit log without a shared row: database-generated ids, chain fields filled by the sealer

Revision ID: 0003_audit
Revises: 0002_regulator
Create Date: 2026-12-02

Entries used to take their ``seq`` and hash from the ``audit_head`` row in the
writing transaction. Now a request inserts an entry with an ``id`` from a
sequence and leaves ``seq``/``prev_hash``/``hash`` empty; the sealer fills them
(docs/audit.md). Existing entries keep their ``seq`` and hashes (``id = seq``), so
a chain that verified before still verifies, and ``audit_head`` stays as the
sealer's cursor (its row is created here if a database never had one).

The table is rebuilt (copy, drop, rename) because both the primary key and the
nullability change; the same steps work on SQLite and PostgreSQL.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003_audit"
down_revision: str | None = "0002_regulator"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTENT = "at, key_id, role, institution, action, resource_type, resource_id, detail, prev_hash, hash"


def _content_columns(*, chained: bool) -> list[sa.Column[Any]]:
    s = sqlmodel.sql.sqltypes.AutoString
    return [
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("role", s(length=32), nullable=False),
        sa.Column("institution", s(length=64), nullable=False),
        sa.Column("action", s(length=64), nullable=False),
        sa.Column("resource_type", s(length=64), nullable=False),
        sa.Column("resource_id", s(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", s(length=64), nullable=not chained),
        sa.Column("hash", s(length=64), nullable=not chained),
    ]


def _set_aside_old_table() -> None:
    op.drop_index("ix_audit_log_institution", table_name="audit_log")
    op.rename_table("audit_log", "audit_log_old")
    if op.get_bind().dialect.name == "postgresql":
        # Index and constraint names are schema-wide there: free the ones the new table takes.
        op.execute("ALTER INDEX audit_log_pkey RENAME TO audit_log_old_pkey")


def upgrade() -> None:
    _set_aside_old_table()
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        *_content_columns(chained=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
        sqlite_autoincrement=True,
    )
    op.execute(f"INSERT INTO audit_log (id, seq, {CONTENT}) SELECT seq, seq, {CONTENT} FROM audit_log_old")
    op.drop_table("audit_log_old")
    if op.get_bind().dialect.name == "postgresql":
        # Ids copied from seq did not advance the sequence: start it after them.
        op.execute("SELECT setval(pg_get_serial_sequence('audit_log', 'id'), "
                   "COALESCE((SELECT max(id) FROM audit_log), 0) + 1, false)")
    op.create_index("ix_audit_log_institution", "audit_log", ["institution"])
    op.create_index("ix_audit_log_unsealed", "audit_log", ["id"], postgresql_where=sa.text("seq IS NULL"),
                    sqlite_where=sa.text("seq IS NULL"))
    # The head becomes the sealer's cursor; a log without one starts from genesis.
    op.execute("INSERT INTO audit_head (id, seq, last_hash) SELECT 1, 0, '" + "0" * 64 + "' "
               "WHERE NOT EXISTS (SELECT 1 FROM audit_head WHERE id = 1)")


def downgrade() -> None:
    # Only a fully sealed log fits the old shape (seq as the key); refuse rather than drop entries.
    pending = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM audit_log WHERE seq IS NULL")).scalar_one()
    if pending:
        raise RuntimeError(f"{pending} audit entries are not sealed yet: seal them before downgrading")
    op.drop_index("ix_audit_log_unsealed", table_name="audit_log")
    _set_aside_old_table()
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), nullable=False),
        *_content_columns(chained=True),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.execute(f"INSERT INTO audit_log (seq, {CONTENT}) SELECT seq, {CONTENT} FROM audit_log_old")
    op.drop_table("audit_log_old")
    op.create_index("ix_audit_log_institution", "audit_log", ["institution"])
