"""The pure rules after booking: annual-fee grace and surcharge, event replay, reserve price, price cuts, LGD."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from pydantic import BaseModel, TypeAdapter

from scoring.disposal import cut_price, next_status, realised_lgd, suggest_reserve
from scoring.legal_events import LegalEvent, LegalFacts, apply_event, grace_end, months_late, surcharge_share
from scoring.pledge_life import TransitionRefused
from scoring.types import Patent
from scoring.watch import loan_figures
from service.schemas.disposals import DisposalOpen, DisposalStepCreate
from service.schemas.events import EventCreate
from service.schemas.watch import AlertAck

EVENT = TypeAdapter[LegalEvent](LegalEvent)
DUE = date(2026, 3, 15)


@pytest.mark.parametrize(
    ("paid", "late", "share"),
    [
        (date(2026, 3, 15), 0, "0"),
        (date(2026, 4, 15), 1, "0"),  # within the first month: no surcharge
        (date(2026, 4, 16), 2, "0.05"),
        (date(2026, 6, 1), 3, "0.10"),
        (date(2026, 9, 15), 6, "0.25"),  # the grace period's last day
    ],
)
def test_the_surcharge_is_five_percent_a_month_after_the_first(paid: date, late: int, share: str) -> None:
    assert months_late(DUE, paid) == late
    assert surcharge_share(DUE, paid) == Decimal(share)


def test_the_grace_period_is_six_months() -> None:
    assert grace_end(DUE) == date(2026, 9, 15)
    assert grace_end(date(2026, 8, 31)) == date(2027, 2, 28)


def _facts() -> LegalFacts:
    patent = Patent(
        patent_id="CN202110123456.7",
        patent_type="invention",
        ipc_section="H",
        tech_field="electronics",
        filing_date=date(2021, 3, 15),
        grant_date=date(2023, 6, 20),
        claims_count=12,
        independent_claims=2,
    )
    return LegalFacts(patent=patent)


def test_events_change_the_facts_valuations_read() -> None:
    f = _facts()
    for raw in (
        {"type": "invalidation_requested", "on": "2026-01-02", "case_number": "4W1"},
        {"type": "litigation_filed", "on": "2026-01-03", "case_number": "C1", "kind": "ownership"},
        {"type": "preservation_ordered", "on": "2026-01-04", "case_number": "P1"},
    ):
        f = apply_event(f, EVENT.validate_python(raw))
    assert f.patent.invalidation_pending and f.patent.ownership_dispute and f.patent.preservation_order
    assert f.patent.invalidation_requests == 1 and f.patent.litigation_count == 1
    f = apply_event(
        f,
        EVENT.validate_python(
            {
                "type": "invalidation_decided",
                "on": "2026-02-01",
                "case_number": "4W1",
                "outcome": "partially_invalidated",
                "claims_remaining": 3,
            }
        ),
    )
    assert (f.patent.claims_count, f.patent.independent_claims, f.patent.invalidation_pending) == (3, 2, False)
    f = apply_event(
        f,
        EVENT.validate_python(
            {"type": "litigation_decided", "on": "2026-02-02", "case_number": "C1", "outcome": "won"}
        ),
    )
    assert not f.patent.ownership_dispute and f.open_litigation == ()
    gone = apply_event(
        f,
        EVENT.validate_python(
            {"type": "invalidation_decided", "on": "2026-03-01", "case_number": "4W2", "outcome": "wholly_invalidated"}
        ),
    )
    assert gone.patent.legal_status == "invalidated" and gone.last_event_on == date(2026, 3, 1)


def test_ltv_figures_say_what_to_repay_or_pledge() -> None:
    fig = loan_figures(3_000_000.0, np.array([8_000_000.0, 2_000_000.0]), np.array([0.25, 0.15]))
    assert fig.max_loan == pytest.approx(2_300_000) and fig.ltv == pytest.approx(0.3)
    assert fig.cap == pytest.approx(0.23) and fig.repay == pytest.approx(700_000)
    assert fig.top_up == pytest.approx(700_000 / 0.23)
    nothing = loan_figures(1.0e6, np.array([0.0]), np.array([0.25]))
    assert (nothing.ltv, nothing.repay, nothing.top_up) == (None, 1.0e6, 4.0e6)


def test_disposal_rules() -> None:
    assert cut_price(100_000_01) == 80_000_01  # 20% off, half up to the fen
    r = suggest_reserve(p10_cny=400_000.0, pledge_value_cny=1_000_000.0, liquidation_factor=0.5, cost_share=0.1)
    assert (r.suggested_fen, r.basis) == (45_000_000, "liquidation")
    assert realised_lgd(ead_fen=100, proceeds_fen=60, costs_fen=3) == pytest.approx(0.43)
    assert realised_lgd(ead_fen=100, proceeds_fen=500, costs_fen=0) == 0.0
    discounted = realised_lgd(ead_fen=100, proceeds_fen=60, costs_fen=3, years_to_recovery=1.0, annual_rate=0.05)
    assert discounted == pytest.approx(1 - 57 / 1.05 / 100)
    with pytest.raises(TransitionRefused):
        next_status("open", "close")


@pytest.mark.parametrize("model", [EventCreate, AlertAck, DisposalOpen, DisposalStepCreate])
def test_the_new_request_bodies_carry_valid_examples(model: type[BaseModel]) -> None:
    examples = model.model_json_schema().get("examples")
    assert examples
    for example in examples:
        model.model_validate(example)


def test_events_keep_a_patent_valid_whatever_its_type() -> None:
    design = LegalFacts(
        patent=Patent(
            patent_id="CN202130243648.2",
            patent_type="design",
            ipc_section="F",
            tech_field="consumer",
            filing_date=date(2022, 3, 1),
            grant_date=date(2022, 9, 1),
        )
    )
    partial = EVENT.validate_python(
        {
            "type": "invalidation_decided",
            "on": "2026-01-02",
            "case_number": "4W9",
            "outcome": "partially_invalidated",
            "claims_remaining": 2,
        }
    )
    assert apply_event(design, partial).patent.claims_count is None  # a design has no claims
    application = _facts().patent.model_copy(update={"legal_status": "pending", "grant_date": None})
    lapsed = apply_event(LegalFacts(patent=application), EVENT.validate_python({"type": "lapsed", "on": "2026-01-02"}))
    restored = apply_event(lapsed, EVENT.validate_python({"type": "restored", "on": "2026-02-02"}))
    assert (lapsed.patent.legal_status, restored.patent.legal_status) == ("lapsed", "pending")
