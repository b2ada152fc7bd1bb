"""book: reported repayments, banks' overall NPL ratios, the IP-transaction registry, technology turnover

Revision ID: 0008_book
Revises: 0006_loan_rate
Create Date: 2026-11-30

Four new append-only tables (service/db/book_tables.py, docs/regulator.md); no
existing row changes, so nothing is derived: loans stored before have no
reported repayments and their balance comes from their schedule alone.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008_book"
down_revision: str | Sequence[str] | None = "0006_loan_rate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _string(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _at(name: str) -> sa.Column[object]:
    return sa.Column(name, sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "loan_repayments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", _string(36), nullable=False),
        sa.Column("institution", _string(64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("kind", _string(16), nullable=False),
        _at("reported_at"),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_loan_repayments_loan", "loan_repayments", ["loan_id", "paid_on"])
    op.create_table(
        "bank_npl_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution", _string(64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("period", _string(7), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("npl_ratio", sa.Float(), nullable=False),
        _at("reported_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bank_npl_reports_inst_period", "bank_npl_reports", ["institution", "period"])
    op.create_table(
        "ip_transactions",
        sa.Column("id", _string(36), nullable=False),
        sa.Column("institution", _string(64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("role", _string(32), nullable=False),
        sa.Column("type", _string(32), nullable=False),
        sa.Column("patent_id", _string(64), nullable=False),
        sa.Column("patent_type", _string(16), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("owner_region", _string(32), nullable=True),
        sa.Column("owner_industry", _string(32), nullable=False),
        sa.Column("counterparty_region", _string(32), nullable=True),
        sa.Column("counterparty_industry", _string(32), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.Column("upfront_fen", sa.BigInteger(), nullable=True),
        sa.Column("royalty_rate", sa.Float(), nullable=True),
        sa.Column("term_months", sa.Integer(), nullable=True),
        sa.Column("loan_id", _string(36), nullable=True),
        _at("registered_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ip_transactions_occurred", "ip_transactions", ["occurred_on"])
    op.create_index("ix_ip_transactions_institution", "ip_transactions", ["institution"])
    op.create_index("ix_ip_transactions_patent_id", "ip_transactions", ["patent_id"])
    op.create_table(
        "technology_turnover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", _string(7), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("institution", _string(64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        _at("reported_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_technology_turnover_period", "technology_turnover", ["period"])


def downgrade() -> None:
    op.drop_index("ix_technology_turnover_period", table_name="technology_turnover")
    op.drop_table("technology_turnover")
    for name in ("ix_ip_transactions_patent_id", "ix_ip_transactions_institution", "ix_ip_transactions_occurred"):
        op.drop_index(name, table_name="ip_transactions")
    op.drop_table("ip_transactions")
    op.drop_index("ix_bank_npl_reports_inst_period", table_name="bank_npl_reports")
    op.drop_table("bank_npl_reports")
    op.drop_index("ix_loan_repayments_loan", table_name="loan_repayments")
    op.drop_table("loan_repayments")
