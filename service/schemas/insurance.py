"""API schemas of insurance quotes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from scoring.insurance import EnforcementQuote, GuaranteeQuote, LossSplit
from service.patent_ids import RequestPatent
from service.schemas.scoring import EXAMPLE_PATENT, MAX_PATENTS


class GuaranteeQuoteRequest(BaseModel):
    """Pledge-guarantee insurance for a stored assessment, over the loan's tenor.

    When the assessment named a fund whose rules give an insurer a share (or an insurer
    share outside them), that share is priced and ``insured_share``/``split`` must be left
    out; otherwise they are required, and the quote is a what-if (``share_basis``).
    """

    model_config = ConfigDict(extra="forbid")
    product: Literal["pledge_guarantee"]
    assessment_id: str = Field(max_length=36)
    insured_share: float | None = Field(
        default=None, gt=0, le=1, description="What-if: share of the principal insured (sets the sum insured)."
    )
    split: LossSplit | None = Field(
        default=None, description="What-if: government / bank / insurer shares of the loss; they sum to 1."
    )


class EnforcementQuoteRequest(BaseModel):
    """Patent-enforcement insurance for a package of patents."""

    model_config = ConfigDict(extra="forbid")
    product: Literal["patent_enforcement"]
    tier: Literal["basic", "enhanced"] = "basic"
    patents: list[RequestPatent] = Field(min_length=1, max_length=MAX_PATENTS)


class QuoteRequest(BaseModel):
    """Either product, chosen by ``product``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "quote": {
                        "product": "pledge_guarantee",
                        "assessment_id": "00000000-0000-0000-0000-000000000000",
                        "insured_share": 0.3,
                        "split": {"government": 0.4, "bank": 0.2, "insurer": 0.4},
                    }
                },
                {"quote": {"product": "pledge_guarantee", "assessment_id": "00000000-0000-0000-0000-000000000000"}},
                {"quote": {"product": "patent_enforcement", "tier": "basic", "patents": [EXAMPLE_PATENT]}},
            ]
        },
    )
    quote: Annotated[GuaranteeQuoteRequest | EnforcementQuoteRequest, Field(discriminator="product")]


class QuoteResponse(BaseModel):
    """A stored quote."""

    id: str
    created_at: datetime
    product: str
    assessment_id: str | None
    model_versions: dict[str, str]
    guarantee: GuaranteeQuote | None = None
    enforcement: EnforcementQuote | None = None
