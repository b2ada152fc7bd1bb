"""Drift monitoring: a PSI alert when scoring traffic shifts, silence when it does not."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from scoring.types import Borrower, LoanTerms, Patent
from service.client import ValidationFailed
from tests.service.harness import Server
from training.contract import load_dataset

PATENT_FIELDS = set(Patent.model_fields)
BORROWER_FIELDS = set(Borrower.model_fields)
LOAN_FIELDS = set(LoanTerms.model_fields)


def _clean(row: Mapping[Hashable, Any], fields: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if not isinstance(k, str) or k not in fields:
            continue
        if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
            v = None
        elif isinstance(v, pd.Timestamp):
            v = v.date().isoformat()
        elif isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


def portfolio_applications(portfolio_dir: Path, n: int, seed: int) -> list[dict[str, Any]]:
    """Real applications from the synthetic book, as the service would receive them."""
    data = load_dataset(portfolio_dir, truth=False)
    loans = data["loans"].sample(n=n, random_state=seed)
    ent = data["enterprises"].set_index("enterprise_id")
    pats = data["patents"].set_index("patent_id")
    links = data["loan_patents"].groupby("loan_id")["patent_id"].apply(list)
    apps = []
    for _, loan in loans.iterrows():
        borrower = _clean(
            {"enterprise_id": loan["enterprise_id"], **ent.loc[loan["enterprise_id"]].to_dict()}, BORROWER_FIELDS
        )
        patents = [
            _clean({"patent_id": pid, **pats.loc[pid].to_dict()}, PATENT_FIELDS) for pid in links[loan["loan_id"]]
        ]
        terms = _clean(loan.to_dict(), LOAN_FIELDS)
        apps.append(
            {
                "borrower": borrower,
                "loan": terms,
                "patents": patents,
                "as_of": loan["origination_date"].date().isoformat(),
            }
        )
    return apps


def _send(server: Server, apps: list[dict[str, Any]]) -> int:
    sent = 0
    with server.client("bank_a") as c:
        for app in apps:
            try:
                c.assess(app)
                sent += 1
            except ValidationFailed:
                continue  # e.g. a tenor past a patent's life: refused, as it should be
    return sent


def _drift(server: Server) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {server.keys['regulator']}"}
    reports = httpx.get(f"{server.base_url}/v1/regulator/monitoring/drift", headers=headers, timeout=60).json()
    return {r["model"]: r for r in reports}


@pytest.mark.slow
def test_psi_silent_on_ordinary_traffic_then_alerts_on_shift(server: Server, portfolio_dir: Path) -> None:
    few = _drift(server)
    assert few["pd"]["alert"] is False and few["pd"]["note"]  # too little traffic to judge

    ordinary = portfolio_applications(portfolio_dir, 260, seed=1)
    assert _send(server, ordinary) >= 200
    calm = _drift(server)
    assert calm["pd"]["alert"] is False, [f for f in calm["pd"]["features"] if f["band"] == "act"]
    assert calm["pd"]["score_psi"] < 0.10
    assert calm["valuation"]["alert"] is False, [f for f in calm["valuation"]["features"] if f["band"] != "stable"]
    ready = httpx.get(f"{server.base_url}/readyz", headers=_ops(server)).json()
    assert ready["details"]["drift_alert"] is False

    shifted = portfolio_applications(portfolio_dir, 400, seed=2)
    for app in shifted:
        app["borrower"].update(
            leverage=min(4.5, app["borrower"]["leverage"] + 1.5),
            prior_overdue_count=app["borrower"]["prior_overdue_count"] + 6,
        )
        app["loan"]["amount_cny"] = app["loan"]["amount_cny"] * 8
    assert _send(server, shifted) >= 300
    alarm = _drift(server)
    act = {f["feature"] for f in alarm["pd"]["features"] if f["band"] == "act"}
    assert alarm["pd"]["alert"] is True
    assert {"leverage", "prior_overdue_count"} <= act
    assert alarm["pd"]["score_band"] in ("watch", "act")
    ready = httpx.get(f"{server.base_url}/readyz", headers=_ops(server))
    assert ready.status_code == 200  # an alert shows, it does not fail readiness
    assert ready.json()["details"]["drift_alert"] is True
    metrics = httpx.get(f"{server.base_url}/metrics", headers=_ops(server)).text
    assert 'iprisk_model_psi{feature="leverage",model="pd"}' in metrics


def test_readiness_and_metrics_say_which_boosters_the_shap_kernel_explains(server: Server) -> None:
    kernels = httpx.get(f"{server.base_url}/readyz", headers=_ops(server)).json()["details"]["shap_kernel"]
    assert {m: set(roles) for m, roles in kernels.items()} == {
        "valuation": {"p10", "p50", "p90"},
        "pd": {"main"},
        "lgd": {"main", "months"},
        "claim_review": {"main"},
    }
    assert all(r["kernel"] is True and r["reason"].startswith("exact") for m in kernels.values() for r in m.values())
    assert all(
        r["row_kernel"] is True and r["row_reason"].startswith("exact") for m in kernels.values() for r in m.values()
    )
    metrics = httpx.get(f"{server.base_url}/metrics", headers=_ops(server)).text
    assert 'iprisk_shap_kernel{model="valuation",role="p50"} 1.0' in metrics
    assert 'iprisk_shap_row_kernel{model="valuation",role="p50"} 1.0' in metrics


def _ops(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.keys['data_team']}"}


@pytest.fixture(autouse=True)
def _only_sqlite_for_speed(server: Server) -> None:
    if server.backend != "sqlite":
        pytest.skip("drift arithmetic does not depend on the database; PostgreSQL runs the other service tests")
