"""Eligibility under a fund's rules: each rule as pass or fail, with the numbers behind it.

Checks are language-neutral (a code and the values it quotes);
:mod:`scoring.fund_reasons` turns one into English or Chinese, so a stored
claim reads back in the caller's language.

Three groups:

- :func:`entry_checks` — the borrower and the loan, at pool entry and again
  under the claim's rule version (SME, years registered, clean credit,
  purpose, IP share of collateral, pledge registered, registered region and
  county, interest-rate ceiling, loan size and tenor, filing 备案 within the
  entry lag);
- :func:`bank_checks` — the bank at pool entry (cooperating, credit line at
  least the committed multiple of its pool share, line not exhausted, loss
  rate under the suspension threshold);
- :func:`claim_checks` — the claim (entered the pool before default, NPL
  class, filed within the deadline in working days from the rule's trigger,
  evidence, the disposal's proceeds when the fund settles on the net loss).

A fact the bank did not report is never assumed: the check fails and its
reason says "not reported" (未报告).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel, Field

from scoring.calendar import HolidayCalendar, working_days_between
from scoring.funds import County, FundRules, LprSeries, Rate, lpr_on
from scoring.types import Day
from scoring.vocab import FROZEN, NplClass, Purpose, Region
from scoring.vocab.money import Money, fen_times, to_cny, to_fen
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


def _check(rule: str, passed: bool, ok: str, bad: str, **params: object) -> RuleCheck:
    return RuleCheck(
        rule=rule, passed=passed, code=ok if passed else bad, params={k: str(v) for k, v in params.items()}
    )


def _credit_check(required: float, facts: EntryFacts) -> RuleCheck:
    """No bad credit in ``required`` years, from what was reported and nothing else."""
    years = f"{required:g}"
    if facts.clean_credit_years is not None:
        since = facts.clean_credit_years
        return _check("clean_credit", since >= required, "CREDIT_OK", "CREDIT_BAD", years=years, since=f"{since:g}")
    if facts.bad_credit_within_years is not None:
        within = facts.bad_credit_within_years
        code = "CREDIT_BAD_WITHIN" if within <= required else "CREDIT_BAD_UNDATED"
        return _check("clean_credit", False, code, code, years=years, within=f"{within:g}")
    if facts.credit_checked_years is not None:
        checked = facts.credit_checked_years
        ok, bad = "CREDIT_CLEAN", "CREDIT_WINDOW_SHORT"
        return _check("clean_credit", checked >= required, ok, bad, years=years, checked=f"{checked:g}")
    return _check("clean_credit", False, "CREDIT_NOT_REPORTED", "CREDIT_NOT_REPORTED", years=years)


def _place_checks(rules: FundRules, facts: EntryFacts) -> list[RuleCheck]:
    """The borrower's registered region (市州) and county, where the version limits them."""
    e, out = rules.eligibility, []
    for rule, allowed, value in (("region", e.regions, facts.region), ("county", e.counties, facts.county)):
        if allowed is None:
            continue
        code = rule.upper()
        if value is None:
            out.append(_check(rule, False, f"{code}_NOT_REPORTED", f"{code}_NOT_REPORTED", allowed=", ".join(allowed)))
        else:
            out.append(
                _check(rule, value in allowed, f"{code}_OK", f"{code}_OUTSIDE", value=value, allowed=", ".join(allowed))
            )
    return out


def _rate_check(rules: FundRules, facts: EntryFacts, lpr: LprSeries | None) -> list[RuleCheck]:
    """The loan's annual rate under the ceiling: LPR (1-year, on the origination date) + spread, or absolute."""
    ceiling = rules.eligibility.rate_ceiling
    if ceiling is None:
        return []
    params: dict[str, object] = {}
    if ceiling.absolute is not None:
        limit, ok, bad = ceiling.absolute, "RATE_OK", "RATE_HIGH"
    else:
        base = lpr_on(facts.origination_date, lpr)
        if base is None:
            return [_check("rate_ceiling", False, "RATE_NO_LPR", "RATE_NO_LPR", day=facts.origination_date)]
        assert ceiling.lpr_plus is not None
        limit, ok, bad = base + ceiling.lpr_plus, "RATE_OK_LPR", "RATE_HIGH_LPR"
        params = {"lpr": percent(base), "spread": percent(ceiling.lpr_plus), "day": facts.origination_date}
    if facts.annual_rate is None:
        return [_check("rate_ceiling", False, "RATE_NOT_REPORTED", "RATE_NOT_REPORTED", ceiling=percent(limit))]
    rate = facts.annual_rate
    return [_check("rate_ceiling", rate <= limit, ok, bad, rate=percent(rate), ceiling=percent(limit), **params)]


