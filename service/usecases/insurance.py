"""Insurance quotes priced from stored assessments, stored and audited."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session

from scoring.insurance import quote_enforcement, quote_guarantee
from scoring.policy import ScoringConfig
from service.auth import Principal
from service.db import audit
from service.db.tables import Assessment, InsuranceQuote
from service.schemas.insurance import GuaranteeQuoteRequest, QuoteRequest, QuoteResponse
from service.usecases.tenancy import visible


def create_quote(
    session: Session, principal: Principal, config: ScoringConfig, req: QuoteRequest, *, now: datetime
) -> QuoteResponse:
    """Quote pledge-guarantee insurance (from an assessment) or patent-enforcement insurance, dated ``now``."""
    q = req.quote
    qid = str(uuid.uuid4())
    if isinstance(q, GuaranteeQuoteRequest):
        a = visible(
            session, principal, Assessment, q.assessment_id, what="assessment", field="quote.assessment_id", read=False
        )
        resp = a.response
        g = quote_guarantee(
            pd=resp["pd"],
            lgd_without_cover=resp["lgd"]["without_cover"],
            ead=resp["ead"],
            insured_share=q.insured_share,
            split=q.split,
            params=config.insurance.guarantee,
        )
        out = QuoteResponse(
            id=qid,
            created_at=now,
            product=q.product,
            assessment_id=a.id,
            model_versions=dict(a.model_versions),
            guarantee=g,
        )
        premium = g.premium
    else:
        e = quote_enforcement(q.patents, tier=q.tier, params=config.insurance.enforcement)
        out = QuoteResponse(
            id=qid, created_at=now, product=q.product, assessment_id=None, model_versions={}, enforcement=e
        )
        premium = e.premium
    session.add(
        InsuranceQuote(
            id=qid,
            institution=principal.institution,
            key_id=principal.key_id,
            created_at=out.created_at,
            product=q.product,
            assessment_id=out.assessment_id,
            premium=premium,
            request=req.model_dump(mode="json"),
            response=out.model_dump(mode="json"),
        )
    )
    audit.append_by(
        session,
        principal,
        action="insurance_quote.create",
        resource_type="insurance_quote",
        resource_id=qid,
        detail={"product": q.product, "premium": premium},
    )
    return out


def get_quote(session: Session, principal: Principal, qid: str) -> QuoteResponse:
    """A stored quote of the caller's institution."""
    row = visible(session, principal, InsuranceQuote, qid, what="insurance quote")
    return QuoteResponse.model_validate(row.response)
