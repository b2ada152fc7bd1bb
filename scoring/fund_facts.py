"""The facts fund rules are judged on, and the language-neutral outcome of one rule.

:class:`EntryFacts` (borrower and loan, at pool entry), :class:`BankStanding` (the registering bank),
:class:`ClaimFacts` (a claim's dates and documents) and :class:`RuleCheck` (a rule's code and the
values its text quotes), shared by :mod:`scoring.fund_checks` and :mod:`scoring.fund_terms`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from scoring.funds import County, Rate
from scoring.types import Day
from scoring.vocab import FROZEN, NplClass, Purpose, Region
from scoring.vocab.money import Money, to_cny
from scoring.vocab.shares import ExactShare


class RuleCheck(BaseModel):
    """One rule's outcome: its code and the values its text quotes."""

    model_config = FROZEN
    rule: str
    passed: bool
    code: str
    params: dict[str, str] = Field(default_factory=dict)


class EntryFacts(BaseModel):
    """Borrower and loan facts a bank gives when it registers a loan into a pool."""

    model_config = FROZEN
    borrower_id: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")
    amount_cny: Money = Field(gt=0)
    origination_date: Day = Field(description="On or after 1985-04-01 (the Patent Law).")
    tenor_months: int = Field(ge=1, le=120)
    purpose: Purpose
    ip_share_of_collateral: ExactShare = Decimal(1)
    is_sme: bool = True
    years_registered: float = Field(ge=0, le=100)
    clean_credit_years: float | None = Field(
        default=None, ge=0, le=100, description="Years since the last bad credit record (when there is one)."
    )
    credit_checked_years: float | None = Field(
        default=None, ge=0, le=100, description="The credit report shows no bad record in this many years."
    )
    bad_credit_within_years: float | None = Field(
        default=None, ge=0, le=100, description="A bad credit record within this many years, date not reported."
    )
    pledge_registered: bool = Field(default=True, description="The pledge is registered with CNIPA.")
    appraised_value_cny: Money | None = Field(default=None, description="Appraised value of the pledged patents.")
    package_value_cny: Money | None = Field(default=None, description="Model (P50) value of the pledged patents.")
    region: Region | None = Field(default=None, description="Where the borrower is registered (市州).")
    county: County | None = Field(default=None, description="The borrower's registered county-level division.")
    annual_rate: Rate | None = Field(default=None, description="The loan's nominal annual rate.")


class BankStanding(BaseModel):
    """A bank's place in a pool when it registers a loan (fen)."""

    model_config = FROZEN
    cooperating: bool
    pool_share_fen: int = 0
    committed_line_fen: int = 0
    years_in_pool: float = 0.0
    outstanding_fen: int = Field(default=0, description="Active pooled principal before this loan.")
    loss_rate: Decimal = Field(default=Decimal(0), description="Claimed principal loss / pooled principal.")


class ClaimFacts(BaseModel):
    """When and how a claim was filed."""

    model_config = FROZEN
    entered_on: date
    default_date: date
    filed_on: date
    npl_class: NplClass
    evidence_count: int = Field(ge=0)
    npl_classified_on: date | None = None
    overdue_since: date | None = Field(default=None, description="First day past due.")
    court_accepted_on: date | None = None
    recognised_on: date | None = None
    disposal_proceeds_fen: int | None = Field(default=None, ge=0, description="Reported with a net-loss claim.")


def money(fen: int) -> str:
    """Fen as ``¥1,234.56``."""
    return f"¥{to_cny(fen):,.2f}"


def percent(rate: Decimal) -> str:
    """A rate as ``4.35%`` (up to four places, trailing zeros dropped to two)."""
    text = f"{rate * 100:.4f}".rstrip("0")
    return text + "0" * max(0, 2 - len(text.split(".")[1])) + "%"


def check(rule: str, passed: bool, ok: str, bad: str, **params: object) -> RuleCheck:
    """A rule's outcome: code ``ok`` if it passed, else ``bad``, quoting ``params`` as strings."""
    return RuleCheck(
        rule=rule, passed=passed, code=ok if passed else bad, params={k: str(v) for k, v in params.items()}
    )
