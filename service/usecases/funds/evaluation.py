"""Judging a claim: its rule checks, its payout under the caps and the balance, its review score.

Called under the fund lock, at filing, at approval (payout only) and when a
bank supplements a claim, so every figure is computed from what the ledger
and the year's other claims hold at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func
from sqlmodel import Session, col, select

from scoring.calendar import working_days_between
from scoring.claim_review import ClaimReviewFacts, review_claim
from scoring.fund_checks import ClaimFacts, EntryFacts, RuleCheck, claim_checks, entry_checks
from scoring.funds import FundRules
from scoring.payout import CapUsage, LossFacts, Payout, compute_payout
from scoring.vocab.money import to_fen
from service.bundle import ModelBundle
from service.configuration import FundContext
from service.db.fund_tables import Claim, FundBank, PoolLoan
from service.db.tables import LoanPatent
from service.errors import Unavailable
from service.schemas.claims import ClaimCreate
from service.usecases.funds import ledger
from service.usecases.funds.registry import bank_figures, loss_rate
from service.usecases.funds.rules import rules_of


@dataclass(frozen=True)
class Evaluation:
    """Checks, payout and review of one claim."""

    checks: list[RuleCheck]
    payout: Payout
    review: dict[str, Any]

    @property
    def eligible(self) -> bool:
        """Every rule passed."""
        return all(c.passed for c in self.checks)

    @property
    def reserve_fen(self) -> int:
        """What the pool holds for the claim: its payout if eligible, else nothing."""
        return self.payout.pool_payout_fen if self.eligible else 0

    def as_json(self) -> dict[str, Any]:
        """The stored, language-neutral form."""
        return {
            "checks": [c.model_dump(mode="json") for c in self.checks],
            "payout": self.payout.model_dump(mode="json"),
            "review": self.review,
        }


@dataclass(frozen=True)
class ClaimTerms:
    """What a filed claim is judged on: its request, its pooled loan and the rule version it was filed under."""

    request: ClaimCreate
    loan: PoolLoan
    rules: FundRules


def claim_terms(session: Session, claim: Claim) -> ClaimTerms:
    """The terms of a stored claim (its rule version, not the one in force today)."""
    loan = session.get(PoolLoan, claim.pool_loan_id)
    assert loan is not None, "a claim's pooled loan is never deleted"
    rules = rules_of(session, claim.fund_id, claim.rule_version)
    return ClaimTerms(ClaimCreate.model_validate(claim.request), loan, rules)


def cap_usage(
    session: Session, fund_id: str, year: int, *, borrower_id: str, bank_id: str, exclude: str | None = None
) -> CapUsage:
    """The pool's amounts reserved or paid on the year's other claims (fen), in one query."""
    amount = Claim.pool_amount_fen

    def where(cond: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((cond, amount), else_=0)), 0)

    q = select(
        where(col(Claim.borrower_id) == borrower_id),
        where(col(Claim.bank_id) == bank_id),
        func.coalesce(func.sum(amount), 0),
    ).where(col(Claim.fund_id) == fund_id, col(Claim.year) == year)
    if exclude is not None:
        q = q.where(Claim.id != exclude)
    borrower_fen, bank_fen, fund_fen = session.exec(q).one()
    return CapUsage(borrower_year_fen=int(borrower_fen), bank_year_fen=int(bank_fen), fund_year_fen=int(fund_fen))


def bank_standing(session: Session, loan: PoolLoan, claim: Claim | None) -> tuple[float | None, Decimal | None]:
    """(years the bank had cooperated when the loan entered, its loss rate without this claim) for bank tiers."""
    row = session.exec(
        select(FundBank).where(FundBank.fund_id == loan.fund_id, FundBank.bank_id == loan.bank_id)
    ).first()
    if row is None:
        return None, None
    pooled, lost, _ = bank_figures(session, loan.fund_id, loan.bank_id)
    if claim is not None and claim.status != "rejected":
        lost -= claim.loss_fen
    return max((loan.entered_on - row.joined_on).days, 0) / 365.25, loss_rate(pooled, lost)


def loss_facts(
    session: Session, rules: FundRules, loan: PoolLoan, req: ClaimCreate, claim: Claim | None, *, proceeds_fen: int = 0
) -> LossFacts:
    """The claim's loss as the payout sees it: proceeds netted when the fund settles on the net loss."""
    facts = EntryFacts.model_validate(loan.facts)
    years, rate = bank_standing(session, loan, claim) if rules.caps.bank_tiers is not None else (None, None)
    if rules.settlement == "net_loss" and req.disposal_proceeds_cny is not None:
        proceeds_fen = to_fen(req.disposal_proceeds_cny)
    return LossFacts(
        principal_fen=to_fen(req.principal_outstanding_cny),
        interest_fen=to_fen(req.interest_outstanding_cny),
        ip_share=facts.ip_share_of_collateral,
        claimed_fen=to_fen(req.claimed_amount_cny),
        proceeds_fen=proceeds_fen,
        loan_fen=loan.amount_fen,
        bank_years_in_pool=years,
        bank_loss_rate=rate,
    )


