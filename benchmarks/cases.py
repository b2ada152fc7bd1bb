"""Assessment cases for the benchmarks: the API examples with ids and a few numbers varied.

Every case is a JSON-ready ``POST /v1/assessments`` body with 1–3 patents,
fresh, valid patent ids (random serials) and a fixed ``as_of``, so the in-process runs, the naive
app and iprisk see exactly the same inputs and results do not drift with the
calendar.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from scoring.patent_ids import application_number
from scoring.types import Borrower, LoanTerms, Patent
from service.schemas.scoring import EXAMPLE_BORROWER, EXAMPLE_LOAN, EXAMPLE_PATENT

AS_OF = date(2025, 6, 30)
TECH_FIELDS = ("electronics", "software", "semiconductors", "medical_devices")


@dataclass(frozen=True)
class Case:
    """One assessment: the request body, its JSON bytes and the validated domain facts."""

    body: dict[str, Any]
    payload: bytes
    borrower: Borrower
    loan: LoanTerms
    patents: tuple[Patent, ...]

    @property
    def n_patents(self) -> int:
        """Pledged patents in the case."""
        return len(self.patents)


def _patent(rng: random.Random, owner: str) -> dict[str, Any]:
    p = copy.deepcopy(EXAMPLE_PATENT)
    filing = date(2014, 1, 1) + timedelta(days=rng.randrange(0, 8 * 365))
    claims = rng.randint(4, 30)
    family = rng.randint(1, 8)
    p.update(
        patent_id=application_number(filing, "invention", rng.randrange(1, 10_000_000)),
        tech_field=rng.choice(TECH_FIELDS),
        filing_date=filing.isoformat(),
        grant_date=(filing + timedelta(days=rng.randint(400, 1200))).isoformat(),
        annual_fees_paid_years=rng.randint(1, 9),
        claims_count=claims,
        independent_claims=rng.randint(1, min(4, claims)),
        family_size=family,
        foreign_family_members=rng.randint(0, family - 1),
        forward_citations=rng.randint(0, 40),
        licences_count=rng.randint(0, 3),
        owner_id=owner,
    )
    return p


def make_case(rng: random.Random) -> Case:
    """One case drawn from ``rng`` (1–3 invention patents, varied borrower and loan)."""
    borrower = copy.deepcopy(EXAMPLE_BORROWER)
    borrower.update(
        enterprise_id=f"E-BENCH-{rng.randrange(10**6):06d}",
        revenue_cny=float(rng.randrange(5, 300)) * 1e6,
        employees=rng.randint(10, 800),
        years_registered=round(rng.uniform(1.0, 20.0), 1),
        leverage=round(rng.uniform(0.1, 0.85), 2),
        prior_overdue_count=rng.choice((0, 0, 0, 1, 2)),
    )
    loan = copy.deepcopy(EXAMPLE_LOAN)
    loan.update(amount_cny=float(rng.randrange(5, 80)) * 1e5, tenor_months=rng.choice((12, 24, 36)))
    patents = [_patent(rng, borrower["enterprise_id"]) for _ in range(rng.randint(1, 3))]
    body = {"borrower": borrower, "loan": loan, "patents": patents, "as_of": AS_OF.isoformat()}
    return Case(
        body=body,
        payload=json.dumps(body).encode(),
        borrower=Borrower.model_validate(borrower),
        loan=LoanTerms.model_validate(loan),
        patents=tuple(Patent.model_validate(p) for p in patents),
    )


def make_cases(n: int, *, seed: int = 20240601) -> list[Case]:
    """``n`` reproducible cases."""
    rng = random.Random(seed)
    return [make_case(rng) for _ in range(n)]
