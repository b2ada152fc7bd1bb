"""Assess a spreadsheet of applications: a CSV whose columns are the API's field paths, one application a row.

Each row becomes one item of the API's batch (``service.usecases.scoring.create_batch``): a
bad row fails alone, naming its field, and writes nothing of its own; the others are assessed,
stored and audited as one by one.  Spreadsheets saved as CSV by Chinese Excel are GB18030, by
others UTF-8 (with or without a byte-order mark): both are read.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from service.console.forms import FormErrors, nest
from service.console.nav import menu, router
from service.console.pages.officer import flatten, in_language
from service.console.web import FormDep, OfficerDep, User, render
from service.deps import ScoringDep, SessionDep, SettingsDep
from service.schemas.scoring import EXAMPLE_BORROWER, EXAMPLE_LOAN, EXAMPLE_PATENT, BatchRequest, BatchResponse
from service.usecases import scoring

TEMPLATE = flatten({"borrower": EXAMPLE_BORROWER, "loan": EXAMPLE_LOAN, "patents": [EXAMPLE_PATENT]})


def decode(data: bytes) -> str:
    """The text of an uploaded CSV: UTF-8 (BOM or not), else GB18030 (Chinese Excel)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def rows_of(data: bytes) -> list[dict[str, Any]]:
    """Applications from CSV bytes: one request body per row, by its dotted column names."""
    reader = csv.DictReader(io.StringIO(decode(data)))
    return [nest(((k or "", v or "") for k, v in row.items()), guard=False) for row in reader]


def _page(
    request: Request, user: User, *, results: BatchResponse | None = None, errors: dict[str, str] | None = None
) -> HTMLResponse:
    return render(
        request,
        "officer/upload.html",
        user=user,
        results=results,
        errors=errors or {},
        status=422 if errors else 200,
    )


@menu("/batch", "bank", "批量评估", "Assess a spreadsheet")
def upload_form(request: Request, user: OfficerDep) -> HTMLResponse:
    """The upload form and the spreadsheet's format."""
    return _page(request, user)


@router.get("/batch/template.csv")
def template(_: OfficerDep) -> Response:
    """A spreadsheet with every column the form has and one example application."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TEMPLATE.keys())
    writer.writerow(TEMPLATE.values())
    return Response(
        out.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="iprisk-applications.csv"'},
    )


@router.post("/batch", response_class=HTMLResponse)
def upload(
    request: Request,
    user: OfficerDep,
    form: FormDep,
    session: SessionDep,
    scoring_ctx: ScoringDep,
    settings: SettingsDep,
) -> Response:
    """Assess every row of the uploaded CSV; each row's result or the field that stopped it."""
    zh = user.lang == "zh"
    file = form.get("file")
    if not isinstance(file, UploadFile):
        return _page(request, user, errors={"file": "请选择文件" if zh else "choose a file"})
    try:
        items = rows_of(file.file.read())  # parsed by the form dependency: a spooled file, read here
    except (csv.Error, FormErrors):
        items = []
    if not items:
        return _page(request, user, errors={"file": "文件中没有可读的申请" if zh else "no application could be read"})
    limit = settings.batch_max_items
    if len(items) > limit:
        return _page(request, user, errors={"file": f"每次最多 {limit} 行" if zh else f"at most {limit} rows per file"})
    ctx = in_language(scoring_ctx, user)
    result = scoring.create_batch(session, user.principal, ctx, BatchRequest(items=items), max_items=limit)
    return _page(request, user, results=result)
