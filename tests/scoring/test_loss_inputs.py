"""The lgd model's economy and channel-history inputs (issue 12): point in time, no leakage, stated."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from models_store import ModelStore
from scoring.economy import EconomySeries, economy_on, growth_on, load_economy
from scoring.features import LGD_FEATURES
from scoring.lgd import (
    HISTORY_SHRINK,
    ChannelHistory,
    channel_history,
    history_before,
    history_of,
    history_value,
    lgd_matrix,
)
from scoring.models import LoadedModel
from scoring.pipeline import run_assessment
from scoring.policy import load_scoring_config
from scoring.types import Borrower, LoanTerms, Patent
from scoring.vocab import INDUSTRIES
from service.bundle import load_champion
from service.schemas.scoring import EXAMPLE_BORROWER, EXAMPLE_PATENT
from tests.factories import TEST_SIGNING_KEY, Trained
from tests.zh_scan import english_words
from training.contract import load_dataset
from training.prepare import lgd_matrix_of
from training.synth.disposal import expected_lgd
from training.synth.params import DisposalParams

SERIES = load_economy()
D = np.datetime64


def test_bundled_series_is_sourced_and_marked_to_check() -> None:
    assert "National Bureau of Statistics" in SERIES.source and "国家统计局" in SERIES.source_zh
    assert "to check" in SERIES.status
    assert SERIES.by_year[2020] == 2.3 and SERIES.by_year[2021] == 8.1


def test_a_figure_counts_only_from_its_publication_day() -> None:
    """2020's figure is published on 20 January 2021: the day before sees 2019's."""
    got = growth_on(np.array(["2021-01-19", "2021-01-20", "2021-12-31"], dtype="datetime64[D]"), SERIES)
    assert got.tolist() == [SERIES.by_year[2019], SERIES.by_year[2020], SERIES.by_year[2020]]


def test_no_date_ever_sees_its_own_year_or_a_later_one() -> None:
    start = date(2014, 1, 20)  # 2013, the first year listed, is published that day
    for k in range(0, 13 * 365, 17):
        day = start + timedelta(days=k)
        seen = economy_on(day, SERIES)
        assert seen.year is not None and seen.year < day.year, day
        assert seen.value == SERIES.by_year[seen.year]


def test_past_the_series_the_last_year_is_used_and_said_stale() -> None:
    now = economy_on(date(2026, 6, 30), SERIES)
    assert (now.year, now.stale) == (2025, False)
    later = economy_on(date(2028, 3, 1), SERIES)  # 2027's figure was due
    assert (later.year, later.value, later.stale) == (2025, SERIES.by_year[2025], True)
    before = economy_on(date(2013, 6, 1), SERIES)
    assert before.value is None and np.isnan(growth_on(D("2013-06-01"), SERIES)[0])


def test_a_series_with_a_gap_is_refused() -> None:
    with pytest.raises(ValueError, match="consecutive"):
        EconomySeries(
            indicator="x",
            source="s",
            source_zh="源",
            status="s",
            published_month_day="01-20",
            by_year={2019: 6.0, 2021: 8.1},
        )


def test_channel_history_shrinks_by_count_and_unknown_industry_gets_the_mean() -> None:
    codes = np.array([0.0] * 30 + [1.0] * 3 + [np.nan])
    lgd = np.array([0.8] * 30 + [0.2] * 3 + [0.5])
    table = channel_history(codes, lgd, shrink=30.0)
    overall = float(lgd.mean())
    assert table.overall_mean_lgd == pytest.approx(overall)
    many, few = table.by_industry[INDUSTRIES[0]], table.by_industry[INDUSTRIES[1]]
    assert many.value == pytest.approx((30 * 0.8 + 30 * overall) / 60)  # halfway at 30 disposals
    assert few.value == pytest.approx((3 * 0.2 + 30 * overall) / 33)  # three say little
    assert table.by_industry[INDUSTRIES[2]].n == 0
    assert table.by_industry[INDUSTRIES[2]].value == pytest.approx(overall)
    assert table.value_of("no_such_industry") == pytest.approx(overall)
    # As an assessment reads it, from a version's manifest.
    model = LoadedModel(
        name="lgd",
        version="t",
        task="fraction",
        features=(),
        boosters={},
        manifest={"extra": {"channel_history": table.model_dump()}},
    )
    assert history_value(model, INDUSTRIES[0]) == pytest.approx(many.value)
    assert history_value(model, "no_such_industry") == pytest.approx(overall)
    assert np.isnan(
        history_value(LoadedModel(name="lgd", version="old", task="fraction", features=(), boosters={}), "other")
    )


def test_history_counts_only_disposals_finished_strictly_before_the_date() -> None:
    past_day = np.array(["2021-01-01", "2021-06-01", "2022-01-01"], dtype="datetime64[D]")
    past_lgd = np.array([0.2, 0.9, 0.1])
    ind = np.array([0.0, 0.0, 0.0])
    day = np.array(["2020-12-31", "2021-06-01", "2021-06-02", "2023-01-01"], dtype="datetime64[D]")
    got = history_before(np.zeros(4), day, past_industry=ind, past_lgd=past_lgd, past_day=past_day, shrink=1.0)
    assert np.isnan(got[0])  # nothing had finished yet: missing, not a made-up mean
    assert got[1] == pytest.approx(0.2)  # the disposal finishing that same day is not yet known
    assert got[2] == pytest.approx((0.2 + 0.9 + 1.0 * 0.55) / 3)
    assert got[3] == pytest.approx((1.2 + 0.4) / 4)


def test_training_rows_never_see_a_later_outcome(portfolio_dir: Path) -> None:
    """Changing every disposal that finished on or after a day moves no loan originated before that day."""
    data = load_dataset(portfolio_dir)
    cut = D("2022-07-01")
    outcomes = data["outcomes"].copy()
    late = outcomes["disposal_date"].to_numpy().astype("datetime64[D]") >= cut
    assert late.any()
    changed = {**data, "outcomes": outcomes.assign(realised_lgd=np.where(late, 1.0, outcomes["realised_lgd"]))}
    col = [s.name for s in LGD_FEATURES].index("industry_lgd_history")
    a, b = lgd_matrix_of(data, None)[:, col], lgd_matrix_of(changed, None)[:, col]
    early = data["loans"]["origination_date"].to_numpy().astype("datetime64[D]") < cut
    np.testing.assert_array_equal(a[early], b[early])
    assert not np.allclose(a[~early], b[~early], equal_nan=True)


def test_the_oracle_and_the_disposals_move_with_the_economy_and_the_industry() -> None:
    p, n = DisposalParams(), 4000
    facts = {
        "ead": np.full(n, 3e6),
        "rate": np.full(n, 0.05),
        "value_at_default": np.full(n, 4e6),
        "ip_share": np.ones(n),
        "pooled": np.zeros(n, dtype=bool),
    }

    def lgd(growth: float, industry: str) -> float:
        rng = np.random.default_rng(3)
        code = np.full(n, INDUSTRIES.index(industry))
        return float(expected_lgd(rng, p, growth=np.full(n, growth), industry=code, **facts).mean())

    assert lgd(2.3, "other") > lgd(5.0, "other") + 0.03 > lgd(8.1, "other") + 0.06
    assert lgd(5.0, "baijiu") > lgd(5.0, "computing_power") + 0.05


@pytest.fixture(scope="module")
def champions(trained: Trained) -> dict[str, LoadedModel]:
    store = ModelStore(trained.models, signing_key=TEST_SIGNING_KEY.encode())
    return {name: load_champion(store, name) for name in ("valuation", "pd", "lgd")}


@pytest.fixture(scope="module")
def lgd_model(champions: dict[str, LoadedModel]) -> LoadedModel:
    return champions["lgd"]


def test_the_model_carries_its_channel_history_and_its_card_shows_it(lgd_model: LoadedModel, trained: Trained) -> None:
    history = history_of(lgd_model)
    assert history is not None and history.n >= 50 and history.shrink == HISTORY_SHRINK
    assert set(history.by_industry) == set(INDUSTRIES)
    assert sum(r.n for r in history.by_industry.values()) == history.n
    # Drift is judged against what an assessment reads: the economy (one figure a day) has no PSI.
    reference = lgd_model.manifest["extra"]["reference"]["features"]
    assert "economy_gdp_growth" not in reference and "industry_lgd_history" in reference
    run = next(r for r in trained.results if r.name == "lgd")
    assert ChannelHistory.model_validate(run.metrics["channel_history"]) == history


def test_an_assessment_reads_the_published_economy_and_its_industry_history(
    champions: dict[str, LoadedModel], lgd_model: LoadedModel
) -> None:
    config = load_scoring_config(None)
    borrower = Borrower.model_validate(EXAMPLE_BORROWER)
    loan = LoanTerms.model_validate({"amount_cny": 3_000_000, "tenor_months": 24, "purpose": "rd", "annual_rate": 0.05})
    patents = [Patent.model_validate(EXAMPLE_PATENT)]
    x = lgd_matrix(lgd_model, borrower=borrower, loan=loan, patents=patents, as_of=date(2026, 6, 30), package_value=1e6)
    names = lgd_model.feature_names
    history = history_of(lgd_model)
    assert history is not None
    assert x[0, names.index("economy_gdp_growth")] == SERIES.by_year[2025]
    assert x[0, names.index("industry_lgd_history")] == pytest.approx(history.value_of(borrower.industry))
    for as_of, year, stale in ((date(2026, 6, 30), 2025, False), (date(2028, 3, 1), 2025, True)):
        result = run_assessment(
            champions["valuation"],
            champions["pd"],
            borrower=borrower,
            loan=loan,
            patents=patents,
            as_of=as_of,
            config=config,
            caps=config.ltv.for_institution("bank_a"),
            lgd_model=lgd_model,
        )
        model = result.credit.lgd.model
        assert model is not None and model.economy is not None
        assert (model.economy.year, model.economy.stale) == (year, stale)


def test_reasons_of_the_new_inputs_are_in_both_languages() -> None:
    texts = load_scoring_config(None).reasons.lgd
    for name in ("economy_gdp_growth", "industry_lgd_history"):
        text = texts[name]
        assert text.code.startswith("LGD_")
        assert text.en and not english_words(text.zh), text.zh


def test_an_older_model_without_the_new_inputs_still_scores(lgd_model: LoadedModel) -> None:
    """A store whose lgd champion predates the inputs: its row is built in its own feature order."""
    features = tuple(f for f in lgd_model.features if f.name not in ("economy_gdp_growth", "industry_lgd_history"))
    older = LoadedModel(
        name="lgd", version="old", task=lgd_model.task, features=features, boosters={}, manifest={"extra": {}}
    )
    x = lgd_matrix(
        older,
        borrower=Borrower.model_validate(EXAMPLE_BORROWER),
        loan=LoanTerms.model_validate({"amount_cny": 3_000_000, "tenor_months": 24, "purpose": "rd"}),
        patents=[Patent.model_validate(EXAMPLE_PATENT)],
        as_of=date(2026, 6, 30),
        package_value=1e6,
    )
    assert x.shape == (1, len(features))
    full = lgd_matrix(
        lgd_model,
        borrower=Borrower.model_validate(EXAMPLE_BORROWER),
        loan=LoanTerms.model_validate({"amount_cny": 3_000_000, "tenor_months": 24, "purpose": "rd"}),
        patents=[Patent.model_validate(EXAMPLE_PATENT)],
        as_of=date(2026, 6, 30),
        package_value=1e6,
    )
    keep = [lgd_model.feature_names.index(f.name) for f in features]
    np.testing.assert_array_equal(x[0], full[0, keep])
