"""Builders the test modules share: request bodies, fund rules and claims, trained stores and model versions.

Test modules import these from here, never from one another (importing a test
module runs its collection-time code and ties two tests' files together).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from models_store import Manifest, ModelStore
from service.clock import Clock
from service.schemas.scoring import EXAMPLE_BORROWER, EXAMPLE_LOAN, EXAMPLE_PATENT
from tests.patent_numbers import fresh_patent_id
from training.pipeline import RunResult, train_models

TEST_SIGNING_KEY = "tests-model-signing-key-0123456789abcdef"  # signs the trained store; servers check it
AS_OF = "2026-06-30"  # a fixed date: results do not drift with the calendar

FUND_EXAMPLES = Path(__file__).resolve().parents[1] / "scoring" / "config" / "funds"
ENTERED = date(2025, 3, 3)
DEFAULTED = date(2025, 9, 26)  # a Friday before the 2025 National Day holiday
FILED = date(2025, 10, 10)  # 5 working days later: 28 (a make-up Sunday), 29, 30 Sep, 9, 10 Oct


def business_today() -> date:
    """The service's business day (Beijing time): what "today" means to every date check it makes.

    From 16:00 UTC it is already tomorrow in Beijing, so a test comparing with ``date.today()``
    of a UTC machine would fail for eight hours a day.
    """
    return Clock().today()


# --- scoring requests -------------------------------------------------------------


def patent(**over: Any) -> dict[str, Any]:
    """The API's example patent with a fresh id and ``over`` applied."""
    p = copy.deepcopy(EXAMPLE_PATENT)
    p["patent_id"] = fresh_patent_id(over.get("patent_type", "invention"))  # the type digit agrees
    p.update(over)
    return p


def application(*, borrower: Mapping[str, Any] | None = None, **loan: Any) -> dict[str, Any]:
    """An assessment request: the example borrower and loan (``borrower``, ``loan`` merged in) and one new patent."""
    return {
        "borrower": {**copy.deepcopy(EXAMPLE_BORROWER), **(borrower or {})},
        "loan": {**EXAMPLE_LOAN, **loan},
        "patents": [patent()],
        "as_of": AS_OF,
    }


# --- fund requests ----------------------------------------------------------------


def rule_body(example: str, **override: Any) -> dict[str, Any]:
    """A worked-example rule version as a request body, with ``override`` merged into its rules."""
    raw: dict[str, Any] = yaml.safe_load((FUND_EXAMPLES / f"{example}.yaml").read_text(encoding="utf-8"))
    raw["effective_from"] = str(raw["effective_from"])
    raw["rules"].update(override)
    return raw


def facts(**over: Any) -> dict[str, Any]:
    """Entry facts of an eligible loan."""
    return {
        "borrower_id": f"E-{uuid.uuid4().hex[:8]}",
        "amount_cny": "15000000.00",
        "origination_date": "2025-03-01",
        "tenor_months": 24,
        "purpose": "rd",
        "ip_share_of_collateral": "1",
        "is_sme": True,
        "years_registered": 5,
        "credit_checked_years": 3,
        **over,
    }


def claim_body(pool_loan_id: str, **over: Any) -> dict[str, Any]:
    """A timely, evidenced claim on a substandard loan."""
    return {
        "pool_loan_id": pool_loan_id,
        "default_date": DEFAULTED.isoformat(),
        "npl_class": "substandard",
        "principal_outstanding_cny": "1000000.00",
        "claimed_amount_cny": "1000000.00",
        "evidence": ["collection notice", "civil complaint"],
        **over,
    }


# --- model versions ---------------------------------------------------------------


def register_copy(store: ModelStore, name: str) -> str:
    """A new version of ``name`` with the champion's files and metrics (a retrain on the same data)."""
    _, version = store.resolve(f"{name}@champion")
    m = store.verify(name, version)
    return register_like(store, m, {f: store.read_file(name, version, f) for f in m.files})


def register_like(store: ModelStore, m: Manifest, files: Mapping[str, bytes]) -> str:
    """Register ``files`` as a new version of ``m.name`` with everything else of manifest ``m``."""
    new = store.register(
        m.name,
        dict(files),
        task=m.task,
        features=[f.model_dump() for f in m.features],
        params=m.params,
        metrics=m.metrics,
        data_fingerprint=m.data_fingerprint,
        created_by="tests",
        extra=m.extra,
        synthetic=m.synthetic,
    )
    return str(new.version)


class Trained(NamedTuple):
    """A trained, signed model store (all three models promoted) and the training runs' results."""

    models: Path
    results: list[RunResult]


def train_store(data_dir: Path, root: Path) -> Trained:
    """Train the three bundled models on ``data_dir`` into a signed store under ``root``."""
    results = train_models(
        data_dir,
        ModelStore(root / "models", signing_key=TEST_SIGNING_KEY.encode()),
        actor="tests",
        report_dir=root / "reports",
    )
    return Trained(root / "models", results)
