"""The payout of a claim under a fund's rules, and the claw-back of later recoveries.

The payout, step by step (each step is returned with its numbers, in fen):

1. loss = principal outstanding + interest outstanding, less the disposal's
   proceeds when the fund settles on the net loss (proceeds pay principal first);
2. covered base: principal only; times the IP share of the collateral; at most
   the first X CNY of a loan (first loss), or × X / the loan's amount (pro rata);
3. each party's share of the base (half up to the fen), a party's own per-loan
   cap applied;
4. the pool's (this fund's) amount capped per loan, by the bank's tier, at the
   amount claimed, per borrower-year, per bank-year, per fund-year, and by the
   available balance;
5. the bank bears the rest, so the parties' amounts always sum to the loss.

After payout, recoveries go back to each party pro rata to what it paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from scoring.funds import BankTier, CapName, CoveredBase, FundRules, Party, PartyRole
from scoring.vocab import FROZEN
from scoring.vocab.money import fen_times, to_cny, to_fen
from scoring.vocab.shares import ExactShare


class LossFacts(BaseModel):
    """The loss of one defaulted loan, in fen."""

    model_config = FROZEN
    principal_fen: int = Field(ge=0)
    interest_fen: int = Field(default=0, ge=0)
    ip_share: ExactShare = Decimal(1)
    claimed_fen: int = Field(ge=0, description="What the bank asked the fund for.")
    proceeds_fen: int = Field(default=0, ge=0, description="Disposal proceeds netted off before sharing (fen).")
    loan_fen: int | None = Field(default=None, gt=0, description="The loan's amount: for pro-rata first X CNY.")
    bank_years_in_pool: float | None = Field(default=None, ge=0, description="For bank tiers: at the loan's entry.")
    bank_loss_rate: Decimal | None = Field(default=None, ge=0, description="For bank tiers: the bank's loss rate.")


class CapUsage(BaseModel):
    """The pool's payouts already made or reserved in the year, in fen."""

    model_config = FROZEN
    borrower_year_fen: int = Field(default=0, ge=0)
    bank_year_fen: int = Field(default=0, ge=0)
    fund_year_fen: int = Field(default=0, ge=0)


class BaseStep(BaseModel):
    """One step from the loss to the covered base."""

    model_config = FROZEN
    step: Literal["loss", "net_of_proceeds", "principal_only", "ip_share", "first_of_loan", "first_of_loan_pro_rata"]
    amount_fen: int
    parameter: str = Field(default="", description="The share or limit the step applied.")


class CapStep(BaseModel):
    """One cap applied to a party's amount: room = limit − used."""

    model_config = FROZEN
    cap: CapName
    limit_fen: int
    used_fen: int
    room_fen: int
    before_fen: int
    after_fen: int
    detail: dict[str, str] = Field(default_factory=dict, description="What chose the limit (a bank's tier).")

    @property
    def binding(self) -> bool:
        """The cap cut the amount."""
        return self.after_fen < self.before_fen


class PartyPayout(BaseModel):
    """What one party pays (the bank: bears) and why."""

    model_config = FROZEN
    name: str
    role: PartyRole
    share: Decimal
    share_amount_fen: int = Field(description="share × covered base, before caps.")
    caps: tuple[CapStep, ...] = ()
    amount_fen: int


class Payout(BaseModel):
    """The whole computation: base steps, every party with its caps, the pool's payout."""

    model_config = FROZEN
    loss_fen: int
    base_steps: tuple[BaseStep, ...]
    covered_base_fen: int
    parties: tuple[PartyPayout, ...]
    pool_payout_fen: int
    bank_borne_fen: int


def covered_base(covered: CoveredBase, loss: LossFacts) -> tuple[int, tuple[BaseStep, ...]]:
    """The part of the loss shared among the parties, in fen, with each step taken.

    Parameters
    ----------
    covered
        The rule set's covered-base rules.
    loss
        Principal and interest outstanding (fen) and the IP share of the collateral.

    Returns
    -------
    tuple
        Covered base (fen) and the steps from the loss to it.
    """
    principal, interest = loss.principal_fen, loss.interest_fen
    base = principal + interest
    steps = [BaseStep(step="loss", amount_fen=base)]
    if loss.proceeds_fen:
        # proceeds pay principal first, then interest
        principal, interest = net_of_proceeds(loss)
        base = principal + interest
        steps.append(BaseStep(step="net_of_proceeds", amount_fen=base, parameter=str(to_cny(loss.proceeds_fen))))
    if covered.principal_only:
        base = principal
        steps.append(BaseStep(step="principal_only", amount_fen=base))
    if covered.ip_share_only:
        base = fen_times(base, loss.ip_share)
        steps.append(BaseStep(step="ip_share", amount_fen=base, parameter=str(loss.ip_share)))
    if covered.first_cny_of_loan is not None:
        first = to_fen(covered.first_cny_of_loan)
        if covered.first_cny_mode == "first_loss":
            base = min(base, first)
            steps.append(BaseStep(step="first_of_loan", amount_fen=base, parameter=str(covered.first_cny_of_loan)))
        else:
            if loss.loan_fen is None:
                raise ValueError("a pro-rata first X CNY needs the loan's amount (LossFacts.loan_fen)")
            if loss.loan_fen > first:
                base = _pro_rata(base, first, loss.loan_fen)
            steps.append(
                BaseStep(
                    step="first_of_loan_pro_rata",
                    amount_fen=base,
                    parameter=f"{covered.first_cny_of_loan}/{to_cny(loss.loan_fen)}",
                )
            )
    return base, tuple(steps)


