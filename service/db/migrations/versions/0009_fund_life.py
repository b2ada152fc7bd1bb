"""fund life: pooled loans' repayment and migration record, corrections of deposits

Revision ID: 0009_fund_life
Revises: 0006_loan_rate
Create Date: 2026-11-30

Adds to ``fund_loans``: ``repaid_fen`` (principal repaid; 0 for the loans already
pooled, which had no repayment step), ``closed_on``, ``migrated_from`` and
``entry_evidence`` (a stated past entry date's documents; NULL for loans entered
before, which were all entered on the day they were registered).  Creates
``fund_corrections``: reversals of deposits, asked by one fund-manager key and
approved by another; the ledger itself only ever gets new lines.  Creates
``fund_subsidy_versions`` (subsidy programmes as versioned rule data) and
``fund_subsidy_applications``; subsidy money moves in the fund's ledger in its own
accounts (``subsidy_cash``, ``subsidy_contributions``, ``subsidies_paid``), which
need no schema change.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009_fund_life"
down_revision: str | Sequence[str] | None = "0006_loan_rate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _string(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.add_column("fund_loans", sa.Column("repaid_fen", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("fund_loans", sa.Column("closed_on", sa.Date(), nullable=True))
    op.add_column("fund_loans", sa.Column("migrated_from", _string(500), nullable=True))
    op.add_column("fund_loans", sa.Column("entry_evidence", sa.JSON(), nullable=True))
    op.create_table(
        "fund_corrections",
        sa.Column("id", _string(36), nullable=False),
        sa.Column("fund_id", _string(64), nullable=False),
        sa.Column("kind", _string(32), nullable=False),
        sa.Column("txn_id", _string(36), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("reason", _string(500), nullable=False),
        sa.Column("status", _string(16), nullable=False),
        sa.Column("requested_by_key", sa.Integer(), nullable=False),
        sa.Column("approved_by_key", sa.Integer(), nullable=True),
        sa.Column("reversal_txn_id", _string(36), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("txn_id"),
    )
    op.create_index("ix_fund_corrections_fund_id", "fund_corrections", ["fund_id"], unique=False)
    op.create_table(
        "fund_subsidy_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", _string(64), nullable=False),
        sa.Column("programme", _string(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by", _string(64), nullable=False),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fund_id", "programme", "version"),
        sa.UniqueConstraint("fund_id", "programme", "effective_from"),
    )
    op.create_index("ix_fund_subsidy_versions_fund_id", "fund_subsidy_versions", ["fund_id"], unique=False)
    op.create_table(
        "fund_subsidy_applications",
        sa.Column("id", _string(36), nullable=False),
        sa.Column("fund_id", _string(64), nullable=False),
        sa.Column("programme", _string(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", _string(16), nullable=False),
        sa.Column("filed_by", _string(64), nullable=False),
        sa.Column("applicant", _string(16), nullable=False),
        sa.Column("enterprise_id", _string(64), nullable=False),
        sa.Column("region", _string(32), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("status", _string(16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("decision_reason", _string(2000), nullable=True),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_fund_subsidy_applications_fund_enterprise",
        "fund_subsidy_applications",
        ["fund_id", "enterprise_id", "year"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_fund_subsidy_applications_fund_enterprise", table_name="fund_subsidy_applications")
    op.drop_table("fund_subsidy_applications")
    op.drop_index("ix_fund_subsidy_versions_fund_id", table_name="fund_subsidy_versions")
    op.drop_table("fund_subsidy_versions")
    op.drop_index("ix_fund_corrections_fund_id", table_name="fund_corrections")
    op.drop_table("fund_corrections")
    # Not in batch mode: SQLite (3.35+) drops a plain column in place, where batch mode would copy the
    # table and drop the original, which the foreign key of fund_claims refuses.
    for column in ("entry_evidence", "migrated_from", "closed_on", "repaid_fen"):
        op.drop_column("fund_loans", column)
