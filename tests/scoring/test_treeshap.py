"""The TreeSHAP kernel equals LightGBM's pred_contrib on every split rule, and the gate refuses what it cannot prove."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models_store import ModelStore
from scoring.treeshap import TreeShap, explainer_for
from scoring.treeshap.explainer import ROW_KERNEL_MAX_ROWS
from scoring.treeshap.gate import SPECIALS, probe_rows, probe_values
from scoring.treeshap.linear import build_edges
from scoring.treeshap.tables import MAX_LEAVES
from scoring.treeshap.trees import parse_model
from training.contract import load_dataset
from training.pipeline import RunResult
from training.prepare import prepare_claims, prepare_pd, prepare_valuation
from training.registry import load_version

TOL = 1e-9
N = 3000


def _train(
    x: np.ndarray, y: np.ndarray, *, rounds: int = 25, cats: list[int] | None = None, **params: Any
) -> lgb.Booster:
    base = {"objective": "regression", "verbosity": -1, "num_leaves": 15, "min_data_in_leaf": 5, "seed": 1}
    data = lgb.Dataset(x, y, categorical_feature=cats or "auto", free_raw_data=False)
    return lgb.train({**base, **params}, data, num_boost_round=rounds)


def _pred_contrib(booster: lgb.Booster, rows: np.ndarray) -> np.ndarray:
    return np.asarray(booster.predict(rows, pred_contrib=True, num_threads=1), dtype=np.float64)


def _decision_types(booster: lgb.Booster) -> set[int]:
    return {int(d) for t in parse_model(booster.model_to_string()).trees for d in t.decision_type}


def _assert_exact(booster: lgb.Booster, rows: np.ndarray) -> np.ndarray:
    """Both kernels == pred_contrib within TOL of the largest contribution; the bias column bit-identical.

    The table kernel on all rows at once, the edge (single-row) kernel one row per call, as each serves.
    """
    kernel = TreeShap.from_model_text(booster.model_to_string())
    got = kernel.contributions(rows)
    by_row = np.concatenate([kernel.row_contributions(rows[i : i + 1]) for i in range(len(rows))])
    ref = _pred_contrib(booster, rows)
    scale = max(float(np.abs(ref[:, :-1]).max()), 1.0)
    for out in (got, by_row):
        assert out.shape == ref.shape
        assert np.abs(out - ref).max() <= TOL * scale
        assert np.array_equal(out[:, -1], ref[:, -1])
    return got


def _rows_hitting_every_leaf(booster: lgb.Booster, data: np.ndarray) -> np.ndarray:
    """The training rows, the gate's probe rows and random rows; asserts every leaf of every tree is reached."""
    kernel = TreeShap.from_model_text(booster.model_to_string())
    decisions, values = probe_rows(kernel.tables)
    rows = np.concatenate([data, decisions, values])
    leaves = np.asarray(booster.predict(rows, pred_leaf=True)).reshape(len(rows), -1)
    for t, tree in enumerate(parse_model(booster.model_to_string()).trees):
        assert set(leaves[:, t].tolist()) == set(range(tree.num_leaves)), f"tree {t} has leaves no row reaches"
    return rows


@pytest.fixture(scope="module")
def rng() -> np.random.Generator:
    return np.random.default_rng(5)


def _missing_data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """f0 missing where y is low (NaN learns to go left), f1 missing where y is high (right), f2, f3 plain."""
    x = rng.normal(size=(N, 4))
    y = x[:, 0] + 0.8 * x[:, 1] + 0.3 * x[:, 2] * x[:, 3]
    x[y < -1.2, 0] = np.nan
    x[y > 1.2, 1] = np.nan
    x[rng.random(N) < 0.1, 2] = 0.0
    return x, y


def test_nan_missing_type_with_default_left_and_right(rng: np.random.Generator) -> None:
    x, y = _missing_data(rng)
    booster = _train(x, y)
    kinds = _decision_types(booster)
    assert {8, 8 | 2} <= kinds, kinds  # missing type NaN, default right and default left
    _assert_exact(booster, _rows_hitting_every_leaf(booster, x))


