"""Recoveries on paid claims: shared pro rata to what each party paid, the fund's part clawed back.

A fund that pre-compensates (先行代偿, settlement ``advance_then_settle``) settles (清算) on each
recovery instead: the payout is computed again on the loss net of every recovery so far, and each
party gets back what it advanced beyond its final amount.  A disposal's proceeds arrive this way.

Runs under the fund lock (:func:`service.usecases.funds.access.locked_claim`)
and posts the fund's part back to its available cash.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date

from sqlmodel import Session, col, select

from scoring.payout import Payout, RecoveryShare, share_recovery
from scoring.settlement import settle_advance
from scoring.vocab.money import to_cny, to_fen
from service.auth import Principal
from service.db.fund_tables import Claim, Recovery
from service.errors import Conflict, InvalidInput
from service.schemas.claims import RecoveryCreate, RecoveryPublic, RecoverySharePublic
from service.usecases.funds import ledger
from service.usecases.funds.access import audit_fund, locked_claim
from service.usecases.funds.evaluation import cap_usage, claim_terms, loss_facts
from service.usecases.funds.rules import rules_of


def _settle(session: Session, claim: Claim, amount_fen: int) -> tuple[RecoveryShare, ...]:
    """Pre-compensation (先行代偿) settled (清算): each party's part follows from the payout on the net loss."""
    terms = claim_terms(session, claim)
    payout = Payout.model_validate(claim.evaluation["payout"])
    before: dict[str, int] = {}
    for r in session.exec(select(Recovery).where(Recovery.claim_id == claim.id).order_by(col(Recovery.created_at))):
        before.update({s["name"]: int(s["cumulative_fen"]) for s in r.shares})
    loss = loss_facts(
        session, terms.rules, terms.loan, terms.request, claim, proceeds_fen=claim.recovered_fen + amount_fen
    )
    usage = cap_usage(
        session, claim.fund_id, claim.year, borrower_id=claim.borrower_id, bank_id=claim.bank_id, exclude=claim.id
    )
    _, shares = settle_advance(
        terms.rules,
        loss,
        paid=[(p.name, p.role, p.amount_fen) for p in payout.parties],
        returned_before=before,
        amount_fen=amount_fen,
        usage=usage,
    )
    return shares


def _shares(session: Session, claim: Claim, req: RecoveryCreate) -> tuple[RecoveryShare, ...]:
    """Each party's part of the recovery (422 if it recovers more than the loss left).

    Pro rata to what each party paid; under pre-compensation with later settlement, by the payout on the loss
    net of every recovery so far.
    """
    payout = Payout.model_validate(claim.evaluation["payout"])
    amount = to_fen(req.amount_cny)
    if claim.recovered_fen + amount > claim.loss_fen:
        left = to_cny(claim.loss_fen - claim.recovered_fen)
        raise InvalidInput(f"recoveries exceed the loss; at most {left} CNY is left to recover", field="amount_cny")
    if rules_of(session, claim.fund_id, claim.rule_version).settlement == "advance_then_settle":
        return _settle(session, claim, amount)
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
    shares = _shares(session, claim, req)
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
