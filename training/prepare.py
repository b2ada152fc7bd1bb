"""Turn contract tables into model matrices, targets, splits and ground truth."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scoring import features as F
from scoring.economy import growth_on, load_economy
from scoring.lgd import ChannelHistory, history_before
from scoring.models import LoadedModel
from scoring.vocab import INDUSTRIES
from scoring.vocab.arrays import AnyArray, BoolArray, DateArray, FloatArray
from training.synth.params import PRICE_SOURCE_BIAS
from training.tabular import TableError

# Documented bias of each observed price source relative to fair value; the
# valuation model learns fair value from prices divided by these factors
# (an assumption, documented in training/synth/parameters.md).
DEFAULT_PRICE_BIAS: dict[str, float] = dict(PRICE_SOURCE_BIAS)


@dataclass
class Prepared:
    """Matrix, target, ids, dates, split masks and (optional) truth for one model."""

    x: FloatArray
    y: FloatArray
    ids: AnyArray  # loan, patent or claim ids (strings), or row numbers for generic data
    dates: DateArray
    test: BoolArray
    valid: BoolArray
    truth: FloatArray | None = None
    extra: dict[str, FloatArray] = field(default_factory=dict)

    @property
    def train(self) -> BoolArray:
        """Rows used to fit (neither validation nor test)."""
        return ~self.test & ~self.valid


def cols(frame: pd.DataFrame) -> dict[str, AnyArray]:
    """A frame as a mapping of column name to numpy array (dates as datetime64[D])."""
    out: dict[str, AnyArray] = {}
    for c in frame.columns:
        s = frame[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[c] = s.to_numpy().astype("datetime64[D]")
        else:
            out[c] = s.to_numpy()
    return out


def split_masks(
    dates: DateArray, *, test_fraction: float = 0.2, valid_fraction: float = 0.15, seed: int = 0
) -> tuple[BoolArray, BoolArray]:
    """Out-of-time split: the latest ``test_fraction`` by date is the test set.

    The validation fold (early stopping, calibration) is a random share of the
    remaining, earlier rows: never the test fold.
    """
    d = np.asarray(dates, dtype="datetime64[D]")
    cutoff = np.quantile(d.astype("int64"), 1 - test_fraction)
    test = d.astype("int64") > cutoff
    rng = np.random.default_rng(seed)
    valid = ~test & (rng.random(len(d)) < valid_fraction)
    return test, valid


def check_binary_split(y: BoolArray, test: BoolArray, *, model: str, what: str) -> None:
    """Refuse (one line, exit 2) training data whose out-of-time split cannot train and test a binary model.

    A young book, a service export say, may have every loan booked on a few days: the latest fifth by date
    is then empty, or one side holds a single outcome, and no figure of the model could be measured.
    """
    for name, rows in (("training", ~test), ("out-of-time test", test)):
        n, k = int(rows.sum()), int(y[rows].sum())
        if n == 0 or k in (0, n):
            raise TableError(
                f"the {name} set (split by origination date, the latest 20% for the test) holds {n} loans "
                f"with {k} {what}: both outcomes are needed to train and test the {model} model"
            )


def valuation_matrix(patents: pd.DataFrame, enterprises: pd.DataFrame, as_of: DateArray) -> FloatArray:
    """Valuation feature matrix for ``patents`` at ``as_of`` (owner revenue joined)."""
    revenue = patents["owner_id"].map(enterprises.set_index("enterprise_id")["revenue_cny"])
    columns = F.valuation_columns(cols(patents), as_of, owner_revenue=revenue.to_numpy(dtype=np.float64))
    return F.to_matrix(columns, F.VALUATION_FEATURES)


def prepare_valuation(
    data: Mapping[str, pd.DataFrame], *, price_bias: Mapping[str, float] = DEFAULT_PRICE_BIAS
) -> Prepared:
    """Rows: patents with an observed price; target: log fair value implied by it."""
    patents = data["patents"]
    priced = patents[patents["observed_price_cny"].notna() & (patents["observed_price_cny"] > 0)]
    priced = priced.reset_index(drop=True)
    as_of = priced["price_date"].to_numpy().astype("datetime64[D]")
    x = valuation_matrix(priced, data["enterprises"], as_of)
    bias = priced["price_source"].map(dict(price_bias)).fillna(1.0).to_numpy(dtype=np.float64)
    y = np.log(priced["observed_price_cny"].to_numpy(dtype=np.float64) / bias)
    test, valid = split_masks(as_of)
    truth = None
    if "patents_truth" in data:
        t = priced["patent_id"].map(data["patents_truth"].set_index("patent_id")["true_value_cny"])
        truth = t.to_numpy(dtype=np.float64)
    return Prepared(x, y, priced["patent_id"].to_numpy(), as_of, test, valid, truth)


def pledged_patents_matrix(
    data: Mapping[str, pd.DataFrame],
) -> tuple[FloatArray, DateArray]:
    """Valuation inputs of every pledged patent at its loan's origination, with that date.

    This is the population the valuation model serves (assessments value the
    pledged package at origination), so drift is measured against it.
    """
    links = data["loan_patents"].merge(data["patents"], on="patent_id", how="left")
    as_of = links["loan_id"].map(data["loans"].set_index("loan_id")["origination_date"])
    dates = as_of.to_numpy().astype("datetime64[D]")
    return valuation_matrix(links, data["enterprises"], dates), dates


def package_values(
    data: Mapping[str, pd.DataFrame], valuation: LoadedModel | None, *, as_of_by_loan: pd.Series | None = None
) -> tuple[pd.DataFrame, FloatArray]:
    """Per-loan collateral summary and model P50 package value (CNY) at origination."""
    loans = data["loans"]
    links = data["loan_patents"].merge(data["patents"], on="patent_id", how="left")
    pos = pd.Series(np.arange(len(loans)), index=loans["loan_id"])
    group = links["loan_id"].map(pos).to_numpy(dtype=int)
    as_of_s = as_of_by_loan if as_of_by_loan is not None else loans.set_index("loan_id")["origination_date"]
    as_of = links["loan_id"].map(as_of_s).to_numpy().astype("datetime64[D]")
    life = F.remaining_life_years(
        links["patent_type"].to_numpy(dtype=object), links["filing_date"].to_numpy().astype("datetime64[D]"), as_of
    )
    summary = F.package_summary(links["patent_type"].to_numpy(dtype=object), life, group, len(loans))
    if valuation is None:
        value = loans["appraised_value_cny"].to_numpy(dtype=np.float64)
    else:
        xv = valuation_matrix(links, data["enterprises"], as_of)
        p50 = np.exp(valuation.raw(xv, "p50"))
        value = np.bincount(group, weights=p50, minlength=len(loans))
    return pd.DataFrame(summary), value


def prepare_pd(data: Mapping[str, pd.DataFrame], valuation: LoadedModel | None) -> Prepared:
    """Rows: loans with an outcome; target: default within 12 months."""
    loans = data["loans"]
    ent = data["enterprises"].set_index("enterprise_id").loc[loans["enterprise_id"]].reset_index()
    summary, value = package_values(data, valuation)
    columns = F.pd_columns(cols(ent), cols(loans), cols(summary), value)
    x = F.to_matrix(columns, F.PD_FEATURES)
    outcome = loans["loan_id"].map(data["outcomes"].set_index("loan_id")["default_12m"])
    keep = outcome.notna().to_numpy()
    dates = loans["origination_date"].to_numpy().astype("datetime64[D]")[keep]
    test, valid = split_masks(dates)
    truth = None
    if "loans_truth" in data:
        truth = (
            loans["loan_id"].map(data["loans_truth"].set_index("loan_id")["true_pd"]).to_numpy(dtype=np.float64)[keep]
        )
    extra = {"package_value": value, **_survival(data, loans)}  # every column filtered by keep below, once
    if "loans_truth" in data and "true_pd_tenor" in data["loans_truth"]:
        extra["true_pd_tenor"] = (
            loans["loan_id"].map(data["loans_truth"].set_index("loan_id")["true_pd_tenor"]).to_numpy(dtype=np.float64)
        )
    return Prepared(
        x[keep],
        outcome[keep].to_numpy(dtype=bool).astype(np.float64),
        loans["loan_id"].to_numpy()[keep],
        dates,
        test,
        valid,
        truth,
        extra={k: v[keep] for k, v in extra.items()},
    )


def _survival(data: Mapping[str, pd.DataFrame], loans: pd.DataFrame) -> dict[str, FloatArray]:
    """Each loan's tenor, months to its default (NaN if none seen) and months observed (censoring).

    A loan is observed until the earlier of its tenor's end and the outcome's
    ``observed_until`` date; without that date (older files), to its tenor's
    end.  Months are days / (365.25 / 12).
    """
    out = data["outcomes"].set_index("loan_id")
    orig = loans["origination_date"]
    tenor = loans["tenor_months"].to_numpy(dtype=np.float64)
    per_month = 365.25 / 12
    if "default_date" in out:
        default = loans["loan_id"].map(out["default_date"])
    else:  # scoring without outcomes
        default = pd.Series(pd.NaT, index=loans.index, dtype="datetime64[ns]")
    default_months = ((default - orig).dt.days / per_month).to_numpy(dtype=np.float64)
    if "observed_until" in out:
        seen = loans["loan_id"].map(out["observed_until"])
        observed = ((seen - orig).dt.days / per_month).fillna(np.inf).to_numpy(dtype=np.float64)
    else:
        observed = np.full(len(loans), np.inf)
    observed = np.minimum(observed, tenor)
    default_months = np.where(default_months <= observed + 1e-9, default_months, np.nan)
    return {"tenor_months": tenor, "default_months": default_months, "observed_months": observed}


def prepare_claims(data: Mapping[str, pd.DataFrame], valuation: LoadedModel | None) -> Prepared:
    """Rows: claims; target: the fund's review found the claim irregular."""
    claims = data["claims"].reset_index(drop=True)
    loans = data["loans"]
    _, value = package_values(data, valuation)
    value_by_loan = pd.Series(value, index=loans["loan_id"])
    cl_loans = loans.set_index("loan_id").loc[claims["loan_id"]].reset_index()
    default_date = claims["loan_id"].map(data["outcomes"].set_index("loan_id")["default_date"])
    columns = F.claim_columns(
        cols(claims),
        cols(cl_loans),
        default_date.to_numpy().astype("datetime64[D]"),
        np.asarray(claims["loan_id"].map(value_by_loan), dtype=np.float64),
    )
    x = F.to_matrix(columns, F.CLAIM_FEATURES)
    dates = claims["filing_date"].to_numpy().astype("datetime64[D]")
    test, valid = split_masks(dates)
    truth = None
    if "claims_truth" in data:
        t = data["claims_truth"].set_index("claim_id")
        truth = claims["claim_id"].map(t["true_irregular"]).to_numpy(dtype=np.float64)
        oracle = claims["claim_id"].map(t["true_irregular_prob"]).to_numpy(dtype=np.float64)
    y = claims["review_irregular"].to_numpy(dtype=np.float64)
    prep = Prepared(x, y, claims["claim_id"].to_numpy(), dates, test, valid, truth)
    if truth is not None:
        prep.extra["oracle_score"] = oracle
    return prep


