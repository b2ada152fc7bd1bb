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
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from scoring import features as F
from scoring.grades import load_grade_scale
from scoring.lgd import history_of
from scoring.lifetime import term_structure_of
from scoring.models import LoadedModel, sigmoid
from scoring.pipeline import run_assessment
from scoring.policy import load_scoring_config
from scoring.types import Borrower, LoanTerms, Patent
from service.schemas.scoring import EXAMPLE_BORROWER, EXAMPLE_LOAN, EXAMPLE_PATENT
from training.evaluate import by_decile, lifetime_pds
from training.fit import fit_lgd
from training.pipeline import fit_and_evaluate, fitted_history
from training.predict import lgd_rows
from training.prepare import package_values, prepare_lgd, prepare_pd
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
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "loss_quality.md")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    train = generate_portfolio(n_loans=args.loans, seed=TRAIN_SEED)
    scale = load_grade_scale()
    models: dict[str, LoadedModel] = {}
    for name in ("valuation", "pd", "lgd"):
        fitted, _, _ = fit_and_evaluate(name, train, models.get("valuation"), scale)
        models[name] = fitted.as_loaded(name, "eval")
    fresh = generate_portfolio(n_loans=args.loans, seed=EVAL_SEED)
    lines = [
        "## Loss quality on a fresh synthetic portfolio (SYNTHETIC DATA)",
        "",
        f"Trained on {args.loans} loans (seed {TRAIN_SEED}), evaluated on {args.loans} other loans "
        f"(seed {EVAL_SEED}, never used in tests), 2019–2024 vintages observed to 2025-12-31. "
        "Produced by `benchmarks/loss_quality.py`.",
        "",
        *lifetime_pd_report(models["pd"], models["valuation"], fresh),
        *lgd_report(models["lgd"], models["valuation"], fresh, without_new_inputs(train, models["valuation"])),
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
