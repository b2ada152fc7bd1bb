"""A fund's double-entry ledger: the lock, postings, and every figure derived from the lines.

Accounts (debit-normal ``cash_*`` and ``claims_paid``; credit-normal
``contributions`` and ``recoveries``)::

    deposit   Dr cash_available   Cr contributions
    reserve   Dr cash_reserved    Cr cash_available     a claim is filed
    release   Dr cash_available   Cr cash_reserved      a claim is rejected
    payout    Dr claims_paid      Cr cash_reserved (+ Cr/Dr cash_available for any difference at approval)
    clawback  Dr cash_available   Cr recoveries         the fund's part of a recovery
    reversal  the lines of a deposit, debit and credit swapped (a correction, never an edit)

Subsidy programmes keep their own accounts in the same ledger::

    deposit   Dr subsidy_cash     Cr subsidy_contributions   (a deposit to the subsidy account)
    subsidy   Dr subsidies_paid   Cr subsidy_cash            an application is paid

So balance = contributions − paid + recovered = cash_available + cash_reserved,
subsidy_cash = subsidy_contributions − subsidies_paid, and the cash accounts
stay ≥ 0 because every posting that draws on one is capped by it under the
fund lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from scoring.vocab.money import to_cny
from service.db.fund_tables import Fund, LedgerLine
from service.errors import NotFound
from service.schemas.funds import BalancePublic, LedgerLinePublic, LedgerPage

Posting = tuple[str, int, int]  # account, debit fen, credit fen
DEBIT_NORMAL = ("cash_available", "cash_reserved", "claims_paid", "subsidy_cash", "subsidies_paid")
ACCOUNTS = (
    "cash_available",
    "cash_reserved",
    "contributions",
    "claims_paid",
    "recoveries",
    "subsidy_cash",
    "subsidy_contributions",
    "subsidies_paid",
)


def lock_fund(session: Session, fund_id: str) -> None:
    """Serialise money-changing transactions of one fund (SQLite write lock / PostgreSQL row lock).

    Must run before the transaction reads any balance it then checks.
    """
    result = session.execute(update(Fund).where(col(Fund.id) == fund_id).values(lock_version=Fund.lock_version + 1))
    if result.rowcount == 0:  # type: ignore[attr-defined]  # Session.execute is typed Result; an UPDATE/DELETE returns a CursorResult
        raise NotFound(f"no fund {fund_id}")


def post(
    session: Session,
    fund_id: str,
    *,
    kind: str,
    postings: Sequence[Posting],
    claim_id: str | None = None,
    memo: str = "",
) -> str | None:
    """Append one balanced transaction (zero lines dropped); return its id, or None if all were zero."""
    lines = [(a, d, c) for a, d, c in postings if d or c]
    if sum(d for _, d, _ in lines) != sum(c for _, _, c in lines):
        raise AssertionError(f"unbalanced {kind} transaction: {lines}")
    if any(d < 0 or c < 0 for _, d, c in lines):
        raise AssertionError(f"negative amount in {kind} transaction: {lines}")
    if not lines:
        return None
    txn = str(uuid.uuid4())
    for account, debit, credit in lines:
        session.add(
            LedgerLine(
                fund_id=fund_id,
                txn_id=txn,
                kind=kind,
                account=account,
                debit_fen=debit,
                credit_fen=credit,
                claim_id=claim_id,
                memo=memo[:200],
            )
        )
    session.flush()
    return txn


def account_balances(session: Session, fund_id: str) -> dict[str, tuple[int, int]]:
    """Account → (Σ debits, Σ credits) in fen."""
    rows = session.exec(
        select(LedgerLine.account, func.sum(LedgerLine.debit_fen), func.sum(LedgerLine.credit_fen))
        .where(LedgerLine.fund_id == fund_id)
        .group_by(col(LedgerLine.account))
    ).all()
    return {a: (int(d or 0), int(c or 0)) for a, d, c in rows}


def _net(sums: dict[str, tuple[int, int]], account: str) -> int:
    d, c = sums.get(account, (0, 0))
    return d - c if account in DEBIT_NORMAL else c - d


def available_fen(session: Session, fund_id: str, account: str = "cash_available") -> int:
    """What new claims can draw on: cash not reserved (fen); or the net of another debit-normal account."""
    return _net(account_balances(session, fund_id), account)


def balance(session: Session, fund_id: str) -> BalancePublic:
    """Balance, paid, recovered and committed, all derived from the lines, with the reconciliation."""
    sums = account_balances(session, fund_id)
    net = {a: _net(sums, a) for a in ACCOUNTS}
    debits, credits = sum(d for d, _ in sums.values()), sum(c for _, c in sums.values())
    cash = net["cash_available"] + net["cash_reserved"]
    reconciled = (
        debits == credits
        and cash == net["contributions"] - net["claims_paid"] + net["recoveries"]
        and net["subsidy_cash"] == net["subsidy_contributions"] - net["subsidies_paid"]
        and min(net["cash_available"], net["cash_reserved"], net["subsidy_cash"]) >= 0
    )
    entries = session.exec(select(func.count()).select_from(LedgerLine).where(LedgerLine.fund_id == fund_id)).one()
    return BalancePublic(
        fund_id=fund_id,
        contributions_cny=to_cny(net["contributions"]),
        paid_cny=to_cny(net["claims_paid"]),
        recovered_cny=to_cny(net["recoveries"]),
        balance_cny=to_cny(cash),
        committed_cny=to_cny(net["cash_reserved"]),
        available_cny=to_cny(net["cash_available"]),
        subsidy_contributions_cny=to_cny(net["subsidy_contributions"]),
        subsidies_paid_cny=to_cny(net["subsidies_paid"]),
        subsidy_balance_cny=to_cny(net["subsidy_cash"]),
        debits_cny=to_cny(debits),
        credits_cny=to_cny(credits),
        entries=int(entries),
        reconciled=reconciled,
    )


def page(session: Session, fund_id: str, *, limit: int, offset: int) -> LedgerPage:
    """Ledger lines oldest first."""
    total = session.exec(select(func.count()).select_from(LedgerLine).where(LedgerLine.fund_id == fund_id)).one()
    rows = session.exec(
        select(LedgerLine).where(LedgerLine.fund_id == fund_id).order_by(col(LedgerLine.id)).offset(offset).limit(limit)
    ).all()
    items = [
        LedgerLinePublic(
            id=r.id or 0,
            txn_id=r.txn_id,
            kind=r.kind,
            account=r.account,
            debit_cny=to_cny(r.debit_fen),
            credit_cny=to_cny(r.credit_fen),
            claim_id=r.claim_id,
            memo=r.memo,
            created_at=r.created_at.replace(tzinfo=UTC),
        )
        for r in rows
    ]
    return LedgerPage(total=int(total), limit=limit, offset=offset, items=items)
