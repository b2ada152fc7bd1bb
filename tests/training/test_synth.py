"""The synthetic portfolio: determinism, contract, documented marginals and learnability."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from scoring.terms import term_years
from scoring.vocab import INDUSTRIES, PRICE_SOURCES, REGIONS
from training.contract import TABLES, load_dataset
from training.synth.claims import working_days
from training.synth.generator import generate_portfolio, write_portfolio
from training.synth.params import DEFAULT, PRICE_SOURCE_BIAS, ValueParams

Frames = dict[str, pd.DataFrame]

N_LOANS = 20_000


@pytest.fixture(scope="module")
def book() -> Frames:
    return generate_portfolio(n_loans=N_LOANS, seed=2024)


@pytest.fixture(scope="module")
def small() -> Frames:
    return generate_portfolio(n_loans=3000, seed=7)


def _origination_of_patents(book: Frames) -> pd.DataFrame:
    lp = book["loan_patents"].merge(book["loans"][["loan_id", "origination_date", "enterprise_id", "tenor_months"]])
    return book["patents"][["patent_id"]].merge(lp, on="patent_id", how="left")


def _terms(p: pd.DataFrame) -> np.ndarray:
    """Statutory term of each patent in years, by type and filing date."""
    return term_years(p["patent_type"].to_numpy(dtype=object), p["filing_date"].to_numpy().astype("datetime64[D]"))


# --- shape, determinism, contract -------------------------------------------------


def test_every_contract_table_with_contract_columns_and_types(small: Frames) -> None:
    assert set(small) == set(TABLES)
    for name, frame in small.items():
        table = TABLES[name]
        assert list(frame.columns) == table.column_names, name
        for col in table.columns:
            s = frame[col.name]
            if col.kind == "date":
                assert pd.api.types.is_datetime64_any_dtype(s), (name, col.name)
            elif col.kind == "bool":
                assert s.dtype == bool, (name, col.name)
            elif col.kind == "int":
                assert pd.api.types.is_integer_dtype(s), (name, col.name)
            if not col.nullable:
                assert s.notna().all(), (name, col.name)


def test_same_seed_same_frames_and_other_seed_differs(small: Frames) -> None:
    again = generate_portfolio(n_loans=3000, seed=7)
    for name in small:
        pd.testing.assert_frame_equal(small[name], again[name])
    other = generate_portfolio(n_loans=3000, seed=8)
    assert not small["loans"]["amount_cny"].equals(other["loans"]["amount_cny"])
    assert not small["loans_truth"]["true_pd"].equals(other["loans_truth"]["true_pd"])


def test_written_portfolio_loads_through_the_contract(small: Frames, tmp_path: Path) -> None:
    write_portfolio(small, tmp_path)
    loaded = load_dataset(tmp_path)
    assert set(loaded) == set(TABLES)
    for name, frame in small.items():
        assert len(loaded[name]) == len(frame), name
    pd.testing.assert_series_equal(loaded["loans"]["amount_cny"], small["loans"]["amount_cny"])
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC DATA" in readme
    assert "seed: 7" in readme
    assert "n_loans: 3000" in readme


def test_parquet_output_also_loads(tmp_path: Path) -> None:
    frames = generate_portfolio(n_loans=300, seed=3)
    write_portfolio(frames, tmp_path, fmt="parquet")
    assert len(load_dataset(tmp_path)["patents"]) == len(frames["patents"])


@pytest.mark.parametrize("n_loans", [1, 5])
def test_tiny_portfolios_are_valid(tmp_path: Path, n_loans: int) -> None:
    write_portfolio(generate_portfolio(n_loans=n_loans, seed=1), tmp_path)
    assert len(load_dataset(tmp_path)["loans"]) == n_loans


def test_start_year_and_vintages_are_respected() -> None:
    frames = generate_portfolio(n_loans=2000, seed=5, start_year=2021, n_vintages=3)
    years = frames["loans"]["origination_date"].dt.year
    assert set(years) == {2021, 2022, 2023}
    counts = years.value_counts().sort_index().to_numpy()
    assert (np.diff(counts) > 0).all()  # volumes grow


# --- documented marginals ---------------------------------------------------------


def test_patent_type_mix(book: Frames) -> None:
    mix = book["patents"]["patent_type"].value_counts(normalize=True)
    assert mix["invention"] == pytest.approx(0.55, abs=0.02)
    assert mix["utility_model"] == pytest.approx(0.40, abs=0.02)
    assert mix["design"] == pytest.approx(0.05, abs=0.01)


def test_loan_sizes_match_published_shares(book: Frames) -> None:
    amount = book["loans"]["amount_cny"]
    # Values bounded by the owners' revenue make loans smaller than the national marginals
    # (72.5% under ¥10m; DESIGN.md), which include large borrowers: at least as many are small.
    assert (amount < 10e6).mean() > 0.725
    assert (amount < 20e6).mean() > 0.80
    ltv = book["loans"]["ltv"]
    assert ltv.quantile(0.05) >= 0.09
    assert ltv.quantile(0.95) <= 0.62
    assert np.allclose(ltv, book["loans"]["amount_cny"] / book["loans"]["appraised_value_cny"], atol=1e-4)


def test_portfolio_pd_and_oracle_auc(book: Frames) -> None:
    pd_true = book["loans_truth"]["true_pd"]
    default = book["outcomes"]["default_12m"]
    assert 0.03 <= pd_true.mean() <= 0.05
    assert default.mean() == pytest.approx(pd_true.mean(), abs=0.006)
    assert 0.74 <= roc_auc_score(default, pd_true) <= 0.88


def test_claims_irregular_share_and_review_quality(book: Frames) -> None:
    truth = book["claims_truth"]["true_irregular"]
    review = book["claims"]["review_irregular"]
    assert 0.12 <= truth.mean() <= 0.25
    assert 0.65 <= review[truth].mean() <= 0.95
    assert review[~truth].mean() <= 0.05


def test_observed_price_share_bias_and_noise(book: Frames) -> None:
    p, truth = book["patents"], book["patents_truth"]
    priced = p["observed_price_cny"].notna()
    assert priced.mean() == pytest.approx(0.60, abs=0.02)
    assert set(p.loc[priced, "price_source"]) == set(PRICE_SOURCES)
    assert set(PRICE_SOURCE_BIAS) == set(PRICE_SOURCES)
    bias = p.loc[priced, "price_source"].map(PRICE_SOURCE_BIAS)
    log_err = np.log(p.loc[priced, "observed_price_cny"] / bias / truth.loc[priced, "true_value_cny"])
    assert abs(log_err.mean()) < 0.02
    assert log_err.std() == pytest.approx(0.15, abs=0.02)


def test_every_region_industry_bank_and_fund_present(book: Frames) -> None:
    assert set(book["enterprises"]["region"]) == set(REGIONS)
    assert set(book["enterprises"]["industry"]) == set(INDUSTRIES)
    assert book["enterprises"]["region"].value_counts().idxmax() == "guiyang"
    assert book["loans"]["bank_id"].nunique() == 8
    assert set(book["loans"]["fund_id"].dropna()) == {"fund_guiyang", "fund_zunyi", "fund_province"}
    assert book["loans"]["pooled"].mean() == pytest.approx(0.5, abs=0.05)
    assert book["enterprises"]["is_sme"].mean() == pytest.approx(0.95, abs=0.01)


def test_vintages_drift(book: Frames) -> None:
    loans = book["loans"].merge(book["loans_truth"]).merge(book["enterprises"][["enterprise_id", "industry"]])
    year = loans["origination_date"].dt.year
    first, last = year.min(), year.max()
    mix = pd.crosstab(year, loans["industry"], normalize="index")
    assert 0.5 * (mix.loc[first] - mix.loc[last]).abs().sum() > 0.08
    mean_pd = loans.groupby(year)["true_pd"].mean()
    assert abs(mean_pd[last] / mean_pd[first] - 1) > 0.1


# --- relief-from-royalty value ----------------------------------------------------


def test_true_value_matches_relief_from_royalty_sum() -> None:
    from training.synth.value import true_value

    vp = ValueParams()
    pat = {
        "patent_type": np.array([0, 0, 1]),  # invention, invention, utility model
        "tech_field": np.array([0, 7, 4]),  # software, semiconductors, electronics
        "legal_status": np.array([1, 1, 1]),  # granted
        "filing_date": np.array(["2010-01-01", "2016-01-01", "2016-01-01"], dtype="datetime64[D]"),
    }
    drivers = {
        "revenue": np.array([10e6, 20e6, 5e6]),
        "royalty": np.array([0.06, 0.015, 0.02]),
        "tax": np.array([0.25, 0.15, 0.25]),  # the second owner is a high-tech enterprise
    }
    as_of = np.array(["2022-01-01"] * 3, dtype="datetime64[D]")
    got = true_value(vp, pat, drivers, as_of)
    age = (as_of - pat["filing_date"]).astype(float) / 365.25
    for i in range(3):
        term = [20, 20, 10][i]
        life = min(term - age[i], vp.economic_life_cap_years[["software", "semiconductors", "electronics"][i]])
        sums = []
        for years in (int(np.floor(life)), int(np.ceil(life))):
            rev = drivers["revenue"][i] * (1 - vp.revenue_decay) ** np.arange(years)
            disc = (1 + vp.discount_rate) ** -np.arange(1, years + 1)
            sums.append(float(np.sum(rev * drivers["royalty"][i] * (1 - drivers["tax"][i]) * disc)))
        # Σ over whole years brackets the value for a fractional remaining life.
        assert sums[0] * (1 - 1e-9) <= got[i] <= sums[1] * (1 + 1e-9)
        assert sums[1] < 1.3 * sums[0]


def test_truth_discounts_as_the_income_approach_does() -> None:
    """The truth's annuity is scoring.income's (same rate from valuation.yaml, flat revenue, pro-rata last year)."""
    from scoring.income import annuity_factor
    from scoring.policy import load_scoring_config
    from training.synth.value import annuity_factors

    vp = ValueParams()
    assert vp.discount_rate == load_scoring_config().valuation.discount_rate
    years = np.array([0.25, 1.0, 3.6, 7.0, 9.99])
    got = annuity_factors(vp.discount_rate, vp.revenue_decay, years)
    assert got == pytest.approx([annuity_factor(vp.discount_rate, float(y)) for y in years], rel=1e-12)


def test_attributable_revenue_is_bounded_by_the_owners_revenue() -> None:
    from training.synth.value import value_drivers

    rng = np.random.default_rng(0)
    n = 4000
    pat = {
        "quality": rng.standard_normal(n) * 2,  # high-quality patents would ask for more than the owner earns
        "industry": rng.integers(0, len(INDUSTRIES), n),
        "tech_field": rng.integers(0, 8, n),
        "patent_type": rng.integers(0, 3, n),
    }
    owner = rng.integers(0, 500, n)
    revenue = np.exp(rng.normal(np.log(30e6), 0.8, 500))
    d = value_drivers(
        rng, ValueParams(), pat, owner_revenue=revenue[owner], owner=owner, high_tech=np.zeros(n, dtype=bool)
    )
    per_owner = np.bincount(owner, weights=d["revenue"], minlength=500)
    assert (per_owner <= ValueParams().attributable_share_cap * revenue * (1 + 1e-12)).all()
    assert (per_owner > 0.5 * ValueParams().attributable_share_cap * revenue).mean() > 0.3  # the cap binds often


def test_true_values_positive_and_mostly_in_typical_range(book: Frames) -> None:
    v = book["patents_truth"]["true_value_cny"]
    assert (v > 0).all()
    assert np.isfinite(v).all()
    # Bounded by the owners' revenue (median ¥30m), a patent is worth about ¥0.5m (income approach).
    assert 0.3e6 < v.median() < 1.0e6
    assert v.between(0.03e6, 10e6).mean() > 0.85
    status = book["patents"]["legal_status"]
    assert v[status == "granted"].median() > 20 * v[status == "lapsed"].median()


def test_log_value_mostly_explained_by_observables(book: Frames) -> None:
    p, v = book["patents"], np.log(book["patents_truth"]["true_value_cny"])
    lp = _origination_of_patents(book)
    as_of = p["price_date"].fillna(lp["origination_date"])
    age = ((as_of - p["filing_date"]).dt.days / 365.25).to_numpy()
    rev = lp["enterprise_id"].map(book["enterprises"].set_index("enterprise_id")["revenue_cny"])
    cols = {
        f"log_{c}": np.log1p(p[c].astype(float).fillna(0.0))  # designs have no claims
        for c in (
            "claims_count",
            "independent_claims",
            "family_size",
            "foreign_family_members",
            "forward_citations",
            "licences_count",
            "transfers_count",
            "litigation_count",
        )
    }
    cols |= {
        "cites_per_year": np.log1p(p["forward_citations"] / np.maximum(age, 0.5)),
        "age": age,
        "life": np.minimum(_terms(p) - age, 8),
        "strategic": p["strategic_emerging"].to_numpy(),
        "award": p["patent_award"].to_numpy(),
        "log_rev": np.log(rev),
        # The owner's revenue bounds its patents' revenue together: how many it pledged matters.
        "log_owner_patents": np.log(lp.groupby("enterprise_id")["patent_id"].transform("count")).to_numpy(),
        "high_tech": lp["enterprise_id"].map(book["enterprises"].set_index("enterprise_id")["high_tech"]).to_numpy(),
    }
    x = pd.DataFrame(cols)
    for c in ("patent_type", "tech_field", "industry", "legal_status"):
        x = x.join(pd.get_dummies(p[c], prefix=c, drop_first=True))
    a = np.column_stack([np.ones(len(x)), x.to_numpy(dtype=float)])
    beta, *_ = np.linalg.lstsq(a, v, rcond=None)
    resid = v - a @ beta
    assert v.std() > 0.9  # values differ a lot ...
    assert 0.35 < resid.std() < 0.55  # ... and observables explain most of it, not all


# --- internal consistency -------------------------------------------------------


def test_patent_legal_facts_are_consistent(book: Frames) -> None:
    p = book["patents"]
    assert (p["grant_date"].isna() == (p["legal_status"] == "pending")).all()
    assert not p.loc[p["legal_status"] == "lapsed", "fees_up_to_date"].any()
    assert (p.loc[p["legal_status"] == "invalidated", "invalidation_requests"] >= 1).all()
    design = p["patent_type"] == "design"
    assert design.any() and p.loc[design, ["claims_count", "independent_claims"]].isna().all().all()
    assert (p.loc[~design, "independent_claims"] <= p.loc[~design, "claims_count"]).all()
    assert p.loc[~design, "claims_count"].ge(1).all()
    assert p["legal_status"].eq("granted").mean() > 0.9
    for flag in ("ownership_dispute", "preservation_order", "invalidation_pending", "currently_pledged"):
        assert 0 < p[flag].mean() < 0.05, flag
    assert (p["co_owned"] & ~p["co_owner_consent"]).any()
    lag = (p["grant_date"] - p["filing_date"]).dt.days / 365.25
    assert lag[p["patent_type"] == "invention"].between(2, 4).mean() > 0.95
    assert lag[p["patent_type"] == "utility_model"].median() == pytest.approx(1.0, abs=0.2)


def test_pledged_patents_belong_to_borrower_and_outlive_the_loan(book: Frames) -> None:
    p = book["patents"]
    lp = _origination_of_patents(book)
    same = p["owner_id"].to_numpy() == lp["enterprise_id"].to_numpy()
    assert 0.95 < same.mean() < 1.0
    per_loan = book["loan_patents"].groupby("loan_id").size()
    assert per_loan.between(1, 5).all()
    assert per_loan.le(3).mean() > 0.8
    end = lp["origination_date"] + pd.to_timedelta(lp["tenor_months"] * 30.44, unit="D")
    expiry = p["filing_date"] + pd.to_timedelta(_terms(p) * 365.25, unit="D")
    assert (end <= expiry).all()
    priced = p["price_date"].notna()
    assert (p.loc[priced, "price_date"] <= lp.loc[priced, "origination_date"]).all()
    assert (p.loc[priced, "price_date"] >= p.loc[priced, "filing_date"]).all()


def test_outcomes_are_consistent(book: Frames) -> None:
    o = book["outcomes"].merge(book["loans"][["loan_id", "origination_date", "tenor_months"]])
    defaulted = o["default_date"].notna()
    d = o[defaulted]
    assert (d["days_past_due"] > 90).all()
    assert d["npl_class"].isin(["substandard", "doubtful", "loss"]).all()
    days = (d["default_date"] - d["origination_date"]).dt.days
    assert (days >= 15).all()
    assert (days <= d["tenor_months"] * 30.44 + 1).all()  # defaults fall within the tenor
    assert (d["default_date"] <= d["observed_until"]).all()  # ... and by the observation date
    assert o.loc[o["default_12m"], "default_date"].notna().all()
    assert (days[d["default_12m"]] <= 366).all() and (days[~d["default_12m"]] > 365).all()
    ok = o[~defaulted]
    assert (ok["days_past_due"] < 90).all()
    assert ok[["ead_cny", "disposal_date", "disposal_channel", "recovery_cny", "realised_lgd"]].isna().all().all()
    assert ok["npl_class"].isin(["normal", "special_mention"]).all()
    assert ok["npl_class"].eq("normal").mean() > 0.85


def test_classes_respect_the_2023_floors(book: Frames) -> None:
    from scoring.classification import minimum_class
    from scoring.vocab import NPL_CLASSES

    o = book["outcomes"]
    floor = o["days_past_due"].map(lambda d: NPL_CLASSES.index(minimum_class(int(d))))
    given = o["npl_class"].map(NPL_CLASSES.index)
    assert (given >= floor.where(o["days_past_due"] > 90, 0)).all()
    assert set(o.loc[o["default_date"].notna(), "npl_class"]) == {"substandard", "doubtful", "loss"}


def test_lifetime_pd_and_rates(book: Frames) -> None:
    t = book["loans_truth"].merge(book["loans"]).merge(book["outcomes"])
    assert (t["true_pd"] == t["true_pd_12m"]).all()
    assert (t["true_pd_tenor"] >= t["true_pd_12m"] - 1e-12).all()
    assert (
        t.loc[t["tenor_months"] == 12, "true_pd_tenor"] - t.loc[t["tenor_months"] == 12, "true_pd_12m"]
    ).abs().max() < 1e-12
    long = t[(t["tenor_months"] == 36) & (t["origination_date"].dt.year <= 2021)]  # fully observed
    assert long["default_date"].notna().mean() == pytest.approx(long["true_pd_tenor"].mean(), abs=0.015)
    assert t["annual_rate"].between(0.03, 0.12).all()
    # A riskier loan is priced higher: the spread follows the bank's (noisy) view of the PD.
    hi, lo = t["true_pd_12m"] > t["true_pd_12m"].quantile(0.9), t["true_pd_12m"] < t["true_pd_12m"].quantile(0.1)
    assert t.loc[hi, "annual_rate"].mean() > t.loc[lo, "annual_rate"].mean() + 0.005


def test_disposals_are_consistent(book: Frames) -> None:
    o = book["outcomes"].merge(book["loans"]).merge(book["loans_truth"])
    d = o[o["disposal_date"].notna()]
    assert len(d) > 300
    assert (d["disposal_date"] > d["default_date"]).all() and (d["disposal_date"] <= d["observed_until"]).all()
    assert (d["ead_cny"] >= d["amount_cny"]).all()
    assert (d["recovery_cny"] <= d["ead_cny"] + 0.01).all() and (d["recovery_cny"] >= 0).all()
    assert set(d["disposal_channel"]) == {
        "negotiated_transfer",
        "judicial_auction",
        "exchange_listing",
        "licensing",
        "acquisition",
    }
    auction = d[d["disposal_channel"] == "judicial_auction"]
    assert auction["auction_rounds"].between(1, 3).all()
    assert auction["disposal_price_cny"].isna().any() and auction["disposal_price_cny"].notna().any()  # 流拍 happens
    assert d.loc[~d["disposal_channel"].isin(["judicial_auction", "exchange_listing"]), "auction_rounds"].isna().all()
    # Recoveries are discounted at the loan's rate, so the realised LGD exceeds the undiscounted loss.
    assert (d["realised_lgd"] >= 1 - d["recovery_cny"] / d["ead_cny"] - 1e-6).all()
    # The oracle's LGD is the mean of the same process: it matches the realised mean.
    assert d["realised_lgd"].mean() == pytest.approx(d["true_lgd"].mean(), abs=0.05)
    # IP alone recovers little (处置变现难): most of an IP-only loan is lost.
    assert d.loc[d["ip_share_of_collateral"] == 1, "realised_lgd"].mean() > 0.45


def test_claims_are_consistent_with_loans(book: Frames) -> None:
    c = book["claims"].merge(book["loans"], on="loan_id", suffixes=("", "_loan")).merge(book["outcomes"])
    assert c["default_12m"].all()
    assert c["pooled"].all()
    assert (c["fund_id"] == c["fund_id_loan"]).all()
    assert (c["bank_id"] == c["bank_id_loan"]).all()
    assert (c["principal_outstanding_cny"] <= c["amount_cny"]).all()
    assert (c["claimed_amount_cny"] <= c["amount_cny"]).all()
    assert c["claim_id"].is_unique
    assert c["loan_id"].is_unique
    cal = working_days(np.datetime64("2018-01-01"), np.datetime64("2027-12-31"))
    start = np.searchsorted(cal, c["default_date"].to_numpy().astype("datetime64[D]"), side="right")
    end = np.searchsorted(cal, c["filing_date"].to_numpy().astype("datetime64[D]"), side="right")
    assert (end - start == c["working_days_to_file"]).all()
    first = c.sort_values(["filing_date", "claim_id"]).groupby("bank_id")["bank_prior_claims"].first()
    assert (first == 0).all()
    assert (c["working_days_to_file"] > 10).mean() > 0.05


def test_irregularity_is_driven_by_observable_causes(book: Frames) -> None:
    c = (
        book["claims"]
        .merge(book["claims_truth"])
        .merge(book["outcomes"])
        .merge(book["loans"], on="loan_id", suffixes=("", "_loan"))
    )
    early = (c["default_date"] - c["origination_date"]).dt.days < 90
    for cause in (
        early,
        c["patent_pledged_elsewhere"],
        c["working_days_to_file"] > 10,
        ~c["evidence_provided"],
    ):
        prob = c["true_irregular_prob"]
        assert prob[cause].mean() > 1.6 * prob[~cause].mean()


def test_default_params_are_the_module_default() -> None:
    defaults = generate_portfolio.__kwdefaults__
    assert defaults is not None and defaults["params"] is DEFAULT
