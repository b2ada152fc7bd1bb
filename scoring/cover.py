"""Cover of a loan's loss at default: from the fund rules that will pay it, or a caller's what-if.

A loan that will enter a risk-compensation fund is covered by what that fund's rule
version pays, not by a share someone types.  :func:`fund_cover` simulates a default at
the expected exposure (EAD: the full principal drawn, no interest, since every worked
fund covers principal only) and runs :func:`scoring.payout.compute_payout` on it, with
the fund's caps, the usage already recorded this year for the borrower, the bank and the
fund, and the fund's available balance, exactly as a claim filed today would be paid.

The cover share is what the fund and the co-payers (insurer, appraiser…) pay, over the
loss.  Recoveries from the collateral are later shared back pro rata to what each party
paid (:func:`scoring.payout.share_recovery`), so the lender's net loss is its borne
share of the loss after recovery: ``LGD with cover = LGD without cover × (1 − cover share)``.

An insurer outside the fund's rules (a guarantee policy the bank buys, the fund naming
no insurer) bears ``insurer_share`` of the loss, at most what the bank would bear.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from scoring.funds import FundRules
from scoring.payout import CapUsage, LossFacts, Payout, compute_payout
from scoring.types import LoanTerms
from scoring.vocab import FROZEN
from scoring.vocab.money import fen_times, money_from_model, to_fen
from scoring.vocab.shares import Share

CoverBasis = Literal["fund_rules", "what_if"]
InsurerBasis = Literal["fund_rules", "policy", "none"]
INSURER = "insurer"
"""The party name by which a fund's rules give an insurer its share (``scoring/config/funds``)."""
_SHARE_PLACES = Decimal("0.000001")


class RuleVersionRef(BaseModel):
    """Which version of which fund's rules the cover ran."""

    model_config = FROZEN
    fund_id: str
    version: int
    effective_from: date
    name: str


class FundCoverSteps(BaseModel):
    """Every input and output of the payout the fund's rules would make on a default today."""

    model_config = FROZEN
    rules: RuleVersionRef
    loss: LossFacts = Field(description="The simulated default: EAD as principal outstanding, all of it claimed.")
    usage: CapUsage = Field(description="The pool's amounts already reserved or paid this year (fen).")
    available_fen: int = Field(description="The fund's balance not reserved for other claims (fen).")
    payout: Payout = Field(description="compute_payout's result, every base step, party and cap.")
    co_payers_fen: int = Field(description="What the co-payers of the rules (insurer, appraiser…) pay, fen.")
    outside_insurer_fen: int = Field(
        description="What an insurer outside the rules pays: insurer_share × loss, at most the bank's part (fen)."
    )
    cover_fen: int = Field(description="pool payout + co-payers + outside insurer, fen.")


class Cover(BaseModel):
    """Who bears what share of a loss at default, and on what basis."""

    model_config = FROZEN
    basis: CoverBasis = Field(
        description="fund_rules: the fund's rule version in force, run on a default at EAD; "
        "what_if: the shares the caller typed (insured_share + fund_cover_share + guarantee_share)."
    )
    share: Share = Field(description="Share of the loss at default that others pay; the lender bears the rest.")
    ead_cny: float = Field(description="Exposure at default used, CNY (full drawdown).")
    insurer_share: Share = Field(description="Share of the loss at default the insurer pays.")
    insurer_basis: InsurerBasis = Field(
        description="fund_rules: the rules' party named insurer; policy: an insurer outside the rules "
        "(request's insurer_share, or the what-if insured_share); none: no insurer."
    )
    fund: FundCoverSteps | None = Field(default=None, description="The payout steps (basis fund_rules only).")


def what_if_cover(loan: LoanTerms) -> Cover:
    """The caller's typed shares, labelled as a what-if: nothing checks them against a fund's rules."""
    share = min(1.0, loan.insured_share + loan.fund_cover_share + loan.guarantee_share)
    return Cover(
        basis="what_if",
        share=share,
        ead_cny=loan.amount_cny,
        insurer_share=loan.insured_share,
        insurer_basis="policy" if loan.insured_share > 0 else "none",
    )


def exact_share(share: float) -> Decimal:
    """A float share as the six-place Decimal fund rules use."""
    return Decimal(repr(share)).quantize(_SHARE_PLACES).normalize()


def default_loss(ead_cny: float, ip_share: float) -> LossFacts:
    """The loss of a default at EAD: the whole principal outstanding and claimed, no interest.

    The loan's amount is the EAD (full drawdown), which a pro-rata "first X CNY" needs; a bank
    tier's standing is not known at application, so the rules' lowest tier applies.
    """
    principal = to_fen(money_from_model(ead_cny))
    return LossFacts(
        principal_fen=principal,
        interest_fen=0,
        ip_share=exact_share(ip_share),
        claimed_fen=principal,
        loan_fen=principal,
    )


def fund_cover(
    rules: FundRules,
    *,
    ref: RuleVersionRef,
    ead_cny: float,
    ip_share: float,
    usage: CapUsage,
    available_fen: int,
    insurer_share: float | None = None,
) -> Cover:
    """Cover of a default at ``ead_cny`` under one rule version of a fund.

    Parameters
    ----------
    rules, ref
        The rule version in force and which one it is.
    ead_cny
        Exposure at default, CNY.
    ip_share
        IP share of the collateral (counts when the rules cover the IP share only).
    usage
        The pool's amounts already reserved or paid this year for the same
        borrower, bank and fund (fen).
    available_fen
        The fund's available balance (fen).
    insurer_share
        Share of the loss an insurer outside the rules bears; must be None
        when the rules name an insurer (they set its share).

    Returns
    -------
    Cover
        Cover share (0..1), the insurer's share and every step of the payout.
    """
    loss = default_loss(ead_cny, ip_share)
    payout = compute_payout(rules, loss, usage=usage, available_fen=available_fen)
    by_name = {p.name: p for p in payout.parties}
    co_payers = sum(p.amount_fen for p in payout.parties if p.role == "co_payer")
    in_rules = INSURER in by_name and by_name[INSURER].role == "co_payer"
    if in_rules and insurer_share is not None:
        raise ValueError("the fund's rules name an insurer and set its share: give no insurer_share")
    outside = 0
    if insurer_share is not None:
        outside = min(fen_times(loss.principal_fen, exact_share(insurer_share)), payout.bank_borne_fen)
    cover = payout.pool_payout_fen + co_payers + outside
    lost = payout.loss_fen
    insurer_fen = by_name[INSURER].amount_fen if in_rules else outside
    return Cover(
        basis="fund_rules",
        share=cover / lost if lost else 0.0,
        ead_cny=ead_cny,
        insurer_share=insurer_fen / lost if lost else 0.0,
        insurer_basis="fund_rules" if in_rules else "policy" if insurer_share is not None else "none",
        fund=FundCoverSteps(
            rules=ref,
            loss=loss,
            usage=usage,
            available_fen=available_fen,
            payout=payout,
            co_payers_fen=co_payers,
            outside_insurer_fen=outside,
            cover_fen=cover,
        ),
    )
