"""regulator view: loan outcomes and scoring input snapshots

Revision ID: 0002_regulator
Revises: 0001
Create Date: 2026-11-27
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0002_regulator"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


LOAN_FACTS = [
    ("region", sqlmodel.sql.sqltypes.AutoString(length=32)),
    ("industry", sqlmodel.sql.sqltypes.AutoString(length=32)),
    ("patent_type", sqlmodel.sql.sqltypes.AutoString(length=16)),
    ("collateral_p50", sa.Float()),
    ("ltv", sa.Float()),
    ("pd", sa.Float()),
    ("grade", sqlmodel.sql.sqltypes.AutoString(length=8)),
    ("expected_loss", sa.Float()),
]


def upgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        for name, type_ in LOAN_FACTS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    op.create_table(
        "loan_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("institution", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("reported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("npl_class", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("default_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_loan_outcomes_loan_id", "loan_outcomes", ["loan_id"])
    op.create_index("ix_loan_outcomes_institution", "loan_outcomes", ["institution"])
    op.create_table(
        "feature_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("institution", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("result_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("result_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("x", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_snapshots_model_created", "feature_snapshots", ["model", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_snapshots_model_created", table_name="feature_snapshots")
    op.drop_table("feature_snapshots")
    op.drop_index("ix_loan_outcomes_institution", table_name="loan_outcomes")
    op.drop_index("ix_loan_outcomes_loan_id", table_name="loan_outcomes")
    op.drop_table("loan_outcomes")
    with op.batch_alter_table("loans") as batch:
        for name, _ in reversed(LOAN_FACTS):
            batch.drop_column(name)
