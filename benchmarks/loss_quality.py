"""Lifetime PD and LGD quality on a fresh synthetic portfolio, against the oracle (issue 12).

    .venv/bin/python benchmarks/loss_quality.py [--loans 20000] [--out benchmarks/results/loss_quality.md]

Trains the valuation, PD (with its term structure) and lgd models on one synthetic portfolio
(seed 5150) and evaluates them on another, never used in tests (seed 86421, same vintages):

- lifetime PD: AUC against realised defaults over the tenor (loans whose tenor ended before
  ``observed_until``), calibration by decile of the predicted lifetime PD (mean predicted, mean
  ``true_pd_tenor``, realised rate), mean absolute error against ``true_pd_tenor``; the oracle is
  ``true_pd_tenor`` itself;
- LGD: mean absolute error against ``true_lgd`` (every loan) and against realised LGDs (finished
  disposals), calibration by decile, beside the oracle (``true_lgd``) and main's haircut
  (``1 − 0.55 × 0.9 × P50 / EAD``, floored at 0.10);
- the lgd model's new inputs (issue 12): the same model trained and scored with the economy and
  the channel history blanked (LightGBM's missing), beside it, so their worth is measured on the
  same world; the channel history stored with the model;
- the ¥3m IP-only example application: PD, lifetime PD, LGD (model and floor) and EL.

Prints a Markdown report and writes it to ``--out``.  SYNTHETIC DATA throughout.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold

from scoring import features as F
from scoring.economy import growth_on, load_economy
from scoring.grades import load_grade_scale
from scoring.lgd import history_of
from scoring.lifetime import term_structure_of
from scoring.models import LoadedModel, sigmoid
from scoring.pipeline import run_assessment
from scoring.policy import load_scoring_config
from scoring.types import Borrower, LoanTerms, Patent
from service.schemas.scoring import EXAMPLE_BORROWER, EXAMPLE_LOAN, EXAMPLE_PATENT
from training.evaluate import by_decile, lifetime_pds
from training.fit import BASE_PARAMS, LGD_PARAMS, fit_lgd
from training.pipeline import fit_and_evaluate, fitted_history
from training.predict import lgd_rows
from training.prepare import Prepared, lgd_matrix_of, package_values, prepare_lgd, prepare_pd
from training.synth.generator import generate_portfolio

NEW_INPUTS = ("economy_gdp_growth", "industry_lgd_history")
TRAIN_SEED = 5150
EVAL_SEED = 86421  # never used in tests


def _table(rows: list[dict[str, Any]], columns: list[str]) -> list[str]:
    head = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    body = []
    for r in rows:
        cells = [f"{r[c]:.4f}" if isinstance(r[c], float) else ("–" if r[c] is None else str(r[c])) for c in columns]
        body.append("| " + " | ".join(cells) + " |")
    return head + body


def lifetime_pd_report(pd_model: LoadedModel, valuation: LoadedModel, data: dict[str, pd.DataFrame]) -> list[str]:
    """Lifetime PD on the evaluation portfolio, beside the oracle."""
    prep = prepare_pd(data, valuation)
    structure = term_structure_of(pd_model.manifest.get("extra"))
    predicted = lifetime_pds(sigmoid(pd_model.raw(prep.x)), prep.extra["tenor_months"], structure)
    truth = prep.extra["true_pd_tenor"]
    full = prep.extra["observed_months"] >= prep.extra["tenor_months"] - 1e-9
    realised = (~np.isnan(prep.extra["default_months"])).astype(float)
    auc = roc_auc_score(realised[full], predicted[full])
    oracle = roc_auc_score(realised[full], truth[full])
    rows = by_decile(
        predicted, {"predicted": predicted, "true_pd_tenor": truth, "realised": np.where(full, realised, np.nan)}
    )
    return [
        "### Lifetime PD (cumulative over the tenor)",
        "",
        f"Term structure: Weibull shape {structure.shape:.3f} (generator: 0.9), fitted on "
        f"{structure.n_loans} loans with {structure.n_events} defaults.",
        "",
        "| figure | model | oracle (`true_pd_tenor`) | gap |",
        "|---|---|---|---|",
        f"| AUC vs realised lifetime default ({int(full.sum())} fully observed loans, "
        f"{int(realised[full].sum())} defaults) | {auc:.3f} | {oracle:.3f} | {oracle - auc:.3f} |",
        f"| mean lifetime PD (all {len(truth)} loans) | {predicted.mean():.4f} | {truth.mean():.4f} | "
        f"{predicted.mean() - truth.mean():+.4f} |",
        f"| mean absolute error vs `true_pd_tenor` | {np.mean(np.abs(predicted - truth)):.4f} | 0 | "
        f"{np.mean(np.abs(predicted - truth)):.4f} |",
        "",
        "Calibration by decile of the predicted lifetime PD (realised: fully observed loans only):",
        "",
        *_table(rows, ["decile", "n", "predicted", "true_pd_tenor", "realised"]),
        "",
    ]


def _blank(x: np.ndarray) -> np.ndarray:
    """``x`` with the new inputs missing (NaN)."""
    out = x.copy()
    out[:, [[s.name for s in F.LGD_FEATURES].index(n) for n in NEW_INPUTS]] = np.nan
    return out


def without_new_inputs(train: dict[str, pd.DataFrame], valuation: LoadedModel) -> LoadedModel:
    """The lgd model fitted on the same disposals with the economy and the channel history blanked."""
    prep = prepare_lgd(train, valuation)
    prep.x = _blank(prep.x)
    fitted = fit_lgd(prep, F.LGD_FEATURES)
    fitted.extra["channel_history"] = fitted_history(prep).model_dump()
    return fitted.as_loaded("lgd", "without-new-inputs")


def lgd_report(
    lgd_model: LoadedModel, valuation: LoadedModel, data: dict[str, pd.DataFrame], ablation: LoadedModel
) -> list[str]:
    """LGD on the evaluation portfolio, beside the oracle, main's haircut and the model without the new inputs."""
    predicted = sigmoid(lgd_model.raw(lgd_rows(data, valuation, lgd_model)))
    before = sigmoid(ablation.raw(_blank(lgd_rows(data, valuation, ablation))))
    loans = data["loans"]
    truth = loans["loan_id"].map(data["loans_truth"].set_index("loan_id")["true_lgd"]).to_numpy(dtype=float)
    realised = loans["loan_id"].map(data["outcomes"].set_index("loan_id")["realised_lgd"]).to_numpy(dtype=float)
    _, p50 = package_values(data, valuation)
    haircut = np.maximum(0.10, 1 - np.minimum(loans["amount_cny"].to_numpy(), 0.55 * 0.9 * p50) / loans["amount_cny"])
    done = ~np.isnan(realised)

    def mae(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean(np.abs(a - b)))

    rows = by_decile(predicted, {"predicted": predicted, "true_lgd": truth, "realised": realised})
    rows_before = by_decile(before, {"predicted": before, "true_lgd": truth, "realised": realised})
    history = history_of(lgd_model)
    assert history is not None
    gain = lgd_model.boosters["main"].feature_importance("gain")
    share = {n: float(gain[lgd_model.feature_names.index(n)] / gain.sum()) for n in NEW_INPUTS}
    return [
        "### LGD (discounted at the loan's rate, costs included, without cover)",
        "",
        "| figure | lgd model | without the new inputs | oracle (`true_lgd`) | main's haircut | gap model − oracle |",
        "|---|---|---|---|---|---|",
        f"| MAE vs `true_lgd` (all {len(truth)} loans) | {mae(predicted, truth):.3f} | {mae(before, truth):.3f} | 0 | "
        f"{mae(haircut, truth):.3f} | {mae(predicted, truth):.3f} |",
        f"| MAE vs realised LGD ({int(done.sum())} finished disposals) | {mae(predicted[done], realised[done]):.3f} | "
        f"{mae(before[done], realised[done]):.3f} | {mae(truth[done], realised[done]):.3f} | "
        f"{mae(haircut[done], realised[done]):.3f} | "
        f"{mae(predicted[done], realised[done]) - mae(truth[done], realised[done]):.3f} |",
        f"| mean LGD, all loans | {predicted.mean():.3f} | {before.mean():.3f} | {truth.mean():.3f} | "
        f"{haircut.mean():.3f} | {predicted.mean() - truth.mean():+.3f} |",
        f"| mean LGD, finished disposals (realised {realised[done].mean():.3f}) | {predicted[done].mean():.3f} | "
        f"{before[done].mean():.3f} | {truth[done].mean():.3f} | {haircut[done].mean():.3f} | "
        f"{predicted[done].mean() - truth[done].mean():+.3f} |",
        "| spread of decile means (predicted; true within them) | "
        f"{rows[0]['predicted']:.2f}–{rows[-1]['predicted']:.2f}"
        f" ({rows[0]['true_lgd']:.2f}–{rows[-1]['true_lgd']:.2f}) | {rows_before[0]['predicted']:.2f}–"
        f"{rows_before[-1]['predicted']:.2f} ({rows_before[0]['true_lgd']:.2f}–{rows_before[-1]['true_lgd']:.2f}) "
        "| – | – | – |",
        "",
        f"Share of the model's split gain: economy {share['economy_gdp_growth']:.1%}, channel history "
        f"{share['industry_lgd_history']:.1%}. Channel history stored with the model ({history.n} disposals, "
        f"shrink {history.shrink:g}, overall mean {history.overall_mean_lgd:.3f}):",
        "",
        "| industry | disposals | mean realised LGD | value used |",
        "|---|---|---|---|",
        *(
            f"| {k} | {r.n} | {'–' if r.mean_lgd is None else f'{r.mean_lgd:.3f}'} | {r.value:.3f} |"
            for k, r in history.by_industry.items()
        ),
        "",
        "Calibration by decile of the predicted LGD (realised: finished disposals only):",
        "",
        *_table(rows, ["decile", "n", "predicted", "true_lgd", "realised"]),
        "",
        "The same without the new inputs:",
        "",
        *_table(rows_before, ["decile", "n", "predicted", "true_lgd", "realised"]),
        "",
    ]