def net_of_proceeds(loss: LossFacts) -> tuple[int, int]:
    """(principal, interest) left after the disposal's proceeds, which pay principal first (fen)."""
    principal = max(loss.principal_fen - loss.proceeds_fen, 0)
    interest = max(loss.interest_fen - max(loss.proceeds_fen - loss.principal_fen, 0), 0)
    return principal, interest


def bank_tier(tiers: Sequence[BankTier], loss: LossFacts) -> tuple[int, BankTier]:
    """The first tier (1-based index) the bank meets; a bank whose standing is unknown gets the lowest cap."""
    years, rate = loss.bank_years_in_pool, loss.bank_loss_rate
    if years is not None and rate is not None:
        for i, t in enumerate(tiers, start=1):
            if years >= t.min_years_in_pool and (t.max_loss_rate is None or rate <= t.max_loss_rate):
                return i, t
        return 0, BankTier(per_loan_cny=Decimal(0))
    low = min(range(len(tiers)), key=lambda i: tiers[i].per_loan_cny)
    return low + 1, tiers[low]


def cap_step(
    cap: CapName, amount_fen: int, limit_fen: int, used_fen: int = 0, *, detail: dict[str, str] | None = None
) -> CapStep:
    """Apply one cap: the amount is cut to ``limit − used`` (never below 0)."""
    room = max(limit_fen - used_fen, 0)
    return CapStep(
        cap=cap,
        limit_fen=limit_fen,
        used_fen=used_fen,
        room_fen=room,
        before_fen=amount_fen,
        after_fen=min(amount_fen, room),
        detail=detail or {},
    )


CapSpec = tuple[CapName, int, int, dict[str, str]]  # cap, limit (fen), already used (fen), what chose the limit


def _tier_cap(rules: FundRules, loss: LossFacts) -> list[CapSpec]:
    tiers = rules.caps.bank_tiers
    if tiers is None:
        return []
    index, tier = bank_tier(tiers, loss)
    years, rate = loss.bank_years_in_pool, loss.bank_loss_rate
    detail = {
        "tier": str(index),
        "years": "-" if years is None else f"{years:.2f}",
        "rate": "-" if rate is None else f"{rate:.4f}",
    }
    return [("bank_tier", to_fen(tier.per_loan_cny), 0, detail)]


def _pool_caps(rules: FundRules, loss: LossFacts, usage: CapUsage, available_fen: int) -> list[CapSpec]:
    c = rules.caps
    caps: list[tuple[CapName, int | None, int]] = [
        ("per_loan", None if c.per_loan_cny is None else to_fen(c.per_loan_cny), 0),
        ("claimed", loss.claimed_fen, 0),
        (
            "per_borrower_year",
            None if c.per_borrower_year_cny is None else to_fen(c.per_borrower_year_cny),
            usage.borrower_year_fen,
        ),
        ("per_bank_year", None if c.per_bank_year_cny is None else to_fen(c.per_bank_year_cny), usage.bank_year_fen),
        ("per_fund_year", None if c.per_fund_year_cny is None else to_fen(c.per_fund_year_cny), usage.fund_year_fen),
        ("balance", max(available_fen, 0), 0),
    ]
    out: list[CapSpec] = [(name, limit, used, {}) for name, limit, used in caps if limit is not None]
    return out[:1] + _tier_cap(rules, loss) + out[1:] if c.per_loan_cny is not None else _tier_cap(rules, loss) + out


def _party_payout(party: Party, base_fen: int, left_fen: int, caps: Sequence[CapSpec]) -> PartyPayout:
    # rounding half up must never hand out more than the base: the last fen goes to whoever is left
    amount = share_amount = min(fen_times(base_fen, party.share), left_fen)
    steps: list[CapStep] = []
    if party.cap_per_loan_cny is not None:
        caps = [("party_per_loan", to_fen(party.cap_per_loan_cny), 0, {}), *caps]
    for name, limit, used, detail in caps:
        steps.append(cap_step(name, amount, limit, used, detail=detail))
        amount = steps[-1].after_fen
    return PartyPayout(
        name=party.name,
        role=party.role,
        share=party.share,
        share_amount_fen=share_amount,
        caps=tuple(steps),
        amount_fen=amount,
    )


