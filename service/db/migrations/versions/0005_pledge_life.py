"""pledge life: each loan's pledge state, registrations of pledged patents, and their history

Revision ID: 0005_pledge_life
Revises: 0004_one_pledge
Create Date: 2026-11-30

Adds ``loans.pledge_state`` (docs/pledge-life.md) and derives it for the loans
already stored from their status:

- ``active`` → ``booked``: no registration with CNIPA is on record for them
  (the service kept none before), and ``registered`` would claim a fact nobody
  stated; the bank records the registration and the loan moves on;
- ``defaulted`` → ``defaulted``: the patents stay pledged, as they are now, until
  disposal, repayment or an explicit release;
- ``closed`` → ``settled``: the patents were released when the loan closed.

Any other status (none is written by the service) is logged and left ``booked``.
Creates ``pledge_registrations`` (one row per loan and patent) and the
append-only ``pledge_events``; the loans already stored get no history rows:
their history starts with the next transition.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005_pledge_life"
down_revision: str | Sequence[str] | None = "0004_one_pledge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FROM_STATUS = {"active": "booked", "defaulted": "defaulted", "closed": "settled"}
log = logging.getLogger("iprisk.migrations")


def _string(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.add_column(sa.Column("pledge_state", _string(16), nullable=False, server_default="booked"))
    bind = op.get_bind()
    loans = sa.table("loans", sa.column("status", sa.String), sa.column("pledge_state", sa.String))
    for status, state in FROM_STATUS.items():
        bind.execute(sa.update(loans).where(loans.c.status == status).values(pledge_state=state))
    other = bind.execute(
        sa.select(loans.c.status, sa.func.count()).where(loans.c.status.not_in(list(FROM_STATUS))).group_by(loans.c.status)
    ).all()
    if other:
        log.warning("0005_pledge_life: loans with an unknown status were left booked: %s", dict(other))
    op.create_table(
        "pledge_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", _string(36), nullable=False),
        sa.Column("patent_id", _string(64), nullable=False),
        sa.Column("status", _string(16), nullable=False),
        sa.Column("registration_number", _string(64), nullable=True),
        sa.Column("applied_on", sa.Date(), nullable=True),
        sa.Column("registration_date", sa.Date(), nullable=True),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=True),
        sa.Column("released_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("loan_id", "patent_id"),
    )
    op.create_index("ix_pledge_registrations_loan_id", "pledge_registrations", ["loan_id"])
    op.create_table(
        "pledge_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("loan_id", _string(36), nullable=False),
        sa.Column("patent_id", _string(64), nullable=True),
        sa.Column("event", _string(32), nullable=False),
        sa.Column("from_state", _string(16), nullable=True),
        sa.Column("to_state", _string(16), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("reason", _string(500), nullable=True),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("institution", _string(64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_pledge_events_loan", "pledge_events", ["loan_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_pledge_events_loan", table_name="pledge_events")
    op.drop_table("pledge_events")
    op.drop_index("ix_pledge_registrations_loan_id", table_name="pledge_registrations")
    op.drop_table("pledge_registrations")
    # Not in batch mode: SQLite (3.35+) drops a plain column in place, where batch mode would copy the
    # table and drop the original, which the foreign keys of loan_patents and the rest refuse.
    op.drop_column("loans", "pledge_state")
