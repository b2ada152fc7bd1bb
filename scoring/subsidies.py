"""Subsidy programmes as versioned rule data: interest (贴息), premium (保费补贴) and appraisal fee (评估费补贴).

Provincial special funds pay part of what a patent-pledge loan costs the borrower.  A programme version
(:class:`SubsidyRules`) says which cost it pays, how much of it, who may apply and under which
conditions; :func:`subsidy_checks` judges an application's facts rule by rule and
:func:`compute_subsidy` works out the amount, step by step, in integer fen:

- **interest**: principal × basis × share × days / 360, where the basis is the 1-year LPR on the
  period's first day (``basis: lpr``) or the loan's own rate (``basis: rate``); never more than the
  interest the loan charged for the period (principal × rate × days / 360).  Day count actual/360, as
  Chinese banks count loan interest (日利率 = 年利率 / 360);
- **premium**, **appraisal_fee** and **guarantee_fee** (担保费补贴): share × the fee paid;

then capped per application and per enterprise and year (usage = what the enterprise's other
applications in the year were paid or hold).  Every step is returned with its numbers; the texts are
in ``config/fund_texts.yaml``.  A fact the application does not report fails its check as "not
reported", never assumed.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, get_args

from pydantic import BaseModel, Field, model_validator

from scoring.fund_facts import RuleCheck, money, percent
from scoring.fund_facts import check as _check
from scoring.funds import LprSeries, Rate, lpr_on
from scoring.types import Day
from scoring.vocab import FROZEN, Region
from scoring.vocab.money import Money, fen_times, to_fen
from scoring.vocab.shares import ExactShare

SubsidyKind = Literal["interest", "premium", "appraisal_fee", "guarantee_fee"]
SUBSIDY_KINDS: tuple[SubsidyKind, ...] = get_args(SubsidyKind)
Applicant = Literal["bank", "enterprise"]
InterestBasis = Literal["lpr", "rate"]
DAY_COUNT = 360


class SubsidyRules(BaseModel):
    """One version of a subsidy programme."""

    model_config = FROZEN
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]*$")
    kind: SubsidyKind
    share: ExactShare = Field(description="Share of the basis (interest) or of the fee paid (premium, appraisal).")
    basis: InterestBasis | None = Field(default=None, description="Interest only: the 1-year LPR or the loan's rate.")
    cap_per_application_cny: Money | None = None
    cap_per_enterprise_year_cny: Money | None = None
    applicants: tuple[Applicant, ...] = Field(default=("bank", "enterprise"), min_length=1)
    sme_only: bool = True
    regions: tuple[Region, ...] | None = Field(default=None, min_length=1)
    pledge_registration_required: bool = True
    max_rate: Rate | None = Field(default=None, description="Interest only: loans above this rate get nothing.")
    apply_within_days: int | None = Field(
        default=None, ge=1, le=3650, description="Apply within N days of the period's end or the fee's payment."
    )

    @model_validator(mode="after")
    def _fits_kind(self) -> SubsidyRules:
        if (self.kind == "interest") != (self.basis is not None):
            raise ValueError("basis (lpr or rate) is given exactly for an interest subsidy")
        if self.kind != "interest" and self.max_rate is not None:
            raise ValueError("max_rate applies to interest subsidies only")
        return self


class SubsidyFacts(BaseModel):
    """What an application reports: the enterprise, and the interest period or the fee paid."""

    model_config = FROZEN
    enterprise_id: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")
    applicant: Applicant
    is_sme: bool | None = None
    region: Region | None = None
    pledge_registered: bool | None = None
    principal_cny: Money | None = Field(default=None, gt=0, description="Interest: principal outstanding.")
    annual_rate: Rate | None = Field(default=None, description="Interest: the loan's nominal annual rate.")
    period_start: Day | None = Field(default=None, description="Interest: first day of the period.")
    period_end: Day | None = Field(default=None, description="Interest: the day the period's interest was paid.")
    fee_cny: Money | None = Field(default=None, gt=0, description="Premium, appraisal or guarantee fee paid.")
    paid_on: Day | None = Field(default=None, description="When the premium or fee was paid.")

    @model_validator(mode="after")
    def _period(self) -> SubsidyFacts:
        if self.period_start is not None and self.period_end is not None and self.period_end <= self.period_start:
            raise ValueError("period_end must be after period_start")
        return self

    def reference_day(self, kind: SubsidyKind) -> date | None:
        """The day that dates the application: the period's end (interest) or the payment (fees)."""
        return self.period_end if kind == "interest" else self.paid_on


def _flag(rule: str, value: bool | None, ok: str, bad: str) -> RuleCheck:
    if value is None:
        return _check(rule, False, f"{ok}_NOT_REPORTED", f"{ok}_NOT_REPORTED")
    return _check(rule, value, ok, bad)


def _needed(rules: SubsidyRules, facts: SubsidyFacts) -> list[RuleCheck]:
    """The facts the amount is computed from: each reported, or the check says not reported."""
    names = (
        ("principal_cny", "annual_rate", "period_start", "period_end")
        if rules.kind == "interest"
        else ("fee_cny", "paid_on")
    )
    missing = [n for n in names if getattr(facts, n) is None]
    return [_check("amount_facts", not missing, "SUB_FACTS_OK", "SUB_FACTS_NOT_REPORTED", missing=", ".join(missing))]


