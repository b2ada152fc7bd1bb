"""Who may see which fund record, and the lock-and-load every money-changing fund write starts with.

A fund's id is the institution of its managers' keys: a fund manager sees and
runs only that fund (any other answers 404), a bank sees every fund (to
register loans into it) but only its own pooled loans and claims, the
regulator reads everything.

A write that moves money or reads a figure it then checks runs under the fund
lock (:func:`service.usecases.funds.ledger.lock_fund`), taken before it reads
anything it checks: :func:`locked_fund` and :func:`locked_claim`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.auth import Principal
from service.db import audit
from service.db.fund_tables import Claim, Fund, PoolLoan
from service.errors import NotFound
from service.usecases.funds import ledger

Record = TypeVar("Record", Claim, PoolLoan)


def audit_fund(
    session: Session, principal: Principal, action: str, rtype: str, rid: str, detail: dict[str, object]
) -> None:
    """Append an audit entry for a fund write (same transaction)."""
    audit.append_by(
        session,
        principal,
        action=action,
        resource_type=rtype,
        resource_id=rid,
        detail=detail,
    )


def visible_fund(session: Session, principal: Principal, fund_id: str) -> Fund:
    """The fund if the caller may see it; 404 otherwise (a manager sees only its own)."""
    fund = session.get(Fund, fund_id)
    if fund is None or (principal.role == "fund_manager" and principal.institution != fund_id):
        raise NotFound(f"no fund {fund_id}")
    return fund


def locked_fund(session: Session, principal: Principal, fund_id: str) -> Fund:
    """The fund if the caller may see it, locked until the transaction ends."""
    fund = visible_fund(session, principal, fund_id)
    ledger.lock_fund(session, fund_id)
    return fund


def owned(
    session: Session, principal: Principal, table: type[Record], fund_id: str, rid: str, *, what: str, field: str | None
) -> Record:
    """A pooled loan or claim of the fund that the caller may see (a bank: only its own); 404 otherwise."""
    visible_fund(session, principal, fund_id)
    row = session.get(table, rid)
    if row is None or row.fund_id != fund_id or (principal.role == "bank" and row.bank_id != principal.institution):
        raise NotFound(f"no {what} {rid} in fund {fund_id}", field=field)
    return row


def owned_page(
    session: Session,
    principal: Principal,
    table: type[Record],
    fund_id: str,
    *,
    limit: int,
    offset: int,
    where: Sequence[Any] = (),
) -> tuple[int, Sequence[Record]]:
    """(total, one page) of the fund's pooled loans or claims matching ``where``, newest first (a bank: its own)."""
    visible_fund(session, principal, fund_id)
    q = select(table).where(col(table.fund_id) == fund_id, *where)
    if principal.role == "bank":
        q = q.where(col(table.bank_id) == principal.institution)
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    rows = session.exec(q.order_by(col(table.created_at).desc(), col(table.id)).offset(offset).limit(limit)).all()
    return int(total), rows


def own_pool_loan(session: Session, principal: Principal, fund_id: str, pool_loan_id: str) -> PoolLoan:
    """A pooled loan the caller may see (a bank: only its own); 404 otherwise."""
    return owned(session, principal, PoolLoan, fund_id, pool_loan_id, what="pooled loan", field="pool_loan_id")


def own_claim(session: Session, principal: Principal, fund_id: str, claim_id: str) -> Claim:
    """A claim the caller may see (a bank: only its own; a manager: only its fund's); 404 otherwise."""
    return owned(session, principal, Claim, fund_id, claim_id, what="claim", field=None)


def locked_claim(session: Session, principal: Principal, fund_id: str, claim_id: str) -> Claim:
    """The caller's claim under the fund lock, as the last writer left it.

    Read again after the lock: another decision may have landed while this one waited for it.
    """
    locked_fund(session, principal, fund_id)
    claim = own_claim(session, principal, fund_id, claim_id)
    session.refresh(claim)
    return claim
