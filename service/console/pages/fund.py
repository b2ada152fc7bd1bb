"""The fund manager's pages: claim queue, a claim with its rules, payout and review score, decision, ledger."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from scoring.policy import ScoringConfig
from scoring.vocab.lang import Lang
from service.configuration import FundContext
from service.console.forms import FormErrors, nest, parse, service_errors
from service.console.nav import menu, router
from service.console.pages.officer import fields
from service.console.reports import waterfall
from service.console.web import PREFIX, FormDep, FundDep, User, render
from service.deps import ConfigDep, FundContextDep, NowDep, SessionDep, TodayDep
from service.errors import NotFound, ServiceError
from service.schemas.claims import ClaimPublic, DecisionCreate
from service.usecases.funds import claims, decisions, pool, registry

QUEUE = 100  # claims per page of the queue


@menu("/fund", "fund_manager", "理赔队列", "Claim queue")
def queue(request: Request, user: FundDep, session: SessionDep, ctx: FundContextDep, today: TodayDep) -> HTMLResponse:
    """Claims waiting for a decision (and those waiting for the bank's documents), with the fund's balance."""
    fund_id = user.principal.institution
    p = user.principal
    try:
        fund = registry.get_fund(session, p, fund_id, on=today)
    except NotFound:
        return render(request, "fund/none.html", user=user, status=404)
    pending = claims.list_claims(session, p, ctx, fund_id, status="pending", lang=user.lang, limit=QUEUE, offset=0)
    waiting = claims.list_claims(
        session, p, ctx, fund_id, status="info_requested", lang=user.lang, limit=QUEUE, offset=0
    )
    balance = registry.get_balance(session, p, fund_id)
    return render(request, "fund/queue.html", user=user, fund=fund, pending=pending, waiting=waiting, balance=balance)


def review_chart(claim: ClaimPublic, config: ScoringConfig, lang: Lang) -> Markup:
    """The SHAP waterfall of the claim-review score."""
    title = "理赔异常评分（对数几率）的 SHAP 分解" if lang == "zh" else "SHAP of the review score (log-odds)"
    return waterfall(claim.review.contributions, config.reasons.claim_review, lang, title=title)


@router.get("/fund/claims/{claim_id}", response_class=HTMLResponse)
def claim_page(
    request: Request, claim_id: str, user: FundDep, session: SessionDep, ctx: FundContextDep, config: ConfigDep
) -> HTMLResponse:
    """One claim: every rule, the payout step by step, the review score with its reasons, the decision form."""
    claim = claims.get_claim(session, user.principal, ctx, user.principal.institution, claim_id, lang=user.lang)
    chart = review_chart(claim, config, user.lang)
    loan_id = pooled_loan_id(session, user, ctx, claim)
    return render(
        request,
        "fund/claim.html",
        user=user,
        claim=claim,
        chart=chart,
        loan_id=loan_id,
        errors={},
        originals={},
        values={},
    )


def pooled_loan_id(session: Session, user: User, ctx: FundContext, claim: ClaimPublic) -> str | None:
    """The booked loan behind a claim (its disposal case is reached from the claim), if it was booked here."""
    pooled = pool.get_pool_loan(
        session, user.principal, ctx, user.principal.institution, claim.pool_loan_id, lang=user.lang
    )
    return pooled.loan_id


@router.post("/fund/claims/{claim_id}/decision", response_class=HTMLResponse)
def decide(
    request: Request,
    claim_id: str,
    user: FundDep,
    form: FormDep,
    session: SessionDep,
    ctx: FundContextDep,
    config: ConfigDep,
    now: NowDep,
) -> Response:
    """Approve, reject or ask for information, with a reason; the claim again, or the form with its problem (422)."""
    fund_id, values = user.principal.institution, fields(form)
    try:
        body = parse(DecisionCreate, nest(values.items()), lang=user.lang)
        decisions.decide(session, user.principal, ctx, fund_id, claim_id, body, now=now, lang=user.lang)
    except (FormErrors, ServiceError) as exc:
        session.rollback()
        if isinstance(exc, ServiceError) and exc.field is None:
            raise
        errors = exc if isinstance(exc, FormErrors) else service_errors(exc, user.lang)
        claim = claims.get_claim(session, user.principal, ctx, fund_id, claim_id, lang=user.lang)
        return render(
            request,
            "fund/claim.html",
            user=user,
            claim=claim,
            chart=review_chart(claim, config, user.lang),
            loan_id=pooled_loan_id(session, user, ctx, claim),
            values=values,
            errors=errors.errors,
            originals=errors.originals,
            status=422 if isinstance(exc, FormErrors) else exc.status,
        )
    return RedirectResponse(f"{PREFIX}/fund/claims/{claim_id}", status_code=303)


@menu("/fund/ledger", "fund_manager", "台账与余额", "Ledger and balance")
def ledger(request: Request, user: FundDep, session: SessionDep, offset: int = 0) -> HTMLResponse:
    """The fund's balance with its reconciliation, and its double-entry ledger, oldest first."""
    fund_id = user.principal.institution
    page = registry.get_ledger(session, user.principal, fund_id, limit=100, offset=max(offset, 0))
    balance = registry.get_balance(session, user.principal, fund_id)
    return render(request, "fund/ledger.html", user=user, page=page, balance=balance)
