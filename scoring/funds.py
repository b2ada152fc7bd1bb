"""Risk-compensation fund rules as data: parties and shares, covered base, caps, eligibility, commitments.

Every city's fund shares a defaulted loan's loss differently, so a rule set is
data (:class:`FundRules`, loaded from YAML or an API request, versioned by
the service) and :mod:`scoring.payout` and :mod:`scoring.fund_checks` only
apply it.  Money is exact: integer **fen** (1 CNY = 100 fen) inside,
``Decimal`` CNY with at most two decimal places at the edges; shares are
``Decimal`` and must sum to exactly 1.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, Field, field_validator

from scoring.vocab import FROZEN, NplClass, Purpose
from scoring.vocab.money import Money
from scoring.vocab.shares import ExactShare, Multiple

PartyName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", description="e.g. fund, bank, insurer.")]
PartyRole = Literal["pool", "bank", "co_payer"]
CapName = Literal[
    "party_per_loan", "per_loan", "claimed", "per_borrower_year", "per_bank_year", "per_fund_year", "balance"
]


class Party(BaseModel):
    """One party sharing the loss: ``pool`` is this fund, ``bank`` the lender, ``co_payer`` anyone else."""

    model_config = FROZEN
    name: PartyName
    role: PartyRole
    share: ExactShare
    cap_per_loan_cny: Money | None = Field(default=None, description="This party pays at most this per loan.")


class CoveredBase(BaseModel):
    """Which part of the loss is shared."""

    model_config = FROZEN
    principal_only: bool = Field(default=True, description="Interest outstanding is not covered.")
    ip_share_only: bool = Field(default=False, description="Only the IP share of mixed collateral is covered.")
    first_cny_of_loan: Money | None = Field(default=None, description="Only the first X CNY of a loan's loss.")


class Caps(BaseModel):
    """Caps on the pool's payout (CNY); None means no cap."""

    model_config = FROZEN
    per_loan_cny: Money | None = None
    per_borrower_year_cny: Money | None = None
    per_bank_year_cny: Money | None = None
    per_fund_year_cny: Money | None = None


class Eligibility(BaseModel):
    """Who and what may enter the pool, and which claims qualify."""

    model_config = FROZEN
    sme_only: bool = True
    min_years_registered: float = Field(default=0, ge=0, le=100)
    clean_credit_years: float | None = Field(
        default=None, ge=0, le=100, description="No bad credit record in this many years."
    )
    permitted_purposes: tuple[Purpose, ...] | None = Field(default=None, description="None: any purpose.")
    min_ip_share: ExactShare | None = Field(default=None, description="Minimum IP share of all collateral.")
    npl_classes: tuple[NplClass, ...] = Field(default=("substandard", "doubtful", "loss"), min_length=1)
    filing_deadline_working_days: int | None = Field(default=None, ge=1, le=3650)
    evidence_required: bool = True
    pledge_registration_required: bool = True
    pool_entry_before_default: bool = True


class Commitments(BaseModel):
    """What a cooperating bank commits, and when it is suspended."""

    model_config = FROZEN
    line_multiple: Multiple = Field(default=Decimal(10), description="Credit line ≥ this × the bank's pool share.")
    first_year_multiple: Multiple = Field(default=Decimal(6), description="The multiple in the bank's first year.")
    suspension_loss_rate: ExactShare | None = Field(
        default=None, description="Suspend new entries above this loss rate."
    )


class FundRules(BaseModel):
    """One version of a fund's rules."""

    model_config = FROZEN
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]*$")
    parties: tuple[Party, ...] = Field(min_length=2, max_length=10)
    covered: CoveredBase = CoveredBase()
    caps: Caps = Caps()
    eligibility: Eligibility = Eligibility()
    commitments: Commitments | None = None

    @field_validator("parties")
    @classmethod
    def _split(cls, parties: tuple[Party, ...]) -> tuple[Party, ...]:
        total = sum((p.share for p in parties), Decimal(0))
        if total != 1:
            raise ValueError(f"party shares must sum to exactly 1 (they sum to {total})")
        roles = [p.role for p in parties]
        if roles.count("pool") != 1 or roles.count("bank") != 1:
            raise ValueError("exactly one party must have role 'pool' (this fund) and one role 'bank'")
        if len({p.name for p in parties}) != len(parties):
            raise ValueError("party names must be unique")
        if any(p.role == "bank" and p.cap_per_loan_cny is not None for p in parties):
            raise ValueError("the bank bears the rest of the loss: it has no cap")
        return parties

    @property
    def pool(self) -> Party:
        """The party paid out of this fund."""
        return next(p for p in self.parties if p.role == "pool")


def load_rule_version(path: Path) -> tuple[date, FundRules]:
    """Read a rule version from YAML: ``effective_from`` and ``rules``."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return date.fromisoformat(str(raw["effective_from"])), FundRules.model_validate(raw["rules"])