def _true_package(data: dict[str, pd.DataFrame], ids: np.ndarray) -> np.ndarray:
    """True package value (CNY) of the loans ``ids``: the sum of their patents' ``true_value_cny``."""
    links = data["loan_patents"].merge(data["patents_truth"], on="patent_id")
    return pd.Series(ids).map(links.groupby("loan_id")["true_value_cny"].sum()).to_numpy(dtype=float)


def _with_true_value(x: np.ndarray, data: dict[str, pd.DataFrame], ids: np.ndarray) -> np.ndarray:
    """``x`` with the package value and coverage of the true value (diagnostic: a perfect valuation)."""
    names = [s.name for s in F.LGD_FEATURES]
    value = _true_package(data, ids)
    amount = pd.Series(ids).map(data["loans"].set_index("loan_id")["amount_cny"]).to_numpy(dtype=float)
    out = x.copy()
    out[:, names.index("log_package_value")] = np.log1p(value)
    out[:, names.index("coverage_model")] = value / amount
    return out


def dispersion_report(
    train: dict[str, pd.DataFrame], valuation: LoadedModel, data: dict[str, pd.DataFrame]
) -> list[str]:
    """What limits the spread of the predicted LGD: tuning, the valuation's error, or the number of disposals."""
    truth = data["loans"]["loan_id"].map(data["loans_truth"].set_index("loan_id")["true_lgd"]).to_numpy(dtype=float)
    prep = prepare_lgd(train, valuation)
    history = fitted_history(prep).model_dump()
    eval_ids = data["loans"]["loan_id"].to_numpy()
    rows: list[dict[str, Any]] = []

    def run(label: str, p: Prepared, x_of: Callable[[LoadedModel], np.ndarray], **params: Any) -> None:
        saved = dict(LGD_PARAMS)
        LGD_PARAMS.update(params)
        try:
            fitted = fit_lgd(p, F.LGD_FEATURES)
        finally:
            LGD_PARAMS.clear()
            LGD_PARAMS.update(saved)
        fitted.extra["channel_history"] = history
        model = fitted.as_loaded("lgd", "diagnostic")
        pred = sigmoid(model.raw(x_of(model)))
        d = by_decile(pred, {"p": pred, "t": truth})
        rows.append(
            {
                "variant": label,
                "rows": int((~p.test).sum()),
                "rounds": fitted.extra["rounds"],
                "MAE vs true_lgd": float(np.mean(np.abs(pred - truth))),
                "decile means": f"{d[0]['p']:.2f}–{d[-1]['p']:.2f} (true {d[0]['t']:.2f}–{d[-1]['t']:.2f})",
            }
        )

    served = partial(lgd_rows, data, valuation)
    run("as built (4 leaves, depth 2, rate 0.03)", prep, served)
    run("8 leaves, depth 3, rate 0.05", prep, served, num_leaves=8, max_depth=3, learning_rate=0.05)
    run("8 leaves, depth 3, 40 per leaf", prep, served, num_leaves=8, max_depth=3, min_data_in_leaf=40)
    run("L2 penalty 10", prep, served, lambda_l2=10.0)
    true_value = dataclasses.replace(prep, x=_with_true_value(prep.x, train, prep.ids))
    run(
        "diagnostic: the true package value in place of the model's",
        true_value,
        lambda m: _with_true_value(served(m), data, eval_ids),
    )
    every = train["loans"]
    y = every["loan_id"].map(train["loans_truth"].set_index("loan_id")["true_lgd"]).to_numpy(dtype=float)
    none = np.zeros(len(y), dtype=bool)
    no_noise = Prepared(
        lgd_matrix_of(train, valuation),
        y,
        every["loan_id"].to_numpy(),
        np.full(len(y), np.datetime64("NaT"), dtype="datetime64[D]"),
        none,
        none,
    )
    run(f"diagnostic: `true_lgd` of all {len(y)} training loans as the target", no_noise, served)
    slope, intercept = out_of_fold_slope(prep)
    outcomes = train["outcomes"].set_index("loan_id")
    defaulted = every["loan_id"].map(outcomes["default_date"]).notna().to_numpy()
    series = load_economy()
    at_origination = growth_on(every["origination_date"].to_numpy().astype("datetime64[D]")[defaulted], series)
    at_default = growth_on(
        every["loan_id"].map(outcomes["default_date"]).to_numpy().astype("datetime64[D]")[defaulted], series
    )
    return [
        "### What limits the LGD's spread (same training and evaluation worlds)",
        "",
        *_table(rows, ["variant", "rows", "rounds", "MAE vs true_lgd", "decile means"]),
        "",
        "Calibration of the as-built model's log-odds on out-of-fold predictions (5 folds of the "
        f"{len(prep.y[~prep.test])} fitted disposals, realised LGD ~ sigmoid(a · score + b)): slope a = "
        f"{slope:.2f}, intercept b = {intercept:+.2f}. "
        "A slope above 1 would say the score is too timid and may be stretched; below 1 it is not.",
        "",
        f"The growth figure published at origination against the one the disposal met at default, over the "
        f"{int(defaulted.sum())} defaults of the training world: the same figure for "
        f"{np.mean(at_origination == at_default):.0%}, "
        f"correlation {np.corrcoef(at_origination, at_default)[0, 1]:.2f}.",
        "",
    ]


