"""After filing: managers' decisions, banks' supplements, recoveries with their claw-back.

Each runs under the fund lock and posts balanced ledger transactions:
approval pays the payout recomputed at that moment (so a deposit made after
filing counts, and the year's caps see every other claim), rejection
releases the reservation, a supplement re-judges the claim and adjusts its
reservation, a recovery returns the fund's pro-rata part.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date

from sqlmodel import Session

from scoring.fund_checks import RuleCheck
from scoring.payout import Payout, share_recovery
from scoring.vocab.lang import Lang
from scoring.vocab.money import to_cny, to_fen
from service.auth import Principal
from service.bundle import ModelBundle
from service.configuration import FundContext
from service.db.fund_tables import Claim, PoolLoan, Recovery
from service.db.tables import utcnow
from service.errors import Conflict, InvalidInput
from service.schemas.claims import (
    MAX_EVIDENCE,
    ClaimCreate,
    ClaimPublic,
    DecisionCreate,
    EvidenceCreate,
    RecoveryCreate,
    RecoveryPublic,
    RecoverySharePublic,
)
from service.usecases import ledger
from service.usecases.claim_rules import evaluate, payout_now, rules_of
from service.usecases.claim_views import OPEN, claim_public
from service.usecases.claims import own_claim
from service.usecases.funds import audit_fund, visible_fund


def _approve(session: Session, claim: Claim) -> int:
    if not claim.eligible:
        failed = [RuleCheck.model_validate(c).rule for c in claim.evaluation["checks"] if not c["passed"]]
        raise Conflict(
            f"the claim fails the fund's rules ({', '.join(failed)}): reject it or request information",
            field="decision",
        )
    loan = session.get(PoolLoan, claim.pool_loan_id)
    assert loan is not None
    payout = payout_now(
        session,
        rules_of(session, claim.fund_id, claim.rule_version),
        loan,
        ClaimCreate.model_validate(claim.request),
        year=claim.year,
        claim=claim,
    )
    final, reserved = payout.pool_payout_fen, claim.pool_amount_fen
    postings = [("claims_paid", final, 0), ("cash_reserved", 0, reserved)]
    # any difference from the reservation comes from (or goes back to) the available cash
    postings.append(("cash_available", max(reserved - final, 0), max(final - reserved, 0)))
    ledger.post(
        session, claim.fund_id, kind="payout", claim_id=claim.id, memo=f"claim {claim.id} approved", postings=postings
    )
    claim.evaluation = {
        **claim.evaluation,
        "payout": payout.model_dump(mode="json"),
        "payout_at_filing": claim.evaluation["payout"],
    }
    claim.pool_amount_fen = claim.paid_fen = final
    claim.status = "approved"
    return final


def _reject(session: Session, claim: Claim) -> None:
    reserved = claim.pool_amount_fen
    ledger.post(
        session,
        claim.fund_id,
        kind="release",
        claim_id=claim.id,
        memo=f"claim {claim.id} rejected",
        postings=[("cash_available", reserved, 0), ("cash_reserved", 0, reserved)],
    )
    claim.pool_amount_fen = 0
    claim.status = "rejected"


def decide(
    session: Session,
    principal: Principal,
    ctx: FundContext,
    fund_id: str,
    claim_id: str,
    req: DecisionCreate,
    *,
    lang: Lang,
) -> ClaimPublic:
    """Approve (pay), reject (release the reservation) or request information; 409 once decided."""
    visible_fund(session, principal, fund_id)
    ledger.lock_fund(session, fund_id)
    claim = own_claim(session, principal, fund_id, claim_id)
    session.refresh(claim)  # another decision may have landed while this one waited for the lock
    if claim.status not in OPEN:
        raise Conflict(f"claim {claim_id} is already {claim.status}", field="decision")
    paid = 0
    if req.decision == "approve":
        paid = _approve(session, claim)
    elif req.decision == "reject":
        _reject(session, claim)
    else:
        claim.status = "info_requested"
    claim.decision_reason, claim.decided_at = req.reason, utcnow()
    session.add(claim)
    session.flush()
    audit_fund(
        session,
        principal,
        f"fund.claim.{req.decision}",
        "fund_claim",
        claim.id,
        {"fund_id": fund_id, "paid_fen": paid, "reason": req.reason},
    )
    return claim_public(claim, ctx, lang)


def supplement(
    session: Session,
    principal: Principal,
    bundle: ModelBundle,
    ctx: FundContext,
    fund_id: str,
    claim_id: str,
    req: EvidenceCreate,
    *,
    lang: Lang,
) -> ClaimPublic:
    """Add documents to a claim the manager asked about; re-judge it and put it back in the queue."""
    visible_fund(session, principal, fund_id)
    ledger.lock_fund(session, fund_id)
    claim = own_claim(session, principal, fund_id, claim_id)
    session.refresh(claim)
    if claim.status != "info_requested":
        raise Conflict(f"claim {claim_id} is {claim.status}: documents are added when the fund asks", field="claim_id")
    request = ClaimCreate.model_validate(claim.request)
    if len(request.evidence) + len(req.evidence) > MAX_EVIDENCE:
        raise InvalidInput(f"a claim holds at most {MAX_EVIDENCE} documents", field="evidence")
    request = request.model_copy(update={"evidence": [*request.evidence, *req.evidence]})
    loan = session.get(PoolLoan, claim.pool_loan_id)
    assert loan is not None
    ev = evaluate(
        session,
        bundle,
        ctx,
        rules_of(session, fund_id, claim.rule_version),
        loan,
        request,
        filed_on=claim.filed_on,
        claim=claim,
    )
    more = ev.reserve_fen - claim.pool_amount_fen
    ledger.post(
        session,
        fund_id,
        kind="reserve" if more >= 0 else "release",
        claim_id=claim.id,
        memo=f"claim {claim.id} supplemented",
        postings=[("cash_reserved", max(more, 0), max(-more, 0)), ("cash_available", max(-more, 0), max(more, 0))],
    )
    claim.request, claim.evaluation = request.model_dump(mode="json"), ev.as_json()
    claim.eligible, claim.pool_amount_fen, claim.score = ev.eligible, ev.reserve_fen, float(ev.review["probability"])
    claim.status = "pending"
    session.add(claim)
    session.flush()
    audit_fund(
        session,
        principal,
        "fund.claim.supplement",
        "fund_claim",
        claim.id,
        {
            "fund_id": fund_id,
            "documents": len(req.evidence),
            "note": req.note,
            "eligible": ev.eligible,
            "reserved_fen": ev.reserve_fen,
        },
    )
    return claim_public(claim, ctx, lang)


def report_recovery(
    session: Session, principal: Principal, fund_id: str, claim_id: str, req: RecoveryCreate, *, on: date
) -> RecoveryPublic:
    """Share a recovery pro rata to what each party paid; post the fund's part back to it."""
    visible_fund(session, principal, fund_id)
    ledger.lock_fund(session, fund_id)
    claim = own_claim(session, principal, fund_id, claim_id)
    session.refresh(claim)
    if claim.status != "approved":
        raise Conflict(f"claim {claim_id} is {claim.status}: recoveries follow a payout", field="claim_id")
    if not claim.default_date <= req.recovered_on <= on:
        raise InvalidInput(
            f"recovered_on must lie between the default ({claim.default_date}) and today", field="recovered_on"
        )
    payout = Payout.model_validate(claim.evaluation["payout"])
    amount = to_fen(req.amount_cny)
    try:
        shares = share_recovery(
            [(p.name, p.role, p.amount_fen) for p in payout.parties],
            loss_fen=claim.loss_fen,
            recovered_before_fen=claim.recovered_fen,
            amount_fen=amount,
        )
    except ValueError as exc:
        left = to_cny(claim.loss_fen - claim.recovered_fen)
        raise InvalidInput(f"{exc}; at most {left} CNY is left to recover", field="amount_cny") from exc
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
    return RecoveryPublic(
        id=row.id,
        claim_id=claim.id,
        amount_cny=to_cny(amount),
        recovered_on=req.recovered_on,
        clawed_back_cny=to_cny(pool_part),
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
