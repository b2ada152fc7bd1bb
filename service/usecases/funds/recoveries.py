"""Recoveries on paid claims: shared pro rata to what each party paid, the fund's part clawed back.

Runs under the fund lock (:func:`service.usecases.funds.access.locked_claim`)
and posts the fund's part back to its available cash.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date

from sqlmodel import Session

from scoring.payout import Payout, RecoveryShare, share_recovery
from scoring.vocab.money import to_cny, to_fen
from service.auth import Principal
from service.db.fund_tables import Claim, Recovery
from service.errors import Conflict, InvalidInput
from service.schemas.claims import RecoveryCreate, RecoveryPublic, RecoverySharePublic
from service.usecases.funds import ledger
from service.usecases.funds.access import audit_fund, locked_claim


def _shares(claim: Claim, req: RecoveryCreate) -> tuple[RecoveryShare, ...]:
    """Each party's part of the recovery (422 if it recovers more than the loss left)."""
    payout = Payout.model_validate(claim.evaluation["payout"])
    try:
        return share_recovery(
            [(p.name, p.role, p.amount_fen) for p in payout.parties],
            loss_fen=claim.loss_fen,
            recovered_before_fen=claim.recovered_fen,
            amount_fen=to_fen(req.amount_cny),
        )
    except ValueError as exc:
        left = to_cny(claim.loss_fen - claim.recovered_fen)
        raise InvalidInput(f"{exc}; at most {left} CNY is left to recover", field="amount_cny") from exc


def _public(row: Recovery, shares: tuple[RecoveryShare, ...], clawed_back_fen: int) -> RecoveryPublic:
    return RecoveryPublic(
        id=row.id,
        claim_id=row.claim_id,
        amount_cny=to_cny(row.amount_fen),
        recovered_on=row.recovered_on,
        clawed_back_cny=to_cny(clawed_back_fen),
        created_at=row.created_at.replace(tzinfo=UTC),
        shares=[
            RecoverySharePublic(
                name=s.name,
                role=s.role,
                paid_cny=to_cny(s.paid_fen),
                amount_cny=to_cny(s.amount_fen),
                cumulative_cny=to_cny(s.cumulative_fen),
            )
            for s in shares
        ],
    )


def report_recovery(
    session: Session, principal: Principal, fund_id: str, claim_id: str, req: RecoveryCreate, *, on: date
) -> RecoveryPublic:
    """Share a recovery reported on ``on`` pro rata to what each party paid; post the fund's part back to it."""
    claim = locked_claim(session, principal, fund_id, claim_id)
    if claim.status != "approved":
        raise Conflict(f"claim {claim_id} is {claim.status}: recoveries follow a payout", field="claim_id")
    if not claim.default_date <= req.recovered_on <= on:
        raise InvalidInput(
            f"recovered_on must lie between the default ({claim.default_date}) and today", field="recovered_on"
        )
    shares = _shares(claim, req)
    amount = to_fen(req.amount_cny)
    pool_part = next(s for s in shares if s.role == "pool").amount_fen
    row = Recovery(
        id=str(uuid.uuid4()),
        fund_id=fund_id,
        claim_id=claim.id,
        amount_fen=amount,
        recovered_on=req.recovered_on,
        shares=[s.model_dump(mode="json") for s in shares],
    )
    session.add(row)
    ledger.post(
        session,
        fund_id,
        kind="clawback",
        claim_id=claim.id,
        memo=f"recovery {row.id}",
        postings=[("cash_available", pool_part, 0), ("recoveries", 0, pool_part)],
    )
    claim.recovered_fen += amount
    claim.clawed_back_fen += pool_part
    session.add(claim)
    session.flush()
    audit_fund(
        session,
        principal,
        "fund.claim.recovery",
        "fund_claim",
        claim.id,
        {"fund_id": fund_id, "amount_fen": amount, "clawed_back_fen": pool_part, "recovery_id": row.id},
    )
    return _public(row, shares, pool_part)
