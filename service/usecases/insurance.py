"""Insurance quotes priced from stored assessments, stored and audited."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session

from scoring.insurance import GuaranteeQuote, quote_enforcement, quote_guarantee
from scoring.policy import ScoringConfig
from scoring.vocab.lang import Lang
from service.auth import Principal
from service.db import audit
from service.db.tables import Assessment, InsuranceQuote
from service.errors import InvalidInput
from service.schemas.insurance import GuaranteeQuoteRequest, QuoteRequest, QuoteResponse
from service.schemas.scoring import AssessmentResponse
from service.usecases.tenancy import visible


def guarantee_quote(
    assessment: AssessmentResponse, q: GuaranteeQuoteRequest, config: ScoringConfig, lang: Lang
) -> GuaranteeQuote:
    """Price the insurer's share of a stored assessment over the loan's tenor.

    The share comes from the fund rules the assessment ran (``cover.basis`` fund_rules with an
    insurer); without them the request's ``insured_share`` and ``split`` are the what-if.
    """
    pricing, cover = assessment.pricing, assessment.cover
    if pricing is None:
        raise InvalidInput(
            f"assessment {assessment.id} predates lifetime risk figures: assess the loan again",
            field="quote.assessment_id",
        )
    if cover is not None and cover.basis == "fund_rules" and cover.insurer_basis != "none":
        for name in ("insured_share", "split"):
            if getattr(q, name) is not None:
                raise InvalidInput(
                    "the fund rules the assessment ran set the insurer's share: leave the what-if out",
                    field=f"quote.{name}",
                )
        share, sum_insured, split = cover.insurer_share, cover.insurer_share * assessment.ead, None
    else:
        if q.insured_share is None:
            raise InvalidInput(
                "no fund rules give an insurer a share: give the insured share", field="quote.insured_share"
            )
        if q.split is None:
            raise InvalidInput("no fund rules give an insurer a share: give the split", field="quote.split")
        share, sum_insured, split = q.split.insurer, assessment.ead * q.insured_share, q.split
    return quote_guarantee(
        lifetime_pd=pricing.lifetime_pd,
        lgd_without_cover=assessment.lgd.without_cover,
        ead=assessment.ead,
        term_months=pricing.tenor_months,
        insurer_share=share,
        sum_insured=sum_insured,
        config=config.insurance,
        share_basis="what_if" if split is not None else "fund_rules",
        split=split,
        lang=lang,
    )


def create_quote(
    session: Session, principal: Principal, config: ScoringConfig, req: QuoteRequest, *, now: datetime, lang: Lang
) -> QuoteResponse:
    """Quote pledge-guarantee insurance (from an assessment) or patent-enforcement insurance, dated ``now``."""
    q = req.quote
    qid = str(uuid.uuid4())
    if isinstance(q, GuaranteeQuoteRequest):
        a = visible(
            session, principal, Assessment, q.assessment_id, what="assessment", field="quote.assessment_id", read=False
        )
        g = guarantee_quote(AssessmentResponse.model_validate(a.response), q, config, lang)
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
        e = quote_enforcement(q.patents, tier=q.tier, config=config.insurance, lang=lang)
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