def out_of_fold_slope(prep: Prepared) -> tuple[float, float]:
    """Slope and intercept of realised LGD on the out-of-fold log-odds of the as-built model (cross-entropy)."""
    rows = ~prep.test
    x, y = prep.x[rows], prep.y[rows]
    specs = F.LGD_FEATURES
    params = {**BASE_PARAMS, **LGD_PARAMS, "objective": "cross_entropy", "metric": "cross_entropy"}
    params.update(monotone_constraints=[s.monotone for s in specs], monotone_constraints_method="advanced")
    data = lgb.Dataset(
        x,
        y,
        feature_name=[s.name for s in specs],
        categorical_feature=[i for i, s in enumerate(specs) if s.kind == "categorical"],
        free_raw_data=False,
    )
    folds = list(KFold(5, shuffle=True, random_state=7).split(x))
    cv = lgb.cv(
        params,
        data,
        num_boost_round=1500,
        folds=folds,
        callbacks=[lgb.early_stopping(100, verbose=False)],
        return_cvbooster=True,
    )
    means, boosters = cv["valid cross_entropy-mean"], cv["cvbooster"]
    if not isinstance(means, list) or not isinstance(boosters, lgb.CVBooster):
        raise TypeError("lightgbm.cv returned no metric history or no fold boosters")
    rounds = len(means)
    score = np.zeros(len(y))
    for (_, held_out), booster in zip(folds, boosters.boosters, strict=True):
        score[held_out] = booster.predict(x[held_out], raw_score=True, num_iteration=rounds)

    def loss(ab: np.ndarray) -> float:
        p = np.clip(sigmoid(ab[0] * score + ab[1]), 1e-9, 1 - 1e-9)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

    a, b = minimize(loss, np.array([1.0, 0.0])).x
    return float(a), float(b)


