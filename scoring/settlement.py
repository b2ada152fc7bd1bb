"""Pre-compensation settled later (先行代偿, then 清算): what each party gets back once the proceeds are known.

A fund with ``settlement: advance_then_settle`` pays on the gross loss first; each recovery (the
disposal's proceeds) then settles every party's part on the loss net of all recoveries so far, with the
same rules and caps, instead of sharing the recovery pro rata to what each paid.
"""

from __future__ import annotations

from collections.abc import Sequence

from scoring.funds import FundRules, PartyRole
from scoring.payout import CapUsage, LossFacts, Payout, RecoveryShare, compute_payout


def settle_advance(
    rules: FundRules,
    loss: LossFacts,
    *,
    paid: Sequence[tuple[str, PartyRole, int]],
    returned_before: dict[str, int],
    amount_fen: int,
    usage: CapUsage,
) -> tuple[Payout, tuple[RecoveryShare, ...]]:
    """Settle (清算) a pre-compensation (先行代偿) once the disposal's proceeds are known.

    Parameters
    ----------
    rules
        The claim's rule version (settlement ``advance_then_settle``).
    loss
        The claim's loss with ``proceeds_fen`` = every recovery so far, this one included (fen).
    paid
        ``(name, role, paid_fen)`` per party as advanced; the bank's is what it bore.
    returned_before
        What each party already got back from earlier settlements (fen).
    amount_fen
        This recovery (fen, > 0).
    usage
        The pool's other payouts in the claim's year (its caps are applied again).

    Returns
    -------
    tuple
        The payout on the net loss (what each party finally bears) and each party's part of this
        recovery: what it advanced beyond its final amount, less what it got back before.  Nobody
        pays more at settlement; the bank keeps the rest of the recovery.
    """
    final = compute_payout(rules, loss, usage=usage, available_fen=sum(p for _, _, p in paid))
    by_name = {p.name: p.amount_fen for p in final.parties}
    out, given = [], 0
    for name, role, advanced in paid:
        if role == "bank":
            continue
        before = returned_before.get(name, 0)
        cumulative = max(advanced - min(by_name[name], advanced), before)
        part = min(cumulative - before, amount_fen - given)
        out.append(
            RecoveryShare(name=name, role=role, paid_fen=advanced, amount_fen=part, cumulative_fen=before + part)
        )
        given += part
    bank_name, _, bank_paid = next(p for p in paid if p[1] == "bank")
    bank_before = returned_before.get(bank_name, 0)
    bank = RecoveryShare(
        name=bank_name,
        role="bank",
        paid_fen=bank_paid,
        amount_fen=amount_fen - given,
        cumulative_fen=bank_before + amount_fen - given,
    )
    order = {p[0]: i for i, p in enumerate(paid)}
    return final, tuple(sorted([*out, bank], key=lambda s: order[s.name]))
