"""Every value of every vocabulary has a Chinese label, and no label has an English word."""

from __future__ import annotations

from typing import Any, get_args

import pytest

import scoring.vocab as vocab
from scoring import book, credit, funds, pledge_life
from scoring.book import OutcomeFact
from scoring.high_value import HighValueCriterion
from scoring.vocab.zh import ZH, label
from service.schemas.claims import ClaimStatus
from tests.zh_scan import english_words

VOCABULARIES: dict[str, Any] = {
    "npl_class": vocab.NplClass,
    "patent_type": vocab.PatentType,
    "industry": vocab.Industry,
    "region": vocab.Region,
    "ipc_section": vocab.IpcSection,
    "tech_field": vocab.TechField,
    "legal_status": vocab.LegalStatus,
    "owner_type": vocab.OwnerType,
    "purpose": vocab.Purpose,
    "disposal_channel": vocab.DisposalChannel,
    "repayment_type": vocab.RepaymentType,
    "transaction_type": vocab.TransactionType,
    "price_source": vocab.PRICE_SOURCES,
    "claim_source": vocab.CLAIM_SOURCES,
    "party_role": funds.PartyRole,
    "outcome_status": OutcomeFact.model_fields["status"].annotation,
    "credit_status": pledge_life.CreditStatus,
    "pledge_state": pledge_life.PledgeState,
    "registration_status": pledge_life.RegistrationStatus,
    "claim_status": ClaimStatus,
    "payment_kind": book.PaymentKind,
    "ticket_band": book.TicketBand,
    "book_dim": book.BookDim,
    "decision": credit.Decision,
    "high_value_criterion": HighValueCriterion,
}


def _values(v: Any) -> tuple[str, ...]:
    return tuple(v) if isinstance(v, tuple) else get_args(v)


def test_every_literal_of_scoring_vocab_is_listed_here() -> None:
    literals = {name for name in dir(vocab) if getattr(getattr(vocab, name), "__origin__", None) is not None}
    listed = {n for n in literals if any(getattr(vocab, n) is v for v in VOCABULARIES.values())}
    assert literals - listed == set()


@pytest.mark.parametrize("name", sorted(VOCABULARIES))
def test_every_value_has_a_chinese_label(name: str) -> None:
    values = _values(VOCABULARIES[name])
    assert values, name
    missing = [v for v in values if v not in ZH[name]]
    assert missing == [], f"{name}: no zh label for {missing}"
    assert all(label(name, v) != v for v in values)


def test_no_label_has_an_english_word() -> None:
    found = {(name, v): w for name, table in ZH.items() for v, text in table.items() if (w := english_words(text))}
    assert found == {}
