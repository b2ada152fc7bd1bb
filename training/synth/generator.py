"""The synthetic patent-pledge portfolio: every contract table plus ground truth.

``generate_portfolio`` draws enterprises, loans, pledged patents, outcomes and
claims from the documented parameters (:mod:`training.synth.params`, described
in ``parameters.md``); ``write_portfolio`` writes them through the data
contract with a README that labels them synthetic.  Everything is vectorised
numpy driven by one ``np.random.default_rng(seed)``, so a seed fixes the data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scoring.economy import growth_on, load_economy
from scoring.vocab.arrays import AnyArray, BoolArray, DateArray, FloatArray, IndexArray
from training.contract import write_table
from training.synth.borrowers import draw_enterprises
from training.synth.claims import draw_claims
from training.synth.disposal import expected_lgd, exposure_at_default, simulate_disposals
from training.synth.loans import draw_outcomes, draw_terms, loan_rates, pd_over, true_pd, true_pd_logit
from training.synth.params import DEFAULT, PortfolioParams, ValueParams
from training.synth.patents import INVENTION, draw_patents
from training.synth.sampling import pick
from training.synth.tables import build_frames
from training.synth.value import observed_prices, true_value, value_drivers

# 2: revenue bounded by the owner's, income-approach discounting, rates, lifetime defaults, disposals;
# 3: the disposal market moves with the published economy and the borrower's industry
GENERATOR_VERSION = "3"
DAYS_PER_MONTH = 365.25 / 12
# generate_portfolio calls its ``progress`` once per stage; each stage's share of the time (percent,
# measured at 20,000 and 40,000 loans, 2026-11-30) lets the time left be estimated by work, not by count.
GENERATION_WORK = (2, 10, 2, 2, 36, 10, 38)
META_KEY = "iprisk_synthetic"


def _originations(
    rng: np.random.Generator, n: int, start_year: int, n_vintages: int, growth: float
) -> tuple[DateArray, IndexArray]:
    """Sorted origination dates and their vintage index (volumes grow per year)."""
    w = growth ** np.arange(n_vintages)
    vintage = np.sort(np.minimum(np.searchsorted(np.cumsum(w) / w.sum(), rng.random(n), side="right"), n_vintages - 1))
    year_start = np.array([np.datetime64(f"{start_year + v}-01-01") for v in range(n_vintages + 1)])
    span = (year_start[1:] - year_start[:-1]).astype(int)[vintage]
    date = year_start[vintage] + (rng.random(n) * span).astype("int64").astype("timedelta64[D]")
    order = np.argsort(date, kind="stable")
    return date[order], vintage[order]


def _borrowers(rng: np.random.Generator, n: int, per_loan: float) -> IndexArray:
    """Enterprise index of each loan: every enterprise borrows at least once."""
    n_ent = int(min(n, max(1, round(per_loan * n))))
    ent = np.concatenate([np.arange(n_ent), rng.integers(0, n_ent, n - n_ent)])
    return rng.permutation(ent)


def generate_portfolio(
    *,
    n_loans: int,
    seed: int,
    start_year: int = 2019,
    n_vintages: int = 6,
    params: PortfolioParams = DEFAULT,
    progress: Callable[[str], None] | None = None,
) -> dict[str, pd.DataFrame]:
    """Generate a synthetic portfolio of patent-pledge loans.

    Parameters
    ----------
    n_loans
        Number of loans.
    seed
        Seed of ``np.random.default_rng``; the same seed gives the same frames.
    start_year
        Calendar year of the first vintage.
    n_vintages
        Number of yearly vintages (origination years).
    params
        Generator parameters (see ``parameters.md``).
    progress
        Called with a note after each stage (:data:`GENERATION_WORK`, ``training.progress``).

    Returns
    -------
    dict
        Frames by contract table name, including ``patents_truth``,
        ``loans_truth`` and ``claims_truth``; contract columns, dates as
        datetime64, booleans as bool.  Each frame's ``attrs["iprisk_synthetic"]``
        holds the seed, size and generator version.
    """
    if n_loans < 1 or n_vintages < 1:
        raise ValueError("n_loans and n_vintages must be at least 1")
    rng = np.random.default_rng(seed)
    P = params
    done = progress or (lambda _note: None)
    orig, vintage = _originations(rng, n_loans, start_year, n_vintages, P.loan.vintage_growth)
    vfrac = vintage / max(n_vintages - 1, 1)
    borrower = _borrowers(rng, n_loans, P.enterprise.enterprises_per_loan)
    first_frac = np.ones(int(borrower.max()) + 1)
    np.minimum.at(first_frac, borrower, vfrac)
    ent = draw_enterprises(rng, P.enterprise, first_vintage_frac=first_frac)
    done(f"{n_loans} originations, {len(first_frac)} enterprises")
    collateral = _collateral(rng, P, orig=orig, borrower=borrower, ent=ent)
    loan_of, pat, prices, package = collateral.loan_of, collateral.pat, collateral.prices, collateral.package
    done(f"{len(loan_of)} pledged patents and their prices")
    loan_ent = {k: v[borrower] for k, v in ent.items()}
    non_inv = 1.0 - np.bincount(loan_of, weights=pat["patent_type"] == INVENTION, minlength=n_loans) / (
        np.bincount(loan_of, minlength=n_loans)
    )
    terms = draw_terms(
        rng,
        P.loan,
        vintage_frac=vfrac,
        package_true=package,
        non_invention_share=non_inv,
        revenue=loan_ent["revenue_cny"],
        region=loan_ent["region"],
    )
    year = orig.astype("datetime64[Y]").astype(int) + 1970
    logit = true_pd_logit(rng, P.pd, ent=loan_ent, terms=terms, package_true=package, year=year)
    rates = loan_rates(rng, P.rate, logit=logit, year=year, pooled=terms["pooled"])
    terms["annual_rate"] = rates["annual_rate"]
    pd_true = true_pd(logit, P.rate, rates["net_rate"])
    done("loan terms, rates and true PDs")
    out = draw_outcomes(
        rng,
        P.outcome,
        pd_12m=pd_true,
        tenor_months=terms["tenor_months"],
        origination=orig,
        inflated=terms["inflated_appraisal"],
        observed_until=np.datetime64(f"{start_year + n_vintages}-12-31"),
    )
    done(f"outcomes: {int(out['default_12m'].sum())} defaults within 12 months")
    truth = _losses(
        rng, P, terms=terms, out=out, pd_true=pd_true, orig=orig, collateral=collateral, industry=loan_ent["industry"]
    )
    done("losses and disposals")
    any_pledged = np.bincount(loan_of, weights=pat["currently_pledged"], minlength=n_loans) > 0
    cl = _claims(rng, P, terms=terms, out=out, orig=orig, package=package, any_pledged=any_pledged)
    done(f"{len(cl['loan'])} fund claims")

    frames = build_frames(
        ent=ent,
        orig=orig,
        borrower=borrower,
        terms=terms,
        loan_of=loan_of,
        pat=pat,
        prices=prices,
        out=out,
        truth=truth,
        claims=cl,
        n_banks=len(P.loan.bank_mix),
    )
    done(f"{len(frames)} tables built")
    meta = {
        "seed": seed,
        "n_loans": n_loans,
        "start_year": start_year,
        "n_vintages": n_vintages,
        "generator_version": GENERATOR_VERSION,
    }
    for frame in frames.values():
        frame.attrs[META_KEY] = dict(meta)
    return frames


def _collateral(
    rng: np.random.Generator,
    P: PortfolioParams,
    *,
    orig: DateArray,
    borrower: IndexArray,
    ent: dict[str, AnyArray],
) -> Collateral:
    """Pledged patents, their prices and each loan's true package value at origination."""
    n_loans = len(orig)
    probs = np.asarray(P.patent.patents_per_loan_probs)
    counts = 1 + pick(rng, probs, n_loans)
    loan_of = np.repeat(np.arange(n_loans), counts)
    as_of = orig[loan_of]
    pat = draw_patents(
        rng,
        P.patent,
        borrower=borrower[loan_of],
        owner_industry=ent["industry"][borrower[loan_of]],
        as_of=as_of,
        n_enterprises=len(ent["industry"]),
    )
    owner = borrower[loan_of]
    drivers = value_drivers(
        rng, P.value, pat, owner_revenue=ent["revenue_cny"][owner], owner=owner, high_tech=ent["high_tech"][owner]
    )
    value_orig = true_value(P.value, pat, drivers, as_of)
    prices = observed_prices(rng, P.price, P.value, pat, drivers, as_of)
    pat.update({k: prices[k] for k in ("transfers_count", "licences_count", "prior_pledges_count")})
    # float64 with weights; numpy's stubs type every bincount as integer, asarray says which it is
    package = np.asarray(np.bincount(loan_of, weights=value_orig, minlength=n_loans), dtype=np.float64)
    return Collateral(loan_of, pat, drivers, prices, package)


