"""Issue 11's three collateral examples over the real API: what a loan officer is shown for each.

Prints, for one model store (bootstrapped from the bundled synthetic portfolio when empty):

1. an invention filed 1999-03-15 (expired 2019-03-15), valued on 2026-06-30 for a 24-month loan;
2. a design filed 2015-03-01 (10-year term, expired 2025-03-01) and one filed 2022-03-01 (15 years);
3. a patent held by the borrower's founder (an individual) pledged for the company's loan
   (Civil Code art. 440), with and without the founder's consent on record.

Run it against this tree, or against another tree's code with ``PYTHONPATH=<tree>`` (requests
a tree does not understand are shown as its 422)::

    python benchmarks/collateral_examples.py --home /tmp/iprisk-collateral
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from service.app import create_app
from service.bootstrap import ensure_models
from service.keys import new_key
from service.schemas.scoring import EXAMPLE_BORROWER, EXAMPLE_LOAN, EXAMPLE_PATENT
from service.settings import Settings

AS_OF = "2026-06-30"


def _patent(**over: Any) -> dict[str, Any]:
    p = copy.deepcopy(EXAMPLE_PATENT)
    p.update(over)
    return {k: v for k, v in p.items() if v is not None}


def _design(pid: str, filed: str, granted: str) -> dict[str, Any]:
    return _patent(
        patent_id=pid,
        patent_type="design",
        ipc_section="F",
        tech_field="consumer",
        filing_date=filed,
        grant_date=granted,
        claims_count=None,
        independent_claims=None,
        foreign_family_members=0,
        family_size=1,
    )


def _summary(v: dict[str, Any]) -> dict[str, Any]:
    pkg = v["package"]
    return {
        "patents": [
            {
                "patent_id": p["patent_id"],
                "p50": round(p["p50"]),
                "pledge_value_cny": p.get("pledge_value_cny"),
                "value_basis": p.get("value_basis"),
                "stars": p["stars"],
                "failed": [c["code"] for c in p["checks"] if c["status"] == "fail"],
                "warned": [c["code"] for c in p["checks"] if c["status"] == "warn"],
                "reasons": [r["code"] for r in p["reasons"]],
            }
            for p in v["patents"]
        ],
        "max_pledge_amount": round(pkg["max_pledge_amount"]),
        "registrable": pkg["registrable"],
    }


def _show(title: str, r: Any, *, assessment: bool = False) -> None:
    print(f"## {title}")
    if r.status_code not in (200, 201):
        print(f"HTTP {r.status_code}: {r.json().get('detail')}")
        return
    body = r.json()
    out = _summary(body["valuation"] if assessment else body)
    if assessment:
        out |= {
            "decision": body["decision"],
            "policy_reasons": [p["code"] for p in body["policy_reasons"]],
            "max_loan_amount": round(body["max_loan_amount"]),
            "lgd_without_cover": round(body["lgd"]["without_cover"], 3),
        }
    print(json.dumps(out, ensure_ascii=False, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, required=True, help="IPRISK home (models bootstrapped when empty)")
    args = ap.parse_args()
    settings = Settings(home=args.home, log_level="WARNING", rate_limit_per_minute=0)
    ensure_models(settings)
    key, _ = new_key(settings, role="bank", institution="bank_a")
    ctx = {"as_of": AS_OF, "pledgor_id": "E-GY-0001", "tenor_months": 24}
    old = _patent(patent_id="CN199910012345.6", filing_date="1999-03-15", grant_date="2001-06-20")
    founder = _patent(patent_id="CN201910098765.4", owner_type="individual", owner_id="P-FOUNDER-01")
    consent = {"given": True, "date": "2026-06-01", "reference": "consent letter 2026-017"}
    pledgor = {"kind": "individual", "id": "P-FOUNDER-01", "name": "Founder"}
    application = {"borrower": EXAMPLE_BORROWER, "loan": EXAMPLE_LOAN, "as_of": AS_OF}
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(settings), headers=headers) as c:
        _show("1. invention filed 1999-03-15", c.post("/v1/valuations", json={"patents": [old], "context": ctx}))
        designs = [
            _design("CN201530012345.1", "2015-03-01", "2015-09-01"),
            _design("CN202230012345.2", "2022-03-01", "2022-09-01"),
        ]
        _show(
            "2. designs filed 2015-03-01 and 2022-03-01",
            c.post("/v1/valuations", json={"patents": designs, "context": ctx}),
        )
        _show(
            "3a. founder's patent, no pledgor named",
            c.post("/v1/assessments", json={**application, "patents": [founder]}),
            assessment=True,
        )
        for label, p in (("with", {**pledgor, "consent": consent}), ("without", pledgor)):
            body: dict[str, Any] = {
                **application,
                "patents": [founder],
                "pledges": {founder["patent_id"]: {"pledgor": p}},
            }
            _show(f"3b. founder pledges, {label} consent", c.post("/v1/assessments", json=body), assessment=True)
        body = {**application, "patents": [old]}
        _show(
            "1b. assessment on the 1999 invention (12 months)",
            c.post("/v1/assessments", json={**body, "loan": {**dict(EXAMPLE_LOAN), "tenor_months": 12}}),
            assessment=True,
        )


if __name__ == "__main__":
    main()