def payout_now(
    session: Session, rules: FundRules, loan: PoolLoan, req: ClaimCreate, *, year: int, claim: Claim | None = None
) -> Payout:
    """The payout with the year's usage by other claims and the balance available (plus the claim's own hold)."""
    loss = loss_facts(session, rules, loan, req, claim)
    usage = cap_usage(
        session,
        loan.fund_id,
        year,
        borrower_id=loan.borrower_id,
        bank_id=loan.bank_id,
        exclude=claim.id if claim else None,
    )
    available = ledger.available_fen(session, loan.fund_id) + (claim.pool_amount_fen if claim else 0)
    return compute_payout(rules, loss, usage=usage, available_fen=available)


def _pledged_elsewhere(session: Session, loan_id: str | None) -> bool:
    if loan_id is None:
        return False
    ids = select(LoanPatent.patent_id).where(LoanPatent.loan_id == loan_id)
    other = session.exec(
        select(LoanPatent.id).where(
            col(LoanPatent.patent_id).in_(ids), LoanPatent.loan_id != loan_id, col(LoanPatent.active).is_(True)
        )
    ).first()
    return other is not None


def _review(
    session: Session, bundle: ModelBundle, loan: PoolLoan, req: ClaimCreate, working_days: int, claim: Claim | None
) -> dict[str, Any]:
    try:
        model = bundle.get("claim_review")
    except KeyError as exc:
        raise Unavailable("the claim_review model is not loaded yet") from exc
    q = select(func.count()).select_from(Claim).where(Claim.fund_id == loan.fund_id, Claim.bank_id == loan.bank_id)
    if claim is not None:
        q = q.where(col(Claim.created_at) < claim.created_at)
    facts = EntryFacts.model_validate(loan.facts)
    review = review_claim(
        model,
        ClaimReviewFacts(
            origination_date=facts.origination_date,
            default_date=req.default_date,
            loan_amount_cny=float(facts.amount_cny),
            appraised_value_cny=None if facts.appraised_value_cny is None else float(facts.appraised_value_cny),
            package_value_cny=None if facts.package_value_cny is None else float(facts.package_value_cny),
            principal_outstanding_cny=float(req.principal_outstanding_cny),
            claimed_amount_cny=float(req.claimed_amount_cny),
            working_days_to_file=working_days,
            evidence_provided=bool(req.evidence),
            patent_pledged_elsewhere=_pledged_elsewhere(session, loan.loan_id),
            bank_prior_claims=int(session.exec(q).one()),
        ),
    )
    # A fund sees tens of claims a year: until the model clears its confidence floors the rule
    # checklist decides and the score is advisory (training/config/confidence.yaml). The reasons are
    # stored as codes too, so a reader gets them in their own language (views.review_public).
    return (
        review.model_dump(mode="json")
        | {"synthetic": bool(model.manifest.get("synthetic"))}
        | bundle.confidence("claim_review")
        | {"low_confidence_codes": [r.model_dump(mode="json") for r in bundle.confidence_reasons("claim_review")]}
    )


def evaluate(
    session: Session,
    bundle: ModelBundle,
    ctx: FundContext,
    rules: FundRules,
    loan: PoolLoan,
    req: ClaimCreate,
    *,
    filed_on: date,
    claim: Claim | None = None,
) -> Evaluation:
    """Every rule, the payout and the review score of a claim filed on ``filed_on``."""
    facts = EntryFacts.model_validate(loan.facts)
    checks = entry_checks(
        rules, facts, entered_on=loan.entered_on, migrated=loan.migrated_from is not None
    ) + claim_checks(
        rules,
        ClaimFacts(
            entered_on=loan.entered_on,
            default_date=req.default_date,
            filed_on=filed_on,
            npl_class=req.npl_class,
            evidence_count=len(req.evidence),
            npl_classified_on=req.npl_classified_on,
            overdue_since=req.overdue_since,
            court_accepted_on=req.court_accepted_on,
            recognised_on=req.recognised_on,
            disposal_proceeds_fen=None if req.disposal_proceeds_cny is None else to_fen(req.disposal_proceeds_cny),
        ),
        calendar=ctx.calendar,
    )
    payout = payout_now(session, rules, loan, req, year=filed_on.year, claim=claim)
    days = working_days_between(req.default_date, filed_on, ctx.calendar)
    return Evaluation(checks=checks, payout=payout, review=_review(session, bundle, loan, req, days, claim))
