"""loan rate: the nominal annual interest rate a loan was booked at

Revision ID: 0006_loan_rate
Revises: 0005_pledge_life
Create Date: 2026-11-30

Adds ``loans.annual_rate`` (nullable): the rate the bank stated in the
assessment's loan terms.  Loans stored before it have none on record and keep
NULL: a rate nobody stated is not invented.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_loan_rate"
down_revision: str | Sequence[str] | None = "0005_pledge_life"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("loans", sa.Column("annual_rate", sa.Float(), nullable=True))


def downgrade() -> None:
    # Not in batch mode: SQLite (3.35+) drops a plain column in place, where batch mode would copy the
    # table and drop the original, which the foreign keys of loan_patents and the rest refuse.
    op.drop_column("loans", "annual_rate")
