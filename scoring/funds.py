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
from functools import cache
from pathlib import Path
from typing import Annotated, Literal, get_args

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

from scoring.vocab import FROZEN, NplClass, Purpose, Region
from scoring.vocab.money import Money
from scoring.vocab.shares import ExactShare, Multiple

PartyName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", description="e.g. fund, bank, insurer.")]
PartyRole = Literal["pool", "bank", "co_payer"]
CapName = Literal[
    "party_per_loan",
    "per_loan",
    "bank_tier",
    "claimed",
    "per_borrower_year",
    "per_bank_year",
    "per_fund_year",
    "balance",
]
Rate = Annotated[
    Decimal, Field(ge=0, le=Decimal("0.36"), max_digits=7, decimal_places=6, description="Annual rate, 0.0435 = 4.35%.")
]
County = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9_]{0,47}$", description="A county-level division, e.g. huaxi (花溪区).")
]
# What starts the filing deadline: the default itself, the NPL classification, N days overdue, the
# court's acceptance of the bank's suit, or the fund's or regulator's recognition of the loss.
FilingTrigger = Literal["default_date", "npl_classified", "days_overdue", "court_accepted", "recognised"]
FILING_TRIGGERS: tuple[FilingTrigger, ...] = get_args(FilingTrigger)
# gross: share the loss at default, recoveries later go back pro rata; net_loss: share only the loss left
# after the pledged IP was disposed of (Jieyang); advance_then_settle: pay on the gross loss first
# (先行代偿), then settle (清算) each party's part on the loss net of the disposal's proceeds.
Settlement = Literal["gross", "net_loss", "advance_then_settle"]
FirstMode = Literal["first_loss", "pro_rata"]


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
    first_cny_of_loan: Money | None = Field(default=None, description="Only the first X CNY of a loan counts.")
    first_cny_mode: FirstMode = Field(
        default="first_loss",
        description="first_loss: the loss up to X counts; pro_rata: the loss × X / the loan's amount counts.",
    )


class BankTier(BaseModel):
    """A per-loan cap for banks in a tier: by years of cooperation and/or by loss rate (performance)."""

    model_config = FROZEN
    min_years_in_pool: float = Field(default=0, ge=0, le=100, description="The bank cooperated this long at entry.")
    max_loss_rate: ExactShare | None = Field(default=None, description="The bank's loss rate is at most this.")
    per_loan_cny: Money = Field(description="The fund pays at most this per loan of a bank in the tier.")


class Caps(BaseModel):
    """Caps on the pool's payout (CNY); None means no cap."""

    model_config = FROZEN
    per_loan_cny: Money | None = None
    bank_tiers: tuple[BankTier, ...] | None = Field(
        default=None,
        min_length=1,
        max_length=10,
        description="The first tier the bank meets sets its per-loan cap; a bank in none gets nothing.",
    )
    per_borrower_year_cny: Money | None = None
    per_bank_year_cny: Money | None = None
    per_fund_year_cny: Money | None = None


class RateCeiling(BaseModel):
    """The highest annual rate a pooled loan may carry: the 1-year LPR plus a spread, or an absolute rate."""

    model_config = FROZEN
    lpr_plus: Rate | None = Field(default=None, description="Spread over the 1-year LPR on the origination date.")
    absolute: Rate | None = None

    @model_validator(mode="after")
    def _one(self) -> RateCeiling:
        if (self.lpr_plus is None) == (self.absolute is None):
            raise ValueError("give exactly one of lpr_plus or absolute")
        return self


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
    regions: tuple[Region, ...] | None = Field(default=None, min_length=1, description="Borrower registered here.")
    counties: tuple[County, ...] | None = Field(default=None, min_length=1, description="Borrower's county.")
    rate_ceiling: RateCeiling | None = None
    min_loan_cny: Money | None = None
    max_loan_cny: Money | None = None
    min_tenor_months: int | None = Field(default=None, ge=1, le=360)
    max_tenor_months: int | None = Field(default=None, ge=1, le=360)
    filing_trigger: FilingTrigger = "default_date"
    trigger_days_overdue: int | None = Field(default=None, ge=1, le=3650, description="For days_overdue.")
    entry_lag_days: int | None = Field(
        default=None, ge=0, le=3650, description="Filing (备案) into the pool within this many days of disbursement."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Eligibility:
        if (self.filing_trigger == "days_overdue") != (self.trigger_days_overdue is not None):
            raise ValueError("trigger_days_overdue is given exactly when filing_trigger is days_overdue")
        for low, high in (("min_loan_cny", "max_loan_cny"), ("min_tenor_months", "max_tenor_months")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"{low} is above {high}")
        return self


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
    settlement: Settlement = "gross"

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


LPR_FILE = Path(__file__).parent / "config" / "lpr.yaml"
LprSeries = tuple[tuple[date, Decimal], ...]


@cache
def load_lpr(path: Path = LPR_FILE) -> LprSeries:
    """The 1-year Loan Prime Rate series (date published, rate), oldest first (default: the bundled file)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(sorted((date.fromisoformat(str(d)), Decimal(str(r))) for d, r in raw["one_year"].items()))


def lpr_on(day: date, series: LprSeries | None = None) -> Decimal | None:
    """The 1-year LPR in force on ``day`` (the latest published on or before it); None before the series."""
    rate = None
    for published, r in series if series is not None else load_lpr():
        if published > day:
            break
        rate = r
    return rate


def load_rule_version(path: Path) -> tuple[date, FundRules]:
    """Read a rule version from YAML: ``effective_from`` and ``rules``."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return date.fromisoformat(str(raw["effective_from"])), FundRules.model_validate(raw["rules"])