def lgd_matrix_of(
    data: Mapping[str, pd.DataFrame],
    valuation: LoadedModel | None,
    *,
    history: ChannelHistory | None = None,
    features: Sequence[F.FeatureSpec] = F.LGD_FEATURES,
) -> FloatArray:
    """LGD model inputs of every loan (:data:`scoring.features.LGD_FEATURES`), as of its origination.

    The economy is the figure published by the origination date.  The channel history is
    ``history`` (a trained model's stored table, as an assessment would read it) or, when None,
    point in time from the data's own disposals: those finished strictly before each loan's
    origination date (no loan ever sees its own outcome, nor one that came after its date);
    NaN where the data has no disposal outcomes.  Columns follow ``features`` (a model's own).
    """
    loans = data["loans"]
    ent = data["enterprises"].set_index("enterprise_id").loc[loans["enterprise_id"]].reset_index()
    summary, value = package_values(data, valuation)
    day = loans["origination_date"].to_numpy().astype("datetime64[D]")
    industry = F.encode_category(ent["industry"].to_numpy(dtype=object), INDUSTRIES)
    if history is not None:
        past = np.array([history.value_of(i) for i in ent["industry"].to_numpy(dtype=object)], dtype=np.float64)
    elif "realised_lgd" not in data["outcomes"] or "disposal_date" not in data["outcomes"]:
        past = np.full(len(loans), np.nan)
    else:
        outcomes = data["outcomes"].set_index("loan_id")
        finished = loans["loan_id"].map(outcomes["disposal_date"])
        past = history_before(
            industry,
            day,
            past_industry=industry,
            past_lgd=loans["loan_id"].map(outcomes["realised_lgd"]).to_numpy(dtype=np.float64),
            past_day=finished.to_numpy().astype("datetime64[D]"),
        )
    columns = F.lgd_columns(
        cols(ent), cols(loans), cols(summary), value, economy=growth_on(day, load_economy()), history=past
    )
    return F.to_matrix(columns, features)


