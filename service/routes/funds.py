"""Risk-compensation funds: rules, pooled loans, claims, decisions, recoveries, ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path, Query, Response

from service.deps import (
    BankDep,
    BundleDep,
    FundContextDep,
    FundManagerDep,
    FundOverseerDep,
    FundReaderDep,
    KeyedOnceDep,
    LangDep,
    NowDep,
    OnceDep,
    SessionDep,
    TodayDep,
)
from service.routing import api_router
from service.schemas import claims as claim_api
from service.schemas import funds as fund_api
from service.usecases.funds import claims, corrections, decisions, pool, recoveries, registry, rules

router = api_router("/v1/funds", "funds", 401, 403, 404, 409, 422, 503)
FundId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
RecordId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,36}$")]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="The same key and body give the same claim.",
    ),
]


@router.post("", status_code=201, response_model=fund_api.FundPublic)
def create_fund(
    body: fund_api.FundCreate, session: SessionDep, principal: FundOverseerDep, on: TodayDep, once: OnceDep
) -> Response:
    """Create a fund (regulator, or the fund manager of the institution with that id)."""
    return once.run(principal, body, lambda: registry.create_fund(session, principal, body, on=on))


@router.get("")
def list_funds(session: SessionDep, principal: FundReaderDep, on: TodayDep) -> list[fund_api.FundPublic]:
    """Funds the caller may see."""
    return registry.list_funds(session, principal, on=on)


@router.get("/{fund_id}")
def get_fund(fund_id: FundId, session: SessionDep, principal: FundReaderDep, on: TodayDep) -> fund_api.FundPublic:
    """One fund and its rule version in force today."""
    return registry.get_fund(session, principal, fund_id, on=on)


@router.post("/{fund_id}/rules", status_code=201, response_model=fund_api.RuleVersionPublic)
def add_rule_version(
    fund_id: FundId,
    body: fund_api.RuleVersionCreate,
    session: SessionDep,
    principal: FundOverseerDep,
    on: TodayDep,
    once: OnceDep,
) -> Response:
    """Store a new version of the fund's rules, in force from today or later (earlier: the regulator, with a reason).

    Claims are judged under the version in force on their default date.
    """
    return once.run(principal, body, lambda: rules.add_rule_version(session, principal, fund_id, body, on=on))


@router.get("/{fund_id}/rules")
def list_rule_versions(
    fund_id: FundId, session: SessionDep, principal: FundReaderDep
) -> list[fund_api.RuleVersionPublic]:
    """Every version of the fund's rules."""
    return rules.list_rule_versions(session, principal, fund_id)


@router.put("/{fund_id}/banks/{bank_id}")
def set_bank(
    fund_id: FundId, bank_id: FundId, body: fund_api.BankAgreement, session: SessionDep, principal: FundManagerDep
) -> fund_api.BankPublic:
    """Record a cooperating bank's pool share and committed credit line."""
    return registry.set_bank(session, principal, fund_id, bank_id, body)


@router.get("/{fund_id}/banks")
def list_banks(fund_id: FundId, session: SessionDep, principal: FundReaderDep) -> list[fund_api.BankPublic]:
    """Cooperating banks with their pooled amounts and loss rates (a bank: its own)."""
    return registry.list_banks(session, principal, fund_id)


@router.post("/{fund_id}/deposits", status_code=201, response_model=fund_api.BalancePublic)
def deposit(
    fund_id: FundId, body: fund_api.DepositCreate, session: SessionDep, principal: FundManagerDep, once: KeyedOnceDep
) -> Response:
    """Pay money into the fund once per Idempotency-Key; returns the balance after it."""
    return once.run(principal, body, lambda: registry.deposit(session, principal, fund_id, body))


@router.post("/{fund_id}/loans", status_code=201, response_model=claim_api.PoolLoanPublic)
def register_loan(
    fund_id: FundId,
    body: claim_api.PoolLoanCreate,
    session: SessionDep,
    principal: BankDep,
    ctx: FundContextDep,
    lang: LangDep,
    on: TodayDep,
    once: OnceDep,
) -> Response:
    """Register a loan into the pool; entry rules and the bank's committed line are checked."""
    return once.run(
        principal, body, lambda: pool.register_loan(session, principal, ctx, fund_id, body, on=on, lang=lang)
    )


