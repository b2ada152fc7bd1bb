"""Compensation claims: idempotent filing, reading, and the manager's queue.

Filing runs under the fund lock: it reads the available balance and the
year's cap usage, computes the payout with every cap (the balance last), and
reserves the pool's amount in the ledger, so concurrent filings and
approvals can never draw more than the fund holds.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date

from sqlmodel import Session, col, select

from scoring.funds import FundRules
from scoring.vocab.lang import Lang
from scoring.vocab.money import to_fen
from service.auth import Principal
from service.bundle import ModelBundle
from service.configuration import FundContext
from service.db.fund_tables import Claim, PoolLoan
from service.errors import Conflict, InvalidInput
from service.schemas.claims import TRIGGER_FIELDS, ClaimCreate, ClaimPage, ClaimPublic, ClaimStatus
from service.usecases.funds import ledger
from service.usecases.funds.access import (
    audit_fund,
    own_claim,
    own_pool_loan,
    owned_page,
    visible_fund,
)
from service.usecases.funds.evaluation import evaluate
from service.usecases.funds.rules import rule_version_on
from service.usecases.funds.views import claim_public


def request_hash(fund_id: str, req: ClaimCreate) -> str:
    """sha256 of the canonical claim body: what makes two filings "the same"."""
    # unset optional facts are left out, so a body that does not name them hashes as it always did
    body = req.model_dump(mode="json", exclude_none=True)
    blob = json.dumps({"fund_id": fund_id, **body}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _replay(session: Session, fund_id: str, bank_id: str, key: str, digest: str) -> Claim | None:
    row = session.exec(
        select(Claim).where(Claim.fund_id == fund_id, Claim.bank_id == bank_id, Claim.idempotency_key == key)
    ).first()
    if row is not None and row.request_hash != digest:
        raise Conflict("this Idempotency-Key was used for a different claim", field="Idempotency-Key")
    return row


def _admissible(session: Session, loan: PoolLoan, req: ClaimCreate, filed_on: date) -> None:
    """What makes a claim unusable rather than ineligible: 422 (bad facts) or 409 (a claim exists, loan repaid)."""
    if loan.status != "active":
        raise Conflict(f"pooled loan {loan.id} was {loan.status} on {loan.closed_on}", field="pool_loan_id")
    for name in TRIGGER_FIELDS:
        day = getattr(req, name)
        if day is not None and not loan.origination_date <= day <= filed_on:
            raise InvalidInput(f"{name} {day} must lie between the loan's origination and today", field=name)
    if req.disposal_proceeds_cny is not None and req.disposal_proceeds_cny > (
        req.principal_outstanding_cny + req.interest_outstanding_cny
    ):
        raise InvalidInput("the disposal's proceeds exceed the loss", field="disposal_proceeds_cny")
    if req.default_date < loan.origination_date:
        raise InvalidInput(
            f"default_date {req.default_date} is before the loan's origination {loan.origination_date}",
            field="default_date",
        )
    if req.default_date > filed_on:
        raise InvalidInput(f"default_date {req.default_date} is in the future", field="default_date")
    if to_fen(req.principal_outstanding_cny) > loan.amount_fen:
        raise InvalidInput("principal outstanding exceeds the loan's principal", field="principal_outstanding_cny")
    if session.exec(select(Claim).where(Claim.pool_loan_id == loan.id, Claim.status != "rejected")).first():
        raise Conflict(f"pooled loan {loan.id} already has a claim that is not rejected", field="pool_loan_id")


def file_claim(
    session: Session,
    principal: Principal,
    bundle: ModelBundle,
    ctx: FundContext,
    fund_id: str,
    req: ClaimCreate,
    *,
    key: str,
    on: date,
    lang: Lang,
) -> tuple[ClaimPublic, bool]:
    """File a claim on day ``on`` (or replay the one filed with ``key``); return it and whether it is new."""
    visible_fund(session, principal, fund_id)
    digest = request_hash(fund_id, req)
    existing = _replay(session, fund_id, principal.institution, key, digest)  # a replay needs no lock
    if existing is None:
        ledger.lock_fund(session, fund_id)
        # a filing with the same key may have committed while this one waited for the lock
        existing = _replay(session, fund_id, principal.institution, key, digest)
    if existing is not None:
        return claim_public(existing, ctx, lang), False
    loan = own_pool_loan(session, principal, fund_id, req.pool_loan_id)
    _admissible(session, loan, req, on)
    version = rule_version_on(session, fund_id, req.default_date)
    if version is None:
        raise InvalidInput(f"fund {fund_id} had no rules in force on {req.default_date}", field="default_date")
    rules = FundRules.model_validate(version.rules)
    if req.disposal_proceeds_cny is not None and rules.settlement != "net_loss":
        raise InvalidInput(
            f"the rules in force on {req.default_date} settle {rules.settlement}: report the disposal's proceeds "
            "as a recovery once the claim is paid",
            field="disposal_proceeds_cny",
        )
    ev = evaluate(session, bundle, ctx, rules, loan, req, filed_on=on)
    claim = Claim(
        id=str(uuid.uuid4()),
        fund_id=fund_id,
        bank_id=principal.institution,
        pool_loan_id=loan.id,
        borrower_id=loan.borrower_id,
        idempotency_key=key,
        request_hash=digest,
        default_date=req.default_date,
        filed_on=on,
        year=on.year,
        rule_version=version.version,
        eligible=ev.eligible,
        status="pending",
        loss_fen=ev.payout.loss_fen,
        pool_amount_fen=ev.reserve_fen,
        score=float(ev.review["probability"]),
        request=req.model_dump(mode="json"),
        evaluation=ev.as_json(),
    )
    session.add(claim)
    session.flush()
    ledger.post(
        session,
        fund_id,
        kind="reserve",
        claim_id=claim.id,
        memo=f"claim {claim.id} filed",
        postings=[("cash_reserved", ev.reserve_fen, 0), ("cash_available", 0, ev.reserve_fen)],
    )
    audit_fund(
        session,
        principal,
        "fund.claim.file",
        "fund_claim",
        claim.id,
        {
            "fund_id": fund_id,
            "eligible": ev.eligible,
            "reserved_fen": ev.reserve_fen,
            "score": claim.score,
            "rule_version": version.version,
        },
    )
    return claim_public(claim, ctx, lang), True


def get_claim(
    session: Session, principal: Principal, ctx: FundContext, fund_id: str, claim_id: str, *, lang: Lang
) -> ClaimPublic:
    """One claim with its checks, payout and review."""
    return claim_public(own_claim(session, principal, fund_id, claim_id), ctx, lang)


def list_claims(
    session: Session,
    principal: Principal,
    ctx: FundContext,
    fund_id: str,
    *,
    status: ClaimStatus | None,
    lang: Lang,
    limit: int,
    offset: int,
) -> ClaimPage:
    """Claims newest first, optionally by status (a bank: only its own) — the manager's queue."""
    where = [] if status is None else [col(Claim.status) == status]
    total, rows = owned_page(session, principal, Claim, fund_id, limit=limit, offset=offset, where=where)
    return ClaimPage(total=total, limit=limit, offset=offset, items=[claim_public(r, ctx, lang) for r in rows])
