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

from scoring.calendar import HolidayCalendar, working_days_between
from scoring.fund_facts import BankStanding, ClaimFacts, EntryFacts, RuleCheck, money, percent
from scoring.fund_facts import check as _check
from scoring.fund_terms import credit_check, lag_check, place_checks, rate_check, size_checks
from scoring.funds import FundRules, LprSeries
from scoring.vocab.money import fen_times

__all__ = [
    "BankStanding",
    "ClaimFacts",
    "EntryFacts",
    "RuleCheck",
    "bank_checks",
    "claim_checks",
    "entry_checks",
    "money",
    "percent",
    "trigger_date",
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
        out.append(credit_check(e.clean_credit_years, facts))
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
    out += place_checks(rules, facts) + rate_check(rules, facts, lpr) + size_checks(rules, facts)
    return out + lag_check(rules, facts, entered_on, migrated)


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
