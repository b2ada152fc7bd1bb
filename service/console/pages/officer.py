"""The loan officer's pages: value patents, assess an application, book the loan, print the report and memo."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlmodel import Session
from starlette.datastructures import FormData

from scoring.vocab import INDUSTRIES, IPC_SECTIONS, LEGAL_STATUSES, LOAN_PURPOSES, PATENT_TYPES, REGIONS, TECH_FIELDS
from service.console import pdf
from service.console.forms import FormErrors, nest, parse, service_errors
from service.console.nav import menu, router
from service.console.reports import assessment_view, valuation_view
from service.console.web import PREFIX, FormDep, OfficerDep, User, render
from service.db.tables import Assessment, Valuation
from service.deps import ConfigDep, ScoringDep, SessionDep, TodayDep
from service.errors import InvalidInput, ServiceError
from service.schemas.loans import LoanCreate
from service.schemas.scoring import (
    EXAMPLE_BORROWER,
    EXAMPLE_LOAN,
    EXAMPLE_PATENT,
    AssessmentRequest,
    ValuationRequest,
)
from service.usecases import loans, scoring
from service.usecases.idempotency import Call, once
from service.usecases.scoring import CreatedWindow, ScoringContext
from service.usecases.tenancy import visible

R = TypeVar("R", ValuationRequest, AssessmentRequest)

CHOICES: dict[str, tuple[str, ...]] = {
    "patent_type": PATENT_TYPES,
    "ipc_section": IPC_SECTIONS,
    "tech_field": TECH_FIELDS,
    "industry": INDUSTRIES,
    "legal_status": LEGAL_STATUSES,
    "region": REGIONS,
    "purpose": LOAN_PURPOSES,
}
PATENT_BLOCKS = 2  # patents per form; a package of more is valued through the API


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Dotted field names → form values (the inverse of ``forms.nest``)."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}{i}."))
        return out
    if isinstance(value, bool):
        return {prefix[:-1]: "true" if value else "false"}
    return {prefix[:-1]: "" if value is None else str(value)}


def in_language(ctx: ScoringContext, user: User) -> ScoringContext:
    """The API's scoring context, in the language the user chose in the console (not Accept-Language)."""
    return replace(ctx, lang=user.lang)


def _form_page(
    request: Request, user: User, template: str, values: dict[str, str], errors: FormErrors | None = None
) -> HTMLResponse:
    return render(
        request,
        template,
        user=user,
        values=values,
        errors=errors.errors if errors else {},
        originals=errors.originals if errors else {},
        choices=CHOICES,
        once=uuid.uuid4().hex,
        blocks=range(PATENT_BLOCKS),
        status=422 if errors else 200,
    )


def _refused(
    request: Request, user: User, session: Session, template: str, values: dict[str, str], exc: ServiceError
) -> HTMLResponse:
    """A use case refused the form: nothing it began is kept; a refusal naming a field is shown beside it."""
    session.rollback()
    if exc.field is None and exc.status != 422:
        raise exc
    return _form_page(request, user, template, values, service_errors(exc, user.lang))


def created_id(
    session: Session, user: User, values: dict[str, str], route: str, body: BaseModel, create: Callable[[], str]
) -> str:
    """The id of what ``create`` stores, once per rendering of the form (a second click replays the first)."""
    key = values.get("once") or None
    call = Call(key=f"console:{key}" if key else None, method="POST", route=route, status=201)
    answer = once(session, user.principal, call, body, create)
    created: str = json.loads(answer.body)["id"]
    return created


def fields(form: FormData) -> dict[str, str]:
    """The text fields of a posted form."""
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


@menu("/officer", "bank", "工作台", "Desk")
def officer_home(request: Request, user: OfficerDep, session: SessionDep) -> HTMLResponse:
    """The officer's recent assessments and valuations."""
    window = CreatedWindow(since=None, until=None, limit=20, offset=0)
    return render(
        request,
        "officer/home.html",
        user=user,
        assessments=scoring.list_results(session, user.principal, Assessment, window).items,
        valuations=scoring.list_results(session, user.principal, Valuation, window).items,
    )


@menu("/valuations/new", "bank", "专利估值", "Value patents")
def valuation_form(request: Request, user: OfficerDep) -> HTMLResponse:
    """The valuation form, filled with an example."""
    example = {"patents": [EXAMPLE_PATENT], "context": {"pledgor_id": EXAMPLE_BORROWER["enterprise_id"]}}
    return _form_page(request, user, "officer/valuation_form.html", flatten(example))


@router.post("/valuations/new", response_class=HTMLResponse)
def create_valuation(
    request: Request,
    user: OfficerDep,
    form: FormDep,
    session: SessionDep,
    scoring_ctx: ScoringDep,
) -> Response:
    """Value the patents of the form; its page, or the form with each problem beside its field (422)."""
    return _scored_form(
        request,
        user,
        form,
        session,
        in_language(scoring_ctx, user),
        schema=ValuationRequest,
        template="officer/valuation_form.html",
        page="valuations",
        create=lambda ctx, body: scoring.create_valuation(session, user.principal, ctx, body).json,
    )


@router.get("/valuations/{valuation_id}", response_class=HTMLResponse)
def valuation_page(
    request: Request, valuation_id: str, user: OfficerDep, session: SessionDep, config: ConfigDep
) -> HTMLResponse:
    """A stored valuation: P10/P50/P90, checks, reasons and the SHAP waterfall of each patent."""
    row = visible(session, user.principal, Valuation, valuation_id, what="valuation")
    return render(request, "officer/valuation.html", user=user, v=valuation_view(row, config, user.lang))