def subsidy_checks(rules: SubsidyRules, facts: SubsidyFacts, *, applied_on: date) -> list[RuleCheck]:
    """Every eligibility rule of the programme version, pass or fail, with the numbers behind it."""
    out = [
        _check(
            "applicant",
            facts.applicant in rules.applicants,
            "SUB_APPLICANT_OK",
            "SUB_APPLICANT_NOT",
            applicant=facts.applicant,
            allowed=", ".join(rules.applicants),
        )
    ]
    if rules.sme_only:
        out.append(_flag("sme", facts.is_sme, "SUB_SME", "SUB_SME_NOT"))
    if rules.regions is not None:
        allowed = ", ".join(rules.regions)
        if facts.region is None:
            out.append(_check("region", False, "REGION_NOT_REPORTED", "REGION_NOT_REPORTED", allowed=allowed))
        else:
            ok = facts.region in rules.regions
            out.append(_check("region", ok, "REGION_OK", "REGION_OUTSIDE", value=facts.region, allowed=allowed))
    if rules.pledge_registration_required:
        out.append(_flag("pledge_registered", facts.pledge_registered, "SUB_PLEDGE", "SUB_PLEDGE_MISSING"))
    if rules.max_rate is not None:
        if facts.annual_rate is None:
            out.append(_check("rate", False, "RATE_NOT_REPORTED", "RATE_NOT_REPORTED", ceiling=percent(rules.max_rate)))
        else:
            ok = facts.annual_rate <= rules.max_rate
            rate, ceiling = percent(facts.annual_rate), percent(rules.max_rate)
            out.append(_check("rate", ok, "RATE_OK", "RATE_HIGH", rate=rate, ceiling=ceiling))
    out += _needed(rules, facts)
    day = facts.reference_day(rules.kind)
    if rules.apply_within_days is not None and day is not None:
        days = (applied_on - day).days
        limit = rules.apply_within_days
        out.append(_check("deadline", days <= limit, "SUB_IN_TIME", "SUB_LATE", days=days, limit=limit, since=day))
    return out


CapStepName = Literal["cap_per_application", "cap_per_enterprise_year"]


class SubsidyStep(BaseModel):
    """One step from the cost to the subsidy (fen)."""

    model_config = FROZEN
    step: Literal["interest_charged", "interest_basis", "fee_paid", "share"] | CapStepName
    amount_fen: int
    params: dict[str, str] = Field(default_factory=dict)


class Subsidy(BaseModel):
    """The amount of one application with each step taken."""

    model_config = FROZEN
    steps: tuple[SubsidyStep, ...]
    amount_fen: int


def _accrual(principal_fen: int, rate: Decimal, days: int) -> int:
    """principal × rate × days / 360, half up to the fen."""
    return int((Decimal(principal_fen) * rate * days / DAY_COUNT).to_integral_value(rounding=ROUND_HALF_UP))


def _base(rules: SubsidyRules, facts: SubsidyFacts, lpr: LprSeries | None) -> list[SubsidyStep]:
    if rules.kind != "interest":
        if facts.fee_cny is None:
            raise ValueError("the fee paid is not reported")
        fee = to_fen(facts.fee_cny)
        return [SubsidyStep(step="fee_paid", amount_fen=fee), _share(rules, fee)]
    p, rate, start, end = facts.principal_cny, facts.annual_rate, facts.period_start, facts.period_end
    if p is None or rate is None or start is None or end is None:
        raise ValueError("the principal, rate and interest period are not all reported")
    principal, days = to_fen(p), (end - start).days
    charged = _accrual(principal, rate, days)
    steps = [
        SubsidyStep(
            step="interest_charged",
            amount_fen=charged,
            params={"principal": money(principal), "rate": percent(rate), "days": str(days)},
        )
    ]
    basis = rate if rules.basis == "rate" else lpr_on(start, lpr)
    if basis is None:
        raise ValueError(f"no 1-year LPR was published by {start}")
    subsidised = min(_accrual(principal, basis * rules.share, days), charged)
    params = {"basis": percent(basis), "share": str(rules.share), "days": str(days), "principal": money(principal)}
    return [*steps, SubsidyStep(step="interest_basis", amount_fen=subsidised, params=params)]


def _share(rules: SubsidyRules, fee_fen: int) -> SubsidyStep:
    return SubsidyStep(step="share", amount_fen=fen_times(fee_fen, rules.share), params={"share": str(rules.share)})


def compute_subsidy(
    rules: SubsidyRules, facts: SubsidyFacts, *, enterprise_year_used_fen: int = 0, lpr: LprSeries | None = None
) -> Subsidy:
    """The subsidy of one application, every step shown.

    Parameters
    ----------
    rules
        The programme version in force on the application's reference day.
    facts
        The application's facts; the ones the amount needs must be reported (see :func:`subsidy_checks`).
    enterprise_year_used_fen
        What the enterprise's other applications in the same year were paid or hold (fen).
    lpr
        The 1-year LPR series (default: the bundled one).

    Returns
    -------
    Subsidy
        The steps from the cost to the amount (fen), and the amount.
    """
    steps = _base(rules, facts, lpr)
    amount = steps[-1].amount_fen
    caps: tuple[tuple[CapStepName, Money | None, int], ...] = (
        ("cap_per_application", rules.cap_per_application_cny, 0),
        ("cap_per_enterprise_year", rules.cap_per_enterprise_year_cny, enterprise_year_used_fen),
    )
    for name, limit, used in caps:
        if limit is None:
            continue
        room = max(to_fen(limit) - used, 0)
        before, amount = amount, min(amount, room)
        params = {"limit": money(to_fen(limit)), "used": money(used), "room": money(room), "before": money(before)}
        steps.append(SubsidyStep(step=name, amount_fen=amount, params=params))
    return Subsidy(steps=tuple(steps), amount_fen=amount)
