"""Rules on the loan's terms and the borrower's record: credit, registered place, rate ceiling, size, tenor, entry lag.

Each returns pass or fail with the numbers its text quotes; a fact not reported fails as "not reported"
(未报告), never assumed.  :func:`scoring.fund_checks.entry_checks` runs them with the older rules.
"""

from __future__ import annotations

from datetime import date

from scoring.fund_facts import EntryFacts, RuleCheck, money, percent
from scoring.fund_facts import check as _check
from scoring.funds import FundRules, LprSeries, lpr_on
from scoring.vocab.money import to_fen


def credit_check(required: float, facts: EntryFacts) -> RuleCheck:
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


def place_checks(rules: FundRules, facts: EntryFacts) -> list[RuleCheck]:
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


def rate_check(rules: FundRules, facts: EntryFacts, lpr: LprSeries | None) -> list[RuleCheck]:
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


def size_checks(rules: FundRules, facts: EntryFacts) -> list[RuleCheck]:
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


def lag_check(rules: FundRules, facts: EntryFacts, entered_on: date | None, migrated: bool) -> list[RuleCheck]:
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
