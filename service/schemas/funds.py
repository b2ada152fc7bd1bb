"""API schemas of risk-compensation funds: the fund, its rule versions, banks, deposits, ledger.

Money is CNY as a decimal with at most two places (a JSON number in
requests, a string such as ``"1382715.60"`` in responses, so no amount is
ever a binary float); the ledger keeps it as integer fen.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scoring.funds import FundRules
from scoring.types import Day
from scoring.vocab import Region
from scoring.vocab.money import Money
from service.configuration import package_yaml

_STRICT = ConfigDict(extra="forbid")


def _example(body: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [body]})


def _rules_example(schema: dict[str, Any]) -> None:
    # Read lazily, when the OpenAPI document is built: the worked 40/60 example itself (package data).
    raw = package_yaml("scoring.config", "funds", "city_40_60.yaml")
    schema["examples"] = [
        json.loads(json.dumps({"effective_from": raw["effective_from"], "rules": raw["rules"]}, default=str))
    ]


Positive = Annotated[Money, Field(gt=0)]
LedgerKind = Literal["deposit", "reserve", "release", "payout", "clawback", "reversal", "subsidy"]
Account = Literal[
    "cash_available",
    "cash_reserved",
    "contributions",
    "claims_paid",
    "recoveries",
    "subsidy_cash",
    "subsidy_contributions",
    "subsidies_paid",
]
INSTITUTION_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class FundCreate(BaseModel):
    """A new fund; its id is the institution of its managers' API keys."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"id": "fund_guiyang", "name": "Guiyang IP pledge risk compensation pool", "region": "guiyang"}
            ]
        },
    )
    id: str = Field(pattern=INSTITUTION_PATTERN)
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")
    region: Region | None = None


class FundPublic(BaseModel):
    """A fund and the rule version in force today."""

    id: str
    name: str
    region: str | None
    created_at: datetime
    created_by: str
    current_rule_version: int | None


class RuleVersionCreate(BaseModel):
    """A new version of a fund's rules, in force from ``effective_from``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_rules_example)
    effective_from: Day = Field(
        description="First day the version is in force: today (Beijing) or later. An "
        "earlier day only by the regulator, with a `reason`, and only if no "
        "claim with a default date on or after it has been filed."
    )
    rules: FundRules
    reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        pattern=r"^[^\x00-\x1f]*\S[^\x00-\x1f]*$",
        description="Why the version takes effect in the past (required then); audited.",
    )


class RuleVersionPublic(BaseModel):
    """One stored rule version."""

    fund_id: str
    version: int
    effective_from: date
    rules: FundRules
    created_at: datetime
    created_by: str


class BankAgreement(BaseModel):
    """A bank's cooperation with a fund: its share of the pool and its committed credit line."""

    model_config = _example(
        {"pool_share_cny": "2000000.00", "committed_line_cny": "20000000.00", "joined_on": "2025-01-01"}
    )
    pool_share_cny: Money
    committed_line_cny: Money
    joined_on: Day


class BankPublic(BaseModel):
    """A cooperating bank, with its usage of the line and its loss rate."""

    fund_id: str
    bank_id: str
    pool_share_cny: Decimal
    committed_line_cny: Decimal
    joined_on: date
    pooled_cny: Decimal = Field(description="Principal of the bank's pooled loans.")
    outstanding_cny: Decimal = Field(description="Principal of its active pooled loans not yet repaid: its line usage.")
    claimed_loss_cny: Decimal = Field(description="Losses of the bank's claims not rejected.")
    loss_rate: Decimal


class DepositCreate(BaseModel):
    """Money paid into the fund (e.g. a budget allocation)."""

    model_config = _example({"amount_cny": "50000000.00", "source": "provincial budget 2025"})
    amount_cny: Positive
    source: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")
    account: Literal["compensation", "subsidy"] = Field(
        default="compensation", description="Risk compensation (the default) or the subsidy programmes' own account."
    )


class LedgerLinePublic(BaseModel):
    """One line of a double-entry transaction."""

    id: int
    txn_id: str
    kind: LedgerKind
    account: Account
    debit_cny: Decimal
    credit_cny: Decimal
    claim_id: str | None
    memo: str
    created_at: datetime


class LedgerPage(BaseModel):
    """A page of ledger lines, oldest first."""

    total: int
    limit: int
    offset: int
    items: list[LedgerLinePublic]


class BalancePublic(BaseModel):
    """Figures derived from the ledger; ``reconciled`` when they agree."""

    fund_id: str
    contributions_cny: Decimal = Field(description="Deposits into the fund.")
    paid_cny: Decimal = Field(description="Paid out on approved claims.")
    recovered_cny: Decimal = Field(description="Clawed back from recoveries.")
    balance_cny: Decimal = Field(description="Cash: contributions − paid + recovered.")
    committed_cny: Decimal = Field(description="Reserved for claims awaiting a decision.")
    available_cny: Decimal = Field(description="Balance − committed: what new claims can draw on.")
    subsidy_contributions_cny: Decimal = Field(description="Deposits into the subsidy account.")
    subsidies_paid_cny: Decimal = Field(description="Subsidies paid.")
    subsidy_balance_cny: Decimal = Field(description="Subsidy cash: subsidy contributions − subsidies paid.")
    debits_cny: Decimal
    credits_cny: Decimal
    entries: int
    reconciled: bool


CorrectionStatus = Literal["pending", "approved"]


class CorrectionCreate(BaseModel):
    """Ask to reverse a deposit posted by mistake; a second fund-manager key approves it."""

    model_config = _example({"txn_id": "00000000-0000-0000-0000-000000000000", "reason": "posted twice"})
    txn_id: str = Field(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9_.:-]+$", description="The deposit.")
    reason: str = Field(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f]*\S[^\x00-\x1f]*$")


class CorrectionPublic(BaseModel):
    """A reversal of a deposit: asked by one manager key, approved by another; the ledger gets a new entry."""

    id: str
    fund_id: str
    kind: Literal["deposit_reversal"]
    txn_id: str
    amount_cny: Decimal
    reason: str
    status: CorrectionStatus
    requested_by_key: int
    approved_by_key: int | None
    reversal_txn_id: str | None
    created_at: datetime
    decided_at: datetime | None
