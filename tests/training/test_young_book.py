"""A young book (a service export, say) trains what it can and says in one line what it cannot measure."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import pytest

from scoring.lifetime import TermStructure
from scoring.models import LoadedModel
from training.contract import load_dataset
from training.evaluate import evaluate_lifetime
from training.prepare import Prepared, check_binary_split, prepare_pd
from training.tabular import TableError


class _Constant:
    """A stand-in for a loaded model: the same raw score for every row."""

    def raw(self, x: np.ndarray) -> np.ndarray:
        return np.full(len(x), -3.0)


def _prepared(n: int, *, observed_months: float) -> Prepared:
    test = np.arange(n) >= n // 2
    return Prepared(
        x=np.zeros((n, 1)),
        y=(np.arange(n) % 3 == 0).astype(np.float64),
        ids=np.arange(n),
        dates=np.full(n, np.datetime64("2026-06-01")),
        test=test,
        valid=np.zeros(n, dtype=bool),
        extra={
            "tenor_months": np.full(n, 24.0),
            "observed_months": np.full(n, observed_months),
            "default_months": np.where(np.arange(n) % 3 == 0, 4.0, np.nan),
        },
    )


def test_lifetime_figures_are_left_unmeasured_when_no_test_loan_has_run_its_tenor() -> None:
    model = cast(LoadedModel, _Constant())
    m = evaluate_lifetime(model, _prepared(40, observed_months=6.0), TermStructure(shape=0.9))
    assert m["n_fully_observed"] == 0 and m["model"] is None
    assert "whole tenor" in m["not_measured"]
    full = evaluate_lifetime(model, _prepared(40, observed_months=24.0), TermStructure(shape=0.9))
    assert full["n_fully_observed"] == 20 and full["model"]["n"] == 20 and "not_measured" not in full


def test_a_split_with_one_outcome_on_a_side_is_refused_in_one_line() -> None:
    y = np.array([True, False, True, False, True, False])
    check_binary_split(y, np.array([False, False, False, False, True, True]), model="pd", what="defaults")  # passes
    with pytest.raises(TableError, match=r"out-of-time test set .* holds 0 loans"):
        check_binary_split(y, np.zeros(6, dtype=bool), model="pd", what="defaults")
    with pytest.raises(TableError, match=r"training set .* holds 3 loans with 0 defaults"):
        check_binary_split(y, y.copy(), model="pd", what="defaults")


def test_loans_without_an_outcome_leave_every_pd_column_alike(portfolio_dir: Path) -> None:
    """A service export holds loans with no outcome yet: they drop out of x, y and every extra column alike."""
    data = dict(load_dataset(portfolio_dir))
    dropped = data["loans"]["loan_id"].iloc[:7]
    data["outcomes"] = data["outcomes"][~data["outcomes"]["loan_id"].isin(dropped)]
    prep = prepare_pd(data, None)
    n = len(data["loans"]) - 7
    assert prep.x.shape[0] == len(prep.y) == len(prep.test) == n
    assert {k: len(v) for k, v in prep.extra.items()} == dict.fromkeys(prep.extra, n)
