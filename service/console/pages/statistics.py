"""The regulator's statistics: the point-in-time book (NPL ratio by one or two dimensions), indicators, the report.

Every figure is the API's (``GET /v1/regulator/book``, ``/indicators/{period}``, ``/reports/{period}``),
from the same use cases; amounts are shown in 万元 and 亿元 (``service/console/text.py``).
"""

from __future__ import annotations

from datetime import date

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from scoring.book import BOOK_DIMS, BookDim
from scoring.vocab.lang import Lang
from scoring.vocab.zh import label as zh_label
from service.console.forms import FormErrors, service_errors
from service.console.nav import menu, router
from service.console.web import RegulatorUserDep, render
from service.deps import SessionDep, TodayDep
from service.errors import InvalidInput, ServiceError
from service.reports.exports import value_label
from service.schemas.book import BookReport
from service.schemas.regulator import OfficialIndicators
from service.usecases import book, indicators, reports

DIM_EN = {
    "bank": "Bank",
    "region": "Prefecture",
    "industry": "Industry",
    "patent_type": "Patent type",
    "ticket_band": "Ticket band",
    "vintage": "Vintage",
}
DIMS: dict[str, BookDim] = {d: d for d in BOOK_DIMS}
CLASSES = ("normal", "special_mention", "substandard", "doubtful", "loss", "unreported")
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; frame-ancestors 'none'"


def dim_name(dim: str, lang: Lang) -> str:
    """A book dimension's name for a reader."""
    return zh_label("book_dim", dim) if lang == "zh" else DIM_EN.get(dim, dim)


def class_name(cls: str, lang: Lang) -> str:
    """A loan class (五级分类) for a reader."""
    return zh_label("npl_class", cls) if lang == "zh" else cls.replace("_", " ")


def quarter_of(day: date) -> str:
    """The quarter ``day`` falls in (2026Q4)."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _as_of(raw: str, errors: dict[str, str]) -> date | None:
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors["as_of"] = "请按 年-月-日 填写日期"
        return None


@menu("/regulator/book", "regulator", "贷款余额与不良率", "Book and NPL ratio")
def book_page(
    request: Request,
    user: RegulatorUserDep,
    session: SessionDep,
    today: TodayDep,
    as_of: str = "",
    dim1: str = "region",
    dim2: str = "",
) -> HTMLResponse:
    """Balance, balance by class and NPL ratio on a day, by one or two crossed dimensions."""
    values = {"as_of": as_of, "dim1": dim1, "dim2": dim2}
    errors: dict[str, str] = {}
    originals: dict[str, str] = {}
    day = _as_of(as_of, errors)
    by: list[BookDim] = []
    for name, raw in (("dim1", dim1), ("dim2", dim2)):
        if raw in DIMS:
            by.append(DIMS[raw])
        elif raw:
            errors[name] = "请从列表中选择" if user.lang == "zh" else f"one of {', '.join(BOOK_DIMS)}"
    if len(by) == 2 and by[0] == by[1]:
        errors["dim2"] = "请选择另一个维度" if user.lang == "zh" else "choose another dimension"
        by = by[:1]
    report: BookReport | None = None
    status = 200
    try:
        if errors:
            raise FormErrors(errors)
        report = book.book_report(session, by, as_of=day, today=today, lang=user.lang)
    except FormErrors as exc:
        errors, status = exc.errors, 422
    except InvalidInput as exc:
        found = service_errors(exc, user.lang)
        field = {"by": "dim1"}.get(exc.field or "", exc.field or "")
        errors = {field: next(iter(found.errors.values()))}
        originals = {field: next(iter(found.originals.values()), "")} if found.originals else {}
        status = 422
    return render(
        request,
        "regulator/book.html",
        user=user,
        report=report,
        dims=BOOK_DIMS,
        classes=CLASSES,
        dim_name=lambda d: dim_name(d, user.lang),
        dim_names={d: dim_name(d, user.lang) for d in BOOK_DIMS},
        class_name=lambda c: class_name(c, user.lang),
        key_label=lambda d, v: value_label(d, v) if user.lang == "zh" else v,
        values=values,
        errors=errors,
        originals=originals,
        status=status,
    )


@router.get("/regulator/book/export")
def book_export(
    _: RegulatorUserDep, session: SessionDep, today: TodayDep, as_of: date | None = None, dim1: str = "", dim2: str = ""
) -> Response:
    """The book of the page as CSV (UTF-8 with BOM) with Chinese headers, as the API exports it."""
    by = [DIMS[d] for d in (dim1, dim2) if d in DIMS]
    body, media = book.export_book(session, by, "csv", as_of=as_of, today=today)
    name = f"iprisk-book-{'-'.join(by) or 'total'}.csv"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@menu("/regulator/indicators", "regulator", "统计指标", "Indicators")
def indicators_page(
    request: Request, user: RegulatorUserDep, session: SessionDep, today: TodayDep, period: str = ""
) -> HTMLResponse:
    """The published indicators of a quarter (2026Q3) or a month (2026-09), with the quarterly report's links."""
    chosen = period.strip() or quarter_of(today)
    found: OfficialIndicators | None = None
    errors: FormErrors | None = None
    try:
        found = indicators.indicators(session, chosen, today=today)
    except ServiceError as exc:
        if exc.field is None:
            raise
        errors = service_errors(exc, user.lang)
    return render(
        request,
        "regulator/indicators.html",
        user=user,
        ind=found,
        quarter=chosen if "Q" in chosen else None,
        values={"period": chosen},
        errors=errors.errors if errors else {},
        originals=errors.originals if errors else {},
        status=422 if errors else 200,
    )


@router.get("/regulator/reports/{period}", response_class=HTMLResponse)
def report_html(period: str, _: RegulatorUserDep, session: SessionDep, today: TodayDep) -> Response:
    """The quarterly report as the API renders it (Chinese HTML, charts as images), shown in the browser."""
    body, media = reports.render(session, period, "html", today=today)
    response = Response(body, media_type=media)
    response.headers["Content-Security-Policy"] = REPORT_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/regulator/reports/{period}/pdf")
def report_pdf(period: str, _: RegulatorUserDep, session: SessionDep, today: TodayDep) -> Response:
    """The quarterly report as PDF, saved as a file."""
    body, media = reports.render(session, period, "pdf", today=today)
    headers = {"Content-Disposition": f'attachment; filename="iprisk-report-{period}.pdf"', "Cache-Control": "no-store"}
    return Response(body, media_type=media, headers=headers)
