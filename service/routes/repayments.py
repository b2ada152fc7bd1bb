"""Principal repaid or written off on a booked loan, as its bank reports it (the point-in-time book)."""

from __future__ import annotations

from fastapi import Response

from service.deps import BankWriteDep
from service.routing import api_router
from service.schemas.book import RepaymentCreate, RepaymentPublic
from service.usecases import book

router = api_router("/v1/loans", "loans", 401, 403, 404, 409, 422)


@router.post("/{loan_id}/repayments", status_code=201, response_model=RepaymentPublic)
def report_repayment(loan_id: str, body: RepaymentCreate, w: BankWriteDep) -> Response:
    """Report principal repaid (or a loss written off) on the bank's loan; never more than its balance that day."""
    return w.run(body, lambda: book.report_repayment(w.session, w.principal, loan_id, body, today=w.today))