@dataclass(frozen=True)
class Collateral:
    """The pledged patents of every loan, what drives their value, their prices and package values."""

    loan_of: IndexArray
    pat: dict[str, AnyArray]
    drivers: dict[str, FloatArray]
    prices: dict[str, AnyArray]
    package: FloatArray

    def value_at(self, vp: ValueParams, dates: DateArray) -> FloatArray:
        """True package value (CNY) of each loan at its own date (``dates`` one per loan)."""
        value = true_value(vp, self.pat, self.drivers, dates[self.loan_of])
        return np.asarray(np.bincount(self.loan_of, weights=value, minlength=len(dates)), dtype=np.float64)


def _losses(
    rng: np.random.Generator,
    P: PortfolioParams,
    *,
    terms: dict[str, AnyArray],
    out: dict[str, AnyArray],
    pd_true: FloatArray,
    orig: DateArray,
    collateral: Collateral,
    industry: IndexArray,
) -> dict[str, AnyArray]:
    """Lifetime PD, exposure, the disposal of every observed default and the oracle's LGD.

    The oracle values the collateral, and reads the economy, at the median default date given a
    default in the tenor; a realised disposal does both at the actual default date.
    Disposals not finished by ``observed_until`` are pending: only EAD is known.
    """
    shape = P.outcome.hazard_shape
    pd_tenor = pd_over(pd_true, terms["tenor_months"], shape)
    h12 = -np.log1p(-pd_true)
    median_months = 12.0 * (-np.log1p(-0.5 * pd_tenor) / h12) ** (1.0 / shape)
    median_date = orig + np.rint(median_months * DAYS_PER_MONTH).astype("timedelta64[D]")
    at_default = np.where(out["default"], out["default_date"], median_date)
    facts = {
        "ead": exposure_at_default(P.disposal, terms["amount_cny"], terms["annual_rate"]),
        "rate": terms["annual_rate"],
        "ip_share": terms["ip_share_of_collateral"],
        "pooled": terms["pooled"],
        "industry": industry,
    }
    economy = load_economy()
    sims = simulate_disposals(
        rng,
        P.disposal,
        value_at_default=collateral.value_at(P.value, at_default),
        growth=growth_on(at_default, economy),
        **facts,
    )
    true_lgd = expected_lgd(
        rng,
        P.disposal,
        value_at_default=collateral.value_at(P.value, median_date),
        growth=growth_on(median_date, economy),
        **facts,
    )
    cash = out["default_date"] + np.rint(sims["months"] * DAYS_PER_MONTH).astype("timedelta64[D]")
    done = out["default"] & (cash <= out["observed_until"])
    return {
        "true_pd_12m": pd_true,
        "true_pd_tenor": pd_tenor,
        "true_lgd": true_lgd,
        "ead": np.where(out["default"], np.round(facts["ead"], 2), np.nan),
        "done": done,
        "disposal_date": np.where(done, cash, np.datetime64("NaT")),
        **{k: sims[k] for k in ("channel", "auction_rounds", "price_cny", "costs_cny", "recovery_cny", "lgd")},
    }