def test_zero_missing_type(rng: np.random.Generator) -> None:
    x = rng.normal(size=(N, 3))
    x[rng.random(N) < 0.3, 0] = 0.0
    y = np.where(x[:, 0] == 0, 2.0, x[:, 0]) + x[:, 1]
    booster = _train(x, y, zero_as_missing=True)
    assert any((d >> 2) & 3 == 1 for d in _decision_types(booster))
    rows = _rows_hitting_every_leaf(booster, x)
    tiny = np.array([[v, 0.3, 0.1] for v in (0.0, -0.0, 1e-36, -1e-36, 1e-35, 2e-35, -2e-35, np.nan)])
    _assert_exact(booster, np.concatenate([rows, tiny]))


def test_no_missing_handling(rng: np.random.Generator) -> None:
    x, y = _missing_data(rng)
    booster = _train(np.nan_to_num(x), y, use_missing=False)
    assert _decision_types(booster) <= {0, 2} and _decision_types(booster)  # missing type None
    _assert_exact(booster, _rows_hitting_every_leaf(booster, x))  # NaN rows count as 0


def _categorical_data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(N, 3))
    x[:, 0] = rng.integers(0, 70, N)  # a bitset of three words
    x[:, 2] = rng.integers(0, 3, N)  # few categories: one-hot style splits
    effect = np.sin(x[:, 0] * 1.7) * 2
    y = effect + x[:, 1] + (x[:, 2] == 1)
    x[rng.random(N) < 0.05, 0] = np.nan
    return x, y


@pytest.mark.parametrize("objective", ["regression", "binary"])
def test_categorical_splits_with_seen_unseen_negative_nan_and_huge_categories(
    rng: np.random.Generator, objective: str
) -> None:
    x, y = _categorical_data(rng)
    target = (y > np.median(y)).astype(float) if objective == "binary" else y
    booster = _train(
        x, target, cats=[0, 2], objective=objective, max_cat_to_onehot=4, cat_smooth=1, min_data_per_group=5
    )
    kinds = _decision_types(booster)
    assert any(d & 1 for d in kinds) and any(not d & 1 for d in kinds)
    tables = TreeShap.from_model_text(booster.model_to_string()).tables
    assert max(tables.node_cat[tables.nodes_i[:, 1] & 1 == 1, 1]) >= 2  # a bitset longer than one word
    odd = [5, 69, 70, 71, 96, 200, -1, -0.5, -0.99, 3.7, np.nan, 2.0**31 - 1, 2.0**31, 2.0**32 + 5, 1e20, -1e20, np.inf]
    rows = _rows_hitting_every_leaf(booster, x)
    extra = np.tile(rows[:1], (len(odd), 1))
    extra[:, 0] = odd
    extra2 = extra.copy()
    extra2[:, 2] = odd
    _assert_exact(booster, np.concatenate([rows, extra, extra2]))


def test_binary_objective_with_every_missing_rule(rng: np.random.Generator) -> None:
    x, y = _missing_data(rng)
    booster = _train(x, (y > 0).astype(float), objective="binary", rounds=40)
    _assert_exact(booster, _rows_hitting_every_leaf(booster, x))


def test_single_leaf_trees(rng: np.random.Generator) -> None:
    x = rng.normal(size=(200, 2))
    constant = _train(x, np.full(200, 3.0), rounds=3)
    assert parse_model(constant.model_to_string()).trees[0].num_leaves == 1
    got = _assert_exact(constant, x)
    assert np.all(got[:, :-1] == 0) and np.all(got[:, -1] == 3.0)
    # a split tree, then one without a split, then split trees: the text LightGBM would write
    split = _train(x, x[:, 0] * 2, rounds=3)
    text = split.model_to_string()
    single = re.search(r"Tree=0\n.*?\n\n\n", constant.model_to_string(), re.S)
    assert single is not None
    trees = re.findall(r"Tree=\d+\n.*?\n\n\n", text, re.S)
    blocks = [trees[0], single.group(0), *trees[1:]]
    body = "".join(re.sub(r"^Tree=\d+", f"Tree={i}", b) for i, b in enumerate(blocks))
    head = re.sub(r"tree_sizes=.*\n", "", text.split("Tree=0", 1)[0])
    mixed = lgb.Booster(model_str=head + body + "end of trees" + text.split("end of trees", 1)[1])
    assert mixed.num_trees() == 4
    _assert_exact(mixed, np.concatenate([x, probe_rows(TreeShap.from_model_text(mixed.model_to_string()).tables)[0]]))


