"""Designs have no claims: refused if given, missing as model inputs, never a reason for a design's value."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from models_store import ModelStore
from scoring.explain import top_reasons
from scoring.features import VALUATION_FEATURES, not_applicable
from scoring.models import Explanation, LoadedModel
from scoring.pipeline import run_valuation
from scoring.policy import ScoringConfig, load_scoring_config
from scoring.types import FieldError, Patent
from scoring.valuation import valuation_matrix
from service.bundle import load_champion
from tests.patent_numbers import fresh_patent_id
from training.pipeline import RunResult

CONFIG = load_scoring_config()
CLAIMS = {"claims_count", "independent_claims"}


def _patent(patent_type: str = "design", **over: object) -> Patent:
    base: dict[str, object] = {
        "patent_id": fresh_patent_id(patent_type),
        "patent_type": patent_type,
        "ipc_section": "F",
        "tech_field": "consumer",
        "filing_date": date(2022, 3, 1),
        "grant_date": date(2022, 9, 1),
        "owner_id": "E1",
    }
    return Patent.model_validate({**base, **over})


def test_a_design_with_claims_is_refused_naming_the_field() -> None:
    for name in sorted(CLAIMS):
        with pytest.raises(ValueError, match=f"{name}: a design patent has no claims") as info:
            _patent("design", **{name: 2})
        cause = info.value.errors()[0]["ctx"]["error"]  # type: ignore[attr-defined]
        assert isinstance(cause, FieldError) and cause.field == name
    assert _patent().claims_count is None and _patent(claims_count=None).independent_claims is None


def test_inventions_and_utility_models_keep_their_claims_and_the_old_defaults() -> None:
    assert (_patent("invention").claims_count, _patent("invention").independent_claims) == (10, 1)
    um = _patent("utility_model", claims_count=7, independent_claims=2)
    assert (um.claims_count, um.independent_claims) == (7, 2)
    assert _patent("utility_model", claims_count=None).claims_count == 10


def test_claims_are_missing_model_inputs_for_designs_only() -> None:
    x = valuation_matrix([_patent(), _patent("invention", claims_count=12)], date(2026, 6, 30), None)
    names = [s.name for s in VALUATION_FEATURES]
    for name in CLAIMS:
        j = names.index(name)
        assert math.isnan(x[0, j]) and not math.isnan(x[1, j])
    assert not_applicable("design") == CLAIMS and not_applicable("invention") == frozenset()


def test_the_reason_builder_skips_features_that_do_not_apply() -> None:
    ex = Explanation(
        space="log CNY",
        base_value=15.0,
        output=15.9,
        contributions={"claims_count": 0.5, "independent_claims": -0.3, "family_size": 0.2, "age_years": 0.1,
                       "forward_citations": 0.05, "licences_count": 0.03, "patent_type": 0.02},
    )  # fmt: skip
    texts = CONFIG.reasons.valuation
    cited = [r.feature for r in top_reasons(ex, texts, lang="en", k=4, direction="both")]
    assert cited[:2] == ["claims_count", "independent_claims"]  # an invention's reasons may cite them
    design = top_reasons(ex, texts, lang="en", k=4, direction="both", exclude=not_applicable("design"))
    assert [r.feature for r in design] == ["family_size", "age_years", "forward_citations", "licences_count"]


@pytest.fixture(scope="module")
def valuation_model(trained: tuple[Path, list[RunResult]]) -> tuple[LoadedModel, ScoringConfig]:
    return load_champion(ModelStore(trained[0]), "valuation"), CONFIG


def test_designs_reasons_never_cite_claims_on_the_trained_model(
    valuation_model: tuple[LoadedModel, ScoringConfig],
) -> None:
    model, config = valuation_model
    rng = np.random.default_rng(3)
    designs = [
        _patent(
            patent_id=fresh_patent_id("design"),
            filing_date=date(2021, 6, 1 + i % 28),
            grant_date=date(2022, 1, 1 + i % 28),
            forward_citations=int(rng.integers(0, 30)),
            family_size=int(rng.integers(1, 6)),
            licences_count=int(rng.integers(0, 3)),
            tech_field=str(rng.choice(["consumer", "electronics", "software"])),
        )
        for i in range(40)
    ]
    result = run_valuation(
        model, designs, as_of=date(2026, 6, 30), config=config, caps=config.ltv.default, lang="zh", pledgor="E1"
    )
    for v in result.patents:
        assert v.reasons and not {r.feature for r in v.reasons} & CLAIMS
        assert "权利要求" not in "".join(r.text for r in v.reasons)
