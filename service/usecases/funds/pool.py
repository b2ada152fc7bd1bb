"""Loans registered into a fund's pool: eligibility and the bank's committed line checked at entry."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from scoring.fund_checks import BankStanding, EntryFacts, RuleCheck, bank_checks, entry_checks
from scoring.fund_reasons import check_reason
from scoring.funds import FundRules
from scoring.vocab.lang import Lang
from scoring.vocab.money import to_cny, to_fen
from service.auth import Principal
from service.configuration import FundContext
from service.db.fund_tables import Claim, FundBank, PoolLoan
from service.db.tables import Assessment, Loan
from service.errors import Conflict, InvalidInput, NotFound, ServiceError
from service.schemas.claims import PoolLoanCreate, PoolLoanPage, PoolLoanPublic, RepaymentCreate
from service.usecases.funds.access import audit_fund, locked_fund, own_pool_loan, owned_page
from service.usecases.funds.registry import bank_figures, loss_rate
from service.usecases.funds.rules import rule_version_on
from service.usecases.funds.views import pool_loan_public
from service.usecases.pledge_life import registered_since
from service.usecases.tenancy import visible


def _booked_facts(session: Session, principal: Principal, req: PoolLoanCreate) -> EntryFacts:
    """Entry facts of a loan booked via /v1/loans, from the assessment it was booked from.

    Whether its pledge is registered is read from its registration record: every pledged patent
    registered (or changed) and none released (docs/pledge-life.md), not from the bank's word.
    """
    loan = visible(session, principal, Loan, req.loan_id, what="loan", field="loan_id", read=False)
    if loan.status != "active":
        raise Conflict(f"loan {loan.id} is {loan.status}", field="loan_id")
    a = session.get(Assessment, loan.assessment_id)
    if a is None:
        raise NotFound(f"no assessment behind loan {loan.id}", field="loan_id")
    borrower, terms = a.request["borrower"], a.request["loan"]
    # the assessment says only whether a bad record lies within 3 years, not when: nothing more is written
    bad_3y = bool(borrower.get("bad_credit_3y"))
    rate = loan.annual_rate if loan.annual_rate is not None else terms.get("annual_rate")
    return EntryFacts(
        borrower_id=loan.borrower_id,
        amount_cny=Decimal(str(loan.amount_cny)).quantize(Decimal("0.01")),
        origination_date=loan.origination_date,
        tenor_months=loan.tenor_months,
        purpose=terms["purpose"],
        ip_share_of_collateral=Decimal(str(terms.get("ip_share_of_collateral", 1))).quantize(Decimal("0.000001")),
        is_sme=borrower.get("is_sme", True),
        years_registered=borrower["years_registered"],
        clean_credit_years=req.clean_credit_years,
        credit_checked_years=None if req.clean_credit_years is not None or bad_3y else 3.0,
        bad_credit_within_years=3.0 if bad_3y and req.clean_credit_years is None else None,
        pledge_registered=registered_since(session, loan.id) is not None,
        appraised_value_cny=req.appraised_value_cny,
        package_value_cny=Decimal(str(a.response["valuation"]["package"]["total_p50"])).quantize(Decimal("0.01")),
        region=borrower.get("region"),
        county=req.county,
        annual_rate=None if rate is None else Decimal(str(rate)).quantize(Decimal("0.000001")),
    )


def _standing(session: Session, fund_id: str, bank_id: str, on: date) -> BankStanding:
    row = session.exec(select(FundBank).where(FundBank.fund_id == fund_id, FundBank.bank_id == bank_id)).first()
    if row is None:
        return BankStanding(cooperating=False)
    pooled, lost, outstanding = bank_figures(session, fund_id, bank_id)
    return BankStanding(
        cooperating=True,
        pool_share_fen=row.pool_share_fen,
        committed_line_fen=row.committed_line_fen,
        years_in_pool=max((on - row.joined_on).days, 0) / 365.25,
        outstanding_fen=outstanding,
        loss_rate=loss_rate(pooled, lost),
    )


def _refuse(
    checks: list[RuleCheck], ctx: FundContext, lang: Lang, error: type[ServiceError], field: str | None
) -> None:
    failed = [c for c in checks if not c.passed]
    if failed:
        reasons = "; ".join(f"{c.rule}: {check_reason(c, ctx.texts, lang)}" for c in failed)
        raise error(f"the loan cannot enter the pool — {reasons}", field=field)


def _entry_date(req: PoolLoanCreate, facts: EntryFacts, on: date, field: str) -> date:
    """The stated entry (备案) date, bounded: not after today, not before disbursement, evidenced when past."""
    if facts.origination_date > on:
        raise InvalidInput(f"origination_date {facts.origination_date} is in the future", field=field)
    entered = req.entered_on or on
    if entered > on:
        raise InvalidInput(f"entered_on {entered} is after today ({on})", field="entered_on")
    if entered < facts.origination_date:
        raise InvalidInput(
            f"entered_on {entered} is before the loan's disbursement on {facts.origination_date}", field="entered_on"
        )
    if entered < on and not req.entry_evidence:
        raise InvalidInput(f"an entry dated {entered}, before today, needs the filing record", field="entry_evidence")
    if req.migrated_from is not None and not req.entry_evidence:
        raise InvalidInput("a migrated entry needs the earlier pool's filing record", field="entry_evidence")
    return entered


def register_loan(
    session: Session, principal: Principal, ctx: FundContext, fund_id: str, req: PoolLoanCreate, *, on: date, lang: Lang
) -> PoolLoanPublic:
    """Register a loan if it and the bank meet the rules in force on its entry date; 422 naming each failure.

    The entry date is today unless the bank states an earlier one (migrating an existing pool), evidenced.
    """
    locked_fund(session, principal, fund_id)  # the committed-line check reads what other entries wrote
    facts = req.facts if req.facts is not None else _booked_facts(session, principal, req)
    field = "facts" if req.facts is not None else "loan_id"
    entered = _entry_date(req, facts, on, field)
    if (
        req.loan_id is not None
        and session.exec(select(PoolLoan).where(PoolLoan.fund_id == fund_id, PoolLoan.loan_id == req.loan_id)).first()
    ):
        raise Conflict(f"loan {req.loan_id} is already in the pool", field="loan_id")
    version = rule_version_on(session, fund_id, entered)
    if version is None:
        raise Conflict(f"fund {fund_id} has no rules in force on {entered}", field="entered_on")
    rules = FundRules.model_validate(version.rules)
    amount = to_fen(facts.amount_cny)
    checks = entry_checks(rules, facts, entered_on=entered, migrated=req.migrated_from is not None)
    _refuse(checks, ctx, lang, InvalidInput, field)  # the loan's facts: 422
    bank = bank_checks(rules, _standing(session, fund_id, principal.institution, entered), amount)
    _refuse(bank, ctx, lang, Conflict, None)  # the bank's standing with the fund: 409
    row = PoolLoan(
        id=str(uuid.uuid4()),
        fund_id=fund_id,
        bank_id=principal.institution,
        loan_id=req.loan_id,
        borrower_id=facts.borrower_id,
        amount_fen=amount,
        origination_date=facts.origination_date,
        entered_on=entered,
        rule_version=version.version,
        facts=facts.model_dump(mode="json", exclude_none=True),
        checks=[c.model_dump(mode="json") for c in checks + bank],
        migrated_from=req.migrated_from,
        entry_evidence=list(req.entry_evidence) or None,
    )
    session.add(row)
    session.flush()
    audit_fund(
        session,
        principal,
        "fund.loan.register",
        "fund_loan",
        row.id,
        {
            "fund_id": fund_id,
            "amount_fen": amount,
            "rule_version": version.version,
            "loan_id": req.loan_id,
            "entered_on": entered.isoformat(),
            "entered_late_by_days": (on - entered).days,
            "migrated_from": req.migrated_from,
        },
    )
    return pool_loan_public(row, ctx, lang)


def repay_loan(
    session: Session,
    principal: Principal,
    ctx: FundContext,
    fund_id: str,
    pool_loan_id: str,
    req: RepaymentCreate,
    *,
    on: date,
    lang: Lang,
) -> PoolLoanPublic:
    """Record principal repaid on a pooled loan; the last repayment closes it, releasing the bank's committed line."""
    locked_fund(session, principal, fund_id)
    row = own_pool_loan(session, principal, fund_id, pool_loan_id)
    if row.status != "active":
        raise Conflict(f"pooled loan {row.id} is {row.status} since {row.closed_on}", field="pool_loan_id")
    if session.exec(select(Claim).where(Claim.pool_loan_id == row.id, Claim.status != "rejected")).first():
        raise Conflict(f"pooled loan {row.id} has a claim: it defaulted", field="pool_loan_id")
    if not row.entered_on <= req.repaid_on <= on:
        raise InvalidInput(f"repaid_on must lie between the entry ({row.entered_on}) and today", field="repaid_on")
    amount, left = to_fen(req.amount_cny), row.amount_fen - row.repaid_fen
    if amount > left:
        raise InvalidInput(f"only {to_cny(left)} CNY of principal is outstanding", field="amount_cny")
    row.repaid_fen += amount
    if row.repaid_fen == row.amount_fen:
        row.status, row.closed_on = "repaid", req.repaid_on
    session.add(row)
    session.flush()
    audit_fund(
        session,
        principal,
        "fund.loan.repay",
        "fund_loan",
        row.id,
        {"fund_id": fund_id, "amount_fen": amount, "repaid_on": req.repaid_on.isoformat(), "status": row.status},
    )
    return pool_loan_public(row, ctx, lang)


def get_pool_loan(
    session: Session, principal: Principal, ctx: FundContext, fund_id: str, pool_loan_id: str, *, lang: Lang
) -> PoolLoanPublic:
    """One pooled loan."""
    return pool_loan_public(own_pool_loan(session, principal, fund_id, pool_loan_id), ctx, lang)


def list_pool_loans(
    session: Session, principal: Principal, ctx: FundContext, fund_id: str, *, lang: Lang, limit: int, offset: int
) -> PoolLoanPage:
    """Pooled loans, newest first (a bank: only its own)."""
    total, rows = owned_page(session, principal, PoolLoan, fund_id, limit=limit, offset=offset)
    return PoolLoanPage(total=total, limit=limit, offset=offset, items=[pool_loan_public(r, ctx, lang) for r in rows])