def test_tree_ranges_add_up_and_threads_agree(rng: np.random.Generator) -> None:
    x, y = _missing_data(rng)
    booster = _train(x, y, rounds=30)
    kernel = TreeShap.from_model_text(booster.model_to_string())
    whole = kernel.contributions(x)
    parts = sum(kernel.contributions(x, trees=r) for r in ((0, 7), (7, 19), (19, 30)))
    assert np.abs(parts - whole).max() < 1e-12
    assert np.array_equal(kernel.contributions(x, threads=2), whole)


def test_gate_passes_a_supported_model_with_its_figures(rng: np.random.Generator) -> None:
    x, y = _categorical_data(rng)
    explainer = explainer_for(_train(x, y, cats=[0, 2]))
    gate = explainer.gate
    assert gate.supported and explainer.uses_kernel
    assert gate.max_abs_diff is not None and gate.max_abs_diff < 1e-12
    assert gate.rows > 70 and gate.table_bytes > 0 and "exact" in gate.reason
    # the single-row kernel has its own gate, on the same rows
    assert gate.row_kernel and "exact" in gate.row_reason and "single rows" in gate.row_reason
    assert gate.row_max_abs_diff is not None and gate.row_max_abs_diff < 1e-12
    assert 0 < gate.edge_bytes < gate.table_bytes


