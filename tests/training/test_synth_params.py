"""Every generator parameter is typed, frozen and documented with its source."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

import training.synth
from scoring.vocab import INDUSTRIES, PRICE_SOURCES, REGIONS, TECH_FIELDS
from training.synth.params import DEFAULT, PRICE_SOURCE_BIAS, parameter_rows, render_parameter_table

DOC = Path(training.synth.__file__).parent / "parameters.md"


def test_every_parameter_has_a_description_and_a_source() -> None:
    rows = list(parameter_rows())
    assert len(rows) > 100
    for name, description, _, source in rows:
        assert description, name
        assert source, name
        # A source names DESIGN.md, a public rule or figure ("public: ..."), the scoring configuration
        # it shares with the income approach ("shared: ..."), or says it is an assumption.
        assert source.startswith(("public:", "shared:")) or any(
            w in source for w in ("DESIGN.md", "assumption", "standard")
        ), name


def test_parameters_md_embeds_the_current_parameter_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert render_parameter_table() in text, "regenerate the table in parameters.md from render_parameter_table()"
    assert "SYNTHETIC" in text


def test_params_are_frozen() -> None:
    with pytest.raises(pydantic.ValidationError):
        DEFAULT.pd.intercept = 0.0  # type: ignore[misc]


def test_vocabulary_keyed_parameters_cover_the_vocabularies() -> None:
    assert set(PRICE_SOURCE_BIAS) == set(PRICE_SOURCES) == set(DEFAULT.price.source_bias)
    assert set(DEFAULT.enterprise.region_mix) == set(REGIONS)
    assert set(DEFAULT.enterprise.industry_mix_first) == set(INDUSTRIES) == set(DEFAULT.pd.industry)
    assert set(DEFAULT.value.royalty_ranges) == set(TECH_FIELDS)
    assert set(DEFAULT.patent.tech_field_by_industry) == set(INDUSTRIES)
    for lo, hi in DEFAULT.value.royalty_ranges.values():
        assert 0 < lo < hi <= 0.08
    assert sum(DEFAULT.patent.patents_per_loan_probs) == pytest.approx(1.0)