def example_report(models: dict[str, LoadedModel]) -> list[str]:
    """The documented ¥3m application, secured by patents only, at 12, 24 and 36 months."""
    config = load_scoring_config(None)
    lines = [
        "### The ¥3m IP-only example (API example borrower and patent, 5% rate, cover as in the example)",
        "",
        "| tenor | PD 12m | PD tenor | LGD model | floor | LGD without cover | EL without cover | EL with cover |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for tenor in (12, 24, 36):
        loan = {**EXAMPLE_LOAN, "tenor_months": tenor, "ip_share_of_collateral": 1.0, "annual_rate": 0.05}
        credit = run_assessment(
            models["valuation"],
            models["pd"],
            borrower=Borrower.model_validate(EXAMPLE_BORROWER),
            loan=LoanTerms.model_validate(loan),
            patents=[Patent.model_validate(EXAMPLE_PATENT)],
            as_of=date(2026, 6, 30),
            config=config,
            caps=config.ltv.for_institution("bank_a"),
            lgd_model=models["lgd"],
        ).credit
        m = credit.lgd.model
        assert m is not None
        lines.append(
            f"| {tenor} | {credit.pd:.4f} | {credit.pd_tenor:.4f} | {m.model_lgd:.3f} | {m.floor:.2f} | "
            f"{credit.lgd.without_cover:.3f} | ¥{credit.expected_loss_without_cover:,.0f} | "
            f"¥{credit.expected_loss:,.0f} |"
        )
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    """Train, evaluate, print and write the report."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loans", type=int, default=20_000)
    ap.add_argument("--train-loans", type=int, default=None, help="loans of the training world (default: --loans)")
    ap.add_argument("--diagnose", action="store_true", help="add what limits the LGD's spread (about 1 min)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "loss_quality.md")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    train_loans = args.train_loans or args.loans
    train = generate_portfolio(n_loans=train_loans, seed=TRAIN_SEED)
    scale = load_grade_scale()
    models: dict[str, LoadedModel] = {}
    for name in ("valuation", "pd", "lgd"):
        fitted, _, _ = fit_and_evaluate(name, train, models.get("valuation"), scale)
        models[name] = fitted.as_loaded(name, "eval")
    fresh = generate_portfolio(n_loans=args.loans, seed=EVAL_SEED)
    lines = [
        "## Loss quality on a fresh synthetic portfolio (SYNTHETIC DATA)",
        "",
        f"Trained on {train_loans} loans (seed {TRAIN_SEED}), evaluated on {args.loans} other loans "
        f"(seed {EVAL_SEED}, never used in tests), 2019–2024 vintages observed to 2025-12-31. "
        "Produced by `benchmarks/loss_quality.py`.",
        "",
        *lifetime_pd_report(models["pd"], models["valuation"], fresh),
        *lgd_report(models["lgd"], models["valuation"], fresh, without_new_inputs(train, models["valuation"])),
        *(dispersion_report(train, models["valuation"], fresh) if args.diagnose else []),
        *example_report(models),
        f"({time.perf_counter() - t0:.0f} s)",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
