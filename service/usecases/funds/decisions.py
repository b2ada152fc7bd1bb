"""After filing: managers' decisions and banks' supplements.

Each runs under the fund lock (:func:`service.usecases.funds.access.locked_claim`)
and posts balanced ledger transactions: approval pays the payout recomputed
at that moment (so a deposit made after filing counts, and the year's caps
see every other claim), rejection releases the reservation, a supplement
re-judges the claim and adjusts its reservation.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from scoring.fund_checks import RuleCheck
from scoring.vocab.lang import Lang
from service.auth import Principal
from service.bundle import ModelBundle
from service.configuration import FundContext
from service.db.fund_tables import Claim
from service.errors import Conflict, InvalidInput
from service.schemas.claims import MAX_EVIDENCE, ClaimPublic, DecisionCreate, EvidenceCreate
from service.usecases.funds import ledger
from service.usecases.funds.access import audit_fund, locked_claim
from service.usecases.funds.evaluation import claim_terms, evaluate, payout_now
from service.usecases.funds.views import OPEN, claim_public


def _approve(session: Session, claim: Claim) -> int:
    if not claim.eligible:
        failed = [RuleCheck.model_validate(c).rule for c in claim.evaluation["checks"] if not c["passed"]]
        raise Conflict(
            f"the claim fails the fund's rules ({', '.join(failed)}): reject it or request information",
            field="decision",
        )
    terms = claim_terms(session, claim)
    payout = payout_now(session, terms.rules, terms.loan, terms.request, year=claim.year, claim=claim)
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
    now: datetime,
    lang: Lang,
) -> ClaimPublic:
    """Approve (pay), reject (release the reservation) or request information, at ``now``; 409 once decided."""
    claim = locked_claim(session, principal, fund_id, claim_id)
    if claim.status not in OPEN:
        raise Conflict(f"claim {claim_id} is already {claim.status}", field="decision")
    paid = 0
    if req.decision == "approve":
        paid = _approve(session, claim)
    elif req.decision == "reject":
        _reject(session, claim)
    else:
        claim.status = "info_requested"
    claim.decision_reason, claim.decided_at = req.reason, now
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
    claim = locked_claim(session, principal, fund_id, claim_id)
    if claim.status != "info_requested":
        raise Conflict(f"claim {claim_id} is {claim.status}: documents are added when the fund asks", field="claim_id")
    terms = claim_terms(session, claim)
    if len(terms.request.evidence) + len(req.evidence) > MAX_EVIDENCE:
        raise InvalidInput(f"a claim holds at most {MAX_EVIDENCE} documents", field="evidence")
    request = terms.request.model_copy(update={"evidence": [*terms.request.evidence, *req.evidence]})
    ev = evaluate(session, bundle, ctx, terms.rules, terms.loan, request, filed_on=claim.filed_on, claim=claim)
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
