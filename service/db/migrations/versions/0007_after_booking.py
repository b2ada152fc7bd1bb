"""after booking: legal-status events, current patent facts, watch alerts, loan marks, disposal cases

Revision ID: 0007_after_booking
Revises: 0006_loan_rate
Create Date: 2026-11-30

Creates the tables of docs/after-booking.md; nothing stored before changes.
The loans already booked get their patents' facts on the first event or watch
(seeded from their assessment), their marks on the first revaluation.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007_after_booking"
down_revision: str | Sequence[str] | None = "0006_loan_rate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patent_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("patent_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("institution", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("institution", "event_id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("patent_events", schema=None) as batch_op:
        batch_op.create_index("ix_patent_events_patent", ["patent_id", "occurred_on"], unique=False)

    op.create_table(
        "patent_facts",
        sa.Column("patent_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("loan_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("seed_as_of", sa.Date(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("patent_id"),
    )
    op.create_table(
        "disposal_cases",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("loan_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("institution", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("opened_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("ead_fen", sa.BigInteger(), nullable=False),
        sa.Column("suggested_reserve_fen", sa.BigInteger(), nullable=False),
        sa.Column("reserve", sa.JSON(), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("listed_on", sa.Date(), nullable=True),
        sa.Column("sold_on", sa.Date(), nullable=True),
        sa.Column("sale_price_fen", sa.BigInteger(), nullable=True),
        sa.Column("costs_fen", sa.BigInteger(), nullable=False),
        sa.Column("proceeds_fen", sa.BigInteger(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("fund_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("claim_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("recovery_fen", sa.BigInteger(), nullable=True),
        sa.Column("realised_lgd", sa.Float(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loans.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("loan_id"),
    )
    op.create_table(
        "loan_marks",
        sa.Column("loan_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("pledge_value_cny", sa.Float(), nullable=False),
        sa.Column("total_p50_cny", sa.Float(), nullable=False),
        sa.Column("max_loan_cny", sa.Float(), nullable=False),
        sa.Column("ltv", sa.Float(), nullable=True),
        sa.Column("model_version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("marked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loans.id"],
        ),
        sa.PrimaryKeyConstraint("loan_id"),
    )
    op.create_table(
        "watch_alerts",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("loan_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("institution", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("patent_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("text_zh", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("text_en", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("first_seen_on", sa.Date(), nullable=False),
        sa.Column("last_seen_on", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("acknowledged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("ack_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loans.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("watch_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_watch_alerts_inst_status", ["institution", "status"], unique=False)
        batch_op.create_index("ix_watch_alerts_loan", ["loan_id", "type"], unique=False)

    op.create_table(
        "disposal_steps",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("institution", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["disposal_cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("disposal_steps", schema=None) as batch_op:
        batch_op.create_index("ix_disposal_steps_case", ["case_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("disposal_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_disposal_steps_case")

    op.drop_table("disposal_steps")
    with op.batch_alter_table("watch_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_watch_alerts_loan")
        batch_op.drop_index("ix_watch_alerts_inst_status")

    op.drop_table("watch_alerts")
    op.drop_table("loan_marks")
    op.drop_table("disposal_cases")
    op.drop_table("patent_facts")
    with op.batch_alter_table("patent_events", schema=None) as batch_op:
        batch_op.drop_index("ix_patent_events_patent")

    op.drop_table("patent_events")
