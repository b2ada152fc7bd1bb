"""Stored pooled loans and claims rendered for a caller: every number with its reason, in the caller's language."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from scoring.claim_review import ClaimReview, review_reasons
from scoring.confidence_texts import ConfidenceReason, load_confidence_texts, recorded_reasons
from scoring.fund_checks import EntryFacts, RuleCheck
from scoring.fund_reasons import base_step_reason, cap_reason, check_reason, party_reason
from scoring.payout import Payout
from scoring.vocab.lang import Lang
from scoring.vocab.money import to_cny
from service.configuration import FundContext
from service.db.fund_tables import Claim, PoolLoan
from service.schemas.claims import (
    BaseStepPublic,
    CapPublic,
    CheckPublic,
    ClaimPublic,
    PartyPublic,
    PayoutPublic,
    PoolLoanPublic,
    ReviewPublic,
)

OPEN = ("pending", "info_requested")


def checks_public(checks: list[dict[str, Any]], ctx: FundContext, lang: Lang) -> list[CheckPublic]:
    """Stored checks with their reasons in ``lang``."""
    out = []
    for raw in checks:
        c = RuleCheck.model_validate(raw)
        out.append(CheckPublic(rule=c.rule, passed=c.passed, code=c.code, reason=check_reason(c, ctx.texts, lang)))
    return out


def pool_loan_public(row: PoolLoan, ctx: FundContext, lang: Lang) -> PoolLoanPublic:
    """A pooled loan as returned."""
    return PoolLoanPublic(
        id=row.id,
        fund_id=row.fund_id,
        bank_id=row.bank_id,
        loan_id=row.loan_id,
        borrower_id=row.borrower_id,
        amount_cny=to_cny(row.amount_fen),
        origination_date=row.origination_date,
        entered_on=row.entered_on,
        rule_version=row.rule_version,
        status=row.status,
        outstanding_cny=to_cny(row.amount_fen - row.repaid_fen if row.status == "active" else 0),
        closed_on=row.closed_on,
        migrated_from=row.migrated_from,
        entry_evidence=list(row.entry_evidence or []),
        facts=EntryFacts.model_validate(row.facts),
        checks=checks_public(row.checks, ctx, lang),
        created_at=row.created_at.replace(tzinfo=UTC),
    )


def payout_public(p: Payout, ctx: FundContext, lang: Lang) -> PayoutPublic:
    """A payout with the reason of each base step, party and cap."""
    t = ctx.texts
    steps = [
        BaseStepPublic(step=s.step, amount_cny=to_cny(s.amount_fen), reason=base_step_reason(s, t, lang))
        for s in p.base_steps
    ]
    parties = [
        PartyPublic(
            name=x.name,
            role=x.role,
            share=x.share,
            share_amount_cny=to_cny(x.share_amount_fen),
            amount_cny=to_cny(x.amount_fen),
            reason=party_reason(x, p.covered_base_fen, t, lang),
            caps=[
                CapPublic(
                    cap=c.cap,
                    limit_cny=to_cny(c.limit_fen),
                    used_cny=to_cny(c.used_fen),
                    room_cny=to_cny(c.room_fen),
                    before_cny=to_cny(c.before_fen),
                    after_cny=to_cny(c.after_fen),
                    binding=c.binding,
                    reason=cap_reason(x.name, c, t, lang),
                )
                for c in x.caps
            ],
        )
        for x in p.parties
    ]
    return PayoutPublic(
        loss_cny=to_cny(p.loss_fen),
        base_steps=steps,
        covered_base_cny=to_cny(p.covered_base_fen),
        parties=parties,
        pool_payout_cny=to_cny(p.pool_payout_fen),
        bank_borne_cny=to_cny(p.bank_borne_fen),
    )


def review_public(raw: dict[str, object], ctx: FundContext, lang: Lang) -> ReviewPublic:
    """The stored review score with its top reasons in ``lang``."""
    review = ClaimReview.model_validate({k: v for k, v in raw.items() if k in ClaimReview.model_fields})
    return ReviewPublic(
        advisory=bool(raw.get("low_confidence")),
        advisory_reasons=_advisory_reasons(raw, lang),
        version=review.model_version,
        probability=review.probability,
        contributions=review.contributions,
        reasons=review_reasons(review, ctx.claim_texts, lang=lang),
    )


def _advisory_reasons(raw: dict[str, object], lang: Lang) -> list[str]:
    """Why the stored review score is advisory, in ``lang`` (from its codes; older reviews kept English lines)."""
    codes = raw.get("low_confidence_codes")
    if isinstance(codes, list):
        return load_confidence_texts().texts([ConfidenceReason.model_validate(c) for c in codes], lang)
    lines = raw.get("low_confidence_reasons")
    record = {"low_confidence": raw.get("low_confidence"), "reasons": lines if isinstance(lines, list) else []}
    # The stored English lines already name the model ("claim_review: ..."): no second prefix in English.
    reasons = recorded_reasons(record, model=None if lang == "en" else "claim_review")
    return load_confidence_texts().texts(reasons, lang)


def claim_public(claim: Claim, ctx: FundContext, lang: Lang) -> ClaimPublic:
    """A claim as returned to a bank, a manager or the regulator."""
    ev = claim.evaluation
    return ClaimPublic(
        id=claim.id,
        fund_id=claim.fund_id,
        bank_id=claim.bank_id,
        pool_loan_id=claim.pool_loan_id,
        borrower_id=claim.borrower_id,
        idempotency_key=claim.idempotency_key,
        status=claim.status,
        default_date=claim.default_date,
        filed_on=claim.filed_on,
        rule_version=claim.rule_version,
        eligible=claim.eligible,
        checks=checks_public(ev["checks"], ctx, lang),
        payout=payout_public(Payout.model_validate(ev["payout"]), ctx, lang),
        reserved_cny=to_cny(claim.pool_amount_fen if claim.status in OPEN else 0),
        paid_cny=to_cny(claim.paid_fen),
        recovered_cny=to_cny(claim.recovered_fen),
        clawed_back_cny=to_cny(claim.clawed_back_fen),
        review=review_public(ev["review"], ctx, lang),
        decision_reason=claim.decision_reason,
        decided_at=claim.decided_at.replace(tzinfo=UTC) if claim.decided_at else None,
        created_at=claim.created_at.replace(tzinfo=UTC),
    )
