"""funds: rule versions, cooperating banks, pooled loans, claims, recoveries, double-entry ledger

Revision ID: 0002_funds
Revises: 0001
Create Date: 2026-11-27

Money columns are BIGINT fen (1 CNY = 100 fen): ¥100bn is 10^13 fen, beyond INTEGER.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0002_funds"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('funds',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('fund_banks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fund_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('bank_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('pool_share_fen', sa.BigInteger(), nullable=False),
    sa.Column('committed_line_fen', sa.BigInteger(), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fund_id', 'bank_id')
    )
    with op.batch_alter_table('fund_banks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fund_banks_fund_id'), ['fund_id'], unique=False)

    op.create_table('fund_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fund_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('txn_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('account', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('debit_fen', sa.BigInteger(), nullable=False),
    sa.Column('credit_fen', sa.BigInteger(), nullable=False),
    sa.Column('claim_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('memo', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fund_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fund_ledger_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index('ix_fund_ledger_fund_id_id', ['fund_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fund_ledger_txn_id'), ['txn_id'], unique=False)

    op.create_table('fund_loans',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('fund_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('bank_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('loan_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('borrower_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('origination_date', sa.Date(), nullable=False),
    sa.Column('entered_on', sa.Date(), nullable=False),
    sa.Column('rule_version', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('checks', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fund_id', 'loan_id')
    )
    with op.batch_alter_table('fund_loans', schema=None) as batch_op:
        batch_op.create_index('ix_fund_loans_fund_bank', ['fund_id', 'bank_id'], unique=False)

    op.create_table('fund_rule_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fund_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fund_id', 'effective_from'),
    sa.UniqueConstraint('fund_id', 'version')
    )
    with op.batch_alter_table('fund_rule_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fund_rule_versions_fund_id'), ['fund_id'], unique=False)

    op.create_table('fund_claims',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('fund_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('bank_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('pool_loan_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('borrower_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('default_date', sa.Date(), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('rule_version', sa.Integer(), nullable=False),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('loss_fen', sa.BigInteger(), nullable=False),
    sa.Column('pool_amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('paid_fen', sa.BigInteger(), nullable=False),
    sa.Column('recovered_fen', sa.BigInteger(), nullable=False),
    sa.Column('clawed_back_fen', sa.BigInteger(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('evaluation', sa.JSON(), nullable=False),
    sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], ),
    sa.ForeignKeyConstraint(['pool_loan_id'], ['fund_loans.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fund_id', 'bank_id', 'idempotency_key')
    )
    with op.batch_alter_table('fund_claims', schema=None) as batch_op:
        batch_op.create_index('ix_fund_claims_fund_status', ['fund_id', 'status'], unique=False)
        batch_op.create_index('ix_fund_claims_fund_year', ['fund_id', 'year'], unique=False)
        batch_op.create_index(batch_op.f('ix_fund_claims_pool_loan_id'), ['pool_loan_id'], unique=False)

    op.create_table('fund_recoveries',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('fund_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('claim_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('recovered_on', sa.Date(), nullable=False),
    sa.Column('shares', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['fund_claims.id'], ),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fund_recoveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fund_recoveries_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fund_recoveries_fund_id'), ['fund_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('fund_recoveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_recoveries_fund_id'))
        batch_op.drop_index(batch_op.f('ix_fund_recoveries_claim_id'))

    op.drop_table('fund_recoveries')
    with op.batch_alter_table('fund_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_claims_pool_loan_id'))
        batch_op.drop_index('ix_fund_claims_fund_year')
        batch_op.drop_index('ix_fund_claims_fund_status')

    op.drop_table('fund_claims')
    with op.batch_alter_table('fund_rule_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_rule_versions_fund_id'))

    op.drop_table('fund_rule_versions')
    with op.batch_alter_table('fund_loans', schema=None) as batch_op:
        batch_op.drop_index('ix_fund_loans_fund_bank')

    op.drop_table('fund_loans')
    with op.batch_alter_table('fund_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_ledger_txn_id'))
        batch_op.drop_index('ix_fund_ledger_fund_id_id')
        batch_op.drop_index(batch_op.f('ix_fund_ledger_claim_id'))

    op.drop_table('fund_ledger')
    with op.batch_alter_table('fund_banks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_banks_fund_id'))

    op.drop_table('fund_banks')
    op.drop_table('funds')