@router.get("/valuations/{valuation_id}/report", response_class=HTMLResponse)
def valuation_report(
    request: Request, valuation_id: str, user: OfficerDep, session: SessionDep, config: ConfigDep
) -> HTMLResponse:
    """The printable valuation report (HTML)."""
    row = visible(session, user.principal, Valuation, valuation_id, what="valuation")
    return render(
        request, "report/valuation.html", user=user, v=valuation_view(row, config, user.lang), css=pdf.WEB_CSS
    )


@router.get("/valuations/{valuation_id}/report.pdf")
def valuation_report_pdf(
    request: Request, valuation_id: str, user: OfficerDep, session: SessionDep, config: ConfigDep
) -> Response:
    """The valuation report as PDF (headless Chromium prints the same page)."""
    row = visible(session, user.principal, Valuation, valuation_id, what="valuation")
    html = render(
        request, "report/valuation.html", user=user, v=valuation_view(row, config, user.lang), css=pdf.PRINT_CSS
    )
    return pdf.attachment(pdf.print_pdf(bytes(html.body)), f"valuation-{valuation_id}.pdf")


@menu("/assessments/new", "bank", "贷款评估", "Assess an application")
def assessment_form(request: Request, user: OfficerDep, valuation_id: str | None = None) -> HTMLResponse:
    """The assessment form, filled with an example (or naming an earlier valuation's patents)."""
    example: dict[str, Any] = {"borrower": EXAMPLE_BORROWER, "loan": EXAMPLE_LOAN}
    if valuation_id:
        example["valuation_id"] = valuation_id
    else:
        example["patents"] = [EXAMPLE_PATENT]
    return _form_page(request, user, "officer/assessment_form.html", flatten(example))


@router.post("/assessments/new", response_class=HTMLResponse)
def create_assessment(
    request: Request,
    user: OfficerDep,
    form: FormDep,
    session: SessionDep,
    scoring_ctx: ScoringDep,
) -> Response:
    """Assess the application of the form; its page, or the form with each problem beside its field (422)."""
    return _scored_form(
        request,
        user,
        form,
        session,
        in_language(scoring_ctx, user),
        schema=AssessmentRequest,
        template="officer/assessment_form.html",
        page="assessments",
        create=lambda ctx, body: scoring.create_assessment(session, user.principal, ctx, body).json,
    )


def _scored_form(
    request: Request,
    user: User,
    form: FormData,
    session: Session,
    ctx: ScoringContext,
    *,
    schema: type[R],
    template: str,
    page: str,
    create: Callable[[ScoringContext, R], str],
) -> Response:
    """Run a valuation or assessment form once per rendering: the stored result's page, or the form with its errors."""
    values = fields(form)
    try:
        body = parse(schema, nest(values.items()), lang=user.lang)
        rid = created_id(session, user, values, f"/v1/{page}", body, lambda: create(ctx, body))
    except FormErrors as exc:
        return _form_page(request, user, template, values, exc)
    except ServiceError as exc:
        return _refused(request, user, session, template, values, exc)
    return RedirectResponse(f"{PREFIX}/{page}/{rid}", status_code=303)


@router.get("/assessments/{assessment_id}", response_class=HTMLResponse)
def assessment_page(
    request: Request, assessment_id: str, user: OfficerDep, session: SessionDep, config: ConfigDep
) -> HTMLResponse:
    """A stored assessment: decision, PD, LGD, EL, reasons, the SHAP waterfall and the booking button."""
    row = visible(session, user.principal, Assessment, assessment_id, what="assessment")
    return render(request, "officer/assessment.html", user=user, a=assessment_view(session, row, config, user.lang))


@router.post("/assessments/{assessment_id}/book", response_class=HTMLResponse)
def book(assessment_id: str, user: OfficerDep, form: FormDep, session: SessionDep, today: TodayDep) -> Response:
    """Book the loan of an assessment; its patents become pledged."""
    try:
        body = parse(LoanCreate, nest(fields(form).items()) | {"assessment_id": assessment_id}, lang=user.lang)
    except FormErrors as exc:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in exc.errors.items()), field="assessment_id") from exc
    loan = loans.book_loan(session, user.principal, body, today=today)
    return RedirectResponse(f"{PREFIX}/loans/{loan.id}", status_code=303)


@router.get("/assessments/{assessment_id}/memo", response_class=HTMLResponse)
def credit_memo(
    request: Request, assessment_id: str, user: OfficerDep, session: SessionDep, config: ConfigDep
) -> HTMLResponse:
    """The printable credit memo (HTML)."""
    row = visible(session, user.principal, Assessment, assessment_id, what="assessment")
    view = assessment_view(session, row, config, user.lang)
    return render(request, "report/memo.html", user=user, a=view, css=pdf.WEB_CSS)


@router.get("/assessments/{assessment_id}/memo.pdf")
def credit_memo_pdf(
    request: Request, assessment_id: str, user: OfficerDep, session: SessionDep, config: ConfigDep
) -> Response:
    """The credit memo as PDF (headless Chromium prints the same page)."""
    row = visible(session, user.principal, Assessment, assessment_id, what="assessment")
    html = render(
        request, "report/memo.html", user=user, a=assessment_view(session, row, config, user.lang), css=pdf.PRINT_CSS
    )
    return pdf.attachment(pdf.print_pdf(bytes(html.body)), f"credit-memo-{assessment_id}.pdf")


@router.get("/loans/{loan_id}", response_class=HTMLResponse)
def loan_page(request: Request, loan_id: str, user: OfficerDep, session: SessionDep) -> HTMLResponse:
    """A booked loan: terms, patents, pledge state and history."""
    return render(request, "officer/loan.html", user=user, loan=loans.get_loan(session, user.principal, loan_id))
