"""Claims on defaulted pooled loans, their true irregularity and the fund's review."""

from __future__ import annotations

import datetime as dt
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scoring.vocab import CLAIM_SOURCES
from scoring.vocab.arrays import AnyArray, BoolArray, DateArray, FloatArray, IndexArray
from training.synth.params import ClaimParams
from training.synth.sampling import sigmoid


def working_days(start: np.datetime64, end: np.datetime64) -> DateArray:
    """Chinese working days in ``[start, end]`` (datetime64[D], sorted).

    Public holidays and make-up working days come from ``chinese_calendar``
    for the years it covers; other years fall back to Monday-Friday.
    """
    import chinese_calendar

    days = np.arange(start, end + np.timedelta64(1, "D"), dtype="datetime64[D]")
    work = (days.view("int64") + 3) % 7 < 5  # 1970-01-01 was a Thursday; Monday → 0
    covered: dict[int, bool] = {}
    for i, d in enumerate(days.astype(object)):
        if d.year not in covered:
            covered[d.year] = _covered(chinese_calendar, d.year)
        if covered[d.year]:
            work[i] = chinese_calendar.is_workday(d)
    return days[work]


def _covered(module: ModuleType, year: int) -> bool:
    try:
        module.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def add_working_days(dates: DateArray, n_days: NDArray[np.integer[Any]], calendar: DateArray) -> DateArray:
    """The date ``n_days`` working days after each date (a date itself never counts)."""
    idx: IndexArray = np.searchsorted(calendar, dates, side="right") + n_days - 1
    return np.take(calendar, np.clip(idx, 0, len(calendar) - 1))


def draw_claims(
    rng: np.random.Generator,
    p: ClaimParams,
    *,
    loans: dict[str, AnyArray],
    origination: DateArray,
    default_date: DateArray,
    package_true: FloatArray,
    any_pledged: BoolArray,
) -> dict[str, AnyArray]:
    """Claims for the given defaulted pooled loans (arrays aligned with them).

    Irregularity is a logistic of facts a fund can see in the claim and loan
    records (default timing, appraisal vs value, double pledge, late filing,
    missing evidence, over-claiming) plus a small latent part.  The review
    catches most irregular claims (field reviews more) and flags a few
    regular ones.  Rows come back sorted by filing date with
    ``bank_prior_claims`` counted in that order.
    """
    n = len(origination)
    bank = loans["bank"]
    late = rng.random(n) < np.asarray(p.bank_late_share)[bank]
    timely = np.minimum(1 + rng.poisson(p.working_days_mean - 1, n), p.late_filing_days)
    wd = np.where(late, rng.integers(p.late_days_range[0], p.late_days_range[1] + 1, n), timely)
    start = default_date.min() if n else np.datetime64("2000-01-01")
    calendar = working_days(start, (default_date.max() if n else start) + np.timedelta64(120, "D"))
    filing = add_working_days(default_date, wd, calendar)
    evidence = rng.random(n) >= p.evidence_missing_share
    elsewhere = rng.random(n) < np.where(any_pledged, p.pledged_elsewhere_if_flag, p.pledged_elsewhere_base)
    amount = loans["amount_cny"]
    lo, hi = p.principal_outstanding_range
    principal = np.round(amount * (lo + (hi - lo) * rng.random(n)), 0)
    over = rng.random(n) < p.over_claim_share
    claimed = np.where(over, np.minimum(amount, np.round(principal * rng.uniform(*p.over_claim_range, n))), principal)
    early = (default_date - origination).astype("timedelta64[D]").astype(int) < p.early_default_days
    inflated = loans["appraised_value_cny"] > p.inflated_ratio * package_true
    logit = (
        p.irregular_intercept
        + p.early_default * early
        + p.inflated_appraisal * inflated
        + p.pledged_elsewhere * elsewhere
        + p.late_filing * (wd > p.late_filing_days)
        + p.missing_evidence * ~evidence
        + p.over_claim * (claimed > principal)
        + p.latent_sd * rng.standard_normal(n)
    )
    prob = sigmoid(logit)
    irregular = rng.random(n) < prob
    field = rng.random(n) < p.field_review_share
    detect = np.where(field, p.detect_field, p.detect_desk)
    review = np.where(irregular, rng.random(n) < detect, rng.random(n) < p.false_positive)
    order = np.lexsort((np.arange(n), filing))
    out = {
        "filing_date": filing,
        "principal_outstanding_cny": principal,
        "claimed_amount_cny": claimed,
        "working_days_to_file": wd.astype(np.int64),
        "evidence_provided": evidence,
        "patent_pledged_elsewhere": elsewhere,
        "review_source": np.where(field, CLAIM_SOURCES.index("field_review"), CLAIM_SOURCES.index("desk_review")),
        "review_irregular": review,
        "true_irregular": irregular,
        "true_irregular_prob": prob,
        "bank": bank,
        "loan_pos": np.arange(n),
    }
    out = {k: v[order] for k, v in out.items()}
    out["bank_prior_claims"] = _prior_counts(out["bank"])
    return out


def _prior_counts(group: IndexArray) -> NDArray[np.int64]:
    """For rows in time order: how many earlier rows share the group."""
    order = np.argsort(group, kind="stable")
    g = group[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1] if len(g) else np.array([], dtype=int)
    run_start = np.zeros(len(g), dtype=np.int64)
    run_start[starts] = starts
    run_start = np.maximum.accumulate(run_start) if len(g) else run_start
    counts = np.empty(len(g), dtype=np.int64)
    counts[order] = np.arange(len(g)) - run_start
    return counts
