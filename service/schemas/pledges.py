"""API schemas of the pledge life: registrations with CNIPA, disposal, release (docs/pledge-life.md)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from scoring.pledge_life import RegistrationStatus
from scoring.types import Day, FieldError
from scoring.vocab.money import Money
from service.patent_ids import RequestPatentId

RegistrationNumber = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, min_length=4, max_length=64, pattern=r"^[A-Za-z0-9-]+$"),
    Field(description="质押登记号 as CNIPA's registration notice gives it, e.g. Y2026980001234."),
]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500, pattern=r"^[^\x00-\x1f]+$")
]


class RegistrationCreate(BaseModel):
    """Record the registration of a loan's pledge with CNIPA (or its application), for some or all its patents."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "status": "registered",
                    "registration_number": "Y2026980001234",
                    "applied_on": "2026-11-20",
                    "registration_date": "2026-11-25",
                    "term_start": "2026-11-25",
                    "term_end": "2028-11-24",
                }
            ]
        },
    )
    patent_ids: list[RequestPatentId] | None = Field(
        default=None, min_length=1, max_length=100, description="Default: every patent pledged to the loan."
    )
    status: Literal["applied", "registered"]
    registration_number: RegistrationNumber | None = Field(default=None, description="Required when registered.")
    applied_on: Day | None = Field(default=None, description="Day the application was filed; required when applied.")
    registration_date: Day | None = Field(
        default=None, description="Day the pledge right was created (Civil Code art. 444); required when registered."
    )
    term_start: Day = Field(description="Start of the pledge term in the registration.")
    term_end: Day = Field(description="End of the pledge term; after term_start.")

    @model_validator(mode="after")
    def _complete(self) -> RegistrationCreate:
        if self.status == "registered":
            if self.registration_number is None:
                raise FieldError("registration_number", "is required when status is registered")
            if self.registration_date is None:
                raise FieldError("registration_date", "is required when status is registered")
        else:
            if self.applied_on is None:
                raise FieldError("applied_on", "is required when status is applied")
            for name in ("registration_number", "registration_date"):
                if getattr(self, name) is not None:
                    raise FieldError(name, "is given on registration, not on application")
        if self.patent_ids is not None and len(set(self.patent_ids)) < len(self.patent_ids):
            raise FieldError("patent_ids", "names one patent twice")
        return self


class RegistrationChange(BaseModel):
    """A registration's next step: an application registered, or a registered pledge changed (变更登记)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"status": "changed", "changed_on": "2027-05-10", "term_end": "2029-05-09", "reason": "term extended"},
                {"status": "registered", "registration_number": "Y2026980001234", "registration_date": "2026-11-25"},
            ]
        },
    )
    status: Literal["registered", "changed"]
    registration_number: RegistrationNumber | None = Field(default=None, description="Required when registered.")
    registration_date: Day | None = Field(default=None, description="Required when registered.")
    changed_on: Day | None = Field(default=None, description="Day the change was registered; required when changed.")
    term_start: Day | None = None
    term_end: Day | None = None
    reason: Reason | None = None

    @model_validator(mode="after")
    def _complete(self) -> RegistrationChange:
        if self.status == "registered":
            for name in ("registration_number", "registration_date"):
                if getattr(self, name) is None:
                    raise FieldError(name, "is required when status is registered")
            if self.changed_on is not None:
                raise FieldError("changed_on", "is only for status changed")
        else:
            if self.changed_on is None:
                raise FieldError("changed_on", "is required when status is changed")
            if self.registration_number is not None or self.registration_date is not None:
                raise FieldError(
                    "registration_number" if self.registration_number is not None else "registration_date",
                    "a change keeps the registration it changes",
                )
        return self


class DisposalReport(BaseModel):
    """The bank starts disposing of a defaulted loan's patents, or has disposed of them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"stage": "started", "on": "2026-11-02"},
                {"stage": "disposed", "on": "2026-11-27", "price_cny": "1250000.00"},
            ]
        },
    )
    stage: Literal["started", "disposed"]
    on: Day = Field(description="Day disposal started, or the patents were disposed of; not after today.")
    price_cny: Money | None = Field(default=None, description="With disposed: the price realised (for LGD).")
    reason: Reason | None = None

    @model_validator(mode="after")
    def _price(self) -> DisposalReport:
        if self.price_cny is not None and self.stage != "disposed":
            raise FieldError("price_cny", "is only for stage disposed")
        return self


class ReleaseRequest(BaseModel):
    """Release a defaulted loan's patents without disposal (the bank gives up the collateral), with the reason."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "settlement agreement with the guarantor", "on": "2026-11-27"}]},
    )
    reason: Reason
    on: Day | None = Field(default=None, description="Day of the release; default today (Beijing).")


class RegistrationPublic(BaseModel):
    """A pledged patent's registration as it stands."""

    patent_id: str
    status: RegistrationStatus
    registration_number: str | None
    applied_on: date | None
    registration_date: date | None
    term_start: date
    term_end: date
    changed_on: date | None
    released_on: date | None


class PledgeEventPublic(BaseModel):
    """One step of the pledge's history: a loan transition (no ``patent_id``) or a registration's step."""

    id: int
    patent_id: str | None
    event: str
    from_state: str | None
    to_state: str
    on: date
    reason: str | None
    price_cny: Decimal | None
    at: datetime