@router.get("/{fund_id}/loans")
def list_pool_loans(
    fund_id: FundId,
    session: SessionDep,
    principal: FundReaderDep,
    ctx: FundContextDep,
    lang: LangDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> claim_api.PoolLoanPage:
    """Pooled loans, newest first (a bank: its own)."""
    return pool.list_pool_loans(session, principal, ctx, fund_id, lang=lang, limit=limit, offset=offset)


@router.get("/{fund_id}/loans/{pool_loan_id}")
def get_pool_loan(
    fund_id: FundId,
    pool_loan_id: RecordId,
    session: SessionDep,
    principal: FundReaderDep,
    ctx: FundContextDep,
    lang: LangDep,
) -> claim_api.PoolLoanPublic:
    """One pooled loan with its entry checks."""
    return pool.get_pool_loan(session, principal, ctx, fund_id, pool_loan_id, lang=lang)


@router.post("/{fund_id}/loans/{pool_loan_id}/repayments", response_model=claim_api.PoolLoanPublic)
def repay_loan(
    fund_id: FundId,
    pool_loan_id: RecordId,
    body: claim_api.RepaymentCreate,
    session: SessionDep,
    principal: BankDep,
    ctx: FundContextDep,
    lang: LangDep,
    on: TodayDep,
    once: KeyedOnceDep,
) -> Response:
    """Record principal repaid once per Idempotency-Key; the last repayment closes the loan, freeing the line."""
    return once.run(
        principal,
        body,
        lambda: pool.repay_loan(session, principal, ctx, fund_id, pool_loan_id, body, on=on, lang=lang),
    )


@router.post("/{fund_id}/corrections", status_code=201, response_model=fund_api.CorrectionPublic)
def request_correction(
    fund_id: FundId, body: fund_api.CorrectionCreate, session: SessionDep, principal: FundManagerDep, once: OnceDep
) -> Response:
    """Ask to reverse a deposit posted by mistake, with a reason; a second manager key approves it."""
    return once.run(principal, body, lambda: corrections.request_correction(session, principal, fund_id, body))


@router.post("/{fund_id}/corrections/{correction_id}/approval", response_model=fund_api.CorrectionPublic)
def approve_correction(
    fund_id: FundId,
    correction_id: RecordId,
    session: SessionDep,
    principal: FundManagerDep,
    now: NowDep,
    once: OnceDep,
) -> Response:
    """Approve a correction with a second fund-manager key: the reversal is posted as a new ledger entry."""
    return once.run(
        principal, None, lambda: corrections.approve_correction(session, principal, fund_id, correction_id, now=now)
    )


@router.get("/{fund_id}/corrections")
def list_corrections(
    fund_id: FundId, session: SessionDep, principal: FundOverseerDep
) -> list[fund_api.CorrectionPublic]:
    """The fund's corrections, oldest first."""
    return corrections.list_corrections(session, principal, fund_id)


@router.post("/{fund_id}/claims", status_code=201, responses={200: {"description": "Replay of an earlier filing"}})
def file_claim(
    fund_id: FundId,
    body: claim_api.ClaimCreate,
    key: IdempotencyKey,
    session: SessionDep,
    principal: BankDep,
    bundle: BundleDep,
    ctx: FundContextDep,
    lang: LangDep,
    on: TodayDep,
    response: Response,
) -> claim_api.ClaimPublic:
    """File a claim: every rule as pass/fail, the payout by party with each cap, the review score with reasons."""
    claim, created = claims.file_claim(session, principal, bundle, ctx, fund_id, body, key=key, on=on, lang=lang)
    response.status_code = 201 if created else 200
    return claim


@router.get("/{fund_id}/claims")
def list_claims(
    fund_id: FundId,
    session: SessionDep,
    principal: FundReaderDep,
    ctx: FundContextDep,
    lang: LangDep,
    status: claim_api.ClaimStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> claim_api.ClaimPage:
    """Claims newest first, by status (the manager's queue: status=pending); a bank sees its own."""
    return claims.list_claims(session, principal, ctx, fund_id, status=status, lang=lang, limit=limit, offset=offset)


@router.get("/{fund_id}/claims/{claim_id}")
def get_claim(
    fund_id: FundId,
    claim_id: RecordId,
    session: SessionDep,
    principal: FundReaderDep,
    ctx: FundContextDep,
    lang: LangDep,
) -> claim_api.ClaimPublic:
    """One claim with its checks, payout, review score and decision."""
    return claims.get_claim(session, principal, ctx, fund_id, claim_id, lang=lang)


@router.post("/{fund_id}/claims/{claim_id}/decision", response_model=claim_api.ClaimPublic)
def decide(
    fund_id: FundId,
    claim_id: RecordId,
    body: claim_api.DecisionCreate,
    session: SessionDep,
    principal: FundManagerDep,
    ctx: FundContextDep,
    lang: LangDep,
    now: NowDep,
    once: OnceDep,
) -> Response:
    """Approve (pays and posts to the ledger), reject with a reason, or request information."""
    return once.run(
        principal, body, lambda: decisions.decide(session, principal, ctx, fund_id, claim_id, body, now=now, lang=lang)
    )


@router.post("/{fund_id}/claims/{claim_id}/evidence", response_model=claim_api.ClaimPublic)
def supplement(
    fund_id: FundId,
    claim_id: RecordId,
    body: claim_api.EvidenceCreate,
    session: SessionDep,
    principal: BankDep,
    bundle: BundleDep,
    ctx: FundContextDep,
    lang: LangDep,
    once: OnceDep,
) -> Response:
    """Answer a request for information with more documents; the claim is judged again and re-queued."""
    return once.run(
        principal,
        body,
        lambda: decisions.supplement(session, principal, bundle, ctx, fund_id, claim_id, body, lang=lang),
    )


@router.post("/{fund_id}/claims/{claim_id}/recoveries", status_code=201, response_model=claim_api.RecoveryPublic)
def report_recovery(
    fund_id: FundId,
    claim_id: RecordId,
    body: claim_api.RecoveryCreate,
    session: SessionDep,
    principal: BankDep,
    on: TodayDep,
    once: KeyedOnceDep,
) -> Response:
    """Report money recovered on a paid claim once per Idempotency-Key; the fund's pro-rata part is clawed back."""
    return once.run(
        principal, body, lambda: recoveries.report_recovery(session, principal, fund_id, claim_id, body, on=on)
    )


@router.get("/{fund_id}/ledger")
def get_ledger(
    fund_id: FundId, session: SessionDep, principal: FundOverseerDep, limit: Limit = 100, offset: Offset = 0
) -> fund_api.LedgerPage:
    """The fund's double-entry ledger lines, oldest first."""
    return registry.get_ledger(session, principal, fund_id, limit=limit, offset=offset)


@router.get("/{fund_id}/balance")
def get_balance(fund_id: FundId, session: SessionDep, principal: FundOverseerDep) -> fund_api.BalancePublic:
    """Balance, paid, recovered and committed, derived from the ledger, with the reconciliation."""
    return registry.get_balance(session, principal, fund_id)