def _claims(
    rng: np.random.Generator,
    P: PortfolioParams,
    *,
    terms: dict[str, AnyArray],
    out: dict[str, AnyArray],
    orig: DateArray,
    package: FloatArray,
    any_pledged: BoolArray,
) -> dict[str, AnyArray]:
    """Claims by a share of the defaulted pooled loans; ``loan`` indexes the loans."""
    claimants = np.flatnonzero(out["default_12m"] & terms["pooled"])
    claimants = claimants[rng.random(len(claimants)) < P.claim.claim_share]
    cl = draw_claims(
        rng,
        P.claim,
        loans={k: v[claimants] for k, v in terms.items()},
        origination=orig[claimants],
        default_date=out["default_date"][claimants],
        package_true=package[claimants],
        any_pledged=any_pledged[claimants],
    )
    cl["loan"] = claimants[cl.pop("loan_pos")]
    return cl


def write_portfolio(
    frames: dict[str, pd.DataFrame],
    out_dir: str | Path,
    fmt: str = "csv",
    *,
    meta: Mapping[str, object] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> Path:
    """Write every table through the data contract, plus a README labelling it synthetic.

    Parameters
    ----------
    frames
        Output of :func:`generate_portfolio`.
    out_dir
        Directory to write into (created if missing).
    fmt
        ``"csv"`` or ``"parquet"``.
    meta
        Seed, size and so on for the README; defaults to what
        :func:`generate_portfolio` stored in the frames' ``attrs``.
    progress
        Called after each table with a note and the table's rows (its share of the work).

    Returns
    -------
    Path
        The output directory.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        write_table(frame, out, name, fmt=fmt)
        if progress is not None:
            progress(f"{name}.{fmt}: {len(frame)} rows", len(frame))
    info = dict(meta or next(iter(frames.values())).attrs.get(META_KEY, {}))
    (out / "README.md").write_text(_readme(frames, info, fmt), encoding="utf-8")
    return out


def _readme(frames: dict[str, pd.DataFrame], info: Mapping[str, object], fmt: str) -> str:
    lines = [
        "# SYNTHETIC DATA",
        "",
        "This portfolio is **SYNTHETIC DATA** made by `training.synth.generator.generate_portfolio`.",
        "It describes no real bank, borrower, patent or fund. Every parameter and its source or",
        "assumption is documented in `training/synth/parameters.md`.",
        "",
        f"- seed: {info.get('seed', 'unknown')}",
        f"- n_loans: {info.get('n_loans', len(frames.get('loans', [])))}",
        f"- start_year: {info.get('start_year', 'unknown')}, n_vintages: {info.get('n_vintages', 'unknown')}",
        f"- generator_version: {info.get('generator_version', GENERATOR_VERSION)}",
        f"- format: {fmt}",
        "",
        "The `*_truth` tables hold the ground truth (true patent value, true PD, true claim",
        "irregularity) for evaluation only; models must never train on them.",
        "",
        "| table | rows |",
        "|---|---|",
        *(f"| {name} | {len(frame)} |" for name, frame in frames.items()),
        "",
    ]
    return "\n".join(lines)
