"""Funds, their cooperating banks, deposits and the figures read from their ledgers."""

from __future__ import annotations

from datetime import UTC, date
from decimal import Decimal

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from scoring.vocab.money import to_cny, to_fen
from service.auth import Principal
from service.db.fund_tables import Claim, Fund, FundBank, PoolLoan
from service.errors import Conflict, Forbidden
from service.schemas import funds as api
from service.usecases.funds import ledger
from service.usecases.funds.access import audit_fund, locked_fund, visible_fund
from service.usecases.funds.rules import rule_version_on


def _fund_public(session: Session, fund: Fund, on: date) -> api.FundPublic:
    current = rule_version_on(session, fund.id, on)
    return api.FundPublic(
        id=fund.id,
        name=fund.name,
        region=fund.region,
        created_at=fund.created_at.replace(tzinfo=UTC),
        created_by=fund.created_by,
        current_rule_version=current.version if current else None,
    )


def create_fund(session: Session, principal: Principal, req: api.FundCreate, *, on: date) -> api.FundPublic:
    """Create a fund; a fund manager may create only the fund named after its institution."""
    if principal.role == "fund_manager" and req.id != principal.institution:
        raise Forbidden(
            f"a fund manager of {principal.institution!r} may only create fund {principal.institution!r}", field="id"
        )
    if session.get(Fund, req.id) is not None:
        raise Conflict(f"fund {req.id} exists", field="id")
    fund = Fund(id=req.id, name=req.name, region=req.region, created_by=principal.institution)
    session.add(fund)
    session.flush()
    audit_fund(session, principal, "fund.create", "fund", fund.id, {"name": fund.name})
    return _fund_public(session, fund, on)


def list_funds(session: Session, principal: Principal, *, on: date) -> list[api.FundPublic]:
    """Funds the caller may see."""
    q = select(Fund).order_by(col(Fund.id))
    if principal.role == "fund_manager":
        q = q.where(Fund.id == principal.institution)
    return [_fund_public(session, f, on) for f in session.exec(q).all()]


def get_fund(session: Session, principal: Principal, fund_id: str, *, on: date) -> api.FundPublic:
    """One fund, with the rule version in force on ``on``."""
    return _fund_public(session, visible_fund(session, principal, fund_id), on)


def bank_figures(session: Session, fund_id: str, bank_id: str) -> tuple[int, int, int]:
    """(pooled principal, claimed loss of claims not rejected, outstanding principal of active loans), fen.

    The outstanding principal is what uses the bank's committed line: repaid loans release it.
    """
    pooled, outstanding = session.exec(
        select(
            func.coalesce(func.sum(PoolLoan.amount_fen), 0),
            func.coalesce(
                func.sum(case((col(PoolLoan.status) == "active", PoolLoan.amount_fen - PoolLoan.repaid_fen), else_=0)),
                0,
            ),
        ).where(PoolLoan.fund_id == fund_id, PoolLoan.bank_id == bank_id)
    ).one()
    lost = session.exec(
        select(func.coalesce(func.sum(Claim.loss_fen), 0)).where(
            Claim.fund_id == fund_id, Claim.bank_id == bank_id, Claim.status != "rejected"
        )
    ).one()
    return int(pooled), int(lost), int(outstanding)


def loss_rate(pooled_fen: int, lost_fen: int) -> Decimal:
    """Claimed loss / pooled principal (0 with nothing pooled)."""
    return (Decimal(lost_fen) / Decimal(pooled_fen)).quantize(Decimal("0.000001")) if pooled_fen else Decimal(0)


def _bank_public(session: Session, row: FundBank) -> api.BankPublic:
    pooled, lost, outstanding = bank_figures(session, row.fund_id, row.bank_id)
    return api.BankPublic(
        fund_id=row.fund_id,
        bank_id=row.bank_id,
        pool_share_cny=to_cny(row.pool_share_fen),
        committed_line_cny=to_cny(row.committed_line_fen),
        joined_on=row.joined_on,
        pooled_cny=to_cny(pooled),
        outstanding_cny=to_cny(outstanding),
        claimed_loss_cny=to_cny(lost),
        loss_rate=loss_rate(pooled, lost),
    )


def set_bank(
    session: Session, principal: Principal, fund_id: str, bank_id: str, req: api.BankAgreement
) -> api.BankPublic:
    """Record (or update) a bank's pool share and committed credit line."""
    locked_fund(session, principal, fund_id)
    row = session.exec(select(FundBank).where(FundBank.fund_id == fund_id, FundBank.bank_id == bank_id)).first()
    row = row or FundBank(fund_id=fund_id, bank_id=bank_id, joined_on=req.joined_on)
    row.pool_share_fen, row.committed_line_fen = to_fen(req.pool_share_cny), to_fen(req.committed_line_cny)
    row.joined_on = req.joined_on
    session.add(row)
    session.flush()
    audit_fund(
        session,
        principal,
        "fund.bank",
        "fund",
        fund_id,
        {"bank_id": bank_id, "pool_share_fen": row.pool_share_fen, "committed_line_fen": row.committed_line_fen},
    )
    return _bank_public(session, row)


def list_banks(session: Session, principal: Principal, fund_id: str) -> list[api.BankPublic]:
    """Cooperating banks (a bank sees only its own agreement)."""
    visible_fund(session, principal, fund_id)
    q = select(FundBank).where(FundBank.fund_id == fund_id).order_by(col(FundBank.bank_id))
    if principal.role == "bank":
        q = q.where(FundBank.bank_id == principal.institution)
    return [_bank_public(session, r) for r in session.exec(q).all()]


def deposit(session: Session, principal: Principal, fund_id: str, req: api.DepositCreate) -> api.BalancePublic:
    """Pay money into the fund: Dr cash_available, Cr contributions (the subsidy account: subsidy_cash, ...)."""
    locked_fund(session, principal, fund_id)
    amount = to_fen(req.amount_cny)
    cash, source = (
        ("subsidy_cash", "subsidy_contributions") if req.account == "subsidy" else ("cash_available", "contributions")
    )
    txn = ledger.post(
        session, fund_id, kind="deposit", memo=req.source, postings=[(cash, amount, 0), (source, 0, amount)]
    )
    detail: dict[str, object] = {"amount_fen": amount, "txn_id": txn, "source": req.source, "account": req.account}
    audit_fund(session, principal, "fund.deposit", "fund", fund_id, detail)
    return ledger.balance(session, fund_id)


def get_ledger(session: Session, principal: Principal, fund_id: str, *, limit: int, offset: int) -> api.LedgerPage:
    """A page of the fund's ledger."""
    visible_fund(session, principal, fund_id)
    return ledger.page(session, fund_id, limit=limit, offset=offset)


def get_balance(session: Session, principal: Principal, fund_id: str) -> api.BalancePublic:
    """The fund's figures derived from its ledger."""
    visible_fund(session, principal, fund_id)
    return ledger.balance(session, fund_id)
