"""merge heads: after booking (0007), the point-in-time book (0008), funds as funds run them (0009)

Revision ID: 0010_merge_0007_0008_0009
Revises: 0007_after_booking, 0008_book, 0009_fund_life
Create Date: 2026-11-30

The three were built side by side from 0006_loan_rate and touch separate
tables, so their order does not matter; this revision only joins them into one
head, which every database upgrades to.
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = "0010_merge_0007_0008_0009"
down_revision: str | Sequence[str] | None = ("0007_after_booking", "0008_book", "0009_fund_life")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
