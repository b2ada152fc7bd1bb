"""What a bank reports about itself: its overall NPL ratio per period (the supervisory tolerance's reference)."""

from __future__ import annotations

from fastapi import Response

from service.deps import BankWriteDep
from service.routing import api_router
from service.schemas.book import NplRatioCreate, NplRatioPublic
from service.usecases import book

router = api_router("/v1/banks", "banks", 401, 403, 409, 422)


@router.post("/npl-ratios", status_code=201, response_model=NplRatioPublic)
def report_npl_ratio(body: NplRatioCreate, w: BankWriteDep) -> Response:
    """Report the bank's overall NPL ratio for a quarter or month that has ended (a later report corrects it)."""
    return w.run(body, lambda: book.report_npl_ratio(w.session, w.principal, body, today=w.today))