def compute_payout(rules: FundRules, loss: LossFacts, *, usage: CapUsage, available_fen: int) -> Payout:
    """Split a loss among the parties with every cap applied and shown.

    Parameters
    ----------
    rules
        The fund's rule version in force on the default date.
    loss
        Principal and interest outstanding, IP share, amount claimed (fen);
        with net-loss settlement the disposal's proceeds; for bank tiers the
        bank's years in the pool and loss rate; for pro-rata cover the loan's amount.
    usage
        The pool's payouts already made or reserved this year for the same
        borrower, the same bank and the whole fund (fen).
    available_fen
        The fund's balance not yet reserved for other claims (fen).

    Returns
    -------
    Payout
        Loss (net of any proceeds), covered base with its steps, each party's
        share, caps and amount (fen); the parties' amounts sum to the loss.
    """
    base, steps = covered_base(rules.covered, loss)
    loss_fen = sum(net_of_proceeds(loss))
    pool_caps = _pool_caps(rules, loss, usage, available_fen)
    others: list[PartyPayout] = []
    for p in rules.parties:
        if p.role != "bank":
            left = base - sum(o.share_amount_fen for o in others)
            others.append(_party_payout(p, base, left, pool_caps if p.role == "pool" else ()))
    bank = next(p for p in rules.parties if p.role == "bank")
    borne = loss_fen - sum(p.amount_fen for p in others)
    bank_out = PartyPayout(
        name=bank.name, role="bank", share=bank.share, share_amount_fen=fen_times(base, bank.share), amount_fen=borne
    )
    by_name = {p.name: p for p in [*others, bank_out]}
    parties = tuple(by_name[p.name] for p in rules.parties)
    pool = next(p for p in others if p.role == "pool")
    return Payout(
        loss_fen=loss_fen,
        base_steps=steps,
        covered_base_fen=base,
        parties=parties,
        pool_payout_fen=pool.amount_fen,
        bank_borne_fen=borne,
    )


def _pro_rata(amount_fen: int, part_fen: int, whole_fen: int) -> int:
    """``amount × part / whole`` rounded half up, in exact integer arithmetic."""
    return (2 * amount_fen * part_fen + whole_fen) // (2 * whole_fen)


class RecoveryShare(BaseModel):
    """One party's part of a recovery, pro rata to what it paid (the bank: bore)."""

    model_config = FROZEN
    name: str
    role: PartyRole
    paid_fen: int
    amount_fen: int
    cumulative_fen: int = Field(description="This party's part of all recoveries so far.")


def share_recovery(
    parties: Sequence[tuple[str, PartyRole, int]], *, loss_fen: int, recovered_before_fen: int, amount_fen: int
) -> tuple[RecoveryShare, ...]:
    """Claw a recovery back from the bank to each party pro rata to what it paid.

    Parameters
    ----------
    parties
        ``(name, role, paid_fen)`` per party, as approved; the paid amounts sum to ``loss_fen``.
    loss_fen
        The loss the parties shared (fen).
    recovered_before_fen
        Recoveries already shared on this claim (fen).
    amount_fen
        The new recovery (fen, > 0).

    Returns
    -------
    tuple
        Each party's part of this recovery (fen).  Parts are rounded on the
        cumulative recovery, so repeated small recoveries never drift from
        the pro-rata total; the bank keeps the rounding residue.
    """
    total = recovered_before_fen + amount_fen
    if amount_fen <= 0 or total > loss_fen:
        raise ValueError(f"recoveries must be positive and at most the loss ({loss_fen} fen) in total")
    out, given = [], 0
    for name, role, paid in parties:
        if role == "bank":
            continue
        before, after = (_pro_rata(x, paid, loss_fen) for x in (recovered_before_fen, total))
        out.append(RecoveryShare(name=name, role=role, paid_fen=paid, amount_fen=after - before, cumulative_fen=after))
        given += after - before
    bank_name, _, bank_paid = next(p for p in parties if p[1] == "bank")
    bank_before = recovered_before_fen - sum(s.cumulative_fen - s.amount_fen for s in out)
    bank = RecoveryShare(
        name=bank_name,
        role="bank",
        paid_fen=bank_paid,
        amount_fen=amount_fen - given,
        cumulative_fen=bank_before + amount_fen - given,
    )
    order = {p[0]: i for i, p in enumerate(parties)}
    return tuple(sorted([*out, bank], key=lambda s: order[s.name]))