def _size_checks(rules: FundRules, facts: EntryFacts) -> list[RuleCheck]:
    """Loan amount and tenor within the version's range."""
    e, out = rules.eligibility, []
    amount = to_fen(facts.amount_cny)
    if e.min_loan_cny is not None:
        low = to_fen(e.min_loan_cny)
        out.append(
            _check("loan_min", amount >= low, "LOAN_MIN_OK", "LOAN_BELOW_MIN", amount=money(amount), min=money(low))
        )
    if e.max_loan_cny is not None:
        high = to_fen(e.max_loan_cny)
        out.append(
            _check("loan_max", amount <= high, "LOAN_MAX_OK", "LOAN_ABOVE_MAX", amount=money(amount), max=money(high))
        )
    months = facts.tenor_months
    if e.min_tenor_months is not None:
        out.append(
            _check(
                "tenor_min",
                months >= e.min_tenor_months,
                "TENOR_MIN_OK",
                "TENOR_SHORT",
                months=months,
                min=e.min_tenor_months,
            )
        )
    if e.max_tenor_months is not None:
        out.append(
            _check(
                "tenor_max",
                months <= e.max_tenor_months,
                "TENOR_MAX_OK",
                "TENOR_LONG",
                months=months,
                max=e.max_tenor_months,
            )
        )
    return out


def _lag_check(rules: FundRules, facts: EntryFacts, entered_on: date | None, migrated: bool) -> list[RuleCheck]:
    """Filed (备案) into the pool within the lag after disbursement; a migrated pool's documented entry is waived."""
    lag = rules.eligibility.entry_lag_days
    if lag is None or entered_on is None:
        return []
    days = (entered_on - facts.origination_date).days
    if days > lag and migrated:
        return [_check("entry_lag", True, "ENTRY_LAG_WAIVED", "ENTRY_LAG_WAIVED", days=days, limit=lag)]
    origination = facts.origination_date
    return [
        _check(
            "entry_lag",
            days <= lag,
            "ENTRY_LAG_OK",
            "ENTRY_LAG_LATE",
            days=days,
            limit=lag,
            entered=entered_on,
            origination=origination,
        )
    ]


def entry_checks(
    rules: FundRules,
    facts: EntryFacts,
    *,
    entered_on: date | None = None,
    migrated: bool = False,
    lpr: LprSeries | None = None,
) -> list[RuleCheck]:
    """Borrower and loan rules, each as pass or fail (only the rules the version sets).

    Parameters
    ----------
    rules
        The rule version in force on the entry date (or the claim's default date).
    facts
        What the bank reported about the borrower and the loan.
    entered_on
        The pool entry (备案) date; the entry lag is checked only when it is given.
    migrated
        The entry is an existing pool's, documented: a lag beyond the rule is waived and says so.
    lpr
        The 1-year LPR series for an LPR-based rate ceiling (default: the bundled series).
    """
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
        out.append(_credit_check(e.clean_credit_years, facts))
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
    out += _place_checks(rules, facts) + _rate_check(rules, facts, lpr) + _size_checks(rules, facts)
    return out + _lag_check(rules, facts, entered_on, migrated)


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


def trigger_date(rules: FundRules, claim: ClaimFacts) -> date | None:
    """The day the filing deadline runs from under the version's trigger; None when its date was not reported."""
    e = rules.eligibility
    match e.filing_trigger:
        case "default_date":
            return claim.default_date
        case "npl_classified":
            return claim.npl_classified_on
        case "days_overdue":
            assert e.trigger_days_overdue is not None
            return None if claim.overdue_since is None else claim.overdue_since + timedelta(days=e.trigger_days_overdue)
        case "court_accepted":
            return claim.court_accepted_on
        case "recognised":
            return claim.recognised_on


def _deadline_check(rules: FundRules, claim: ClaimFacts, calendar: HolidayCalendar) -> RuleCheck:
    e = rules.eligibility
    limit, event = e.filing_deadline_working_days, e.filing_trigger
    start = trigger_date(rules, claim)
    if start is None:
        return _check("filing_deadline", False, "TRIGGER_NOT_REPORTED", "TRIGGER_NOT_REPORTED", event=event)
    if start > claim.filed_on:
        return _check(
            "filing_deadline",
            False,
            "TRIGGER_NOT_REACHED",
            "TRIGGER_NOT_REACHED",
            event=event,
            start=start,
            filed=claim.filed_on,
        )
    days = working_days_between(start, claim.filed_on, calendar)
    if event == "default_date":  # the original texts, so stored checks read back unchanged
        ok, bad = "FILED_IN_TIME", "FILED_LATE"
    else:
        ok, bad = "FILED_IN_TIME_AFTER", "FILED_LATE_AFTER"
    return _check(
        "filing_deadline",
        days <= (limit or 0),
        ok,
        bad,
        days=days,
        limit=limit,
        default=start,
        filed=claim.filed_on,
        event=event,
    )


def claim_checks(rules: FundRules, claim: ClaimFacts, *, calendar: HolidayCalendar) -> list[RuleCheck]:
    """Claim rules: pool entry before default, NPL class, filing deadline (working days from the trigger), evidence,
    and the disposal's proceeds when the fund settles on the net loss."""
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
        out.append(_deadline_check(rules, claim, calendar))
    if e.evidence_required:
        out.append(
            _check("evidence", claim.evidence_count > 0, "EVIDENCE_OK", "EVIDENCE_MISSING", count=claim.evidence_count)
        )
    if rules.settlement == "net_loss":
        proceeds = claim.disposal_proceeds_fen
        if proceeds is None:
            out.append(_check("disposal", False, "DISPOSAL_NOT_REPORTED", "DISPOSAL_NOT_REPORTED"))
        else:
            out.append(_check("disposal", True, "DISPOSAL_OK", "DISPOSAL_OK", proceeds=money(proceeds)))
    return out
