"""Eligibility under a fund's rules: each rule as pass or fail, with the numbers behind it.

Checks are language-neutral (a code and the values it quotes);
:mod:`scoring.fund_reasons` turns one into English or Chinese, so a stored
claim reads back in the caller's language.

Three groups:

- :func:`entry_checks` — the borrower and the loan, at pool entry and again
  under the claim's rule version (SME, years registered, clean credit,
  purpose, IP share of collateral, pledge registered);
- :func:`bank_checks` — the bank at pool entry (cooperating, credit line at
  least the committed multiple of its pool share, line not exhausted, loss
  rate under the suspension threshold);
- :func:`claim_checks` — the claim (entered the pool before default, NPL
  class, filed within the deadline in working days, evidence).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from scoring.calendar import HolidayCalendar, working_days_between
from scoring.funds import FundRules
from scoring.types import Day
from scoring.vocab import FROZEN, NplClass, Purpose
from scoring.vocab.money import Money, fen_times, to_cny
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
        default=None, ge=0, le=100, description="Years since the last bad credit record; null: none."
    )
    pledge_registered: bool = Field(default=True, description="The pledge is registered with CNIPA.")
    appraised_value_cny: Money | None = Field(default=None, description="Appraised value of the pledged patents.")
    package_value_cny: Money | None = Field(default=None, description="Model (P50) value of the pledged patents.")


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


def money(fen: int) -> str:
    """Fen as ``¥1,234.56``."""
    return f"¥{to_cny(fen):,.2f}"


def _check(rule: str, passed: bool, ok: str, bad: str, **params: object) -> RuleCheck:
    return RuleCheck(
        rule=rule, passed=passed, code=ok if passed else bad, params={k: str(v) for k, v in params.items()}
    )


def entry_checks(rules: FundRules, facts: EntryFacts) -> list[RuleCheck]:
    """Borrower and loan rules, each as pass or fail (only the rules the version sets)."""
    e = rules.eligibility
    out = []
    if e.sme_only:
        out.append(_check("sme", facts.is_sme, "SME_OK", "SME_NOT"))
    if e.min_years_registered > 0:
        out.append(
            _check(
                "years_registered",
                facts.years_registered >= e.min_years_registered,
                "YEARS_OK",
                "YEARS_SHORT",
                years=facts.years_registered,
                min=e.min_years_registered,
            )
        )
    if e.clean_credit_years is not None:
        if facts.clean_credit_years is None:
            out.append(_check("clean_credit", True, "CREDIT_NONE", "CREDIT_BAD", years=e.clean_credit_years))
        else:
            out.append(
                _check(
                    "clean_credit",
                    facts.clean_credit_years >= e.clean_credit_years,
                    "CREDIT_OK",
                    "CREDIT_BAD",
                    years=e.clean_credit_years,
                    since=facts.clean_credit_years,
                )
            )
    if e.permitted_purposes is not None:
        out.append(
            _check(
                "purpose",
                facts.purpose in e.permitted_purposes,
                "PURPOSE_OK",
                "PURPOSE_NOT",
                purpose=facts.purpose,
                allowed=", ".join(e.permitted_purposes),
            )
        )
    if e.min_ip_share is not None:
        out.append(
            _check(
                "ip_share",
                facts.ip_share_of_collateral >= e.min_ip_share,
                "IP_SHARE_OK",
                "IP_SHARE_LOW",
                share=facts.ip_share_of_collateral,
                min=e.min_ip_share,
            )
        )
    if e.pledge_registration_required:
        out.append(_check("pledge_registered", facts.pledge_registered, "PLEDGE_OK", "PLEDGE_MISSING"))
    return out


def bank_checks(rules: FundRules, standing: BankStanding, amount_fen: int) -> list[RuleCheck]:
    """Commitment rules for the registering bank (none when the version sets no commitments)."""
    c = rules.commitments
    if c is None:
        return []
    if not standing.cooperating:
        return [_check("bank_cooperating", False, "BANK_COOPERATING", "BANK_NOT_COOPERATING")]
    multiple = c.first_year_multiple if standing.years_in_pool < 1 else c.line_multiple
    required = fen_times(standing.pool_share_fen, multiple)
    used = standing.outstanding_fen + amount_fen
    out = [
        _check("bank_cooperating", True, "BANK_COOPERATING", "BANK_NOT_COOPERATING"),
        _check(
            "commitment",
            standing.committed_line_fen >= required,
            "COMMITMENT_OK",
            "COMMITMENT_SHORT",
            line=money(standing.committed_line_fen),
            required=money(required),
            multiple=multiple,
            share=money(standing.pool_share_fen),
        ),
        _check(
            "credit_line",
            used <= standing.committed_line_fen,
            "LINE_OK",
            "LINE_EXCEEDED",
            used=money(used),
            line=money(standing.committed_line_fen),
        ),
    ]
    if c.suspension_loss_rate is not None:
        out.append(
            _check(
                "loss_rate",
                standing.loss_rate <= c.suspension_loss_rate,
                "LOSS_RATE_OK",
                "BANK_SUSPENDED",
                rate=f"{standing.loss_rate:.4f}",
                limit=c.suspension_loss_rate,
            )
        )
    return out


def claim_checks(rules: FundRules, claim: ClaimFacts, *, calendar: HolidayCalendar) -> list[RuleCheck]:
    """Claim rules: pool entry before default, NPL class, filing deadline (working days), evidence."""
    e = rules.eligibility
    out = []
    if e.pool_entry_before_default:
        out.append(
            _check(
                "entered_before_default",
                claim.entered_on < claim.default_date,
                "ENTRY_BEFORE_DEFAULT",
                "ENTRY_AFTER_DEFAULT",
                entered=claim.entered_on,
                default=claim.default_date,
            )
        )
    out.append(
        _check(
            "npl_class",
            claim.npl_class in e.npl_classes,
            "NPL_OK",
            "NPL_NOT",
            npl_class=claim.npl_class,
            allowed=", ".join(e.npl_classes),
        )
    )
    if e.filing_deadline_working_days is not None:
        days = working_days_between(claim.default_date, claim.filed_on, calendar)
        out.append(
            _check(
                "filing_deadline",
                days <= e.filing_deadline_working_days,
                "FILED_IN_TIME",
                "FILED_LATE",
                days=days,
                limit=e.filing_deadline_working_days,
                default=claim.default_date,
                filed=claim.filed_on,
            )
        )
    if e.evidence_required:
        out.append(
            _check("evidence", claim.evidence_count > 0, "EVIDENCE_OK", "EVIDENCE_MISSING", count=claim.evidence_count)
        )
    return out