def prepare_lgd(data: Mapping[str, pd.DataFrame], valuation: LoadedModel | None) -> Prepared:
    """Rows: defaulted loans whose disposal finished; target: realised (discounted) LGD.

    Inputs are what was known at origination (:func:`lgd_matrix_of`: the collateral valued by
    the valuation model as for PD, the economy then published, the industry's disposals finished
    before that day); the split is out of time by default date, so the test set holds the latest
    defaults.
    """
    loans = data["loans"]
    outcomes = data["outcomes"].set_index("loan_id")
    if "realised_lgd" not in outcomes:
        raise ValueError("outcomes has no realised_lgd column: the lgd model needs disposal outcomes")
    x = lgd_matrix_of(data, valuation)
    y = loans["loan_id"].map(outcomes["realised_lgd"]).to_numpy(dtype=np.float64)
    keep = ~np.isnan(y)
    if keep.sum() < 50:
        # a TableError: the command line refuses in one line (exit 2), as for any data that cannot be used
        raise TableError(f"only {int(keep.sum())} finished disposals: too few to train the lgd model (50 at least)")
    dates = loans["loan_id"].map(outcomes["default_date"]).to_numpy().astype("datetime64[D]")[keep]
    test, valid = split_masks(dates)
    truth = None
    if "loans_truth" in data and "true_lgd" in data["loans_truth"]:
        truth = loans["loan_id"].map(data["loans_truth"].set_index("loan_id")["true_lgd"]).to_numpy(dtype=np.float64)
        truth = truth[keep]
    cash = loans["loan_id"].map(outcomes["disposal_date"]) if "disposal_date" in outcomes else None
    default = loans["loan_id"].map(outcomes["default_date"])
    months = np.full(len(loans), np.nan) if cash is None else ((cash - default).dt.days / (365.25 / 12)).to_numpy()
    extra = {"months_to_cash": np.asarray(months, dtype=np.float64)[keep]}
    if cash is not None:
        extra["disposal_day"] = cash.to_numpy().astype("datetime64[D]").astype(np.float64)[keep]  # days since 1970
    # The model is applied to every application, not only to loans that defaulted: its drift
    # reference is the whole book of the training period (every loan's inputs, by origination day).
    extra["population_x"] = x
    extra["population_day"] = loans["origination_date"].to_numpy().astype("datetime64[D]").astype(np.float64)
    return Prepared(x[keep], y[keep], loans["loan_id"].to_numpy()[keep], dates, test, valid, truth, extra)
