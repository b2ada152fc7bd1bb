"""Facts of a pledge beside the patent's own: who pledges it, with whose consent, under what contract.

A pledge of a patent may secure the pledgor's own debt or another's: Civil Code art. 440
lets "the debtor or a third party" pledge the property rights in a patent, and an SME's
patents are often held by its founder, a parent or a sister company.  A third party's
pledge is lawful when the third party is the registered owner and has agreed to secure
the debtor's loan; :mod:`scoring.pledge_checks` checks both.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from scoring.types import Day
from scoring.vocab import FROZEN, OwnerType


class Consent(BaseModel):
    """A third-party pledgor's consent to secure the debtor's loan, as the lender holds it on record."""

    model_config = FROZEN
    given: bool
    date: Day | None = Field(default=None, description="Day the consent was given; it must not be after as_of.")
    reference: str | None = Field(
        default=None, max_length=128, description="The document on record, e.g. a board resolution or signed letter."
    )


class Pledgor(BaseModel):
    """Who pledges a patent, when it is not the borrower.

    ``id`` is matched with the patent's ``owner_id``: an enterprise's (or university's,
    institute's) id, or for a person the id the lender records (``owner_type`` individual).
    """

    model_config = FROZEN
    kind: OwnerType = Field(description="The pledgor's kind; it must be the patent's owner_type.")
    id: str = Field(min_length=1, max_length=64, description="The pledgor's id, as on the patent's owner_id.")
    name: str | None = Field(default=None, max_length=128, description="Shown in the reasons instead of the id.")
    consent: Consent | None = Field(default=None, description="Needed when the pledgor is not the borrower.")

    @property
    def label(self) -> str:
        """How reasons name the pledgor: its name when given, else its id."""
        return self.name or self.id


class PatentPledge(BaseModel):
    """The pledge facts of one patent in an application; every field is optional."""

    model_config = FROZEN
    pledgor: Pledgor | None = Field(default=None, description="Who pledges the patent; default: the borrower.")
    same_day_invention_declared: bool = Field(
        default=False,
        description="For a utility model with a pending same-day invention (一案双申): the parties, told of it, "
        "declared they continue with the pledge (the exception to CNIPA's refusal ground).",
    )


class PledgeContract(BaseModel):
    """Whether the pledge contract contains each item CNIPA requires for registration.

    The items of the Patent Pledge Registration Measures (专利权质押登记办法, CNIPA
    announcement 461, 2021; a contract that lacks them is refused registration): the
    parties' names and addresses; the kind and amount of the secured claim; the term
    for the debtor to perform; the number of patents and each one's title, number,
    filing date and grant announcement date; the scope of the security.  Each is True
    (contained), False (missing) or None (not stated: the item is not assessed).
    """

    model_config = FROZEN
    parties: bool | None = Field(default=None, description="当事人的姓名或者名称、地址.")
    secured_claim: bool | None = Field(default=None, description="被担保债权的种类和数额.")
    debt_term: bool | None = Field(default=None, description="债务人履行债务的期限.")
    patents: bool | None = Field(
        default=None, description="专利权项数以及每项专利权的名称、专利号、申请日、授权公告日."
    )
    scope: bool | None = Field(default=None, description="质押担保的范围.")
