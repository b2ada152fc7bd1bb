"""Disposal cases of a defaulted loan's pledged patents, for the lending bank and the fund manager pooling the loan.

Open a case (its suggested reserve price and the figures behind it come with it), then record its
steps: listing, a failed round (流拍: the asking price falls 20%), the sale or licence, costs, close.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, select

from scoring.disposal import STEPS, cut_price
from scoring.vocab import DISPOSAL_CHANNELS
from scoring.vocab.money import to_cny, to_fen
from service.console.forms import FormErrors, nest, parse, service_errors
from service.console.nav import menu, router
from service.console.pages.officer import created_id, fields
from service.console.web import PREFIX, FormDep, User, render, role
from service.db.fund_tables import PoolLoan
from service.deps import NowDep, SessionDep, TodayDep, WatchDep
from service.errors import NotFound, ServiceError
from service.schemas.disposals import DisposalOpen, DisposalPublic, DisposalStepCreate
from service.usecases import disposals, loans

DisposerUserDep = Annotated[User, Depends(role("bank", "fund_manager"))]

# A case's words (a case "closes" and "opens" otherwise than a loan does).
CASE_STATUS = {
    "open": ("已立案", "Open"),
    "listed": ("挂牌中", "Listed"),
    "sold": ("已成交", "Sold"),
    "licensed": ("已许可", "Licensed"),
    "closed": ("已结案", "Closed"),
}
STEP_NAMES = {
    "open": ("立案", "Open"),
    "list": ("挂牌", "List"),
    "round_failed": ("流拍（保留价下调 20%）", "Failed round (price cut 20%)"),
    "sold": ("成交", "Sold"),
    "licensed": ("许可成交", "Licensed"),
    "cost": ("处置费用", "Cost"),
    "close": ("结案", "Close"),
}


def _case_or_none(session: Session, user: User, loan_id: str) -> DisposalPublic | None:
    """The loan's case; None when it has none and the user may open one; 404 when the loan is not theirs."""
    try:
        return disposals.case_of_loan(session, user.principal, loan_id)
    except NotFound:
        pass
    if user.principal.role == "bank":
        loans.get_loan(session, user.principal, loan_id)  # 404 unless the bank's own
    else:  # a fund manager: a loan pooled in its fund (as the use case admits it)
        pooled = session.exec(
            select(PoolLoan.id).where(PoolLoan.loan_id == loan_id, PoolLoan.fund_id == user.principal.institution)
        ).first()
        if pooled is None:
            raise NotFound(f"no loan {loan_id}", field="loan_id")
    return None


def _page(
    request: Request,
    user: User,
    loan_id: str,
    case: DisposalPublic | None,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    next_price = None
    if case is not None and case.status == "listed":
        base = case.price_cny if case.price_cny is not None else case.reserve.suggested_cny
        next_price = to_cny(cut_price(to_fen(Decimal(base))))
    return render(
        request,
        "disposal/case.html",
        user=user,
        loan_id=loan_id,
        case=case,
        channels=DISPOSAL_CHANNELS,
        steps=tuple(STEPS[case.status]) if case is not None else (),
        case_status=CASE_STATUS,
        step_names=STEP_NAMES,
        step_labels={k: zh if user.lang == "zh" else en for k, (zh, en) in STEP_NAMES.items()},
        once=uuid.uuid4().hex,
        next_price=next_price,
        values=values or {},
        errors=errors.errors if errors else {},
        originals=errors.originals if errors else {},
        status=status,
    )


@menu("/disposals", "bank", "处置案件", "Disposal cases")
def find_case_bank(request: Request, user: DisposerUserDep, loan_id: str | None = None) -> Response:
    """Find a loan's disposal case by the loan's id."""
    return _find(request, user, loan_id)


@menu("/fund/disposals", "fund_manager", "处置案件", "Disposal cases")
def find_case_fund(request: Request, user: DisposerUserDep, loan_id: str | None = None) -> Response:
    """Find a pooled loan's disposal case by the loan's id."""
    return _find(request, user, loan_id)


def _find(request: Request, user: User, loan_id: str | None) -> Response:
    if loan_id and loan_id.strip():
        return RedirectResponse(f"{PREFIX}/loans/{loan_id.strip()}/disposal", status_code=303)
    return render(request, "disposal/find.html", user=user)


@router.get("/loans/{loan_id}/disposal", response_class=HTMLResponse)
def case_page(request: Request, loan_id: str, user: DisposerUserDep, session: SessionDep) -> HTMLResponse:
    """The loan's disposal case with its reserve, its steps and the next step's form; or the form to open one."""
    return _page(request, user, loan_id, _case_or_none(session, user, loan_id))


@router.post("/loans/{loan_id}/disposal", response_class=HTMLResponse)
def open_case(
    request: Request,
    loan_id: str,
    user: DisposerUserDep,
    form: FormDep,
    session: SessionDep,
    ctx: WatchDep,
    today: TodayDep,
    now: NowDep,
) -> Response:
    """Open the case: the pledge goes into disposal and the suggested reserve price is fixed."""
    values = fields(form)
    try:
        body = parse(DisposalOpen, nest(values.items()), lang=user.lang)
        created_id(
            session,
            user,
            values,
            f"/v1/loans/{loan_id}/disposal-case",
            body,
            lambda: disposals.open_case(
                session, user.principal, ctx, loan_id, body, today=today, now=now
            ).model_dump_json(),
        )
    except (FormErrors, ServiceError) as exc:
        session.rollback()
        if isinstance(exc, ServiceError) and exc.status == 404:
            raise
        errors = exc if isinstance(exc, FormErrors) else service_errors(exc, user.lang)
        code = 422 if isinstance(exc, FormErrors) else exc.status
        case = _case_or_none(session, user, loan_id)
        return _page(request, user, loan_id, case, values=values, errors=errors, status=code)
    return RedirectResponse(f"{PREFIX}/loans/{loan_id}/disposal", status_code=303)


@router.post("/disposals/{case_id}/steps", response_class=HTMLResponse)
def add_step(
    request: Request,
    case_id: str,
    user: DisposerUserDep,
    form: FormDep,
    session: SessionDep,
    today: TodayDep,
    now: NowDep,
) -> Response:
    """Record the case's next step; the case again, or the form with the problem beside its field."""
    values = fields(form)
    case = disposals.get_case(session, user.principal, case_id)  # 404 unless the user may see it
    try:
        body = parse(DisposalStepCreate, nest(values.items()), lang=user.lang)
        created_id(
            session,
            user,
            values,
            f"/v1/disposals/{case_id}/steps",
            body,
            lambda: disposals.add_step(session, user.principal, case_id, body, today=today, now=now).model_dump_json(),
        )
    except (FormErrors, ServiceError) as exc:
        session.rollback()
        if isinstance(exc, ServiceError) and exc.status == 404:
            raise
        errors = exc if isinstance(exc, FormErrors) else service_errors(exc, user.lang)
        code = 422 if isinstance(exc, FormErrors) else exc.status
        case = disposals.get_case(session, user.principal, case_id)
        return _page(request, user, case.loan_id, case, values=values, errors=errors, status=code)
    return RedirectResponse(f"{PREFIX}/loans/{case.loan_id}/disposal", status_code=303)
