"""Corrections of the ledger: a deposit posted by mistake is reversed by a new entry, never edited.

One fund-manager key asks (with a reason), a second key of the same fund approves; the
approval posts the reversal (the deposit's lines with debit and credit swapped: Dr contributions,
Cr cash_available) under the fund lock, so the reversal can never draw cash that claims have reserved
or subsidies have paid.  Each deposit is reversed at most once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from scoring.vocab.money import to_cny
from service.auth import Principal
from service.db.fund_tables import Correction, LedgerLine
from service.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.schemas.funds import CorrectionCreate, CorrectionPublic
from service.usecases.funds import ledger
from service.usecases.funds.access import audit_fund, locked_fund, visible_fund


def _public(row: Correction) -> CorrectionPublic:
    return CorrectionPublic(
        id=row.id,
        fund_id=row.fund_id,
        kind="deposit_reversal",
        txn_id=row.txn_id,
        amount_cny=to_cny(row.amount_fen),
        reason=row.reason,
        status="approved" if row.status == "approved" else "pending",
        requested_by_key=row.requested_by_key,
        approved_by_key=row.approved_by_key,
        reversal_txn_id=row.reversal_txn_id,
        created_at=row.created_at.replace(tzinfo=UTC),
        decided_at=row.decided_at.replace(tzinfo=UTC) if row.decided_at else None,
    )


def request_correction(session: Session, principal: Principal, fund_id: str, req: CorrectionCreate) -> CorrectionPublic:
    """Ask to reverse one deposit of the fund; nothing moves until a second manager key approves."""
    locked_fund(session, principal, fund_id)
    lines = session.exec(select(LedgerLine).where(LedgerLine.fund_id == fund_id, LedgerLine.txn_id == req.txn_id)).all()
    if not lines:
        raise NotFound(f"no transaction {req.txn_id} in fund {fund_id}", field="txn_id")
    if lines[0].kind != "deposit":
        raise InvalidInput(f"transaction {req.txn_id} is a {lines[0].kind}: only deposits are reversed", field="txn_id")
    if session.exec(select(Correction).where(Correction.txn_id == req.txn_id)).first() is not None:
        raise Conflict(f"deposit {req.txn_id} already has a correction", field="txn_id")
    row = Correction(
        id=str(uuid.uuid4()),
        fund_id=fund_id,
        kind="deposit_reversal",
        txn_id=req.txn_id,
        amount_fen=sum(x.debit_fen for x in lines),
        reason=req.reason,
        status="pending",
        requested_by_key=principal.key_id,
    )
    session.add(row)
    session.flush()
    audit_fund(
        session,
        principal,
        "fund.correction.request",
        "fund_correction",
        row.id,
        {"fund_id": fund_id, "txn_id": req.txn_id, "amount_fen": row.amount_fen, "reason": req.reason},
    )
    return _public(row)


def approve_correction(
    session: Session, principal: Principal, fund_id: str, correction_id: str, *, now: datetime
) -> CorrectionPublic:
    """Approve with a second manager key: post the reversal (409 if claims have reserved the cash)."""
    locked_fund(session, principal, fund_id)
    row = session.get(Correction, correction_id)
    if row is None or row.fund_id != fund_id:
        raise NotFound(f"no correction {correction_id} in fund {fund_id}")
    if row.status != "pending":
        raise Conflict(f"correction {correction_id} is already {row.status}", field="correction_id")
    if row.requested_by_key == principal.key_id:
        raise Forbidden("the key that asked for a correction cannot approve it: a second manager key must")
    lines = session.exec(select(LedgerLine).where(LedgerLine.fund_id == fund_id, LedgerLine.txn_id == row.txn_id)).all()
    for x in lines:  # the cash the deposit brought must still be there, not reserved for claims or paid out
        available = ledger.available_fen(session, fund_id, x.account)
        if x.debit_fen and available < x.debit_fen:
            raise Conflict(
                f"only {to_cny(available)} CNY is left in {x.account}; the deposit of {to_cny(x.debit_fen)} "
                "cannot be reversed while claims or subsidies hold it",
                field="correction_id",
            )
    txn = ledger.post(
        session,
        fund_id,
        kind="reversal",
        memo=f"reverses {row.txn_id}: {row.reason}",
        postings=[(x.account, x.credit_fen, x.debit_fen) for x in lines],
    )
    row.status, row.approved_by_key, row.reversal_txn_id, row.decided_at = "approved", principal.key_id, txn, now
    session.add(row)
    session.flush()
    audit_fund(
        session,
        principal,
        "fund.correction.approve",
        "fund_correction",
        row.id,
        {"fund_id": fund_id, "txn_id": row.txn_id, "reversal_txn_id": txn, "amount_fen": row.amount_fen},
    )
    return _public(row)


def list_corrections(session: Session, principal: Principal, fund_id: str) -> list[CorrectionPublic]:
    """The fund's corrections, oldest first."""
    visible_fund(session, principal, fund_id)
    rows = session.exec(
        select(Correction).where(Correction.fund_id == fund_id).order_by(col(Correction.created_at))
    ).all()
    return [_public(r) for r in rows]