def test_small_calls_go_to_the_edge_kernel_and_batches_to_the_tables(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, y = _categorical_data(rng)
    explainer = explainer_for(_train(x, y, cats=[0, 2], rounds=10))
    assert explainer.kernel is not None and explainer.gate.row_kernel
    calls: list[str] = []

    def spy(name: str) -> Callable[..., np.ndarray]:
        real: Callable[..., np.ndarray] = getattr(TreeShap, name)

        def called(self: TreeShap, rows: np.ndarray, **kw: Any) -> np.ndarray:
            calls.append(name)
            return real(self, rows, **kw)

        return called

    for name in ("contributions", "row_contributions"):
        monkeypatch.setattr(TreeShap, name, spy(name))
    ref = _pred_contrib(explainer.booster, x[:100])
    for n in (1, ROW_KERNEL_MAX_ROWS, ROW_KERNEL_MAX_ROWS + 1, 100):
        got = explainer.contributions(x[:n])
        assert np.abs(got - ref[:n]).max() <= TOL * np.abs(ref[:, :-1]).max()
    assert calls == ["row_contributions", "row_contributions", "contributions", "contributions"]


def test_an_edge_kernel_that_disagrees_leaves_single_rows_to_the_tables(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, y = _missing_data(rng)
    booster = _train(x, y, rounds=5)
    real: Callable[..., np.ndarray] = TreeShap.row_contributions

    def off_by_a_little(self: TreeShap, rows: np.ndarray) -> np.ndarray:
        out = real(self, rows)
        out[0, 0] += 1e-6
        return out

    monkeypatch.setattr(TreeShap, "row_contributions", off_by_a_little)
    explainer = explainer_for(booster)
    gate = explainer.gate
    assert gate.supported and explainer.uses_kernel  # the table kernel still serves
    assert not gate.row_kernel and "differs" in gate.row_reason and "table kernel" in gate.row_reason
    assert gate.row_max_abs_diff == pytest.approx(1e-6, rel=1e-3)
    got = explainer.contributions(x[:1])  # a single row, from the tables: exact
    assert np.abs(got - _pred_contrib(booster, x[:1])).max() < 1e-12


def test_gate_refuses_linear_trees_and_multiclass_with_a_reason(rng: np.random.Generator) -> None:
    x, y = _missing_data(rng)
    linear = explainer_for(_train(np.nan_to_num(x), y, linear_tree=True, rounds=5))
    assert not linear.gate.supported and linear.kernel is None
    assert "linear" in linear.gate.reason
    multi = explainer_for(_train(x, np.digitize(y, [-0.5, 0.5]), objective="multiclass", num_class=3, rounds=5))
    assert not multi.gate.supported and "multiclass" in multi.gate.reason
    # the fallback is pred_contrib, as before the kernel: per class for multiclass, an error for linear trees
    assert np.array_equal(multi.contributions(x[:5]), _pred_contrib(multi.booster, x[:5]))
    with pytest.raises(lgb.basic.LightGBMError, match="linear trees"):
        linear.contributions(x[:5])


def test_trees_up_to_max_leaves_are_exact_and_bigger_ones_fall_back(rng: np.random.Generator) -> None:
    # the int16 entries hold a parent node and its edge in one value: the largest tree must still be exact
    x, y = rng.normal(size=(20_000, 5)), rng.normal(size=20_000)
    params: dict[str, Any] = {"min_data_in_leaf": 2, "min_sum_hessian_in_leaf": 0.0, "rounds": 2}
    at = explainer_for(_train(x, y, num_leaves=MAX_LEAVES, **params))
    assert max(t["num_leaves"] for t in at.booster.dump_model()["tree_info"]) == MAX_LEAVES
    assert at.gate.supported, at.gate.reason
    got, ref = at.contributions(x[:50]), _pred_contrib(at.booster, x[:50])
    assert np.abs(got - ref).max() <= 1e-12 and np.array_equal(got[:, -1], ref[:, -1])
    assert at.gate.row_kernel, at.gate.row_reason  # edges numbered up to 2 * MAX_LEAVES - 1 in int16
    by_row = np.concatenate([at.contributions(x[i : i + 1]) for i in range(5)])
    assert np.abs(by_row - ref[:5]).max() <= 1e-12
    over = explainer_for(_train(x, y, num_leaves=MAX_LEAVES + 1, **params))
    assert not over.gate.supported and over.kernel is None and f"at most {MAX_LEAVES}" in over.gate.reason
    assert np.array_equal(over.contributions(x[:5]), _pred_contrib(over.booster, x[:5]))


def test_gate_catches_a_kernel_that_disagrees(rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = _missing_data(rng)
    booster = _train(x, y, rounds=5)
    real: Callable[..., np.ndarray] = TreeShap.contributions

    def off_by_a_little(self: TreeShap, rows: np.ndarray, **kw: Any) -> np.ndarray:
        out = real(self, rows, **kw)
        out[0, 0] += 1e-6
        return out

    monkeypatch.setattr(TreeShap, "contributions", off_by_a_little)
    explainer = explainer_for(booster)
    assert not explainer.gate.supported and "differ" in explainer.gate.reason
    assert explainer.gate.max_abs_diff == pytest.approx(1e-6, rel=1e-3)


def test_probe_values_cover_thresholds_and_their_neighbours(rng: np.random.Generator) -> None:
    x, y = _missing_data(rng)
    kernel = TreeShap.from_model_text(_train(x, y, rounds=3).model_to_string())
    values = probe_values(kernel.tables)
    for (feature, _), threshold in zip(kernel.tables.nodes_i.tolist(), kernel.tables.nodes_f.tolist(), strict=True):
        assert {threshold, np.nextafter(threshold, -np.inf), np.nextafter(threshold, np.inf)} <= set(values[feature])
    assert all(np.isnan(v).any() and np.isinf(v).any() for v in values)
    assert len(SPECIALS) > 20


@pytest.fixture(scope="module")
def mixed_model(rng: np.random.Generator) -> tuple[lgb.Booster, TreeShap, list[np.ndarray]]:
    x, y = _categorical_data(rng)
    x[:, 1][rng.random(N) < 0.1] = np.nan
    booster = _train(x, y, cats=[0], rounds=20)
    kernel = TreeShap.from_model_text(booster.model_to_string())
    return booster, kernel, probe_values(kernel.tables)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_rows_of_probe_values_and_floats(
    mixed_model: tuple[lgb.Booster, TreeShap, list[np.ndarray]], data: st.DataObject
) -> None:
    booster, kernel, values = mixed_model
    row = [
        data.draw(st.one_of(st.sampled_from(v.tolist()), st.floats(allow_nan=True, allow_infinity=True)))
        for v in values
    ]
    rows = np.array([row], dtype=np.float64)
    ref = _pred_contrib(booster, rows)
    for got in (kernel.contributions(rows), kernel.row_contributions(rows)):
        assert np.abs(got - ref).max() <= TOL * max(float(np.abs(ref[:, :-1]).max()), 1.0)


@pytest.mark.parametrize("name", ["valuation", "pd", "claim_review"])
def test_the_pipelines_models_are_explained_by_the_kernel_exactly(
    trained: tuple[Path, list[RunResult]], portfolio_dir: Path, name: str
) -> None:
    store = ModelStore(trained[0])
    model = load_version(store, f"{name}@champion")
    gates = model.shap_gates()
    assert gates.keys() == model.boosters.keys()
    assert all(g.supported and model.explainer(r).uses_kernel for r, g in gates.items()), gates
    # the gate ran at registration too, on the stored model text, and the manifest says so
    assert all(g.row_kernel for g in gates.values()), gates  # and the single-row kernel passed its own gate
    recorded = model.manifest["extra"]["shap_kernel"]
    assert {r: g["supported"] for r, g in recorded.items()} == dict.fromkeys(gates, True)
    assert {r: g["row_kernel"] for r, g in recorded.items()} == dict.fromkeys(gates, True)
    data = load_dataset(portfolio_dir)
    valuation = load_version(store, "valuation@champion")
    prep = {
        "valuation": lambda: prepare_valuation(data),
        "pd": lambda: prepare_pd(data, valuation),
        "claim_review": lambda: prepare_claims(data, valuation),
    }[name]()
    x = prep.x[:300]
    for role, booster in model.boosters.items():
        ref = _pred_contrib(booster, x)
        got = model.explainer(role).contributions(x)
        assert np.abs(got - ref).max() <= TOL * np.abs(ref[:, :-1]).max()
        one = np.concatenate([model.explainer(role).contributions(x[i : i + 1]) for i in range(40)])
        assert np.abs(one - ref[:40]).max() <= TOL * np.abs(ref[:, :-1]).max()
        assert np.array_equal(got[:, -1], ref[:, -1])
        np.testing.assert_allclose(model.contributions(x, role).sum(axis=1), model.raw(x, role), atol=1e-9)


def test_a_kernel_that_cannot_be_built_falls_back_visibly(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, y = _missing_data(rng)
    booster = _train(x, y, rounds=3)

    def broken(*_: Any) -> None:
        raise RuntimeError("no tables today")

    monkeypatch.setattr("scoring.treeshap.explainer.build_tables", broken)
    explainer = explainer_for(booster)
    assert not explainer.uses_kernel and "no tables today" in explainer.gate.reason
    assert np.array_equal(explainer.contributions(x[:3]), _pred_contrib(booster, x[:3]))


def test_threads_calling_one_kernel_at_once_get_exact_answers(rng: np.random.Generator) -> None:
    """The service's thread pool shares one kernel per booster: calls must not share scratch space."""
    x, y = _categorical_data(rng)
    booster = _train(x, y, cats=[0, 2], rounds=20)
    kernel = TreeShap.from_model_text(booster.model_to_string())
    rows = [x[i : i + 1 + i % 3] for i in range(0, 600, 3)]
    for explain in (kernel.contributions, kernel.row_contributions):  # both kernels release the GIL
        expected = [explain(r) for r in rows]
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(explain, rows * 3))
        assert all(np.array_equal(got, expected[i % len(rows)]) for i, got in enumerate(results))


def test_a_model_beyond_the_edge_kernel_keeps_the_tables_for_single_rows_and_says_why(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, y = _missing_data(rng)
    booster = _train(x, y, rounds=3)
    tree = parse_model(booster.model_to_string()).trees[0]
    # a child numbered before its parent (LightGBM never writes one): the edge arrays refuse it
    swapped = dataclasses.replace(tree, left_child=tree.left_child.copy())
    swapped.left_child[1] = 0
    with pytest.raises(ValueError, match="child before its parent"):
        build_edges(dataclasses.replace(parse_model(booster.model_to_string()), trees=(swapped,)))

    def refuse(_: Any) -> None:
        raise ValueError("too deep for today")

    monkeypatch.setattr("scoring.treeshap.explainer.build_edges", refuse)
    explainer = explainer_for(booster)
    assert explainer.uses_kernel and not explainer.gate.row_kernel
    assert "too deep for today" in explainer.gate.row_reason and "table kernel" in explainer.gate.row_reason
    got = explainer.contributions(x[:1])
    assert np.abs(got - _pred_contrib(booster, x[:1])).max() < 1e-12
