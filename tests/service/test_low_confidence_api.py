"""An assessment says whether a model it used was flagged weak at registration, on SQLite and PostgreSQL."""

from __future__ import annotations

from models_store import ModelStore
from tests.factories import application
from tests.service.harness import Server


def test_an_assessment_carries_the_confidence_recorded_for_its_models(server: Server) -> None:
    with server.client("bank_a") as bank:
        a = bank.assess(application())
    store = ModelStore(server.settings.store_path)
    expected = []
    for name in ("valuation", "pd"):
        record = store.manifest(name, a.model_versions[name]).extra["confidence"]  # recorded at registration
        expected += [f"{name}: {r}" for r in record["reasons"]]
    assert a.low_confidence is bool(expected)
    assert a.low_confidence_reasons == expected
    with server.client("bank_a") as bank:
        stored = bank.get_assessment(a.id)
    assert stored.low_confidence is a.low_confidence
